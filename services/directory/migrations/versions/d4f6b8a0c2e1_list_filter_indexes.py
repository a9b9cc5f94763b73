"""indexes for the directory's filtered lists: (kind, status, country | organisation_type, lower(name), id),
(kind, status, id) and the records of a term (facet, value, record_id)

Revision ID: d4f6b8a0c2e1
Revises: c3e5a7f19b20
Create Date: 2026-11-30 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd4f6b8a0c2e1'
down_revision = 'c3e5a7f19b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_records_listing_country', 'records',
                    ['kind', 'status', 'country', sa.text('lower(name)'), 'id'], unique=False)
    op.create_index('ix_records_listing_type', 'records',
                    ['kind', 'status', 'organisation_type', sa.text('lower(name)'), 'id'], unique=False)
    op.create_index('ix_records_published_ids', 'records', ['kind', 'status', 'id'], unique=False)
    op.create_index('ix_record_terms_records', 'record_terms', ['facet', 'value', 'record_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_record_terms_records', table_name='record_terms')
    op.drop_index('ix_records_published_ids', table_name='records')
    op.drop_index('ix_records_listing_type', table_name='records')
    op.drop_index('ix_records_listing_country', table_name='records')
