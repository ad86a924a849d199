"""money checks: the database refuses a refunded total outside 0..amount, and a refund of nothing;
what each upload is attached to (who may see a photo follows from who may see its record)

Revision ID: 0014_money_checks
Revises: 0012_consultations
Create Date: 2026-12-08 10:00:00.000000

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_money_checks'
down_revision = '0012_consultations'
branch_labels = None
depends_on = None


def upgrade():
    # op.f: the names are final (the metadata's naming convention would prefix ck_<table>_ again).
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_payments_refunded_within_amount'),
                                         sa.text('refunded_fen >= 0 AND refunded_fen <= amount_fen'))
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_refunds_amount_positive'), sa.text('amount_fen > 0'))

    attachments = op.create_table('upload_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_upload_attachments_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upload_attachments')),
    sa.UniqueConstraint('upload_id', 'kind', 'record_id', name=op.f('uq_upload_attachments_upload_id_kind_record_id'))
    )
    with op.batch_alter_table('upload_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_attachments_upload_id'), ['upload_id'], unique=False)

    # The photos of existing work orders (reports and completed jobs) are attached to their orders.
    conn = op.get_bind()
    uploads = sa.table('uploads', sa.column('id', sa.Integer))
    orders = sa.table('work_orders', sa.column('id', sa.Integer), sa.column('photos', sa.JSON),
                      sa.column('completion_photos', sa.JSON))
    known = {row[0] for row in conn.execute(sa.select(uploads.c.id))}
    pairs = set()
    for order_id, photos, done in conn.execute(sa.select(orders.c.id, orders.c.photos, orders.c.completion_photos)):
        for upload_id in list(photos or []) + list(done or []):
            if isinstance(upload_id, int) and upload_id in known:
                pairs.add((upload_id, order_id))
    now = datetime.now(UTC).replace(tzinfo=None)
    if pairs:
        op.bulk_insert(attachments, [{'upload_id': u, 'kind': 'work_order', 'record_id': o, 'created_at': now}
                                     for u, o in sorted(pairs)])


def downgrade():
    with op.batch_alter_table('upload_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_attachments_upload_id'))
    op.drop_table('upload_attachments')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_refunds_amount_positive'), type_='check')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payments_refunded_within_amount'), type_='check')
