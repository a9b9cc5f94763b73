"""partial indexes of the send queues: the rows a claim can take, in claim order; an edition's failures

Revision ID: e5b2c8a1f3d6
Revises: c4e1a7d2b9f0
Create Date: 2026-11-30 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e5b2c8a1f3d6'
down_revision = 'c4e1a7d2b9f0'
branch_labels = None
depends_on = None

CLAIMABLE = sa.text("state IN ('queued', 'claimed')")
FAILED_ROWS = sa.text("state = 'failed'")


def upgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_index('ix_mails_due')
        batch_op.create_index('ix_mails_due', ['next_attempt_at', 'id'], unique=False,
                              postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_due')
        batch_op.create_index('ix_recipients_due', ['edition_id', 'next_attempt_at', 'id'], unique=False,
                              postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)
        batch_op.create_index('ix_recipients_failed', ['edition_id'], unique=False,
                              postgresql_where=FAILED_ROWS, sqlite_where=FAILED_ROWS)


def downgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_failed')
        batch_op.drop_index('ix_recipients_due')
        batch_op.create_index('ix_recipients_due', ['edition_id', 'state', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_index('ix_mails_due')
        batch_op.create_index('ix_mails_due', ['state', 'next_attempt_at'], unique=False)
