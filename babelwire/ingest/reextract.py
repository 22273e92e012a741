"""Re-extraction: run the current extractor again over the raw pages kept in the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from babelwire.context import Context
from babelwire.jobs.runner import Progress, make_runner
from babelwire.store import queries


async def reextract(ctx: Context, *, source_ids: Sequence[str] | None = None,
                    progress: Progress | None = None) -> Counter[str]:
    """Submit a reextract job for every stored page: each article is extracted and
    cleaned again and replaced in place (one transaction per article); one whose text
    changed is embedded and translated again by the follow-up jobs. Returns counts by
    resulting status ("unchanged" for duplicates/failures, which keep their state)."""
    runner = make_runner(ctx, progress=progress)
    since = 0
    try:
        while True:
            with ctx.db.session() as s:
                batch = queries.article_ids_with_pages(s, source_ids=source_ids,
                                                       since_id=since)
            if not batch:
                break
            for aid in batch:
                runner.submit("reextract", aid)
            since = batch[-1]
        stats = await runner.join()
    finally:
        await runner.close()
    return stats.articles
