"""story merges: stories.merged_into

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_stories_merged_into_stories", "stories",
                                 ["merged_into"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_constraint("fk_stories_merged_into_stories", type_="foreignkey")
        batch.drop_column("merged_into")
