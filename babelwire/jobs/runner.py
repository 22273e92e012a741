"""The in-process job runner: a bounded pool of asyncio workers over a queue of jobs.

A job is a name and an ID (`("refresh_feed", 12)`, `("ingest", 3456)`); the worker looks the
ID up in the store and calls the pipeline. Jobs carry nothing else, so the same jobs can run
in Celery workers on other hosts (see jobs/tasks.py) with the same effect.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.store.models import READY

Job = tuple[str, int]
JOBS = ("refresh_feed", "ingest", "index", "reindex", "translate")
# index jobs waiting together are done as one batch: one embedding call, one transaction
INDEX_BATCH = 32


@dataclass
class RunStats:
    feeds: Counter[str] = field(default_factory=Counter)  # ok / not_modified / error
    articles: Counter[str] = field(default_factory=Counter)  # ready / duplicate / ...
    reasons: Counter[str] = field(default_factory=Counter)  # "skipped:not_an_article", ...
    translations: Counter[str] = field(default_factory=Counter)  # done / no_route / ...
    indexed: Counter[str] = field(default_factory=Counter)  # indexed / unavailable / ...
    discovered: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(self.articles.values())


Progress = Callable[[RunStats], None]


class InProcessRunner:
    """Runs jobs with at most `concurrency` at once. A feed's new articles are queued as
    ingest jobs as soon as the feed is read; a stored article is queued for indexing
    (embedding and its story) and, when translating, for translation."""

    def __init__(self, ctx: Context, concurrency: int, *, progress: Progress | None = None,
                 follow: bool = True, translate: bool = False, index: bool = True) -> None:
        self.ctx = ctx
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.follow = follow  # queue ingest jobs for a feed's new articles
        self.translate = translate  # queue a translate job for each newly stored article
        self.index = index  # queue an index job (embedding, story) for each stored article
        self.stats = RunStats()
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        # index jobs wait here; each queued ("index", id) job takes whatever is waiting (up
        # to INDEX_BATCH), so a job may find its article already done by an earlier batch
        self._to_index: deque[tuple[int, bool]] = deque()

    def submit(self, name: str, ident: int) -> None:
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}")
        if name in ("index", "reindex"):
            self._to_index.append((ident, name == "reindex"))
        self._queue.put_nowait((name, ident))

    async def _run_one(self, job: Job) -> None:
        name, ident = job
        if name == "refresh_feed":
            fr = await pipeline.refresh_feed(self.ctx, ident)
            self.stats.feeds[fr.status] += 1
            self.stats.discovered += len(fr.new_article_ids)
            if fr.error:
                self.stats.errors.append(fr.error)
            if self.follow:
                for aid in fr.new_article_ids:
                    self.submit("ingest", aid)
        elif name == "ingest":
            res = await pipeline.ingest(self.ctx, ident)
            self.stats.articles[res.status] += 1
            if res.reason:
                self.stats.reasons[f"{res.status}:{res.reason}"] += 1
            if res.status == READY and not res.unchanged:
                if self.index:
                    self.submit("index", ident)
                if self.translate:
                    self.submit("translate", ident)
            for other in res.recleaned:  # their text lost a newly learned notice
                if self.index:
                    self.submit("reindex", other)
                if self.translate:
                    self.submit("translate", other)
        elif name in ("index", "reindex"):  # reindex: embed again, the text changed
            batch = [self._to_index.popleft()
                     for _ in range(min(INDEX_BATCH, len(self._to_index)))]
            try:
                results = await pipeline.index_articles(self.ctx, batch) if batch else []
            except Exception:
                if len(batch) < 2:
                    raise
                self.ctx.log.exception("index batch of %d failed; one at a time", len(batch))
                results = []
                for one in batch:  # one bad article must not cost the others
                    try:
                        results += await pipeline.index_articles(self.ctx, [one])
                    except Exception as exc:
                        self.ctx.log.exception("index %d failed", one[0])
                        self.stats.errors.append(f"index {one[0]}: {type(exc).__name__}: {exc}")
            for ir in results:
                self.stats.indexed[ir.status] += 1
        else:
            from babelwire.translate.articles import translate_new_article

            for outcome in await asyncio.to_thread(translate_new_article, self.ctx, ident):
                self.stats.translations[outcome.status] += 1

    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._run_one(job)
            except Exception as exc:  # a bug in one job must not stop the crawl
                self.ctx.log.exception("job %s failed", job)
                self.stats.errors.append(f"{job[0]} {job[1]}: {type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()
                if self.progress:
                    self.progress(self.stats)

    async def join(self) -> RunStats:
        """Run until the queue is empty (including jobs queued by jobs)."""
        workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        try:
            await self._queue.join()
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.stats
