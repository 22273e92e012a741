"""The store on SQLite and PostgreSQL: migrations, UTC times, idempotent upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select

from babelwire.catalog.model import SourceSpec
from babelwire.store import queries
from babelwire.store.database import Database, current_revision, head_revision
from babelwire.store.models import PENDING, Article, Feed, Source

SPEC = SourceSpec(id="example-news", name="Example News", homepage="https://example.com/",
                  country="RU", languages=("en",), feeds=("https://example.com/rss",),
                  sitemaps=("https://example.com/news-sitemap.xml",))


def test_migrations_create_schema_and_are_idempotent(store_url: str) -> None:
    db = Database(store_url)
    assert current_revision(db.engine) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"articles", "blocks", "sources", "feeds", "countries", "pages", "fetch_log",
            "stories", "simhash_bands"} <= tables
    db.dispose()
    again = Database(store_url)  # upgrading an up-to-date store changes nothing
    assert current_revision(again.engine) == head_revision()
    again.dispose()


def test_migrations_match_the_models(store_url: str) -> None:
    # a column added to a model without a migration (or the reverse) shows up here
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from babelwire.store.models import Base
    from babelwire.store.search.schema import include_name

    db = Database(store_url)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    db.dispose()
    assert diff == []


def test_datetimes_are_stored_as_utc(store_url: str) -> None:
    db = Database(store_url)
    moscow = timezone(timedelta(hours=3))
    local = datetime(2026, 11, 26, 15, 30, tzinfo=moscow)
    with db.session() as s:
        queries.sync_sources(s, [SPEC])
        [aid] = queries.add_pending_articles(
            s, [queries.NewArticle(url="https://example.com/a", url_key="example.com/a",
                                   published=local)],
            source_id=SPEC.id, country="RU", feed_id=None, now=local)
    with db.session() as s:
        art = s.get(Article, aid)
        assert art is not None
        assert art.feed_published == local
        assert art.feed_published is not None and art.feed_published.utcoffset() == timedelta(0)
        assert art.feed_published.hour == 12
    with pytest.raises(Exception, match="naive"), db.session() as s:
        s.add(Article(url="https://example.com/b", url_key="example.com/b",
                      discovered_at=datetime(2026, 1, 1), status=PENDING))
    db.dispose()


def test_sync_sources_upserts_and_deactivates_dropped_feeds(store_url: str) -> None:
    db = Database(store_url)
    with db.session() as s:
        assert queries.sync_sources(s, [SPEC, SPEC]) == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Source)) == 1
        assert {f.url for f in s.scalars(select(Feed))} == set(SPEC.feeds) | set(SPEC.sitemaps)
    renamed = SourceSpec(**{**SPEC.__dict__, "name": "Example Daily", "sitemaps": ()})
    with db.session() as s:
        queries.sync_sources(s, [renamed])
    with db.session() as s:
        src = s.get(Source, SPEC.id)
        assert src is not None and src.name == "Example Daily"
        active = {f.url for f in s.scalars(select(Feed).where(Feed.active.is_(True)))}
        assert active == set(SPEC.feeds)
        assert queries.feed_ids(s) == [s.scalar(select(Feed.id).where(Feed.url == SPEC.feeds[0]))]
    db.dispose()


def test_pending_articles_are_added_once_per_url(store_url: str) -> None:
    db = Database(store_url)
    now = datetime.now(UTC)
    items = [queries.NewArticle(url=f"https://example.com/{i}", url_key=f"example.com/{i}")
             for i in range(3)]
    with db.session() as s:
        queries.sync_sources(s, [SPEC])
        first = queries.add_pending_articles(s, items, source_id=SPEC.id, country="RU",
                                             feed_id=None, now=now)
    with db.session() as s:
        second = queries.add_pending_articles(s, [*items, queries.NewArticle(
            url="https://example.com/new", url_key="example.com/new")], source_id=SPEC.id,
            country="RU", feed_id=None, now=now)
    assert len(first) == 3 and len(second) == 1
    with db.session() as s:
        assert queries.status_counts(s) == {PENDING: 4}
        assert queries.pending_article_ids(s, max_attempts=3) == sorted([*first, *second])
    db.dispose()


def test_opted_out_sources_have_no_due_feeds(store_url: str) -> None:
    db = Database(store_url)
    with db.session() as s:
        queries.sync_sources(s, [SourceSpec(**{**SPEC.__dict__, "opt_out": True})])
    with db.session() as s:
        assert queries.feed_ids(s) == []
        assert queries.feed_ids(s, due_before=datetime.now(UTC)) == []
    db.dispose()
