"""fees desk: desk payments carry the payer's name and join the daily cash handover

Revision ID: 0009_fees_desk
Revises: 0008_billing
Create Date: 2026-11-23 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_fees_desk'
down_revision = '0008_billing'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_name', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('handover_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payments_handover_id_cash_handovers'), 'cash_handovers',
                                    ['handover_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_payments_collector_paid', ['collector_id', 'paid_at'], unique=False)


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_collector_paid')
        batch_op.drop_constraint(batch_op.f('fk_payments_handover_id_cash_handovers'), type_='foreignkey')
        batch_op.drop_column('handover_id')
        batch_op.drop_column('payer_name')
