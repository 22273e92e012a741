"""Re-extraction: run the current extractor again over the raw pages kept in the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.ingest.prepare import PageInput, prepare_page
from babelwire.store import queries


def reextract(ctx: Context, *, source_ids: Sequence[str] | None = None) -> Counter[str]:
    """Extract every stored page again and replace its article in place (one transaction
    per article). Returns counts by resulting status ("unchanged" for duplicates/failures,
    which keep their state)."""
    counts: Counter[str] = Counter()
    since = 0
    while True:
        with ctx.db.session() as s:
            batch = queries.article_ids_with_pages(s, source_ids=source_ids, since_id=since)
        if not batch:
            return counts
        for aid in batch:
            since = aid
            with ctx.db.session() as s:
                loaded = queries.load_page(s, aid)
            if loaded is None:
                continue
            row, body = loaded
            page = PageInput(url=row.final_url, status=row.http_status, body=body,
                                      content_type=row.content_type,
                                      headers=row.headers or {}, fetched_at=row.fetched_at)
            prepared = prepare_page(page, pipeline.language_hints(ctx, aid))
            res = pipeline.store_prepared(ctx, aid, page, prepared, redo=True)
            counts["unchanged" if res.unchanged else res.status] += 1
