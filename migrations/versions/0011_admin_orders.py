"""admin orders: indexes behind the staff's order list filters (dates, kind and category, department,
emergencies and important complaints, running callback and on-site clocks, text search by trigrams)

Revision ID: 0011_admin_orders
Revises: 0014_money_checks
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_admin_orders'
down_revision = '0014_money_checks'
branch_labels = None
depends_on = None

TEXT_SEARCH = ("number", "title", "description", "contact_name", "contact_phone")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index('ix_work_orders_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index('ix_work_orders_community_kind_category', ['community_id', 'kind', 'category'],
                              unique=False)
        batch_op.create_index('ix_work_orders_community_department', ['community_id', 'department', 'status'],
                              unique=False)
        batch_op.create_index('ix_work_orders_flagged', ['community_id', 'id'], unique=False,
                              postgresql_where=sa.text('urgent IS true OR important IS true'))
        batch_op.create_index('ix_work_orders_callback_running', ['community_id', 'callback_due_at'], unique=False,
                              postgresql_where=sa.text('callback_at IS NULL'))
        batch_op.create_index('ix_work_orders_onsite_running', ['community_id', 'onsite_due_at'], unique=False,
                              postgresql_where=sa.text('emergency IS true AND arrived_at IS NULL'))
    if postgresql:  # trusted extension (PostgreSQL 13+): the database owner may create it
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index('ix_work_orders_text', 'work_orders', list(TEXT_SEARCH), unique=False,
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops' for column in TEXT_SEARCH})


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_work_orders_text', table_name='work_orders')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_onsite_running')
        batch_op.drop_index('ix_work_orders_callback_running')
        batch_op.drop_index('ix_work_orders_flagged')
        batch_op.drop_index('ix_work_orders_community_department')
        batch_op.drop_index('ix_work_orders_community_kind_category')
        batch_op.drop_index('ix_work_orders_community_created')
