"""notices, the buildings they are for, who read them

Revision ID: 0004_notices
Revises: 0003_workorders
Create Date: 2026-11-24 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_notices'
down_revision = '0003_workorders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=50), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('common_problem_id', sa.Integer(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('fanned_out_at', sa.DateTime(), nullable=True),
    sa.Column('push_recipients', sa.Integer(), nullable=False),
    sa.Column('push_sent', sa.Integer(), nullable=False),
    sa.Column('push_skipped', sa.Integer(), nullable=False),
    sa.Column('push_failed', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_notices_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['staff.id'], name=op.f('fk_notices_published_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_community_published', ['community_id', 'published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_common_problem_id'), ['common_problem_id'], unique=False)

    op.create_table('notice_buildings',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_notice_buildings_building_id_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_buildings_notice_id_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'building_id', name=op.f('pk_notice_buildings'))
    )
    with op.batch_alter_table('notice_buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_buildings_building_id'), ['building_id'], unique=False)

    op.create_table('notice_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_reads_notice_id_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_notice_reads_owner_id_owners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_reads')),
    sa.UniqueConstraint('notice_id', 'owner_id', name=op.f('uq_notice_reads_notice_id_owner_id'))
    )
    with op.batch_alter_table('notice_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_reads_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notice_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_reads_owner_id'))

    op.drop_table('notice_reads')
    with op.batch_alter_table('notice_buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_buildings_building_id'))

    op.drop_table('notice_buildings')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_common_problem_id'))
        batch_op.drop_index('ix_notices_community_published')

    op.drop_table('notices')
