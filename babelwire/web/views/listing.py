"""A listing (all news, a country's news): filters and a keyset page, for the HTML
listing and GET /api/v1/articles alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from babelwire.context import Context
from babelwire.store import reader
from babelwire.store.models import Source
from babelwire.web.views.common import as_read


@dataclass(frozen=True)
class ListingFilters:
    country: str | None = None
    source: str | None = None
    original: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ListingView:
    items: list[reader.Item]
    next_cursor: str | None
    countries: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def build_listing(ctx: Context, lang: str, filters: ListingFilters, *,
                  cursor: str | None = None, limit: int = 30, reads: tuple[str, ...] = (),
                  with_choices: bool = False) -> ListingView:
    """The page of items; with `with_choices`, the countries and publishers a filter form
    offers too."""
    with ctx.db.session() as s:
        items, nxt = reader.list_articles(
            s, lang=lang, country=filters.country, source=filters.source,
            original_language=filters.original, url=filters.url,
            cursor=reader.Cursor.decode(cursor), limit=limit)
        items = as_read(s, items, reads)
        countries = reader.source_countries(s) if with_choices else []
        srcs = reader.sources(s, filters.country) if with_choices else []
    return ListingView(items, nxt.encode() if nxt else None, countries, srcs)
