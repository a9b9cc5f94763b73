"""content read model, record creation dates, per-language subjects and the editor's arrangement

Revision ID: c4e1a7d2b9f0
Revises: bbb61d9f3f7c
Create Date: 2026-11-29 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e1a7d2b9f0'
down_revision = 'bbb61d9f3f7c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('published_content',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('social_areas', sa.JSON(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('published_content', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_content_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_published_content_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_published_content_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_published_content_closes_on'), ['closes_on'], unique=False)
    with op.batch_alter_table('published_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_published_records_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('editions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subjects', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('intros', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('arrangement', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('editions', schema=None) as batch_op:
        batch_op.drop_column('arrangement')
        batch_op.drop_column('intros')
        batch_op.drop_column('subjects')
    with op.batch_alter_table('published_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_records_created_at'))
        batch_op.drop_column('created_at')
    with op.batch_alter_table('published_content', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_content_closes_on'))
        batch_op.drop_index(batch_op.f('ix_published_content_starts_at'))
        batch_op.drop_index(batch_op.f('ix_published_content_published_at'))
        batch_op.drop_index(batch_op.f('ix_published_content_kind'))
    op.drop_table('published_content')
