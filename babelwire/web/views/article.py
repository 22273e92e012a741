"""The article page's model: the article, what the reader gets (the original, or a
translation into the page's language or into one the reader reads), similar news and the
story. Loaded in synchronous code (a thread, off the event loop); only waiting for an
on-demand translation is left to the async handler (web/pages.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from babelwire.context import Context
from babelwire.similar.news import similar_news
from babelwire.store import reader, stories
from babelwire.store.models import Translation
from babelwire.translate.articles import AlignedBlock, aligned_text
from babelwire.web.cache import TTLCache
from babelwire.web.views.common import as_read

MODES = ("translated", "original", "bilingual")
# what waiting for an on-demand translation ended in -> the page's state
OUTCOMES = {"done": "translated", "pending": "in_progress", "full": "queue_full",
            "failed": "failed"}


@dataclass(frozen=True)
class ArticleModel:
    view: reader.ArticleView
    similar: list[reader.Item]
    story: stories.StorySummary | None
    countries: list[str]
    policy: str
    # original | reads | translated | translate (wanted now) | no_route, and after waiting
    # for an on-demand translation: in_progress | queue_full | failed
    state: str
    target: str  # the language of the translation shown or wanted
    translation: Translation | None  # into `target`
    note_engine: str | None  # what an operator could install when no route exists


def translation(ctx: Context, article_id: int, language: str) -> Translation | None:
    with ctx.db.session() as s:
        view = reader.get_article(s, article_id, language)
        return view.translation if view is not None else None


def _fallback(ctx: Context, view: reader.ArticleView, reads: tuple[str, ...], policy: str
              ) -> tuple[str, Translation | None] | None:
    """A language the reader reads that the article can be shown in, translated, when
    none reaches the page's language: one with a current translation, else the first
    with a route."""
    art = view.article
    source = art.language or ""
    routed = None
    for code in reads:
        tr = translation(ctx, art.id, code)
        if aligned_text(art, view.blocks, policy, tr).current:
            return code, tr
        if routed is None and ctx.translator.has_route(source, code):
            routed = (code, tr)
    return routed


def load_article(ctx: Context, article_id: int, lang: str, *, reads: tuple[str, ...] = (),
                 asked_view: str | None = None,
                 similar_cache: TTLCache[list[reader.Item]] | None = None,
                 related: bool = True) -> ArticleModel | None:
    """None when there is no such visible article. `related`: similar news, the story and
    the country selector's countries too (the page; the API's detail leaves them)."""
    with ctx.db.session() as s:
        view = reader.get_article(s, article_id, lang)
        if view is None:
            return None
        similar: list[reader.Item] = []
        story = None
        countries: list[str] = []
        if related:
            def compute() -> list[reader.Item]:
                return similar_news(ctx, s, article_id, lang)

            found = (similar_cache.get_or_compute((article_id, lang), compute)
                     if similar_cache is not None else compute())
            similar = as_read(s, found, reads)
            story = (stories.story_summary(s, view.article.story_id, lang)
                     if view.article.story_id is not None else None)
            countries = reader.source_countries(s)
    art, src = view.article, view.source
    policy = src.policy if src else "full_text"
    orig = art.language or ""
    state = "original"  # same language (or unknown): nothing to translate
    target, tr, note_engine = lang, view.translation, None
    if orig and orig != lang:
        if orig in reads and asked_view is None:
            state = "reads"  # the reader reads it: the original, unlabelled
        elif aligned_text(art, view.blocks, policy, tr).current:
            state = "translated"
        elif ctx.translator.has_route(orig, lang):
            state = "translate"
        elif (found_in := _fallback(ctx, view, reads, policy)) is not None:
            target, tr = found_in
            state = "translated" if aligned_text(art, view.blocks, policy,
                                                 tr).current else "translate"
        else:
            state = "no_route"
            note_engine = f"Argos Translate {orig}→{lang}"
    return ArticleModel(view, similar, story, countries, policy, state, target, tr,
                        note_engine)


def after_wait(ctx: Context, model: ArticleModel, outcome: str) -> ArticleModel:
    """The model once the on-demand translation ended in `outcome` (reads the store)."""
    from dataclasses import replace

    state, tr = OUTCOMES[outcome], model.translation
    if state == "translated":
        tr = translation(ctx, model.view.article.id, model.target)
        art = model.view.article
        if not aligned_text(art, model.view.blocks, model.policy, tr).current:
            state = "failed"
    return replace(model, state=state, translation=tr)


def page_values(ctx: Context, model: ArticleModel, lang: str, mode: str, page_url: str
                ) -> dict[str, Any]:
    """What article.html renders (pure: no store access)."""
    view, art, src, tr = model.view, model.view.article, model.view.source, model.translation
    state, target, orig = model.state, model.target, art.language or ""
    text = aligned_text(art, view.blocks, model.policy, tr)
    translated = state == "translated"
    # only a current translation is shown as the article's text
    pairs = [b if translated else AlignedBlock(b.type, b.original, b.original, False)
             for b in text.blocks]
    title_lang: str | None
    if mode == "original" or state == "reads":
        title, title_lang = art.title, orig
    elif translated and tr is not None:
        title, title_lang = tr.title or art.title, target if tr.title else orig
    else:  # the headline may be translated (at ingest) while the text is not yet
        title, title_lang = view.item.title, view.item.title_language
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": (title or "")[:110], "inLanguage": target if translated else orig,
        "isBasedOn": art.url, "url": page_url,
        "datePublished": art.published_at.isoformat() if art.published_at else None,
        "author": [{"@type": "Person", "name": a} for a in art.authors or []],
        "publisher": {"@type": "Organization", "name": src.name if src else art.site_name},
        "translator": {"@type": "Organization", "name": ", ".join(tr.engines)}
        if translated and tr is not None else None,
    }
    ld_json = json.dumps({k: v for k, v in ld.items() if v is not None},
                         ensure_ascii=False).replace("</", "<\\/")
    engine_label = ", ".join(dict.fromkeys(
        e.split()[0].capitalize() for e in (tr.engines if tr is not None else []) if e))
    return {"title": title, "title_lang": title_lang, "blocks": pairs, "ld_json": ld_json,
            "engine_label": engine_label,
            "can_translate": state == "reads" and (
                text.current or ctx.translator.has_route(orig, lang))}
