"""the directory's listing indexes hold the name on PostgreSQL (INCLUDE (name)): a list's page walks past its
offset in the index alone and reads from the table only the rows it shows

PostgreSQL reads an index alone (an index-only scan) only when it holds every column a statement names, and
lower(name) names `name`. SQLite needs nothing: it reads a row from the table only once past the offset.

Revision ID: f6a8c0e2b4d6
Revises: e5a7c9b1d3f2
Create Date: 2026-12-01 11:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f6a8c0e2b4d6'
down_revision = 'e5a7c9b1d3f2'
branch_labels = None
depends_on = None

LISTING_INDEXES = {
    'ix_records_listing': ['kind', 'status'],
    'ix_records_listing_country': ['kind', 'status', 'country'],
    'ix_records_listing_type': ['kind', 'status', 'organisation_type'],
    'ix_records_listing_type_country': ['kind', 'status', 'organisation_type', 'country'],
}


def _recreate(include: list[str]) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, columns in LISTING_INDEXES.items():
        op.drop_index(name, table_name='records')
        op.create_index(name, 'records', [*columns, sa.text('lower(name)'), 'id'], unique=False,
                        postgresql_include=include)


def upgrade() -> None:
    _recreate(['name'])


def downgrade() -> None:
    _recreate([])
