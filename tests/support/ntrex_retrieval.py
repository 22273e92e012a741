"""Cross-lingual same-story retrieval on NTREX-128, through Babelwire's real path.

NTREX-128 holds 123 English news documents with professional translations; each (document,
language) becomes one article page served by a loopback HTTP server. Babelwire fetches and
extracts every page, stores it, embeds it and places it in a story (the in-process runner's
ingest and index jobs), then the similar-news query (`similar.news.neighbours`, what the
site and the API call) is asked for each article. P@1 for languages (X, Y): the share of X
articles whose most similar article written in Y is the same document.

Shared by the CI quality gate (tests/test_quality_similar.py) and benchmarks/similar.py.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import permutations
from pathlib import Path

from babelwire.config import Settings
from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.jobs.runner import InProcessRunner
from babelwire.similar.news import neighbours
from babelwire.store.models import READY, Article
from tests.support.httpserver import LoopbackServer, Reply
from tests.support.mt_eval import NTREX_FILES

# the nine languages of NTREX-128 here: pt-BR is a variant of its own
# The real-path gate's languages (mt_eval.NTREX_FILES now holds every NTREX language).
VARIANTS = {**{lang: NTREX_FILES[lang] for lang in ("en", "es", "ca", "fr", "pt", "ru", "uk",
                                                   "de")},
            "pt-BR": "newstest2019-ref.por-BR.txt"}
PUBLISHED = "2019-11-20T09:00:00+00:00"

# Every language the source catalogue publishes in that NTREX-128 has, by the code Babelwire
# gives it (the catalogue's "no" is written Bokmål: "nb").
CATALOGUE_FILES = {code: f"newstest2019-{name}.txt" for code, name in {
    "ar": "ref.arb", "ca": "ref.cat", "cs": "ref.ces", "da": "ref.dan", "de": "ref.deu",
    "en": "src.eng", "es": "ref.spa", "fi": "ref.fin", "fr": "ref.fra", "hi": "ref.hin",
    "hu": "ref.hun", "id": "ref.ind", "is": "ref.isl", "it": "ref.ita", "ja": "ref.jpn",
    "ko": "ref.kor", "lt": "ref.lit", "ms": "ref.msa", "nb": "ref.nob", "nl": "ref.nld",
    "pl": "ref.pol", "pt": "ref.por", "ro": "ref.ron", "ru": "ref.rus", "sk": "ref.slk",
    "sv": "ref.swe", "sw": "ref.swa", "tr": "ref.tur", "uk": "ref.ukr", "vi": "ref.vie",
    "xh": "ref.xho", "zh": "ref.zho-CN", "zu": "ref.zul"}.items()}
# Catalogue languages NTREX-128 does not have: Kwanyama (kj), Greenlandic (kl).
NOT_IN_NTREX = frozenset({"kj", "kl"})
FILES = {**CATALOGUE_FILES, **VARIANTS}


def catalogue_languages() -> list[str]:
    """The languages of the source catalogue, as Babelwire codes ("no" -> "nb"), sorted."""
    from babelwire.catalog.loader import load_catalog
    from babelwire.similar.embed import primary_language

    return sorted({primary_language(lang) for src in load_catalog().sources
                   for lang in src.languages})


def document_lines(ntrex: Path, variant: str) -> list[list[str]]:
    """The lines of each NTREX document in file order, for one language (CRLF stripped)."""
    return [[line.strip() for line in doc]
            for doc in documents(ntrex, [variant])[variant].values()]


def pivot_translator() -> tuple[Callable[[Sequence[str], str, str], list[str]],
                                Callable[[str, str], float | None]]:
    """(translate, route_cost) over Babelwire's offline engines, as ``embed_articles`` takes
    them: every route the router has (an embedding gains from a translation too rough to
    show a reader, so no quality floor), the cheaper the higher its estimated chrF; a
    segment no engine translates keeps its text."""
    from babelwire.config import Settings
    from babelwire.translate.engines import load_engines
    from babelwire.translate.router import Router
    from babelwire.translate.translator import Translator

    engines = load_engines(Settings.load(env={}))
    try:
        router = Router(engines, min_quality=0.0)  # type: ignore[call-arg, unused-ignore]
    except TypeError:  # a router without quality floors offers every route
        router = Router(engines)
    translator = Translator(router)

    def translate(texts: Sequence[str], source: str, target: str) -> list[str]:
        return [r.text for r in translator.translate(list(texts), source, target).results]

    def route_cost(source: str, target: str) -> float | None:
        route = router.route(source, target)
        if route is None:
            return None
        quality = getattr(route, "quality", None)
        return 100.0 - quality if quality is not None else float(len(route.hops))

    return translate, route_cost


def documents(ntrex: Path, variants: Sequence[str] | None = None
              ) -> dict[str, dict[str, list[str]]]:
    """{variant: {document id: [lines]}} in file order (every variant of VARIANTS unless
    told; any of FILES)."""
    ids = [line.strip() for line in
           (ntrex / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()]
    out: dict[str, dict[str, list[str]]] = {}
    for variant in variants or VARIANTS:
        name = FILES[variant]
        lines = (ntrex / name).read_text(encoding="utf-8").replace("\r", "").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        assert len(lines) == len(ids), f"{name}: {len(lines)} lines for {len(ids)} ids"
        docs: dict[str, list[str]] = defaultdict(list)
        for doc, line in zip(ids, lines, strict=True):
            docs[doc].append(line)
        out[variant] = dict(docs)
    return out


def page(variant: str, lines: list[str]) -> bytes:
    lang = variant.split("-")[0]
    title, body = html.escape(lines[0]), lines[1:] or lines
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
    return (f"<!doctype html><html lang='{variant}'><head><meta charset='utf-8'>"
            f"<title>{title}</title>"
            f"<meta property='article:published_time' content='{PUBLISHED}'>"
            f"<meta property='og:locale' content='{lang}'></head>"
            f"<body><header><nav><a href='/'>Home</a></nav></header><main><article>"
            f"<h1>{title}</h1>{paras}</article></main><footer>NTREX-128</footer></body>"
            f"</html>").encode()


@dataclass
class RetrievalResult:
    p_at_1: dict[tuple[str, str], float]
    articles: int
    ready: int
    not_ready: dict[str, int] = field(default_factory=dict)  # status -> articles
    ingest_seconds: float = 0.0
    index_seconds: float = 0.0
    query_seconds: list[float] = field(default_factory=list)
    stories: int = 0
    story_purity: float = 0.0  # share of articles whose story's majority document is theirs
    # share of articles in their document's most common story (a document split over
    # stories loses the rest)
    story_completeness: float = 0.0

    @property
    def mean(self) -> float:
        return sum(self.p_at_1.values()) / len(self.p_at_1)

    @property
    def worst(self) -> tuple[tuple[str, str], float]:
        return min(self.p_at_1.items(), key=lambda kv: kv[1])


def run(ntrex: Path, settings: Settings, *, variants: list[str] | None = None,
        max_docs: int | None = None) -> RetrievalResult:
    variants = variants or list(VARIANTS)
    docs = documents(ntrex, sorted({"en", *variants}))
    doc_ids = sorted(docs["en"])[:max_docs] if max_docs else sorted(docs["en"])
    routes = {f"/{v}/{d}.html": Reply(body=page(v, docs[v][d]),
                                      content_type="text/html; charset=utf-8")
              for v in variants for d in doc_ids}
    routes["/robots.txt"] = Reply(body=b"User-agent: *\nAllow: /\n", content_type="text/plain")
    ctx = Context.open(settings)
    try:
        with LoopbackServer(routes) as server:
            return asyncio.run(_measure(ctx, server, variants, doc_ids))
    finally:
        ctx.close()


async def _measure(ctx: Context, server: LoopbackServer, variants: list[str],
                   doc_ids: list[str]) -> RetrievalResult:
    label: dict[int, tuple[str, str]] = {}  # article id -> (variant, document)
    for v in variants:
        for d in doc_ids:
            aid, _created = pipeline.add_url(ctx, server.url(f"/{v}/{d}.html"))
            label[aid] = (v, d)
    runner = InProcessRunner(ctx, ctx.settings.workers, index=False)
    for aid in label:
        runner.submit("ingest", aid)
    t0 = time.monotonic()
    try:
        await runner.join()
    finally:
        await ctx.aclose()  # the fetcher's connections
    ingest_s = time.monotonic() - t0
    with ctx.db.session() as s:
        status = {a.id: a.status for a in s.query(Article).filter(Article.id.in_(list(label)))}
    t0 = time.monotonic()  # the index jobs the runner would queue, in batches as it runs them
    indexer = InProcessRunner(ctx, ctx.settings.workers)
    for aid in label:
        if status[aid] == READY:
            indexer.submit("index", aid)
    stats = await indexer.join()
    index_s = time.monotonic() - t0
    assert not stats.errors, stats.errors
    assert stats.indexed == {"indexed": sum(st == READY for st in status.values())}, stats
    ready = [a for a in label if status[a] == READY]
    not_ready: dict[str, int] = defaultdict(int)
    for a in label:
        if status[a] != READY:
            not_ready[status[a]] += 1

    hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    query_s: list[float] = []
    window = timedelta(days=ctx.settings.similar_window_days)
    with ctx.db.session() as s:
        for aid in ready:
            x, doc = label[aid]
            t0 = time.monotonic()
            found = neighbours(s, ctx.vectors, aid, window=window, limit=len(label),
                               diversify=False)
            query_s.append(time.monotonic() - t0)
            first: dict[str, str] = {}
            for n in found:
                y, other = label.get(n.article_id, ("", ""))
                if y and y != x and y not in first:
                    first[y] = other
            for y in variants:
                if y != x:
                    hits[(x, y)].append(first.get(y) == doc)
        story_of = {a.id: a.story_id for a in s.query(Article).filter(Article.id.in_(ready))}
    # articles that were not stored count as misses for every pair they take part in
    for aid, st in status.items():
        if st != READY:
            x, _doc = label[aid]
            for y in variants:
                if y != x:
                    hits[(x, y)].append(False)
    p1 = {pair: sum(v) / len(v) for pair, v in hits.items()}
    for x, y in permutations(variants, 2):
        p1.setdefault((x, y), 0.0)
    members: dict[int | None, list[str]] = defaultdict(list)
    for aid in ready:
        members[story_of[aid]].append(label[aid][1])
    pure = sum(max(docs_.count(d) for d in set(docs_)) for docs_ in members.values())
    stories_of: dict[str, list[int | None]] = defaultdict(list)
    for aid in ready:
        stories_of[label[aid][1]].append(story_of[aid])
    whole = sum(max(sts.count(x) for x in set(sts)) for sts in stories_of.values())
    return RetrievalResult(p1, len(label), len(ready), dict(not_ready), ingest_s, index_s,
                           query_s, len(members), pure / max(len(ready), 1),
                           whole / max(len(ready), 1))
