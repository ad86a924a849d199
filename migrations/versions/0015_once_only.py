"""once-only owner messages (a send interrupted mid-way is not repeated); running jobs' heartbeats

Revision ID: 0015_once_only
Revises: 0010_admin_sessions
Create Date: 2026-12-01 23:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_once_only'
down_revision = '0010_admin_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_started_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('send_started_at')
