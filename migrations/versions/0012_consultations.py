"""desk: consultations (来电、来访咨询记录); prefix indexes for finding a caller by name or phone

Revision ID: 0012_consultations
Revises: 0015_once_only
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_consultations'
# The lead re-chains this after 0011_admin_orders at merge time.
down_revision = '0015_once_only'
branch_labels = None
depends_on = None

# (table, column): LIKE 'prefix%' on PostgreSQL needs the pattern operator class (the database's
# collation is not "C"); other databases take a plain index.
PREFIX_INDEXES = [('roster_entries', 'phone'), ('roster_entries', 'name'),
                  ('house_memberships', 'phone'), ('house_memberships', 'name')]


def upgrade():
    op.create_table('consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('contact_name', sa.String(length=50), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_consultations_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['house_id'], ['houses.id'], name=op.f('fk_consultations_house_id_houses'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['received_by_id'], ['staff.id'], name=op.f('fk_consultations_received_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_community_received', ['community_id', 'received_at'], unique=False)
        batch_op.create_index('ix_consultations_house', ['house_id'], unique=False)

    for table, column in PREFIX_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_{column}', [column], unique=False,
                                  postgresql_ops={column: 'varchar_pattern_ops'})


def downgrade():
    for table, column in reversed(PREFIX_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_{column}')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_house')
        batch_op.drop_index('ix_consultations_community_received')
    op.drop_table('consultations')
