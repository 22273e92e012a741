"""Job runners: where the stage graph's jobs run. One interface, two runners.

- `InProcessRunner` (the default, no service to start): a bounded pool of asyncio workers
  over a queue of jobs in this process.
- `CeleryRunner` (jobs/celery_app.py, when `broker_url` is set): jobs go to Celery workers
  (`babelwire worker`) through the broker; the runner waits for the jobs it started,
  follow-up jobs included, and gathers the same statistics.

A job is a stage name and an ID (`("refresh_feed", 12)`, `("ingest", 3456)`); the stage
looks the ID up in the store (jobs/stages.py). `make_runner` picks the runner.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from babelwire.context import Context
from babelwire.jobs import stages
from babelwire.jobs.stages import INDEX_BATCH, JOBS, Flow, Job, Outcome

__all__ = ["INDEX_BATCH", "JOBS", "InProcessRunner", "Job", "Progress", "RunStats", "Runner",
           "make_runner"]


@dataclass
class RunStats:
    feeds: Counter[str] = field(default_factory=Counter)  # ok / not_modified / error
    articles: Counter[str] = field(default_factory=Counter)  # ready / duplicate / ...
    reasons: Counter[str] = field(default_factory=Counter)  # "skipped:not_an_article", ...
    translations: Counter[str] = field(default_factory=Counter)  # done / no_route / ...
    indexed: Counter[str] = field(default_factory=Counter)  # indexed / unavailable / ...
    retried: Counter[str] = field(default_factory=Counter)  # fetches tried again, by reason
    discovered: int = 0
    redelivered: int = 0  # jobs run again after their worker died (Celery)
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(self.articles.values())

    def add(self, out: Outcome) -> None:
        for group, key in out.counts:
            getattr(self, group)[key] += 1
        self.discovered += out.discovered
        self.errors += out.errors


Progress = Callable[[RunStats], None]


class Runner(Protocol):
    stats: RunStats

    def submit(self, name: str, ident: int) -> None: ...

    @property
    def outstanding(self) -> int:
        """Jobs submitted and not finished yet (follow-ups included)."""
        ...

    async def join(self) -> RunStats: ...

    async def close(self) -> None: ...


def make_runner(ctx: Context, *, concurrency: int | None = None, flow: Flow | None = None,
                progress: Progress | None = None) -> Runner:
    """The Celery runner when `broker_url` is set, else the in-process one. The default
    flow indexes when embeddings are on and translates when `translate` is on."""
    if flow is None:
        flow = Flow(index=ctx.vectors.enabled, translate=ctx.settings.translate)
    if ctx.settings.broker_url:
        from babelwire.jobs.celery_app import CeleryRunner

        return CeleryRunner(ctx.settings, flow=flow, progress=progress)
    return InProcessRunner(ctx, concurrency or ctx.settings.workers, progress=progress,
                           follow=flow.follow, translate=flow.translate, index=flow.index)


class InProcessRunner:
    """Runs jobs with at most `concurrency` at once. A feed's new articles are queued as
    ingest jobs as soon as the feed is read; a stored article is queued for indexing
    (embedding and its story) and, when translating, for translation."""

    def __init__(self, ctx: Context, concurrency: int, *, progress: Progress | None = None,
                 follow: bool = True, translate: bool = False, index: bool = True) -> None:
        self.ctx = ctx
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.flow = Flow(follow=follow, index=index, translate=translate)
        self.stats = RunStats()
        # feed polls go first (their claim lease runs while they wait); FIFO otherwise
        self._queue: asyncio.PriorityQueue[tuple[int, int, Job]] = asyncio.PriorityQueue()
        self._seq = 0
        # index jobs wait here; each queued ("index", id) job takes whatever is waiting (up
        # to INDEX_BATCH), so a job may find its article already done by an earlier batch
        self._to_index: deque[tuple[int, bool]] = deque()
        self._workers: list[asyncio.Task[None]] = []
        self._waiting: set[asyncio.Task[None]] = set()  # jobs to submit after a wait
        self._unfinished = 0

    def submit(self, name: str, ident: int) -> None:
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}")
        if name in ("index", "reindex"):
            self._to_index.append((ident, name == "reindex"))
        self._seq += 1
        self._queue.put_nowait((0 if name == "refresh_feed" else 1, self._seq, (name, ident)))
        self._unfinished += 1
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # submitted before the loop runs: join() starts the workers
            return
        self._start()

    def _start(self) -> None:
        if not self._workers:  # work starts at once: a long import need not wait for join
            self._workers = [asyncio.ensure_future(self._worker())
                             for _ in range(self.concurrency)]

    @property
    def outstanding(self) -> int:
        return self._unfinished

    async def _run_one(self, job: Job) -> None:
        name, ident = job
        if name in ("index", "reindex"):
            batch = [self._to_index.popleft()
                     for _ in range(min(INDEX_BATCH, len(self._to_index)))]
            out = await stages.run_index(self.ctx, batch)
        else:
            out = await stages.run(self.ctx, name, [ident], self.flow)
        self.stats.add(out)
        for follow in out.follow:
            self.submit(*follow)
        for later, delay in out.later:
            self._submit_later(later, delay)

    def _submit_later(self, job: Job, delay: float) -> None:
        """A retry with backoff: the run (join, `outstanding`) waits for it meanwhile."""
        async def wait_then_submit() -> None:
            try:
                await asyncio.sleep(delay)
                self.submit(*job)
            finally:
                self._unfinished -= 1

        self._unfinished += 1
        task = asyncio.ensure_future(wait_then_submit())
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _worker(self) -> None:
        while True:
            _, _, job = await self._queue.get()
            try:
                await self._run_one(job)
            except Exception as exc:  # a bug in one job must not stop the crawl
                self.ctx.log.exception("job %s failed", job)
                self.stats.errors.append(f"{job[0]} {job[1]}: {type(exc).__name__}: {exc}")
            finally:
                self._unfinished -= 1
                self._queue.task_done()
                if self.progress:
                    self.progress(self.stats)

    async def join(self) -> RunStats:
        """Run until the queue is empty (including jobs queued by jobs)."""
        self._start()
        try:
            await self._queue.join()
            while self._waiting:  # retries waiting to be submitted
                await asyncio.wait(set(self._waiting))
                await self._queue.join()
        finally:
            await self.close()
        return self.stats

    async def close(self) -> None:
        """Stop the workers; retries still waiting are dropped (the articles stay pending
        for the next run)."""
        for w in [*self._workers, *self._waiting]:
            w.cancel()
        await asyncio.gather(*self._workers, *self._waiting, return_exceptions=True)
        self._workers = []
