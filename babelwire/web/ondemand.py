"""On-demand full translations requested by readers, with the same function the pipeline
uses (translate/articles.py `translate_article`).

A page that needs a translation asks for it and waits a short budget for it in the request
(`translate`): Apertium translates an article in well under a second, so the first visit
usually shows the translation. Past the budget the job goes on in the background and the
page polls for it. The jobs run in a few worker threads of their own (never on the event
loop, never in the loop's default executor), one job per article and language at a time.

Bounds, so that a client asking for many untranslated pages at once cannot exhaust the
machine:
- at most `max_pending` jobs queued or running; beyond, `request` refuses (the page says
  the queue is full);
- at most `per_client` requests of one client address waiting for a translation at once;
  its further requests queue the job behind the waited-for ones and return at once.
Jobs somebody waits for run before background jobs (a priority queue), so one client's
backlog does not delay another client's page by more than the jobs already running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from babelwire.context import Context
from babelwire.translate.articles import ArticleTranslation, translate_article

log = logging.getLogger("babelwire.web")

Key = tuple[int, str]  # (article id, language)
Outcome = Literal["done", "pending", "full", "failed"]
TranslateFn = Callable[[Context, int, str], ArticleTranslation]

URGENT, BACKGROUND, STOP = 0, 1, 9


@dataclass
class _Job:
    future: concurrent.futures.Future[ArticleTranslation]
    urgent: bool
    started: bool = False


class OnDemand:
    def __init__(self, ctx: Context, max_pending: int = 32, *, per_client: int = 2,
                 workers: int = 2, translate: TranslateFn | None = None) -> None:
        self.ctx = ctx
        self.max_pending = max_pending
        self.per_client = per_client
        self.workers = max(1, workers)
        self._translate: TranslateFn = translate or translate_article
        self._lock = threading.Lock()
        self._jobs: dict[Key, _Job] = {}
        self._queue: queue.PriorityQueue[tuple[int, int, Key | None]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._waiting: dict[str, int] = {}  # client address -> requests waiting
        self._threads: list[threading.Thread] = []
        self._closed = False

    # ------------------------------------------------------------------ state

    @property
    def pending(self) -> set[Key]:
        """(article id, language) of the jobs queued or running."""
        with self._lock:
            return set(self._jobs)

    def is_pending(self, article_id: int, lang: str) -> bool:
        with self._lock:
            return (article_id, lang) in self._jobs

    def waiting(self, client: str) -> int:
        """Requests of `client` waiting for a translation right now."""
        with self._lock:
            return self._waiting.get(client, 0)

    # ------------------------------------------------------------------ asking

    def request(self, article_id: int, lang: str, *, urgent: bool = False
                ) -> concurrent.futures.Future[ArticleTranslation] | None:
        """Queue a translation, or join the one already queued; None when the queue is
        full. An urgent job (somebody waits for it) runs before background jobs."""
        key = (article_id, lang)
        with self._lock:
            if self._closed:
                return None
            job = self._jobs.get(key)
            if job is None:
                if len(self._jobs) >= self.max_pending:
                    return None
                job = _Job(concurrent.futures.Future(), urgent)
                self._jobs[key] = job
                self._queue.put((URGENT if urgent else BACKGROUND, next(self._seq), key))
                self._start_workers()
            elif urgent and not job.urgent and not job.started:
                job.urgent = True  # queued again ahead; the worker skips the later copy
                self._queue.put((URGENT, next(self._seq), key))
            return job.future

    async def translate(self, article_id: int, lang: str, client: str,
                        budget: float) -> Outcome:
        """Translate in the request: wait up to `budget` seconds for the job. "done": the
        translation is stored; "pending": it goes on in the background (also when `client`
        already has `per_client` requests waiting: then this one does not wait); "full": the
        queue is full and nothing was queued; "failed": the job raised."""
        if budget <= 0 or not self._take(client):
            return "pending" if self.request(article_id, lang) is not None else "full"
        try:
            fut = self.request(article_id, lang, urgent=True)
            if fut is None:
                return "full"
            if not await wait_future(fut, budget):
                return "pending"
            if fut.cancelled() or fut.exception() is not None:
                return "failed"
            return "done"
        finally:
            self._release(client)

    def _take(self, client: str) -> bool:
        with self._lock:
            n = self._waiting.get(client, 0)
            if n >= self.per_client:
                return False
            self._waiting[client] = n + 1
            return True

    def _release(self, client: str) -> None:
        with self._lock:
            n = self._waiting.get(client, 0) - 1
            if n > 0:
                self._waiting[client] = n
            else:
                self._waiting.pop(client, None)

    # ------------------------------------------------------------------ workers

    def _start_workers(self) -> None:  # with the lock held
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.workers:
            t = threading.Thread(target=self._work, name=f"ondemand-{len(self._threads)}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def _work(self) -> None:
        while True:
            _prio, _seq, key = self._queue.get()
            if key is None:
                return
            with self._lock:
                job = self._jobs.get(key)
                if job is None or job.started:
                    continue  # the earlier copy of a job queued again as urgent
                job.started = True
            if not job.future.set_running_or_notify_cancel():
                with self._lock:
                    self._jobs.pop(key, None)
                continue
            try:
                result = self._translate(self.ctx, *key)
            except Exception as exc:
                log.exception("on-demand translation of %s into %s failed", *key)
                with self._lock:
                    self._jobs.pop(key, None)
                job.future.set_exception(exc)
            else:
                with self._lock:
                    self._jobs.pop(key, None)
                job.future.set_result(result)

    async def drain(self) -> None:
        """Wait until no job is queued or running."""
        while True:
            with self._lock:
                futures = [job.future for job in self._jobs.values()]
            if not futures:
                return
            for fut in futures:
                await wait_future(fut, None)

    def close(self) -> None:
        """Cancel the queued jobs and stop the workers (a running job finishes)."""
        with self._lock:
            self._closed = True
            for key, job in list(self._jobs.items()):
                if not job.started and job.future.cancel():
                    del self._jobs[key]
            threads = list(self._threads)
            for _ in threads:
                self._queue.put((STOP, next(self._seq), None))
        for t in threads:
            t.join(timeout=30)


async def wait_future(fut: concurrent.futures.Future[ArticleTranslation],
                      timeout: float | None) -> bool:
    """Wait up to `timeout` seconds (None: for ever) for a worker's future without
    blocking the event loop and without cancelling the job when the time is up; True when
    it is done."""
    if fut.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_done: object) -> None:
        with contextlib.suppress(RuntimeError):  # that request's loop has closed since
            loop.call_soon_threadsafe(_resolve, waiter)

    fut.add_done_callback(wake)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(waiter, timeout)
    return fut.done()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
