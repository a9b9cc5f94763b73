"""the console's language each staff member picks

Revision ID: d4f6b8a20c31
Revises: 5b1f0c3a9d27
Create Date: 2026-11-30 01:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd4f6b8a20c31'
down_revision = '5b1f0c3a9d27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('staff', sa.Column('language', sa.String(length=8), server_default='en', nullable=False))


def downgrade() -> None:
    op.drop_column('staff', 'language')
