"""indexes for the directory's lists (kind, status, lower(name), id) and public figures (status, kind, country)

Revision ID: b7d2c41e9a10
Revises: 80fc36fdd065
Create Date: 2026-11-29 23:02:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d2c41e9a10'
down_revision = '80fc36fdd065'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_records_listing', 'records', ['kind', 'status', sa.text('lower(name)'), 'id'], unique=False)
    op.create_index('ix_records_public_figures', 'records', ['status', 'kind', 'country'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_records_public_figures', table_name='records')
    op.drop_index('ix_records_listing', table_name='records')
