"""The front page: top stories (or the newest articles before any story is formed) and
each country's latest."""

from __future__ import annotations

from dataclasses import dataclass

from babelwire.context import Context
from babelwire.store import reader, stories
from babelwire.web.views.common import as_read, stories_as_read

TOP = 12
PER_COUNTRY = 4


@dataclass(frozen=True)
class FrontView:
    top: list[stories.StorySummary]
    latest: list[reader.Item]
    sections: list[tuple[str, list[reader.Item]]]
    countries: list[str]


def build_front(ctx: Context, lang: str, reads: tuple[str, ...]) -> FrontView:
    with ctx.db.session() as s:
        countries = reader.source_countries(s)
        top = stories_as_read(s, stories.top_stories(s, lang, limit=TOP), reads)
        # before any story is formed (embeddings off or still running): newest first
        latest = [] if top else as_read(
            s, reader.list_articles(s, lang=lang, limit=TOP)[0], reads)
        sections = []
        for code in countries:
            items, _ = reader.list_articles(s, lang=lang, country=code, limit=PER_COUNTRY)
            if items:
                sections.append((code, as_read(s, items, reads)))
    return FrontView(top, latest, sections, countries)
