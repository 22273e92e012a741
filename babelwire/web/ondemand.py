"""On-demand full translations requested by readers: one background job per article and
language at a time, run in a worker thread with the same function the pipeline uses."""

from __future__ import annotations

import asyncio
import logging

from babelwire.context import Context
from babelwire.translate.articles import translate_article

log = logging.getLogger("babelwire.web")


class OnDemand:
    def __init__(self, ctx: Context, max_pending: int = 32) -> None:
        self.ctx = ctx
        self.max_pending = max_pending
        self.pending: set[tuple[int, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, article_id: int, lang: str) -> bool:
        """Queue a translation; False when it is already queued or the queue is full."""
        key = (article_id, lang)
        if key in self.pending or len(self.pending) >= self.max_pending:
            return False
        self.pending.add(key)
        task = asyncio.get_running_loop().create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, key: tuple[int, str]) -> None:
        try:
            await asyncio.to_thread(translate_article, self.ctx, key[0], key[1])
        except Exception:
            log.exception("on-demand translation of %s into %s failed", *key)
        finally:
            self.pending.discard(key)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
