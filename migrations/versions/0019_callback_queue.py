"""callback queue: partial indexes for the calls due (by deadline) and the calls made (by when)

Revision ID: 0019_callback_queue
Revises: 0011_admin_orders
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_callback_queue'
down_revision = '0011_admin_orders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_work_orders_callback_due', 'work_orders', ['community_id', 'callback_due_at'], unique=False,
                    postgresql_where=sa.text('needs_callback IS true'))
    op.create_index('ix_work_orders_callback_done', 'work_orders', ['community_id', 'callback_at'], unique=False,
                    postgresql_where=sa.text('callback_at IS NOT NULL'))


def downgrade():
    op.drop_index('ix_work_orders_callback_done', table_name='work_orders')
    op.drop_index('ix_work_orders_callback_due', table_name='work_orders')
