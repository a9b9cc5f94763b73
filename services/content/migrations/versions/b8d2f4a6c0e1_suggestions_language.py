"""suggestions.language: the suggester's mails are in the language of the page they suggested from

Revision ID: b8d2f4a6c0e1
Revises: a3c5e7f9b1d2
Create Date: 2026-11-30 02:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d2f4a6c0e1'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('suggestions') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))


def downgrade() -> None:
    with op.batch_alter_table('suggestions') as batch:
        batch.drop_column('language')
