"""Read queries for the website and the JSON API: only READY articles of publishers that
have not opted out, with their translation into the reader's language when there is one.
Listings are keyset-paginated on (published_at, id), newest first, so page 1,000 costs
what page 1 costs."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from babelwire.store.models import READY, Article, Block, Source, Translation

MAX_LIMIT = 100


@dataclass(frozen=True)
class Cursor:
    published: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.published.timestamp():.6f}:{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        if not token or len(token) > 64:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            ts, ident = raw.split(":")
            return cls(datetime.fromtimestamp(float(ts), UTC), int(ident))
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Item:
    """An article in a listing, with its title in the reader's language when translated."""

    id: int
    url: str
    language: str | None
    title: str  # translated when a translation exists, else the original
    title_language: str | None  # the language `title` is in
    summary: str | None
    source_id: str | None
    source_name: str | None
    source_homepage: str | None
    country: str | None
    published: datetime
    story_id: int | None
    image: str | None
    translated: bool


def publisher_shown() -> ColumnElement[bool]:
    """The article's publisher has not opted out (an article without one is shown); needs
    `Source` joined (outer) on `Article.source_id`."""
    return or_(Article.source_id.is_(None), Source.opt_out.is_(False))


def _visible() -> list[Any]:
    return [Article.status == READY, publisher_shown()]


def _item(art: Article, src: Source | None, tr: Translation | None) -> Item:
    translated = tr is not None and bool(tr.title)
    return Item(
        id=art.id, url=art.url, language=art.language,
        title=(tr.title if translated and tr is not None and tr.title else art.title) or art.url,
        title_language=tr.language if translated and tr is not None else art.language,
        summary=(tr.description if tr is not None and tr.description else art.description),
        source_id=art.source_id, source_name=src.name if src else art.site_name,
        source_homepage=src.homepage if src else None, country=art.country,
        published=art.published_at or art.discovered_at, story_id=art.story_id,
        image=art.image, translated=translated)


def list_articles(
    session: Session,
    *,
    lang: str,
    country: str | None = None,
    source: str | None = None,
    original_language: str | None = None,
    url: str | None = None,
    cursor: Cursor | None = None,
    limit: int = 30,
) -> tuple[list[Item], Cursor | None]:
    """Newest first; returns the items and the cursor of the next page (or None)."""
    limit = max(1, min(limit, MAX_LIMIT))
    q = (select(Article, Source, Translation)
         .join(Source, Article.source_id == Source.id, isouter=True)
         .join(Translation, and_(Translation.article_id == Article.id,
                                 Translation.language == lang), isouter=True)
         .where(*_visible(), Article.published_at.is_not(None)))
    if country:
        q = q.where(Article.country == country.upper())
    if source:
        q = q.where(Article.source_id == source)
    if original_language:
        q = q.where(Article.language == original_language)
    if url:
        q = q.where(Article.url == url)
    if cursor is not None:
        q = q.where(or_(Article.published_at < cursor.published,
                        and_(Article.published_at == cursor.published, Article.id < cursor.id)))
    q = q.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit + 1)
    rows = session.execute(q).all()
    items = [_item(a, s, t) for a, s, t in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = items[-1]
        nxt = Cursor(last.published, last.id)
    return items, nxt


@dataclass(frozen=True)
class ArticleView:
    item: Item
    article: Article
    source: Source | None
    blocks: list[Block]
    translation: Translation | None  # into the reader's language, if any


def get_article(session: Session, article_id: int, lang: str) -> ArticleView | None:
    row = session.execute(
        select(Article, Source).join(Source, Article.source_id == Source.id, isouter=True)
        .where(Article.id == article_id, *_visible())).first()
    if row is None:
        return None
    art, src = row
    tr = session.scalar(select(Translation).where(Translation.article_id == article_id,
                                                  Translation.language == lang))
    blocks = list(session.scalars(select(Block).where(Block.article_id == article_id)
                                  .order_by(Block.position)))
    return ArticleView(_item(art, src, tr), art, src, blocks, tr)


def source_countries(session: Session) -> list[str]:
    """Countries with a publisher that has not opted out (the country selector): read from
    the few source rows, never by counting articles."""
    codes = session.scalars(select(Source.country).where(Source.opt_out.is_(False),
                                                         Source.country.is_not(None))
                            .distinct())
    return sorted(c for c in codes if c)


def country_article_counts(session: Session) -> list[tuple[str, int]]:
    """(country, visible articles) for every source country: a full count, for the API."""
    counts = dict(session.execute(
        select(Article.country, func.count()).join(Source, Article.source_id == Source.id)
        .where(*_visible(), Article.country.is_not(None)).group_by(Article.country)).all())
    return [(c, counts.get(c, 0)) for c in source_countries(session)]


def sources(session: Session, country: str | None = None) -> list[Source]:
    q = select(Source).where(Source.opt_out.is_(False))
    if country:
        q = q.where(Source.country == country.upper())
    return list(session.scalars(q.order_by(Source.country, Source.name)))


def by_ids(session: Session, ids: Sequence[int], lang: str) -> list[Item]:
    if not ids:
        return []
    rows = session.execute(
        select(Article, Source, Translation)
        .join(Source, Article.source_id == Source.id, isouter=True)
        .join(Translation, and_(Translation.article_id == Article.id,
                                Translation.language == lang), isouter=True)
        .where(Article.id.in_(list(ids)), publisher_shown())).all()
    # by primary key; the status is checked here (in SQL, SQLite prefers the status index)
    found = {a.id: _item(a, s, t) for a, s, t in rows if a.status == READY}
    return [found[i] for i in ids if i in found]
