"""Turn integrity: the in-flight guard's token and owner, idempotency keys, and replies linked to their turn.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("practice_session") as batch:
        batch.add_column(sa.Column("busy_token", sa.String(32)))
        batch.add_column(sa.Column("busy_owner", sa.String(100)))
    with op.batch_alter_table("turn") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(100)))
        batch.add_column(sa.Column("reply_to", sa.Integer))
        batch.create_unique_constraint("uq_turn_session_idempotency_key", ["session_id", "idempotency_key"])
        batch.create_foreign_key("fk_turn_reply_to", "turn", ["reply_to"], ["id"])
    # A guard taken before the upgrade has no owner token; free it, and mark its pending turns unanswered.
    op.execute("UPDATE practice_session SET busy_since = NULL")
    op.execute("UPDATE turn SET status = 'unanswered' WHERE status = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("turn") as batch:
        batch.drop_constraint("fk_turn_reply_to", type_="foreignkey")
        batch.drop_constraint("uq_turn_session_idempotency_key", type_="unique")
        batch.drop_column("reply_to")
        batch.drop_column("idempotency_key")
    with op.batch_alter_table("practice_session") as batch:
        batch.drop_column("busy_owner")
        batch.drop_column("busy_token")
