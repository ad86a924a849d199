"""uploads: the house of the record a photo is attached to, so that house's people may see it

Revision ID: 0006_upload_house
Revises: 0005_complaints
Create Date: 2026-11-23 18:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_upload_house'
down_revision = '0005_complaints'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('house_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_uploads_house_id'), ['house_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_uploads_house_id_houses'), 'houses', ['house_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_uploads_house_id_houses'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_uploads_house_id'))
        batch_op.drop_column('house_id')
