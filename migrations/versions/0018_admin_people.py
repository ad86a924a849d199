"""admin people: where a calendar day comes from (the State Council's schedule or the community's manager)

Revision ID: 0018_admin_people
Revises: 0011_admin_orders
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_admin_people'
down_revision = '0019_callback_queue'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='manual', nullable=False))


def downgrade():
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_column('source')
