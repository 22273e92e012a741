"""The stage graph: every job Babelwire runs, as a function of IDs that returns the jobs it
creates. Both runners (in-process, Celery) call `run` and nothing else, and every entry
point (crawl, the scheduler, import-warc, reextract, index, a submitted URL) only submits
jobs, so every path through the system is the same path.

    refresh_feed(feed) ──> ingest(article) ──> index(article)       (embedding, story)
                                         └──> translate(article)    (eager languages)
    reextract(article) ──> reindex(article), translate(article)     (when the text changed)

`ingest` fetches the page, or uses the raw page already stored for a PENDING article (a
WARC record), so an import is a crawl of the same pages. Every stage is idempotent: a job
run twice (a worker killed before acknowledging it) changes nothing the second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from babelwire import metrics
from babelwire.context import Context
from babelwire.store.models import READY

# stage -> the queue its jobs go to (Celery routes by it: translation and embedding can run
# on other hosts than fetching)
QUEUES: dict[str, str] = {
    "refresh_feed": "feeds",
    "ingest": "ingest",
    "reextract": "ingest",
    "index": "index",
    "reindex": "index",
    "translate": "translate",
}
JOBS = tuple(QUEUES)
# index jobs are done in batches: one embedding call, one transaction
INDEX_BATCH = 32

Job = tuple[str, int]
T = TypeVar("T")


@dataclass(frozen=True)
class Flow:
    """Which follow-up jobs a run creates (the same for every job of the run)."""
    follow: bool = True  # a feed's new articles are ingested
    index: bool = True  # a stored article is embedded and placed in a story
    translate: bool = False  # a stored article is translated (headlines, eager languages)

    def to_json(self) -> dict[str, bool]:
        return {"follow": self.follow, "index": self.index, "translate": self.translate}

    @classmethod
    def from_json(cls, data: dict[str, bool]) -> Flow:
        return cls(**{k: bool(v) for k, v in data.items() if k in ("follow", "index",
                                                                     "translate")})


@dataclass
class Outcome:
    """What one job did: counts by (group, key) — ("articles", "ready"),
    ("reasons", "skipped:not_an_article"), ("translations", "done") — and the jobs it
    created: to run now (`follow`) and after a wait (`later`, a retry with backoff)."""
    follow: list[Job] = field(default_factory=list)
    later: list[tuple[Job, float]] = field(default_factory=list)  # (job, after seconds)
    counts: list[tuple[str, str]] = field(default_factory=list)
    discovered: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, group: str, key: str) -> None:
        self.counts.append((group, key))


def _after_store(aid: int, flow: Flow, *, redo: bool, out: Outcome) -> None:
    if flow.index:
        out.follow.append(("reindex" if redo else "index", aid))
    if flow.translate:
        out.follow.append(("translate", aid))


async def run(ctx: Context, name: str, ids: Sequence[int], flow: Flow) -> Outcome:
    """Run one job (`index`/`reindex` take a batch of IDs; the others one)."""
    if name not in QUEUES:
        raise ValueError(f"unknown job {name!r}")
    if name in ("index", "reindex"):
        return await run_index(ctx, [(aid, name == "reindex") for aid in ids])
    return await _measured(name, _run(ctx, name, ids, flow))


async def run_index(ctx: Context, batch: Sequence[tuple[int, bool]]) -> Outcome:
    """An index batch of (id, redo): the in-process runner gathers waiting index and
    reindex jobs into one."""
    out = Outcome()
    if batch:
        await _measured("index", index_batch(ctx, list(batch), out))
    return out


async def _measured(name: str, job: Awaitable[T]) -> T:
    t0 = time.monotonic()
    try:
        result = await job
    except BaseException:
        metrics.JOBS.labels(name, "failed").inc()
        raise
    metrics.JOBS.labels(name, "done").inc()
    metrics.JOB_SECONDS.labels(name).observe(time.monotonic() - t0)
    return result


async def _run(ctx: Context, name: str, ids: Sequence[int], flow: Flow) -> Outcome:
    from babelwire.ingest import pipeline

    out = Outcome()
    (ident,) = ids
    if name == "refresh_feed":
        fr = await pipeline.refresh_feed(ctx, ident)
        out.count("feeds", fr.status)
        out.discovered = len(fr.new_article_ids)
        if fr.error:
            out.errors.append(fr.error)
        if flow.follow:
            out.follow += [("ingest", aid) for aid in fr.new_article_ids]
    elif name in ("ingest", "reextract"):
        if name == "ingest":
            res = await pipeline.ingest(ctx, ident)
        else:
            res = await pipeline.reextract_article(ctx, ident)
        if res.retry_in is not None:  # a failure that may pass: again, later in this run
            out.later.append(((name, ident), res.retry_in))
            out.count("retried", res.reason or "")
        else:
            out.count("articles", "unchanged" if res.unchanged and name == "reextract"
                      else res.status)
            if res.reason:
                out.count("reasons", f"{res.status}:{res.reason}")
        if res.status == READY and not res.unchanged:
            _after_store(ident, flow, redo=name == "reextract", out=out)
        for other in res.recleaned:  # their text lost a newly learned notice
            _after_store(other, flow, redo=True, out=out)
    else:  # translate
        from babelwire.translate.articles import translate_new_article

        for outcome in await asyncio.to_thread(translate_new_article, ctx, ident):
            out.count("translations", outcome.status)
    return out


async def index_batch(ctx: Context, batch: list[tuple[int, bool]], out: Outcome) -> None:
    from babelwire.ingest import pipeline

    try:
        results = await pipeline.index_articles(ctx, batch) if batch else []
    except Exception:
        if len(batch) < 2:
            raise
        ctx.log.exception("index batch of %d failed; one at a time", len(batch))
        results = []
        for one in batch:  # one bad article must not cost the others
            try:
                results += await pipeline.index_articles(ctx, [one])
            except Exception as exc:
                ctx.log.exception("index %d failed", one[0])
                out.errors.append(f"index {one[0]}: {type(exc).__name__}: {exc}")
    for ir in results:
        out.count("indexed", ir.status)
