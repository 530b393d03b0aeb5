"""Baseline: the tables as they were before migrations (trainee, scenario, practice session, turn, score).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainee",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "scenario",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("theme", sa.String(40), nullable=False),
    )
    op.create_table(
        "practice_session",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("trainee_id", sa.String(32), sa.ForeignKey("trainee.id"), nullable=False, index=True),
        sa.Column("scenario_id", sa.String(80), sa.ForeignKey("scenario.id"), nullable=False, index=True),
        sa.Column("difficulty", sa.String(20), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("exam_mode", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("ended_by", sa.String(10)),
        sa.Column("patient_state", sa.JSON),
        sa.Column("busy_since", sa.Float),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
    )
    op.create_table(
        "turn",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("practice_session.id"), nullable=False, index=True),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("speaker", sa.String(10), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(12)),
        sa.Column("nlu_intent", sa.String(60)),
        sa.Column("pool", sa.String(80)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("session_id", "index", name="uq_turn_session_index"),
    )
    op.create_table(
        "turn_score",
        sa.Column("turn_id", sa.Integer, sa.ForeignKey("turn.id"), primary_key=True),
        sa.Column("empathy", sa.Integer),
        sa.Column("collaboration", sa.Integer),
        sa.Column("shared_decision", sa.Integer),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("turn_score", "turn", "practice_session", "scenario", "trainee"):
        op.drop_table(table)
