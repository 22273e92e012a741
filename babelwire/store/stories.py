"""Read queries for stories: the front page's ranking and a story's full coverage.

A story's coverage counts its wire copies (same-language near-duplicates, never shown as
articles of their own) beside the articles shown: "also published by ...".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from babelwire.store.models import DUPLICATE, READY, Article, Source, Story
from babelwire.store.reader import Item, by_ids, publisher_shown

RECENT = timedelta(hours=48)  # the front page ranks stories active this close to the newest
HALF_LIFE_HOURS = 18.0
CANDIDATES = 400


@dataclass(frozen=True)
class StorySummary:
    id: int
    lead: Item  # the headline, in the reader's language when there is one
    articles: int  # articles and wire copies
    sources: int
    countries: int
    languages: int
    first_published: datetime | None
    last_published: datetime | None


def rank(story: Story, newest: datetime) -> float:
    """Coverage (publishers, countries and languages reporting it) decayed with age."""
    coverage = story.sources + story.countries + 0.5 * story.languages
    last = story.last_published_at or newest
    age_h = max((newest - last).total_seconds() / 3600, 0.0)
    return coverage * 0.5 ** (age_h / HALF_LIFE_HOURS)


def _visible_members(session: Session, story_ids: list[int]) -> list[Article]:
    # the status is checked here, not in SQL: given "status = 'ready'", SQLite walks the
    # status index over every stored article instead of the story's rows
    return [a for a in session.scalars(
        select(Article).join(Source, Article.source_id == Source.id, isouter=True)
        .where(Article.story_id.in_(story_ids), publisher_shown())
        .order_by(Article.published_at, Article.id)) if a.status == READY]


def _summaries(session: Session, stories: list[Story], lang: str) -> list[StorySummary]:
    """Each story with its headline: the first article written in the reader's language,
    else the first whose title is translated into it, else the story's lead article."""
    members: dict[int, list[Article]] = defaultdict(list)
    for art in _visible_members(session, [s.id for s in stories]):
        assert art.story_id is not None
        members[art.story_id].append(art)
    items = {it.id: it for it in by_ids(
        session, [a.id for arts in members.values() for a in arts], lang)}
    out = []
    for story in stories:
        cands = [items[a.id] for a in members.get(story.id, []) if a.id in items]
        if not cands:
            continue
        lead = (next((i for i in cands if i.language == lang), None)
                or next((i for i in cands if i.translated), None)
                or next((i for i in cands if i.id == story.lead_article_id), cands[0]))
        out.append(StorySummary(story.id, lead, story.articles, story.sources, story.countries,
                                story.languages, story.first_published_at,
                                story.last_published_at))
    return out


def top_stories(session: Session, lang: str, *, limit: int = 12) -> list[StorySummary]:
    """The front page: stories active within RECENT of the newest one, ranked by coverage
    and recency (relative to the newest story, so an archive replays sensibly too)."""
    newest = session.scalar(select(func.max(Story.last_published_at)))
    if newest is None:
        return []
    cands = list(session.scalars(
        select(Story).where(Story.last_published_at >= newest - RECENT, Story.articles > 0,
                            Story.merged_into.is_(None))
        .order_by(Story.last_published_at.desc()).limit(CANDIDATES)))
    cands.sort(key=lambda st: (-rank(st, newest), -(st.id)))
    return _summaries(session, cands[: limit * 2], lang)[:limit]


def current_id(session: Session, story_id: int) -> int | None:
    """The story a (possibly merged) story id now lives in, or None when there is none.
    Merges point straight at the surviving story, so this follows one link."""
    row = session.execute(select(Story.id, Story.merged_into).where(Story.id == story_id)
                          ).first()
    if row is None:
        return None
    return int(row[1]) if row[1] is not None else int(row[0])


def story_summary(session: Session, story_id: int, lang: str) -> StorySummary | None:
    story = session.get(Story, story_id)
    if story is None:
        return None
    found = _summaries(session, [story], lang)
    return found[0] if found else None


@dataclass
class Coverage:
    """A story's full coverage: its articles grouped by country, wire copies beside their
    originals, and the share of each country and language."""

    summary: StorySummary
    by_country: list[tuple[str | None, list[Item]]]
    also_published_by: dict[int, list[str]] = field(default_factory=dict)  # id -> publishers
    countries: list[tuple[str | None, int]] = field(default_factory=list)
    languages: list[tuple[str | None, int]] = field(default_factory=list)


def story_coverage(session: Session, story_id: int, lang: str) -> Coverage | None:
    story = session.get(Story, story_id)
    if story is None:
        return None
    summary = _summaries(session, [story], lang)
    if not summary:
        return None
    members = _visible_members(session, [story_id])
    items = by_ids(session, [a.id for a in members], lang)
    groups: dict[str | None, list[Item]] = defaultdict(list)
    for it in items:
        groups[it.country].append(it)
    copies = [r[:4] for r in session.execute(
        select(Article.duplicate_of, Article.country, Article.language,
               func.coalesce(Source.name, Article.site_name, Article.url), Article.status)
        .join(Source, Article.source_id == Source.id, isouter=True)
        .where(Article.story_id == story_id, publisher_shown()))
        if r[4] == DUPLICATE]
    also: dict[int, list[str]] = defaultdict(list)
    country_count: Counter[str | None] = Counter(a.country for a in members)
    language_count: Counter[str | None] = Counter(a.language for a in members)
    for original, country, language, publisher in copies:
        if original is not None:
            also[original].append(publisher)
        country_count[country] += 1
        language_count[language] += 1
    ordered = sorted(groups.items(), key=lambda kv: (-country_count[kv[0]], kv[0] or "~"))
    return Coverage(summary[0], ordered, dict(also), country_count.most_common(),
                    language_count.most_common())
