"""The search view: a query and its filters read from request parameters, the hits of one
page with snippets, and the next page's cursor; or why the query cannot run (a 400)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from babelwire.context import Context
from babelwire.store import reader
from babelwire.store.models import Source
from babelwire.store.search import Filters, Hit, QueryError, SearchCursor, search
from babelwire.store.search.parse import MAX_QUERY_CHARS
from babelwire.web.views.common import as_read

PER_PAGE = 20


class BadRequest(ValueError):
    """A parameter that cannot be used: the message is for the reader (a 400)."""


@dataclass(frozen=True)
class SearchView:
    q: str
    lang: str
    filters: Filters
    hits: list[Hit] = field(default_factory=list)
    next_cursor: str | None = None
    sources: list[Source] = field(default_factory=list)  # for the publisher filter


def _date(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise BadRequest(f"{name} must be a date like 2026-11-30") from exc
    return day + timedelta(days=1) if end else day  # `until` includes its day


def read_filters(params: Mapping[str, str]) -> Filters:
    country = (params.get("country") or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise BadRequest("country must be a two-letter code")
    return Filters(country=country or None,
                   source=(params.get("source") or "")[:80] or None,
                   original_language=(params.get("original") or "")[:10] or None,
                   since=_date(params.get("since"), "since"),
                   until=_date(params.get("until"), "until", end=True))


def build_search(ctx: Context, lang: str, params: Mapping[str, str], *,
                 reads: tuple[str, ...] = (), limit: int = PER_PAGE) -> SearchView:
    """Raises BadRequest (QueryError is one) for what cannot be searched for."""
    q = (params.get("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    filters = read_filters(params)
    token = params.get("cursor")
    cursor = SearchCursor.decode(token)
    if token and cursor is None:
        raise BadRequest("cursor is not one this site gave")
    with ctx.db.session() as s:
        srcs = reader.sources(s, filters.country)
        if not q:
            return SearchView(q, lang, filters, sources=srcs)
        res = search(s, q, lang, filters=filters, cursor=cursor, limit=limit)
        items = as_read(s, [h.item for h in res.hits], reads)
    hits = [Hit(it, h.score, h.matched_language, h.matched_original, h.snippet)
            for it, h in zip(items, res.hits, strict=True)]
    return SearchView(q, lang, filters, hits, res.next.encode() if res.next else None, srcs)
