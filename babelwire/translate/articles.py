"""Translating stored articles: the translation stage of the pipeline.

- `scope="headline"`: title and description, done at ingest for every reader language that
  has a route (cheap: listings in every language show translated titles).
- `scope="full"`: title, description and every body block, eagerly for the configured
  languages and on demand for the others.

Each translation records its provenance (engines with versions, pivot path, time, memory
hits) and the hash of the source text it came from; when the article's text changes the
hash no longer matches, the translation is stale and is redone.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from babelwire.context import Context
from babelwire.store.models import READY, Article, Block, Source, Translation
from babelwire.translate.translator import NoRoute, TranslationRun

SCOPES = ("headline", "full")
NOTICE = "notice"  # Block.role of a publisher's recurring block (ingest/boilerplate.py)
EXCERPT_WORDS = 80  # an `excerpt` publisher's lead: the first blocks up to about this many


@dataclass(frozen=True)
class ArticleTranslation:
    article_id: int
    language: str
    status: str  # done | unchanged | same_language | no_route | not_ready | unknown_language
    scope: str | None = None
    flagged: int = 0
    detail: str | None = None


def source_hash(title: str | None, description: str | None, blocks: list[str]) -> str:
    h = hashlib.sha256()
    for part in (title or "", description or "", *blocks):
        h.update(part.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


def lead_blocks(blocks: list[Block], words: int = EXCERPT_WORDS) -> list[Block]:
    """The first blocks of an article, up to about `words` words (at least one)."""
    out: list[Block] = []
    count = 0
    for block in blocks:
        if out and count >= words:
            break
        out.append(block)
        count += len(block.text.split())
    return out


def text_blocks(blocks: list[Block]) -> list[Block]:
    """The article's own text: its blocks less the publisher's notices (appeals, newsletter
    boxes, bios learned as the source's boilerplate), which are never translated."""
    return [b for b in blocks if b.role != NOTICE]


def notice_blocks(blocks: list[Block]) -> list[Block]:
    """The publisher's notices of an article, for the "From the publisher" box."""
    return [b for b in blocks if b.role == NOTICE]


def article_source(article: Article, blocks: list[Block], policy: str,
                   scope: str) -> tuple[list[Block], str]:
    """The blocks a translation of `scope` covers, and the hash of that source text. When a
    block becomes known as a notice the hash changes, so the translation is stale."""
    blocks = text_blocks(blocks)
    if scope == "headline":
        chosen: list[Block] = []
    elif policy == "excerpt":
        chosen = lead_blocks(blocks)
    else:
        chosen = blocks
    return chosen, source_hash(article.title, article.description, [b.text for b in chosen])


@dataclass(frozen=True)
class AlignedBlock:
    """A block the reader may see (the publisher's policy applied), beside its translation:
    `text` is the translated text when there is a full translation, else the original."""

    type: str
    original: str
    text: str
    flagged: bool


@dataclass(frozen=True)
class ArticleText:
    blocks: list[AlignedBlock]
    translated: bool  # a full translation supplied `text`
    current: bool  # that translation was made from the article's present text


def aligned_text(article: Article, blocks: list[Block], policy: str,
                 translation: Translation | None) -> ArticleText:
    """The shown blocks of an article paired with a full translation, if there is one."""
    chosen, digest = article_source(article, blocks, policy, "full")
    full = translation is not None and translation.scope == "full"
    done = translation.blocks if full and translation is not None else []
    out = []
    for i, block in enumerate(chosen):
        tb = done[i] if i < len(done) else None
        out.append(AlignedBlock(block.type, block.text, str(tb["text"]) if tb else block.text,
                                bool(tb and tb.get("flagged"))))
    current = full and translation is not None and translation.source_hash == digest
    return ArticleText(out, full, current)


def translate_article(ctx: Context, article_id: int, language: str, *,
                      scope: str = "full") -> ArticleTranslation:
    """Translate one article into `language` (idempotent: an up-to-date translation of the
    same or a wider scope is left alone)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    with ctx.db.session() as s:
        art = s.get(Article, article_id)
        if art is None or art.status != READY:
            return ArticleTranslation(article_id, language, "not_ready")
        if not art.language:
            return ArticleTranslation(article_id, language, "unknown_language")
        source_lang = art.language
        if source_lang == language:
            return ArticleTranslation(article_id, language, "same_language")
        src = s.get(Source, art.source_id) if art.source_id else None
        policy = src.policy if src else "full_text"
        blocks = list(s.scalars(select(Block).where(Block.article_id == article_id)
                                .order_by(Block.position)))
        chosen, digest = article_source(art, blocks, policy, scope)
        existing = s.scalar(select(Translation).where(Translation.article_id == article_id,
                                                      Translation.language == language))
        if existing is not None and existing.source_hash == digest and (
                existing.scope == scope or existing.scope == "full"):
            return ArticleTranslation(article_id, language, "unchanged", existing.scope,
                                      existing.flagged)
        title, description = art.title or "", art.description or ""
    texts = [title, description, *(b.text for b in chosen)]
    t0 = time.monotonic()
    try:
        run = ctx.translator.translate(texts, source_lang, language)
    except NoRoute as exc:
        return ArticleTranslation(article_id, language, "no_route", detail=str(exc))
    for attempt in (1, 2):  # a second writer (on-demand beside the crawler) may insert first
        try:
            with ctx.db.session() as s:
                row = s.scalar(select(Translation).where(Translation.article_id == article_id,
                                                         Translation.language == language))
                if row is not None and row.source_hash == digest and row.scope == "full" \
                        and scope != "full":  # the other writer stored a wider one
                    return ArticleTranslation(article_id, language, "unchanged", row.scope,
                                              row.flagged)
                if row is None:
                    row = Translation(article_id=article_id, language=language)
                    s.add(row)
                _fill(row, source_lang, scope, title, description, chosen, digest, run, t0)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    return ArticleTranslation(article_id, language, "done", scope, run.flagged)


def _fill(row: Translation, source_lang: str, scope: str, title: str, description: str,
          chosen: list[Block], digest: str, run: TranslationRun, t0: float) -> None:
    results = run.results
    row.source_language = source_lang
    row.scope = scope
    row.title = results[0].text if title else None
    row.description = results[1].text if description else None
    row.blocks = [{"text": r.text, "flagged": r.flagged, "type": b.type}
                  for r, b in zip(results[2:], chosen, strict=True)]
    row.source_hash = digest
    row.engines = run.engines
    row.path = run.route.path
    row.segments = run.segments
    row.flagged = run.flagged
    row.memory_hits = run.memory_hits
    row.created_at = datetime.now(UTC)
    row.duration_ms = int((time.monotonic() - t0) * 1000)


def translate_new_article(ctx: Context, article_id: int) -> list[ArticleTranslation]:
    """The ingest-time policy: headlines into every reader language with a route, the full
    text into the eager languages."""
    out = []
    eager = set(ctx.settings.translate_eager_languages)
    for lang in ctx.settings.reader_languages:
        scope = "full" if lang in eager else "headline"
        out.append(translate_article(ctx, article_id, lang, scope=scope))
    return out


def is_current(ctx: Context, article_id: int, language: str) -> bool:
    """Whether the stored full translation still matches the article's text."""
    with ctx.db.session() as s:
        art = s.get(Article, article_id)
        row = s.scalar(select(Translation).where(Translation.article_id == article_id,
                                                 Translation.language == language))
        if art is None or row is None:
            return False
        src = s.get(Source, art.source_id) if art.source_id else None
        blocks = list(s.scalars(select(Block).where(Block.article_id == article_id)
                                .order_by(Block.position)))
        _chosen, digest = article_source(art, blocks, src.policy if src else "full_text",
                                         row.scope)
        return row.source_hash == digest
