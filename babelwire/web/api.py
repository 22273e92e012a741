"""The JSON API under /api/v1 (FastAPI: typed responses and an OpenAPI description at
/api/v1/openapi.json; a readable list of the endpoints at /api/v1/docs, served without any
third-party script so it works offline and under the site's strict CSP)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from babelwire.context import Context
from babelwire.similar.news import similar_news
from babelwire.store import reader, stories
from babelwire.store.search import QueryError
from babelwire.translate.articles import aligned_text, notice_blocks
from babelwire.web.ondemand import OnDemand
from babelwire.web.views.article import load_article
from babelwire.web.views.listing import ListingFilters, build_listing
from babelwire.web.views.search import BadRequest, build_search
from babelwire.web.views.story import build_story


class ArticleSummary(BaseModel):
    id: int
    url: str
    language: str | None
    title: str
    title_language: str | None
    translated: bool
    source: str | None
    source_name: str | None
    country: str | None
    published: datetime
    story_id: int | None


class ArticleList(BaseModel):
    items: list[ArticleSummary]
    next: str | None


class SnippetOut(BaseModel):
    text: str
    marks: list[tuple[int, int]]  # [start, end) offsets of the words the query found


class SearchHitOut(ArticleSummary):
    score: float
    matched_language: str  # the language of the text that matched
    matched_original: bool  # the article's own text (else its translation)
    snippet: SnippetOut


class SearchResults(BaseModel):
    items: list[SearchHitOut]
    next: str | None  # cursor of the next page


class BlockOut(BaseModel):
    type: str
    text: str
    original: str
    flagged: bool


class TranslationOut(BaseModel):
    language: str
    scope: str
    current: bool
    engines: list[str]
    path: list[str]
    created: datetime
    flagged_segments: int
    source_hash: str


class ArticleDetail(BaseModel):
    id: int
    url: str
    language: str | None
    title: str
    text: str
    blocks: list[BlockOut]
    source: str | None
    source_name: str | None
    country: str | None
    published: datetime
    authors: list[str]
    story_id: int | None
    translation: TranslationOut | None
    notices: list[str]  # the publisher's own recurring blocks (appeals, ...): not article text


class TranslationStatus(BaseModel):
    article_id: int
    language: str
    # translated | pending (queued or running) | none (not asked for, or it failed) |
    # no_route | original (the article is in that language)
    status: str
    ready: bool  # the article can be read in `language` now


class StoryOut(BaseModel):
    id: int
    headline: ArticleSummary
    articles: int  # articles and wire copies
    sources: int
    countries: int
    languages: int
    first_published: datetime | None
    last_published: datetime | None


class CountryGroup(BaseModel):
    country: str | None
    articles: list[ArticleSummary]


class StoryCoverageOut(StoryOut):
    by_country: list[CountryGroup]
    also_published_by: dict[int, list[str]]  # article id -> publishers of its wire copies
    country_counts: dict[str, int]
    language_counts: dict[str, int]


class SourceOut(BaseModel):
    id: str
    name: str
    homepage: str
    country: str | None
    languages: list[str]
    policy: str


class CountryOut(BaseModel):
    code: str
    articles: int


def _summary(it: reader.Item) -> ArticleSummary:
    return ArticleSummary(id=it.id, url=it.url, language=it.language, title=it.title,
                          title_language=it.title_language, translated=it.translated,
                          source=it.source_id, source_name=it.source_name,
                          country=it.country, published=it.published, story_id=it.story_id)


def _story(st: stories.StorySummary) -> dict[str, Any]:
    return {"id": st.id, "headline": _summary(st.lead), "articles": st.articles,
            "sources": st.sources, "countries": st.countries, "languages": st.languages,
            "first_published": st.first_published, "last_published": st.last_published}


def create_api(ctx: Context, languages: tuple[str, ...],
               ondemand: OnDemand | None = None) -> FastAPI:
    api = FastAPI(title="Babelwire API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="World news, in your language: articles, their machine "
                  "translations with provenance, similar coverage, sources and countries.")

    def check_lang(lang: str) -> str:
        if lang not in languages:
            raise HTTPException(400, f"lang must be one of {', '.join(languages)}")
        return lang

    @api.get("/articles", response_model=ArticleList)
    def list_articles(country: str | None = Query(None, max_length=2),
                      source: str | None = Query(None, max_length=80),
                      lang: str = Query("en", max_length=10),
                      url: str | None = Query(None, max_length=2000),
                      original: str | None = Query(None, max_length=10),
                      limit: int = Query(30, ge=1, le=reader.MAX_LIMIT),
                      cursor: str | None = Query(None, max_length=64)) -> ArticleList:
        check_lang(lang)
        if url is not None:
            from babelwire.ingest.dedup import canonicalize_url

            try:
                url = canonicalize_url(url)
            except ValueError as exc:
                raise HTTPException(400, f"url: {exc}") from exc
        view = build_listing(ctx, lang, ListingFilters(country=country, source=source,
                                                       original=original, url=url),
                             cursor=cursor, limit=limit)
        return ArticleList(items=[_summary(i) for i in view.items], next=view.next_cursor)

    @api.get("/articles/{article_id}", response_model=ArticleDetail)
    def get_article(article_id: int, lang: str = Query("en", max_length=10)) -> ArticleDetail:
        check_lang(lang)
        model = load_article(ctx, article_id, lang, related=False)
        if model is None:
            raise HTTPException(404, "no such article")
        view = model.view
        art, tr = view.article, view.translation
        text = aligned_text(art, view.blocks, model.policy, tr)
        blocks = [BlockOut(type=b.type, text=b.text, original=b.original, flagged=b.flagged)
                  for b in text.blocks]
        translation = None
        if tr is not None:
            translation = TranslationOut(language=tr.language, scope=tr.scope,
                                         current=text.current or tr.scope != "full",
                                         engines=tr.engines, path=tr.path,
                                         created=tr.created_at, flagged_segments=tr.flagged,
                                         source_hash=tr.source_hash)
        it = view.item
        return ArticleDetail(id=it.id, url=it.url, language=it.language, title=it.title,
                             text="\n\n".join(b.text for b in blocks), blocks=blocks,
                             source=it.source_id, source_name=it.source_name,
                             country=it.country, published=it.published,
                             authors=list(art.authors or []), story_id=it.story_id,
                             translation=translation,
                             notices=[b.text for b in notice_blocks(view.blocks)])

    @api.get("/articles/{article_id}/translation-status", response_model=TranslationStatus)
    def translation_status(article_id: int, response: Response,
                           lang: str = Query(..., min_length=2, max_length=3,
                                             pattern="^[a-z]{2,3}$")) -> TranslationStatus:
        """Whether the article's full translation into `lang` is ready (article pages that
        show the original while it is made poll this). `lang` may be any language code:
        a reader's fallback language need not be one of the site's."""
        # pending first: a job that ends between the two looks is then read as done
        pending = ondemand is not None and ondemand.is_pending(article_id, lang)
        with ctx.db.session() as s:
            view = reader.get_article(s, article_id, lang)
        if view is None:
            raise HTTPException(404, "no such article")
        response.headers["Cache-Control"] = "no-store"
        art = view.article
        policy = view.source.policy if view.source else "full_text"
        if not art.language or art.language == lang:
            status = "original"
        elif aligned_text(art, view.blocks, policy, view.translation).current:
            status = "translated"
        elif pending:
            status = "pending"
        elif not ctx.translator.has_route(art.language, lang):
            status = "no_route"
        else:
            status = "none"
        return TranslationStatus(article_id=article_id, language=lang, status=status,
                                 ready=status in ("original", "translated"))

    @api.get("/articles/{article_id}/similar", response_model=ArticleList)
    def similar(article_id: int, lang: str = Query("en", max_length=10),
                limit: int = Query(8, ge=1, le=50),
                original: str | None = Query(None, max_length=10)) -> ArticleList:
        """Similar news in any original language (or only in `original`), nearest first,
        wire copies left out, diversified across publishers and countries."""
        check_lang(lang)
        with ctx.db.session() as s:
            if reader.get_article(s, article_id, lang) is None:
                raise HTTPException(404, "no such article")
            items = similar_news(ctx, s, article_id, lang, limit=limit,
                                 original_language=original)
        return ArticleList(items=[_summary(i) for i in items], next=None)

    @api.get("/stories", response_model=list[StoryOut])
    def top_stories(lang: str = Query("en", max_length=10),
                    limit: int = Query(12, ge=1, le=50)) -> list[StoryOut]:
        """Stories ranked by coverage (publishers, countries, languages) and recency."""
        check_lang(lang)
        with ctx.db.session() as s:
            return [StoryOut(**_story(st)) for st in stories.top_stories(s, lang, limit=limit)]

    @api.get("/stories/{story_id}", response_model=StoryCoverageOut,
             responses={301: {"description": "The story was merged into another: its URL"}})
    def story(story_id: int, lang: str = Query("en", max_length=10)
              ) -> StoryCoverageOut | Response:
        """A story's full coverage: its articles grouped by country, wire copies counted."""
        check_lang(lang)
        view = build_story(ctx, story_id, lang)
        if view.merged_into is not None:  # merged into another story
            return RedirectResponse(f"/api/v1/stories/{view.merged_into}?lang={lang}",
                                    status_code=301)
        cov = view.coverage
        if cov is None:
            raise HTTPException(404, "no such story")
        return StoryCoverageOut(
            **_story(cov.summary),
            by_country=[CountryGroup(country=c, articles=[_summary(i) for i in items])
                        for c, items in cov.by_country],
            also_published_by=cov.also_published_by,
            country_counts={c or "": n for c, n in cov.countries},
            language_counts={lg or "": n for lg, n in cov.languages})

    @api.get("/sources", response_model=list[SourceOut])
    def sources(country: str | None = Query(None, max_length=2)) -> list[SourceOut]:
        with ctx.db.session() as s:
            return [SourceOut(id=x.id, name=x.name, homepage=x.homepage, country=x.country,
                              languages=list(x.languages or []), policy=x.policy)
                    for x in reader.sources(s, country)]

    @api.get("/countries", response_model=list[CountryOut])
    def countries() -> list[CountryOut]:
        with ctx.db.session() as s:
            return [CountryOut(code=c, articles=n) for c, n in reader.country_article_counts(s)]

    @api.get("/search", response_model=SearchResults,
             responses={400: {"description": "A query or filter that cannot be used"}})
    def search(q: str = Query(..., min_length=1, max_length=1000),
               lang: str = Query("en", max_length=10),
               country: str | None = Query(None, max_length=2),
               source: str | None = Query(None, max_length=80),
               original: str | None = Query(None, max_length=10),
               since: str | None = Query(None, max_length=10, description="YYYY-MM-DD"),
               until: str | None = Query(None, max_length=10, description="YYYY-MM-DD"),
               limit: int = Query(20, ge=1, le=reader.MAX_LIMIT),
               cursor: str | None = Query(None, max_length=96)) -> SearchResults:
        """Full-text search of titles, summaries and whole texts, in the original and in
        the translation into `lang`; best first (relevance with recency), with snippets.
        Words and "quoted phrases" are read literally: no operators."""
        check_lang(lang)
        params = {k: v for k, v in {"q": q, "country": country, "source": source,
                                    "original": original, "since": since, "until": until,
                                    "cursor": cursor}.items() if v is not None}
        try:
            view = build_search(ctx, lang, params, limit=limit)
        except (BadRequest, QueryError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return SearchResults(items=[SearchHitOut(
            **_summary(h.item).model_dump(), score=h.score, matched_language=h.matched_language,
            matched_original=h.matched_original,
            snippet=SnippetOut(text=h.snippet.text, marks=list(h.snippet.marks)))
            for h in view.hits], next=view.next_cursor)

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        spec: dict[str, Any] = api.openapi()
        rows = []
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                params = ", ".join(p["name"] for p in op.get("parameters", []))
                rows.append(f"<li><code>{method.upper()} /api/v1{escape(path)}</code> "
                            f"({escape(params)}) — {escape(op.get('summary', ''))}</li>")
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Babelwire API"
            "</title></head><body><h1>Babelwire API v1</h1><p>OpenAPI description: <a href="
            "'/api/v1/openapi.json'>/api/v1/openapi.json</a></p><ul>" + "".join(rows)
            + "</ul></body></html>")

    return api
