"""PostgreSQL: a `tsv` column on search_docs with a GIN index, made from the same analysis
as SQLite's (analyze.stems: Snowball stems in 40 languages, case and diacritics folded,
CJK bigrams), given to the 'simple' configuration, which only splits it. So both stores
find the same articles for a query: "zurich" finds "Zürich" in any language, and Polish
and Czech are stemmed, which PostgreSQL's own configurations do not do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, text

from babelwire.store.search.analyze import stem_words, stems
from babelwire.store.search.documents import Document
from babelwire.store.search.parse import ParsedQuery

DDL = (
    "ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS tsv tsvector NOT NULL "
    "DEFAULT ''::tsvector",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_tsv ON search_docs USING gin (tsv)",
)
# title A, summary B, body D: ts_rank's default weights {0.1, 0.2, 0.4, 1.0}
TSV = ("setweight(to_tsvector('simple', :t), 'A') || "
       "setweight(to_tsvector('simple', :s), 'B') || "
       "setweight(to_tsvector('simple', :b), 'D')")


def create(conn: Connection) -> None:
    for stmt in DDL:
        conn.exec_driver_sql(stmt)


def drop(conn: Connection) -> None:
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_search_docs_tsv")
    conn.exec_driver_sql("ALTER TABLE search_docs DROP COLUMN IF EXISTS tsv")


# Namespace of the transaction-scoped advisory locks that serialise re-indexing per article.
_LOCK_SPACE = 0x6277  # "bw"


def delete(conn: Connection, article_ids: Sequence[int]) -> None:
    """Remove the articles' documents, first locking each article's index entries until
    the transaction ends: two transactions re-indexing one article at once (an on-demand
    translation and the crawler's, say) would otherwise both delete nothing the other can
    see and both insert (a unique violation; found by the soak). Locks are taken in id
    order, so two indexers never deadlock."""
    if article_ids:
        ids = sorted(set(article_ids))
        conn.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), "
                          "CAST(t.id AS integer)) FROM (SELECT id FROM "
                          "unnest(CAST(:ids AS bigint[])) AS id ORDER BY id) AS t"),
                     {"space": _LOCK_SPACE, "ids": ids})
        conn.execute(text("DELETE FROM search_docs WHERE article_id = ANY(:ids)"),
                     {"ids": ids})


def _text(value: str, language: str) -> str:
    return " ".join(stems(value, language))  # words only: no NUL, no tsvector syntax


def insert(conn: Connection, docs: Iterable[Document]) -> int:
    rows = [{"article_id": d.article_id, "language": d.language, "original": d.original,
             "published": d.published, "country": d.country, "source_id": d.source_id,
             "article_language": d.article_language, "t": _text(d.title, d.language),
             "s": _text(d.summary, d.language), "b": _text(d.body, d.language)}
            for d in docs]
    if rows:
        conn.execute(text("INSERT INTO search_docs (article_id, language, original, published,"
                          " country, source_id, article_language, tsv) VALUES (:article_id, "
                          ":language, :original, :published, :country, :source_id, "
                          f":article_language, {TSV})"), rows)
    return len(rows)


def tsquery(query: ParsedQuery, language: str) -> tuple[str, dict[str, str]] | None:
    """The tsquery, from bound parameters only (:words, :p0, :p1, ...) holding stems:
    plainto and phraseto read their text as words, never as tsquery syntax. None when no
    word leaves a token."""
    params = {"words": " ".join(dict.fromkeys(stem_words(list(query.terms), language)))}
    parts = ["plainto_tsquery('simple', :words)"] if params["words"] else []
    for i, phrase in enumerate(query.phrases):
        params[f"p{i}"] = " ".join(stem_words(list(phrase), language))
        parts.append(f"phraseto_tsquery('simple', :p{i})")
    return (" && ".join(parts), params) if parts else None
