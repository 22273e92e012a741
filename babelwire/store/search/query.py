"""Search: every stored text (originals and translations) that the reader's language can
match, ranked by relevance with a boost for recency, one hit per article, filtered, with a
highlighted snippet, keyset-paginated on (score, article id).

A reader searching in `lang` matches an article's text in `lang` (its original, or its
translation into `lang`) and any article's original (a name or a word shared across
languages); never a translation into a third language."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from babelwire.store.reader import MAX_LIMIT, Item, by_ids
from babelwire.store.search import pg_fts, sqlite_fts
from babelwire.store.search.documents import documents
from babelwire.store.search.parse import ParsedQuery, parse
from babelwire.store.search.snippet import Snippet, snippet

RECENCY_BOOST = 1.0  # a text published now scores (1 + this) times its relevance ...
RECENCY_DAYS = 7.0  # ... one RECENCY_DAYS old (1 + this / 2) times; old texts x1
# Texts ranked per query: the newest this many that match (index order is ingest order).
# A rarer query ranks every match; a common one ranks its newest matches (and pages
# through those), so a search costs about the same at any store size. With a filter,
# every match is ranked.
CANDIDATES = 2000


@dataclass(frozen=True)
class Filters:
    country: str | None = None
    source: str | None = None
    original_language: str | None = None
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before


@dataclass(frozen=True)
class SearchCursor:
    now: int  # the time recency is measured from, fixed by the first page
    score: float
    id: int

    def encode(self) -> str:
        raw = f"{self.now}:{self.score!r}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> SearchCursor | None:
        if not token or len(token) > 96:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            now, score, ident = raw.split(":")
            return cls(int(now), float(score), int(ident))
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Hit:
    item: Item
    score: float
    matched_language: str  # the language of the text that matched
    matched_original: bool  # the article's own text (else its translation)
    snippet: Snippet


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    next: SearchCursor | None


def _filter_sql(f: Filters, params: dict[str, Any]) -> str:
    sql = ""
    if f.country:
        sql += " AND d.country = :country"
        params["country"] = f.country.upper()
    if f.source:
        sql += " AND d.source_id = :source"
        params["source"] = f.source
    if f.original_language:
        sql += " AND d.article_language = :olang"
        params["olang"] = f.original_language
    if f.since is not None:
        sql += " AND d.published >= :since"
        params["since"] = int(f.since.timestamp())
    if f.until is not None:
        sql += " AND d.published < :until"
        params["until"] = int(f.until.timestamp())
    return sql


RECENCY = ("(1.0 + :boost / (1.0 + {max}(0, :now - d.published) / :span))")


def _sqlite(conn: Connection, query: ParsedQuery, lang: str, filt: str, keyset: str,
            params: dict[str, Any]) -> list[Any]:
    match = sqlite_fts.match_expression(query, lang)
    if match is None:
        return []
    params["m"] = match
    w = sqlite_fts.WEIGHTS
    score = "f.bm * " + RECENCY.format(max="max")
    # bm25() only runs in the FTS query itself: a materialized CTE keeps it there
    sql = (f"WITH f AS MATERIALIZED (SELECT rowid AS rid, -bm25(search_fts, {w[0]}, {w[1]}, "
           f"{w[2]}) AS bm FROM search_fts WHERE search_fts MATCH :m "
           "ORDER BY rowid DESC LIMIT :k) "
           "SELECT d.article_id AS aid, d.id AS doc, d.language AS lang, d.original AS orig,"
           f" max({score}) AS score FROM f JOIN search_docs d ON d.id = f.rid "
           "LEFT JOIN sources s ON s.id = d.source_id "
           "WHERE (d.language = :lang OR d.original = 1) "
           f"AND (s.id IS NULL OR s.opt_out = 0){filt} GROUP BY d.article_id "
           f"{'HAVING ' + keyset if keyset else ''} ORDER BY score DESC, aid DESC LIMIT :n")
    return list(conn.execute(text(sql), params))


def _postgres(conn: Connection, query: ParsedQuery, lang: str, filt: str, keyset: str,
              params: dict[str, Any]) -> list[Any]:
    tsquery = pg_fts.tsquery(query, lang)
    if tsquery is None:
        return []
    sql_q, q_params = tsquery
    params.update(q_params)
    score = "ts_rank(d.tsv, q.q) * " + RECENCY.format(max="greatest")
    # the newest CANDIDATES matches by id first: ts_rank reads (detoasts) only theirs. The
    # matches are materialized apart (the GIN index's bitmap) so that the planner never
    # walks the primary key backwards testing each row's tsv instead.
    sql = (f"WITH q AS (SELECT {sql_q} AS q), "
           "m0 AS MATERIALIZED (SELECT d.id FROM search_docs d, q WHERE d.tsv @@ q.q), "
           "c AS MATERIALIZED (SELECT id FROM m0 ORDER BY id DESC LIMIT :k) "
           "SELECT aid, doc, lang, orig, score FROM (SELECT DISTINCT ON (d.article_id) "
           "d.article_id AS aid, d.id AS doc, d.language AS lang, d.original AS orig, "
           f"{score} AS score FROM c JOIN search_docs d ON d.id = c.id CROSS JOIN q "
           "LEFT JOIN sources s ON s.id = d.source_id WHERE (d.language = :lang OR "
           f"d.original) AND (s.id IS NULL OR NOT s.opt_out){filt} "
           "ORDER BY d.article_id, score DESC) m "
           f"{'WHERE ' + keyset if keyset else ''} ORDER BY score DESC, aid DESC LIMIT :n")
    return list(conn.execute(text(sql), params))


def matches(conn: Connection, query: ParsedQuery, lang: str, *, filters: Filters,
            cursor: SearchCursor | None, limit: int, now: int) -> list[Any]:
    """(aid, doc, lang, orig, score) rows, best first: the index query alone."""
    params: dict[str, Any] = {"lang": lang, "n": limit, "now": now, "boost": RECENCY_BOOST,
                              "span": RECENCY_DAYS * 86400.0}
    filt = _filter_sql(filters, params)
    # filtered, every match is a candidate (the filters apply after the index query)
    sqlite = conn.dialect.name != "postgresql"
    params["k"] = CANDIDATES if not filt else (-1 if sqlite else None)
    keyset = ""
    if cursor is not None:
        keyset = "(score < :cs OR (score = :cs AND aid < :cid))"
        params["cs"], params["cid"] = cursor.score, cursor.id
    run = _postgres if conn.dialect.name == "postgresql" else _sqlite
    return run(conn, query, lang, filt, keyset, params)


def search(session: Session, q: str | ParsedQuery, lang: str, *,
           filters: Filters | None = None, cursor: SearchCursor | None = None,
           limit: int = 20, now: float | None = None) -> SearchResult:
    """Raises QueryError for a query with nothing to search for (a 400)."""
    query = parse(q) if isinstance(q, str) else q
    limit = max(1, min(limit, MAX_LIMIT))
    at = cursor.now if cursor is not None else int(now if now is not None else time.time())
    conn = session.connection()
    rows = matches(conn, query, lang, filters=filters or Filters(), cursor=cursor,
                   limit=limit + 1, now=at)
    page = rows[:limit]
    items = {it.id: it for it in by_ids(session, [r.aid for r in page], lang)}
    wanted = {(r.aid, r.lang) for r in page}
    texts = {(d.article_id, d.language): d for d in documents(conn, [r.aid for r in page])
             if (d.article_id, d.language) in wanted}
    hits = []
    for r in page:
        item, doc = items.get(r.aid), texts.get((r.aid, r.lang))
        if item is None:  # changed since the index query (no longer shown)
            continue
        snip = snippet([doc.body, doc.summary, doc.title] if doc else [], query.all_words,
                       r.lang)
        hits.append(Hit(item, float(r.score), r.lang, bool(r.orig), snip))
    nxt = None
    if len(rows) > limit:
        last = page[-1]
        nxt = SearchCursor(at, float(last.score), int(last.aid))
    return SearchResult(hits, nxt)
