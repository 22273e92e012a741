"""search: one analysis on both stores (stems, then case and all diacritics folded)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 14:00:00

PostgreSQL's index was made by its own text search configurations, which keep diacritics
("zurich" did not find "Zürich") and have no Polish or Czech stemmer; it is now made from
the analysis SQLite uses. That analysis also folds the letters Unicode does not decompose
(ł, ø, ß, æ...: analyzer snowball-2). Both indexes are rebuilt here, in this migration's
transaction (about a minute per 100,000 articles on SQLite).
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from babelwire.store.search import index

    conn = op.get_bind()
    index.reset(conn)
    index.build(conn)
    index.finish(conn)


def downgrade() -> None:
    pass  # the index stays as it is: an older Babelwire rebuilds it with `db reindex-search`
