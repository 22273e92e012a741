"""All reads and writes of the pipeline, behind one layer. Each function takes a Session
that the caller opened with `Database.session()` (one transaction)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from babelwire.catalog.model import SourceSpec
from babelwire.store.models import (
    PENDING,
    READY,
    Article,
    ArticleVector,
    Block,
    Country,
    Feed,
    FetchLog,
    Page,
    ParagraphHash,
    SimhashBand,
    Source,
    Story,
    Translation,
)


def _insert(session: Session, model: type) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# --------------------------------------------------------------------------- sources


def sync_sources(session: Session, specs: Iterable[SourceSpec]) -> int:
    """Upsert publishers and their feeds from catalogue specs; returns how many specs."""
    count = 0
    for spec in specs:
        count += 1
        if spec.country and session.get(Country, spec.country) is None:
            session.add(Country(code=spec.country))
            session.flush()
        src = session.get(Source, spec.id)
        if src is None:
            src = Source(id=spec.id)
            session.add(src)
        src.name = spec.name
        src.homepage = spec.homepage
        src.country = spec.country
        src.languages = list(spec.languages)
        src.logo = spec.logo
        src.policy = spec.policy
        src.opt_out = spec.opt_out
        session.flush()
        wanted = [(u, "feed") for u in spec.feeds] + [(u, "sitemap") for u in spec.sitemaps]
        existing = {f.url: f for f in session.scalars(select(Feed).where(Feed.url.in_(
            [u for u, _ in wanted])))}
        for url, kind in wanted:
            feed = existing.get(url)
            if feed is None:
                session.add(Feed(source_id=spec.id, url=url, kind=kind, active=True,
                                 consecutive_errors=0, entries_seen=0))
            else:
                feed.source_id, feed.kind, feed.active = spec.id, kind, True
        wanted_urls = {u for u, _ in wanted}
        for feed in session.scalars(select(Feed).where(Feed.source_id == spec.id)):
            if feed.url not in wanted_urls:
                feed.active = False
    return count


# --------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class FeedInfo:
    id: int
    url: str
    kind: str
    source_id: str
    country: str | None
    languages: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    consecutive_errors: int
    opt_out: bool


def feed_ids(
    session: Session,
    *,
    due_before: datetime | None = None,
    source_ids: Sequence[str] | None = None,
    country: str | None = None,
    limit: int | None = None,
) -> list[int]:
    """Active feeds of publishers that have not opted out; with `due_before`, only feeds
    whose next poll is due by then (never-polled feeds first)."""
    q = (select(Feed.id).join(Source).where(Feed.active.is_(True), Source.opt_out.is_(False)))
    if due_before is not None:
        q = q.where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= due_before))
    if source_ids:
        q = q.where(Feed.source_id.in_(list(source_ids)))
    if country:
        q = q.where(Source.country == country.upper())
    q = q.order_by(Feed.next_poll_at.is_not(None), Feed.next_poll_at, Feed.id)
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def claim_due_feeds(session: Session, *, now: datetime, lease_until: datetime,
                    source_ids: Sequence[str] | None = None,
                    country: str | None = None) -> list[int]:
    """The feeds due by `now`, each claimed by moving its next poll to `lease_until` in the
    same statement: two schedulers (processes, hosts) never both take one feed; a claimed
    feed whose poll never finishes is due again when the lease ends."""
    due = feed_ids(session, due_before=now, source_ids=source_ids, country=country)
    if not due:
        return []
    q = (update(Feed).where(Feed.id.in_(due),
                            or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
         .values(next_poll_at=lease_until).returning(Feed.id))
    claimed = set(session.scalars(q))
    return [fid for fid in due if fid in claimed]


def next_due(session: Session) -> datetime | None:
    q = select(func.min(Feed.next_poll_at)).join(Source).where(
        Feed.active.is_(True), Source.opt_out.is_(False))
    return session.scalar(q)


def feed_info(session: Session, feed_id: int) -> FeedInfo | None:
    row = session.execute(select(Feed, Source).join(Source).where(Feed.id == feed_id)).first()
    if row is None:
        return None
    feed, src = row
    return FeedInfo(feed.id, feed.url, feed.kind, src.id, src.country, tuple(src.languages or ()),
                    feed.etag, feed.last_modified, feed.consecutive_errors, src.opt_out)


@dataclass(frozen=True)
class NewArticle:
    url: str
    url_key: str
    title: str | None = None
    summary: str | None = None
    published: datetime | None = None
    language: str | None = None


def add_pending_articles(
    session: Session,
    items: Iterable[NewArticle],
    *,
    source_id: str | None,
    country: str | None,
    feed_id: int | None,
    now: datetime,
) -> list[int]:
    """Insert articles not yet known (by URL key) as PENDING; returns the new IDs.
    Known URLs are left alone, so re-reading a feed never duplicates anything."""
    new_ids: list[int] = []
    for item in items:
        stmt = (
            _insert(session, Article)
            .values(url=item.url, url_key=item.url_key, status=PENDING, source_id=source_id,
                    country=country, feed_id=feed_id, discovered_at=now, attempts=0,
                    feed_title=item.title, feed_summary=item.summary,
                    feed_published=item.published, feed_language=item.language,
                    authors=[], language_hints=[], word_count=0)
            .on_conflict_do_nothing(index_elements=["url_key"])
            .returning(Article.id)
        )
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            new_ids.append(new_id)
    return new_ids


def record_feed_poll(
    session: Session,
    feed_id: int,
    *,
    now: datetime,
    status: str,
    next_poll_at: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
    error: str | None = None,
    entries: int = 0,
) -> None:
    feed = session.get(Feed, feed_id)
    assert feed is not None
    feed.last_fetched_at = now
    feed.last_status = status
    feed.next_poll_at = next_poll_at
    if status == "error":
        feed.consecutive_errors += 1
        feed.last_error = error
    else:
        feed.consecutive_errors = 0
        feed.last_error = None
        if status == "ok":
            feed.etag = etag
            feed.last_modified = last_modified
            feed.entries_seen += entries


def recent_entry_times(session: Session, feed_id: int, limit: int = 30) -> list[datetime]:
    q = (select(func.coalesce(Article.feed_published, Article.discovered_at))
         .where(Article.feed_id == feed_id)
         .order_by(Article.id.desc()).limit(limit))
    return [t for t in session.scalars(q) if t is not None]


# --------------------------------------------------------------------------- articles


def pending_article_ids(session: Session, *, max_attempts: int, limit: int | None = None,
                        source_ids: Sequence[str] | None = None,
                        country: str | None = None) -> list[int]:
    q = select(Article.id).where(Article.status == PENDING, Article.attempts < max_attempts)
    if source_ids:
        q = q.where(Article.source_id.in_(list(source_ids)))
    if country:
        q = q.where(Article.country == country.upper())
    q = q.order_by(Article.id)
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def article_by_key(session: Session, url_key: str) -> Article | None:
    return session.scalar(select(Article).where(Article.url_key == url_key))


def ready_with_url(session: Session, url: str, *, exclude_id: int) -> int | None:
    return session.scalar(select(Article.id).where(
        Article.url == url, Article.id != exclude_id, Article.status == READY).limit(1))


def exact_duplicate(session: Session, content_hash: str, exclude_id: int) -> int | None:
    q = (select(Article.id).where(Article.content_hash == content_hash, Article.status == READY,
                                  Article.id != exclude_id).order_by(Article.id).limit(1))
    return session.scalar(q)


def near_duplicate_candidates(
    session: Session,
    bands: Sequence[int],
    *,
    exclude_id: int,
    language: str | None,
    around: datetime,
    window: timedelta,
) -> list[tuple[int, int]]:
    """(article id, signed simhash) of READY articles sharing a SimHash band with the given
    bands, in the same language, published within `window` of `around`."""
    published = func.coalesce(Article.published_at, Article.discovered_at)
    q = (
        select(Article.id, Article.simhash)
        .join(SimhashBand, SimhashBand.article_id == Article.id)
        .where(SimhashBand.band.in_(list(bands)), Article.status == READY,
               Article.id != exclude_id, Article.simhash.is_not(None),
               published >= around - window, published <= around + window)
        .distinct()
        .order_by(Article.id)
    )
    if language:
        q = q.where(Article.language == language)
    return [(i, h) for i, h in session.execute(q) if h is not None]


def replace_paragraph_hashes(session: Session, article_id: int,
                             hashes: dict[int, int]) -> None:
    session.execute(delete(ParagraphHash).where(ParagraphHash.article_id == article_id))
    if hashes:
        session.execute(insert(ParagraphHash), [
            {"article_id": article_id, "hash": h, "words": w} for h, w in hashes.items()])


def paragraph_overlap(
    session: Session,
    hashes: Sequence[int],
    *,
    exclude_id: int,
    language: str | None,
    around: datetime,
    window: timedelta,
) -> list[tuple[int, int, int]]:
    """(article id, shared words, its word count) for READY articles sharing paragraphs
    with the given hashes, in the same language and time window, most shared first."""
    if not hashes:
        return []
    published = func.coalesce(Article.published_at, Article.discovered_at)
    shared = func.sum(ParagraphHash.words)
    q = (
        select(Article.id, shared, Article.word_count)
        .join(ParagraphHash, ParagraphHash.article_id == Article.id)
        .where(ParagraphHash.hash.in_(list(hashes)), Article.status == READY,
               Article.id != exclude_id, published >= around - window,
               published <= around + window)
        .group_by(Article.id, Article.word_count)
        .order_by(shared.desc(), Article.id)
        .limit(20)
    )
    if language:
        q = q.where(Article.language == language)
    return [(i, int(n), int(w)) for i, n, w in session.execute(q)]


def save_page(session: Session, article_id: int, *, final_url: str, http_status: int,
              content_type: str | None, headers: dict[str, str], fetched_at: datetime,
              body_z: bytes, size: int) -> None:
    """Keep the raw page (zlib-compressed by the caller) for re-extraction and WARC export."""
    page = session.get(Page, article_id) or Page(article_id=article_id)
    page.final_url = final_url
    page.http_status = http_status
    page.content_type = content_type
    page.headers = headers
    page.fetched_at = fetched_at
    page.body = body_z
    page.size = size
    session.add(page)


def load_page(session: Session, article_id: int) -> tuple[Page, bytes] | None:
    page = session.get(Page, article_id)
    if page is None:
        return None
    return page, zlib.decompress(page.body)


def replace_blocks(session: Session, article_id: int,
                   blocks: Sequence[tuple[str, str]]) -> None:
    session.execute(delete(Block).where(Block.article_id == article_id))
    if blocks:
        session.execute(insert(Block), [
            {"article_id": article_id, "position": pos, "type": kind, "text": text}
            for pos, (kind, text) in enumerate(blocks)])


def replace_bands(session: Session, article_id: int, bands: Iterable[int]) -> None:
    session.execute(delete(SimhashBand).where(SimhashBand.article_id == article_id))
    rows = [{"article_id": article_id, "band": b} for b in dict.fromkeys(bands)]
    if rows:
        session.execute(insert(SimhashBand), rows)


def bump_attempts(session: Session, article_id: int) -> int:
    return session.scalar(update(Article).where(Article.id == article_id)
                          .values(attempts=Article.attempts + 1)
                          .returning(Article.attempts)) or 0


def add_fetch_log(session: Session, **values: object) -> None:
    session.add(FetchLog(**values))


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Article.status, func.count()).group_by(Article.status))
    return {status: n for status, n in rows}


def system_counts(session: Session, *, now: datetime) -> dict[str, object]:
    """What `babelwire status` and /metrics report about the store."""
    feeds_total = session.scalar(select(func.count()).select_from(Feed)
                                 .where(Feed.active.is_(True))) or 0
    due = session.scalar(select(func.count()).select_from(Feed).where(
        Feed.active.is_(True),
        or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))) or 0
    failing = session.scalar(select(func.count()).select_from(Feed).where(
        Feed.active.is_(True), Feed.consecutive_errors > 0)) or 0
    return {
        "articles": status_counts(session),
        "feeds": {"active": feeds_total, "due": due, "failing": failing},
        "translations": session.scalar(select(func.count()).select_from(Translation)) or 0,
        "vectors": session.scalar(select(func.count()).select_from(ArticleVector)) or 0,
        "stories": session.scalar(select(func.count()).select_from(Story)) or 0,
    }


def article_ids_with_pages(session: Session, *, source_ids: Sequence[str] | None = None,
                           since_id: int = 0, limit: int = 500) -> list[int]:
    q = select(Page.article_id).where(Page.article_id > since_id)
    if source_ids:
        q = q.join(Article, Article.id == Page.article_id).where(
            Article.source_id.in_(list(source_ids)))
    return list(session.scalars(q.order_by(Page.article_id).limit(limit)))


def untranslated_article_ids(session: Session, limit: int = 10_000) -> list[int]:
    """READY articles with no translation at all (e.g. stored just before a crash)."""
    has = select(Translation.id).where(Translation.article_id == Article.id).exists()
    q = (select(Article.id).where(Article.status == READY, Article.language.is_not(None), ~has)
         .order_by(Article.id).limit(limit))
    return list(session.scalars(q))


def unindexed_article_ids(session: Session, limit: int = 100_000) -> list[int]:
    """READY articles not yet in a story (stored before a crash, or before embeddings were
    turned on); indexing them embeds them and places them in a story."""
    q = (select(Article.id).where(Article.status == READY, Article.story_id.is_(None))
         .order_by(Article.published_at, Article.id).limit(limit))
    return list(session.scalars(q))
