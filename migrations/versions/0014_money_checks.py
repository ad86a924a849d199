"""money checks: the database refuses a refunded total outside 0..amount, and a refund of nothing

Revision ID: 0014_money_checks
Revises: 0010_admin_sessions
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_money_checks'
down_revision = '0010_admin_sessions'
branch_labels = None
depends_on = None


def upgrade():
    # op.f: the names are final (the metadata's naming convention would prefix ck_<table>_ again).
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_payments_refunded_within_amount'),
                                         sa.text('refunded_fen >= 0 AND refunded_fen <= amount_fen'))
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_refunds_amount_positive'), sa.text('amount_fen > 0'))


def downgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_refunds_amount_positive'), type_='check')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payments_refunded_within_amount'), type_='check')
