"""full-text search: search_docs, and its index (FTS5 on SQLite, tsvector on PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00

Builds the index for the articles already stored, in this migration's transaction (about
a minute per 100,000 articles on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from babelwire.store.search import index

    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("original", sa.Boolean(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("source_id", sa.String(length=80), nullable=True),
        sa.Column("article_language", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_search_docs_article_language", "search_docs",
                    ["article_id", "language"], unique=True)
    conn = op.get_bind()
    index.backend(conn).create(conn)
    index.build(conn)
    index.finish(conn)


def downgrade() -> None:
    from babelwire.store.search import index

    conn = op.get_bind()
    index.backend(conn).drop(conn)
    op.drop_index("ux_search_docs_article_language", table_name="search_docs")
    op.drop_table("search_docs")
