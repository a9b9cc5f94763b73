"""items.edit_version: optimistic locking of editorial edits

Revision ID: a3c5e7f9b1d2
Revises: e14386f55cae
Create Date: 2026-11-30 01:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c5e7f9b1d2'
down_revision = 'e14386f55cae'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('edit_version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.drop_column('edit_version')
