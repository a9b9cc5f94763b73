"""items: one index per list order (published, start, closing), replacing the index on kind alone

Revision ID: c4e6a8b0d2f3
Revises: b8d2f4a6c0e1
Create Date: 2026-11-30 02:50:00
"""
from alembic import op

revision = 'c4e6a8b0d2f3'
down_revision = 'b8d2f4a6c0e1'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_items_by_published': ['kind', 'state', 'published_at', 'id', 'category', 'cluster'],
    'ix_items_by_start': ['kind', 'state', 'starts_at', 'id', 'ends_at', 'country', 'attendance', 'is_free'],
    'ix_items_by_closing': ['kind', 'state', 'rolling', 'closes_on', 'id'],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, 'items', columns)
    op.drop_index('ix_items_kind', table_name='items')


def downgrade() -> None:
    op.create_index('ix_items_kind', 'items', ['kind'])
    for name in INDEXES:
        op.drop_index(name, table_name='items')
