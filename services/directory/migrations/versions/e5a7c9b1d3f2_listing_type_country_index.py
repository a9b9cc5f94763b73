"""index for the directory's list filtered on both country and organisation type:
(kind, status, organisation_type, country, lower(name), id)

With only (kind, status, organisation_type, …) the list's count read each row of the type to check its country;
this index counts from itself, and reads a page of one type and country in name order.

Revision ID: e5a7c9b1d3f2
Revises: d4f6b8a0c2e1
Create Date: 2026-11-30 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e5a7c9b1d3f2'
down_revision = 'd4f6b8a0c2e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_records_listing_type_country', 'records',
                    ['kind', 'status', 'organisation_type', 'country', sa.text('lower(name)'), 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_records_listing_type_country', table_name='records')
