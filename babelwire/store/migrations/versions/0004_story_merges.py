"""story merges: stories.merged_into

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 06:45:00

A plain ADD COLUMN (with its reference inline on SQLite), not a batch table rebuild: on a
store of a million articles, rebuilding `stories` on SQLite took over 15 minutes (dropping the
old table checks every article that refers to it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite takes the reference only inline
        op.execute("ALTER TABLE stories ADD COLUMN merged_into INTEGER REFERENCES stories (id)")
    else:
        op.add_column("stories", sa.Column(
            "merged_into", sa.Integer(),
            sa.ForeignKey("stories.id", name="fk_stories_merged_into"), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("stories") as batch:
            batch.drop_column("merged_into")
    else:
        op.drop_constraint("fk_stories_merged_into", "stories", type_="foreignkey")
        op.drop_column("stories", "merged_into")
