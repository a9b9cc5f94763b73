"""whether a queue item's submitter confirmed their address

Revision ID: e7a3c91b5d48
Revises: d4f6b8a20c31
Create Date: 2026-11-30 02:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a3c91b5d48'
down_revision = 'd4f6b8a20c31'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('queue_items', sa.Column('email_confirmed', sa.Boolean(), server_default=sa.false(),
                                           nullable=False))


def downgrade() -> None:
    op.drop_column('queue_items', 'email_confirmed')
