"""A story's full coverage, for /{lang}/s/{id} and GET /api/v1/stories/{id}."""

from __future__ import annotations

from dataclasses import dataclass, field

from babelwire.context import Context
from babelwire.store import reader, stories
from babelwire.web.views.common import as_read, stories_as_read


@dataclass(frozen=True)
class StoryView:
    coverage: stories.Coverage | None  # None: no such story (or merged)
    merged_into: int | None  # the story it was merged into: its URL is the one to use
    countries: list[str] = field(default_factory=list)


def build_story(ctx: Context, story_id: int, lang: str, reads: tuple[str, ...] = (), *,
                with_countries: bool = False) -> StoryView:
    with ctx.db.session() as s:
        now_in = stories.current_id(s, story_id)
        cov = stories.story_coverage(s, story_id, lang) if now_in == story_id else None
        if cov is not None and reads:
            cov.summary = stories_as_read(s, [cov.summary], reads)[0]
            cov.by_country = [(code, as_read(s, items, reads)) for code, items in cov.by_country]
        countries = reader.source_countries(s) if with_countries else []
    merged = now_in if now_in is not None and now_in != story_id else None
    return StoryView(cov, merged, countries)
