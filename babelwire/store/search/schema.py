"""The parts of the search index that are not in models.py (an FTS5 table on SQLite, the
`tsv` column and its GIN index on PostgreSQL): created by migration 0005, left out of the
model comparison."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

EXTRA_TABLES = ("search_fts",)  # FTS5 and its shadow tables (search_fts_data, ...)
EXTRA_COLUMNS = {("search_docs", "tsv")}
EXTRA_INDEXES = {"ix_search_docs_tsv"}


def include_name(name: str | None, type_: Any, parent_names: MutableMapping[Any, Any]
                 ) -> bool:
    """Alembic's `include_name` hook: False for the search index's own objects."""
    if name is None:
        return True
    if type_ == "table":
        return not any(name == t or name.startswith(t + "_") for t in EXTRA_TABLES)
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in EXTRA_COLUMNS
    if type_ == "index":
        return name not in EXTRA_INDEXES
    return True
