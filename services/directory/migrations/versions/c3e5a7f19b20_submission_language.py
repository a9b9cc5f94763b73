"""the language of a submission: its mails are written in it and link to pages in it

Revision ID: c3e5a7f19b20
Revises: b7d2c41e9a10
Create Date: 2026-11-30 01:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3e5a7f19b20'
down_revision = 'b7d2c41e9a10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('submissions', sa.Column('language', sa.String(length=8), server_default='en', nullable=False))


def downgrade() -> None:
    op.drop_column('submissions', 'language')
