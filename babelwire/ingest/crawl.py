"""Crawling: which feeds and articles to work on, handed to a job runner.

`crawl_once` resumes articles left PENDING (by a crash, or a retryable failure) and polls
the selected feeds; `crawl_forever` is the scheduler loop of `serve` and `demo`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from babelwire.context import Context
from babelwire.ingest.pipeline import utcnow
from babelwire.jobs.runner import Progress, Runner, RunStats, make_runner
from babelwire.store import queries

# A due feed is claimed for this long (another scheduler leaves it alone); its poll sets
# the real next time. A poll that never finishes (its process was killed) is retried after
# it, so it is short: a restarted server polls its feeds again within two minutes (the
# soak's finding with 15). A poll that outlasts it is merely repeated (polls are idempotent).
FEED_CLAIM_LEASE = timedelta(minutes=2)
# How often a scheduler's round looks for feeds fallen due while it works (seconds).
FEED_TICK = 5.0


def submit_unfinished(ctx: Context, runner: Runner) -> None:
    """Submit what stored articles still lack: a translation (stored before a crash, or
    before translation was enabled) and an index entry (not yet embedded and in a story)."""
    with ctx.db.session() as s:
        untranslated = queries.untranslated_article_ids(s) if ctx.settings.translate else []
        unindexed = queries.unindexed_article_ids(s) if ctx.vectors.enabled else []
    for aid in untranslated:
        runner.submit("translate", aid)
    for aid in unindexed:
        runner.submit("index", aid)


async def crawl_once(
    ctx: Context,
    *,
    source_ids: Sequence[str] | None = None,
    country: str | None = None,
    due_only: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
    poll_every: float | None = None,
) -> RunStats:
    """Poll the selected feeds (all of them, or only those due) and ingest what is new,
    after first finishing any article left pending by an earlier run. With `due_only` and
    `poll_every`, feeds falling due while the round works are claimed and polled every
    `poll_every` seconds, so a long backlog of articles never holds feed polls back (a
    feed's older entries drop off it while it waits)."""
    now = now or utcnow()
    if source_ids:
        unknown = [sid for sid in source_ids if ctx.catalog.get(sid) is None]
        if unknown:
            raise LookupError(f"unknown source: {', '.join(unknown)}")
    with ctx.db.session() as s:
        pending = queries.pending_article_ids(
            s, max_attempts=ctx.settings.article_max_attempts, source_ids=source_ids,
            country=country)
        if due_only:  # the scheduler: claimed, so two schedulers never poll one feed twice
            feeds = queries.claim_due_feeds(s, now=now, lease_until=now + FEED_CLAIM_LEASE,
                                            source_ids=source_ids, country=country)
        else:
            feeds = queries.feed_ids(s, source_ids=source_ids, country=country)
    runner = make_runner(ctx, progress=progress)
    for fid in feeds:  # first: their leases run while they wait in the queue
        runner.submit("refresh_feed", fid)
    for aid in pending:
        runner.submit("ingest", aid)
    submit_unfinished(ctx, runner)
    try:
        if not (due_only and poll_every):
            return await runner.join()
        joined = asyncio.ensure_future(runner.join())
        while not joined.done():
            await asyncio.wait({joined}, timeout=poll_every)
            if joined.done():
                break
            moment = utcnow()
            try:
                with ctx.db.session() as s:
                    due = queries.claim_due_feeds(
                        s, now=moment, lease_until=moment + FEED_CLAIM_LEASE,
                        source_ids=source_ids, country=country)
            except Exception:  # the store is busy or away: the round goes on, next tick
                ctx.log.exception("claiming due feeds failed")
                continue
            for fid in due:
                runner.submit("refresh_feed", fid)
        return await joined
    finally:
        await ctx.aclose()


async def crawl_forever(ctx: Context, stop: asyncio.Event, *,
                        progress: Progress | None = None, max_sleep: float = 60.0) -> None:
    """Poll due feeds, ingest, sleep until the next feed is due (or `stop` is set)."""
    while not stop.is_set():
        try:
            await crawl_once(ctx, due_only=True, progress=progress, poll_every=FEED_TICK)
        except Exception:  # the scheduler keeps going; the error is logged
            ctx.log.exception("crawl round failed")
        with ctx.db.session() as s:
            due = queries.next_due(s)
        delay = max_sleep if due is None else (due - utcnow()).total_seconds()
        delay = min(max(delay, 1.0), max_sleep)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
