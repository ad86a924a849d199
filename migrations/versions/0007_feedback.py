"""feedback: monthly satisfaction surveys, common problems and the complaints behind them

Revision ID: 0007_feedback
Revises: 0006_upload_house
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_feedback'
down_revision = '0006_upload_house'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('satisfaction_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('answer', sa.String(length=24), nullable=False),
    sa.Column('comments', sa.Text(), nullable=False),
    sa.Column('respondent_name', sa.String(length=50), nullable=False),
    sa.Column('respondent_phone', sa.String(length=20), nullable=False),
    sa.Column('surveyed_by_id', sa.Integer(), nullable=True),
    sa.Column('surveyed_at', sa.DateTime(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_satisfaction_surveys_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['house_id'], ['houses.id'], name=op.f('fk_satisfaction_surveys_house_id_houses'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['responded_by_id'], ['staff.id'], name=op.f('fk_satisfaction_surveys_responded_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['surveyed_by_id'], ['staff.id'], name=op.f('fk_satisfaction_surveys_surveyed_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_surveys')),
    sa.UniqueConstraint('house_id', 'month', name=op.f('uq_satisfaction_surveys_house_id_month'))
    )
    with op.batch_alter_table('satisfaction_surveys', schema=None) as batch_op:
        batch_op.create_index('ix_satisfaction_surveys_community_month', ['community_id', 'month'], unique=False)

    op.create_table('common_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('complaint_count', sa.Integer(), nullable=False),
    sa.Column('first_complaint_at', sa.DateTime(), nullable=False),
    sa.Column('last_complaint_at', sa.DateTime(), nullable=False),
    sa.Column('detected_at', sa.DateTime(), nullable=False),
    sa.Column('answer_due_at', sa.DateTime(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['staff.id'], name=op.f('fk_common_problems_answered_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_common_problems_building_id_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_common_problems_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_common_problems_notice_id_notices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_common_problems'))
    )
    with op.batch_alter_table('common_problems', schema=None) as batch_op:
        batch_op.create_index('ix_common_problems_community_status', ['community_id', 'status'], unique=False)
        # One open problem per building and category.
        batch_op.create_index('uq_common_problems_open', ['building_id', 'category'], unique=True,
                              postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('common_problem_complaints',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['work_orders.id'], name=op.f('fk_common_problem_complaints_order_id_work_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['common_problems.id'], name=op.f('fk_common_problem_complaints_problem_id_common_problems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('problem_id', 'order_id', name=op.f('pk_common_problem_complaints')),
    sa.UniqueConstraint('order_id', name=op.f('uq_common_problem_complaints_order_id'))
    )


def downgrade():
    op.drop_table('common_problem_complaints')
    with op.batch_alter_table('common_problems', schema=None) as batch_op:
        batch_op.drop_index('uq_common_problems_open')
        batch_op.drop_index('ix_common_problems_community_status')
    op.drop_table('common_problems')
    with op.batch_alter_table('satisfaction_surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_satisfaction_surveys_community_month')
    op.drop_table('satisfaction_surveys')
