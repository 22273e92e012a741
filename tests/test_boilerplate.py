"""Per-source boilerplate learning (ingest/boilerplate.py) on a real store, and its quality
gate on the demo newsroom and on real pages.

The evaluation helpers here are shared with benchmarks/boilerplate.py, which prints the
same figures per dataset and publisher, with the cost per article.

A stream is one source's articles in the order they arrive; each is stored READY with its
blocks and `clean_article` runs on it in its own transaction, as the pipeline does. Scores
are read from the store at the end, after re-cleaning, and count blocks:
- boilerplate (labelled True): recall is the share marked "notice";
- real paragraphs (labelled False): "lost" is the share marked "notice";
- unlabelled blocks (None) count in neither, only in precision (the share of notices that
  are not real paragraphs).
Teasers (a short block opening with the publisher's lead-in, "Read more: <headline>", the
rest changing every time) are boilerplate too, and are also counted apart (`teasers`): the
natural ones of the fundus pages, and synthetic ones added by `with_teasers`.
"""

from __future__ import annotations

import difflib
import gzip
import itertools
import json
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from babelwire.catalog.model import SourceSpec
from babelwire.ingest import boilerplate as bp
from babelwire.ingest.dedup import normalized_tokens
from babelwire.store import queries
from babelwire.store.database import Database
from babelwire.store.models import (
    READY,
    Article,
    Block,
    Boilerplate,
    SourceBlock,
    Translation,
)
from tests.support.factories import shared_data

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class EvalArticle:
    title: str
    blocks: tuple[tuple[str, str], ...]  # (type, text)
    labels: tuple[bool | None, ...]  # True: boilerplate; False: real paragraph; None: neither
    published: datetime = T0
    teasers: tuple[bool, ...] = ()  # which blocks are teasers (labelled True); () for none
    language: str = ""


@dataclass
class Scores:
    blocks: int = 0
    boilerplate: int = 0
    found: int = 0  # boilerplate blocks marked notice
    real: int = 0
    lost: int = 0  # real paragraphs marked notice
    notices: int = 0
    teasers: int = 0  # teaser blocks (boilerplate whose wording changes after a lead-in)
    teasers_found: int = 0
    articles: int = 0
    seconds: float = 0.0
    missed: list[str] = field(default_factory=list)
    lost_texts: list[str] = field(default_factory=list)

    def add(self, other: Scores) -> None:
        for name in ("blocks", "boilerplate", "found", "real", "lost", "notices", "teasers",
                     "teasers_found", "articles", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.missed += other.missed
        self.lost_texts += other.lost_texts

    @property
    def recall(self) -> float:
        return self.found / self.boilerplate if self.boilerplate else 1.0

    @property
    def teaser_recall(self) -> float:
        return self.teasers_found / self.teasers if self.teasers else 1.0

    @property
    def lost_share(self) -> float:
        return self.lost / self.real if self.real else 0.0

    @property
    def precision(self) -> float:
        return (self.notices - self.lost) / self.notices if self.notices else 1.0

    @property
    def ms_per_article(self) -> float:
        return 1000 * self.seconds / self.articles if self.articles else 0.0


def _spec(source_id: str) -> SourceSpec:
    return SourceSpec(id=source_id, name=source_id, homepage=f"https://{source_id}.example/",
                      country="GB", languages=(), feeds=(), sitemaps=())


def store_article(db: Database, source_id: str | None, n: int, title: str,
                  blocks: Sequence[tuple[str, str]], published: datetime) -> int:
    """A READY article with its blocks, as the pipeline stores one."""
    with db.session() as s:
        art = Article(url=f"https://{source_id or 'nowhere'}.example/{n}",
                      url_key=f"{source_id or 'nowhere'}.example/{n}", status=READY,
                      source_id=source_id, discovered_at=published, published_at=published,
                      title=title, word_count=sum(len(t.split()) for _, t in blocks))
        s.add(art)
        s.flush()
        queries.replace_blocks(s, art.id, list(blocks))
        return art.id


def run_stream(db: Database, source_id: str, articles: Sequence[EvalArticle]) -> Scores:
    """Store and clean a source's articles one by one; score the roles at the end."""
    with db.session() as s:
        if queries.sync_sources(s, [_spec(source_id)]) != 1:
            raise AssertionError("source not stored")
    ids: list[int] = []
    scores = Scores()
    for n, item in enumerate(articles):
        aid = store_article(db, source_id, n, item.title, item.blocks, item.published)
        ids.append(aid)
        t0 = time.perf_counter()
        with db.session() as s:
            bp.clean_article(s, aid, now=item.published)
        scores.seconds += time.perf_counter() - t0
        scores.articles += 1
    with db.session() as s:
        for aid, item in zip(ids, articles, strict=True):
            roles = [b.role for b in s.scalars(select(Block).where(Block.article_id == aid)
                                               .order_by(Block.position))]
            teasers = item.teasers or (False,) * len(item.blocks)
            for role, (_kind, text), label, teaser in zip(roles, item.blocks, item.labels,
                                                          teasers, strict=True):
                score_block(scores, role == bp.NOTICE, label, text, teaser=teaser)
    return scores


def score_block(scores: Scores, notice: bool, label: bool | None, text: str, *,
                teaser: bool = False) -> None:
    scores.blocks += 1
    scores.notices += notice
    if label is True:
        scores.boilerplate += 1
        scores.found += notice
        scores.teasers += teaser
        scores.teasers_found += teaser and notice
        if not notice:
            scores.missed.append(text)
    elif label is False:
        scores.real += 1
        scores.lost += notice
        if notice:
            scores.lost_texts.append(text)


def norm(text: str) -> str:
    return " ".join(normalized_tokens(text))


# ---- the demo newsroom: appeals, newsletter boxes, teasers and bios are boilerplate


def demo_streams(ctx: Any, newsroom: Any) -> dict[str, list[EvalArticle]]:
    """Crawl the demo newsroom with the real pipeline; label each stored block by the
    newsroom's ground truth (an appeal text: boilerplate; an article paragraph: real)."""
    import asyncio

    from babelwire.jobs.runner import InProcessRunner

    async def crawl() -> None:
        runner = InProcessRunner(ctx, ctx.settings.workers, index=False)
        with ctx.db.session() as s:
            for feed_id in queries.feed_ids(s):
                runner.submit("refresh_feed", feed_id)
        try:
            await runner.join()
        finally:
            await ctx.aclose()

    asyncio.run(crawl())
    appeals = {site: {norm(t) for t in texts} for site, texts in newsroom.appeals().items()}
    truth = {a.title: {norm(p) for p in a.paragraphs} for a in newsroom.articles()}
    streams: dict[str, list[EvalArticle]] = defaultdict(list)
    with ctx.db.session() as s:
        for art in s.scalars(select(Article).where(Article.status == READY)
                             .order_by(Article.id)):
            blocks = [(b.type, b.text) for b in s.scalars(
                select(Block).where(Block.article_id == art.id).order_by(Block.position))]
            paragraphs = truth.get(art.title or "", set())
            labels = tuple(True if norm(t) in appeals.get(art.source_id or "", set())
                           else False if norm(t) in paragraphs else None for _, t in blocks)
            assert art.source_id is not None and art.published_at is not None
            streams[art.source_id].append(EvalArticle(
                art.title or "", tuple(blocks), labels, art.published_at,
                language=art.language or ""))
    return dict(streams)


# ---- real pages: fundus test pages of publishers with two pages or more


def _is_real(text: str, gold: Sequence[str], gold_text: str, gold_words: set[str]) -> bool:
    n = norm(text)
    words = n.split()
    if not words:
        return False
    if n in gold:
        return True
    if len(words) >= 5 and n in gold_text:
        return True
    return len(words) >= 8 and sum(w in gold_words for w in words) >= 0.9 * len(words)


def _similar(a: str, b: str) -> bool:
    return a == b or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.9


def fundus_streams(data_dir: Path) -> dict[str, list[EvalArticle]]:
    """Each publisher's pages in crawl order, extracted by our extractor. A block is a real
    paragraph when it is in the page's gold text (fundus' hand-written parsers); it is
    boilerplate when it is not and recurs (the same or nearly: 90% similar) among the
    blocks of another of the publisher's pages that are not in theirs either, or when it is
    a teaser: a short block not in the gold text opening with the lead-in of such a block
    of another page (see `teaser_lead`), the rest differing ("MORE : <headline>"). Blocks
    in neither class (a caption, a one-off teaser) are left unlabelled: recurrence cannot
    find what does not recur."""
    from babelwire.ingest.charset import decode_body
    from babelwire.ingest.extract import extract

    root = data_dir / "fundus-parser-testdata"
    index = json.loads((root / "index.derived.json").read_text(encoding="utf-8"))
    by_publisher: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in index:
        by_publisher[entry["publisher"]].append(entry)
    streams: dict[str, list[EvalArticle]] = {}
    for publisher, entries in sorted(by_publisher.items()):
        if len(entries) < 2:
            continue
        pages = []
        for entry in sorted(entries, key=lambda e: (e["crawl_date"], e["url"])):
            truth = json.loads((root / entry["ground_truth_json"]).read_text(
                encoding="utf-8"))[entry["version_key"]]
            body = truth.get("body") or {}
            gold = list(body.get("summary", []))
            for section in body.get("sections", []):
                gold += section.get("headline", []) + section.get("paragraphs", [])
            html, _ = decode_body(gzip.decompress((root / entry["html"]).read_bytes()), None)
            extracted = extract(html, entry["url"])
            gold_norm = [norm(g) for g in gold]
            gold_text = "\n".join(gold_norm)
            gold_words = set(gold_text.split())
            blocks = tuple((b.type, b.text) for b in extracted.blocks)
            real = [_is_real(t, gold_norm, gold_text, gold_words) for _, t in blocks]
            published = datetime.fromisoformat(entry["crawl_date"]).replace(tzinfo=UTC)
            pages.append((extracted.title or "", blocks, real, published))
        articles = []
        for i, (title, blocks, real, published) in enumerate(pages):
            others = {norm(t) for j, (_, ob, oreal, _) in enumerate(pages) if j != i
                      for (_, t), r in zip(ob, oreal, strict=True) if not r and norm(t)}
            other_leads = {(teaser_lead(t), norm(t)) for j, (_, ob, oreal, _) in enumerate(pages)
                           if j != i for (_, t), r in zip(ob, oreal, strict=True)
                           if not r and teaser_lead(t)}
            labels: list[bool | None] = []
            teasers: list[bool] = []
            for (_, text), is_real in zip(blocks, real, strict=True):
                n, lead = norm(text), teaser_lead(text)
                teaser = False
                if is_real:
                    labels.append(False)
                elif n and any(_similar(n, o) for o in others):
                    labels.append(True)
                else:
                    teaser = lead is not None and any(lead == ol and n != on
                                                      for ol, on in other_leads)
                    labels.append(True if teaser else None)
                teasers.append(teaser)
            articles.append(EvalArticle(title, blocks, tuple(labels), published,
                                        tuple(teasers), entries[0]["language"]))
        streams[publisher] = articles
    return streams


# ---- teasers: a short block opening with the publisher's lead-in, the rest changing

_TEASER_SEP = re.compile(r":|\s[-\u2013\u2014]\s|[\u2013\u2014|]")


def teaser_lead(text: str, *, short: int = 20) -> str | None:
    """The normalised words before a block's first colon, spaced dash or pipe when they are
    1 to 4 and more words follow, in a block of at most `short` words; else None (the
    evaluation's own reading of a teaser, written apart from the learner's)."""
    m = _TEASER_SEP.search(text)
    if m is None or len(norm(text).split()) > short:
        return None
    lead, rest = norm(text[:m.start()]), norm(text[m.end():])
    return lead if rest and 1 <= len(lead.split()) <= 4 else None


# "Read also" lead-ins as publishers write them, to add synthetic teasers to real streams.
TEASER_LEADS = {
    "en": "Read more", "de": "Lesen Sie auch", "ru": "Читайте также", "uk": "Читайте також",
    "fr": "À lire aussi", "es": "Lee también", "ca": "Llegiu també", "pt": "Leia também",
    "it": "Leggi anche", "pl": "Czytaj także", "cs": "Čtěte také", "tr": "Bunu da okuyun",
    "no": "Les også", "sv": "Läs också", "da": "Læs også", "nl": "Lees ook",
    "ko": "관련기사", "ja": "関連記事", "zh": "延伸阅读",
}


def teaser_text(source: str, language: str, headline: str) -> str:
    """A teaser of `source` for another of its articles: its lead-in (by language; English
    "Related" when unknown) with one of three layouts chosen by the source's name."""
    lead = TEASER_LEADS.get(language.split("-")[0].lower(), "Related")
    layout = zlib.crc32(source.encode("utf-8")) % 3
    if layout == 1:
        return f"{lead} \u2013 {headline}"
    if layout == 2:
        lead = lead.upper()
    return f"{lead}{' :' if language.startswith('fr') else ':'} {headline}"


def with_teasers(streams: dict[str, list[EvalArticle]],
                 after: int = 2) -> dict[str, list[EvalArticle]]:
    """The streams with a teaser (labelled boilerplate) put after the `after`th block of
    every article: the source's lead-in and the headline of the source's next article (the
    first for the last), so the words after the lead-in change from article to article.
    A block of the article opening with the very lead-in given to its source is a teaser
    of the publisher's too, and is labelled so (TheMirror's own "Read more: <headline>"
    lines are in fundus' gold text)."""
    out: dict[str, list[EvalArticle]] = {}
    for source, articles in streams.items():
        titles = [a.title for a in articles]
        items = []
        for i, art in enumerate(articles):
            headline = titles[(i + 1) % len(titles)]
            if len(titles) < 2 or not headline.strip() or headline == art.title:
                items.append(art)
                continue
            text = teaser_text(source, art.language, headline)
            lead = teaser_lead(text, short=10**6)
            labels = list(art.labels)
            teasers = list(art.teasers or (False,) * len(art.blocks))
            for n, (_kind, other) in enumerate(art.blocks):
                if teaser_lead(other) == lead:
                    labels[n], teasers[n] = True, True
            at = min(after, len(art.blocks))
            items.append(EvalArticle(
                art.title, (*art.blocks[:at], ("paragraph", text), *art.blocks[at:]),
                (*labels[:at], True, *labels[at:]), art.published,
                (*teasers[:at], True, *teasers[at:]), art.language))
        out[source] = items
    return out


# ---- repeated real paragraphs: NTREX-128 documents of different outlets on one event


NTREX_FILES = {"en": "newstest2019-src.eng.txt", "de": "newstest2019-ref.deu.txt",
               "ru": "newstest2019-ref.rus.txt", "uk": "newstest2019-ref.ukr.txt",
               "fr": "newstest2019-ref.fra.txt", "es": "newstest2019-ref.spa.txt",
               "ca": "newstest2019-ref.cat.txt", "pt": "newstest2019-ref.por.txt"}
# Documents of different outlets about one event (benchmarks/dedup.py lists them).
NTREX_SAME_STORY = [
    ["rt.com.91337", "reuters.218932"],
    ["nytimes.184837", "euronews-en.153835", "reuters.218863", "nytimes.184860",
     "telegraph.405422", "euronews-en.153797"],
    ["abcnews.306815", "newsweek.51338"], ["cbsnews.248387", "reuters.218909"],
    ["bbc.381746", "scotsman.133791"], ["cnn.304447", "newsweek.51310"],
    ["cnbc.com.6769", "reuters.218861"], ["newsweek.51300", "abcnews.306755"],
    ["cnn.304478", "newsweek.51339"], ["reuters.218923", "independent.226301"],
]


def _lines(path: Path) -> list[str]:
    """A file's lines split on "\n" only (NTREX lines may hold other Unicode breaks)."""
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.removesuffix("\n").split("\n")]


def ntrex_streams(data_dir: Path) -> dict[str, list[EvalArticle]]:
    """One source per language holding all 123 NTREX documents (a line is a block, the
    first line the title) and, for every pair of documents about one event, three articles
    that repeat real text: the second report quoting a sentence of the first, a follow-up
    whose lead is the first report's lead, and an update of the first report keeping its
    first half and adding sentences of the second. Every block is a real paragraph."""
    root = data_dir / "mt-ntrex128"
    ids = _lines(root / "DOCUMENT_IDS.tsv")
    streams: dict[str, list[EvalArticle]] = {}
    for lang, name in NTREX_FILES.items():
        lines = _lines(root / name)
        docs: dict[str, list[str]] = defaultdict(list)
        for doc_id, line in zip(ids, lines, strict=True):
            if line:
                docs[doc_id].append(line)
        items: list[tuple[str, list[str]]] = [(d, docs[d]) for d in sorted(docs)]
        for group in NTREX_SAME_STORY:
            for a, b in itertools.combinations(group, 2):
                da, db = docs[a][1:], docs[b][1:]
                quote = da[len(da) // 2]
                items.append((f"{b}+quote", [docs[b][0], *db[:3], quote, *db[3:]]))
                items.append((f"{b}+lead", [docs[b][0], da[0], *db[1:]]))
                half = max(2, len(da) // 2)
                items.append((f"{a}+update", [docs[a][0] + " (update)", *da[:half], *db[-3:]]))
        streams[f"ntrex-{lang}"] = [
            EvalArticle(body[0], tuple(("paragraph", t) for t in body[1:]),
                        (False,) * (len(body) - 1), T0 + timedelta(minutes=n))
            for n, (_, body) in enumerate(items)]
    return streams


def evaluate(db_for: Any, streams: dict[str, list[EvalArticle]]) -> dict[str, Scores]:
    """Run every stream in a fresh store from `db_for(name)`; scores per stream."""
    out = {}
    for name, articles in streams.items():
        db = db_for(name)
        try:
            out[name] = run_stream(db, name, articles)
        finally:
            db.dispose()
    return out


def total(scores: dict[str, Scores]) -> Scores:
    out = Scores()
    for sc in scores.values():
        out.add(sc)
    return out


# ---------------------------------------------------------------------------- unit tests

# Unrelated reports of one publisher (different people, places and subjects).
STORIES = [
    ("Kestrel Bay ferry sails on electric engines", [
        "The Kestrel Bay ferry company fitted two electric engines to its oldest vessel, the "
        "Marigold, and the boat made its first silent crossing to Orrin Island on Tuesday.",
        "Engineers from Halvorsen Marine spent four months on the refit, which was paid for "
        "partly by the Northern Coast Transport Authority.",
        "Captain Ruth Abernethy said passengers noticed the quiet at once and that the "
        "batteries lasted the whole day without a recharge.",
    ]),
    ("Lindqvist wins the Westmoor chess open", [
        "Seventeen-year-old Amira Lindqvist won the Westmoor Chess Open on Sunday after "
        "beating the top seed, Grandmaster Pavel Tomescu, in a tense final round.",
        "Lindqvist, who learned the game at a library club in Dunmore, needed only a draw but "
        "chose a sharp Sicilian opening and won in forty moves.",
        "Tomescu praised her calm play and predicted that she would earn the grandmaster "
        "title before her twentieth birthday.",
    ]),
    ("Orchard growers in Felling Vale fear a poor apple harvest", [
        "Apple growers in Felling Vale expect one of the smallest harvests in decades after "
        "a late frost in April damaged blossom across the valley.",
        "Bernard Oakes, who farms sixty hectares near Ashcombe, said some of his Cox trees "
        "carry almost no fruit at all this autumn.",
        "The Felling Vale Growers Cooperative has asked the county council for emergency "
        "help with the cost of storage and seasonal workers.",
    ]),
    ("Museum in Carrow restores a medieval tapestry", [
        "Conservators at the Carrow Museum of Textiles have finished restoring a "
        "fifteenth-century tapestry showing a royal hunt in the forest of Brécy.",
        "The work took Ingrid Mallory and her team of three restorers nearly six years, "
        "thread by thread, under magnifying lamps.",
        "Visitors can see the tapestry from next Friday in a new darkened gallery built to "
        "protect its fragile vegetable dyes.",
    ]),
    ("Thornbury council approves a new cycle bridge", [
        "Thornbury council approved plans on Wednesday for a cycle and footbridge across the "
        "river Wend, linking the Eastgate estate with the railway station.",
        "Councillor Dev Raman said the bridge would cut a twenty-minute detour to four "
        "minutes for hundreds of commuters every morning.",
        "Construction by Pellman Civil is due to start in the spring and the bridge should "
        "open to the public within eighteen months.",
    ]),
    ("Astronomers at Mount Keel spot a new comet", [
        "Astronomers at the Mount Keel Observatory have discovered a comet that will pass "
        "close enough to the Sun next year to be seen with binoculars.",
        "The comet, provisionally named C/2026 K3, was first noticed by doctoral student "
        "Tomasz Wierzbicki while checking images for asteroids.",
        "Professor Alina Grosu said its orbit suggests it comes from the distant Oort cloud "
        "and has never visited the inner solar system before.",
    ]),
]
APPEAL = ("Independent local journalism needs your support. Become a member of the Gazette "
          "today for less than the price of a coffee a week.")
NEWSLETTER = "Sign up to our free morning newsletter and never miss a story."


def _db(url: str) -> Database:
    db = Database(url)
    with db.session() as s:
        queries.sync_sources(s, [_spec("gazette")])
    return db


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = _db(store_url)
    yield database
    database.dispose()


def _add(db: Database, n: int, title: str, paragraphs: Sequence[str], *extra: str,
         source: str | None = "gazette", at: int | None = None) -> int:
    blocks = [("paragraph", p) for p in paragraphs]
    if extra:  # the publisher's box goes after the second paragraph
        blocks[2:2] = [("paragraph", e) for e in extra]
    return store_article(db, source, n, title, blocks, T0 + timedelta(hours=at or n))


def _clean(db: Database, article_id: int, n: int = 0) -> bp.CleanResult:
    with db.session() as s:
        return bp.clean_article(s, article_id, now=T0 + timedelta(hours=n))


def _roles(db: Database, article_id: int) -> dict[str, str]:
    with db.session() as s:
        return {b.text: b.role for b in s.scalars(
            select(Block).where(Block.article_id == article_id))}


def test_block_key_normalises_case_spacing_digits_and_endings() -> None:
    key = bp.block_key("Stand: 12.05.2024, 10:33 Uhr")
    assert key == bp.block_key("stand:  3.6.2025 ,  9:01   UHR")
    assert bp.block_key("Eigene Recherche") == bp.block_key("Eigene Recherchen")
    assert key != bp.block_key("Stand: gestern")
    assert -(1 << 63) <= key < (1 << 63)
    keys = {bp.block_key(p) for _, ps in STORIES for p in ps}
    assert len(keys) == sum(len(ps) for _, ps in STORIES)  # no collisions among real text


def test_learns_after_k_unrelated_articles_and_recleans_the_first(db: Database) -> None:
    first = _add(db, 1, *STORIES[0], APPEAL)
    r1 = _clean(db, first, 1)
    assert (r1.notices, r1.learned, r1.recleaned) == (0, (), ())
    assert set(_roles(db, first).values()) == {"text"}  # seen once: nothing to learn yet

    second = _add(db, 2, *STORIES[1], APPEAL)
    r2 = _clean(db, second, 2)
    assert bp.MIN_UNRELATED == 2
    assert r2.notices == 1 and len(r2.learned) == 1 and r2.recleaned == (first,)
    for aid in (first, second):
        roles = _roles(db, aid)
        assert roles[APPEAL] == "notice"
        assert [r for t, r in roles.items() if t != APPEAL] == ["text"] * 3
    with db.session() as s:
        row = s.scalar(select(Boilerplate))
        assert row is not None and row.text == APPEAL and row.articles == 2

    # Incremental: a third article is cleaned from what is known, nothing re-learned.
    third = _add(db, 3, *STORIES[2], APPEAL)
    r3 = _clean(db, third, 3)
    assert (r3.notices, r3.learned, r3.recleaned) == (1, (), ())
    assert _roles(db, third)[APPEAL] == "notice"
    # Idempotent: the same call again changes nothing.
    again = _clean(db, third, 3)
    assert (again.notices, again.learned, again.recleaned) == (1, (), ())


def test_reclean_drops_full_translations_and_keeps_headlines(db: Database) -> None:
    first = _add(db, 1, *STORIES[3], NEWSLETTER)
    _clean(db, first, 1)
    with db.session() as s:
        for scope, lang in (("full", "es"), ("headline", "de")):
            s.add(Translation(article_id=first, language=lang, source_language="en",
                              scope=scope, title="t", blocks=[], source_hash="x",
                              created_at=T0))
    second = _add(db, 2, *STORIES[4], NEWSLETTER)
    assert _clean(db, second, 2).recleaned == (first,)
    with db.session() as s:
        left = {(t.language, t.scope) for t in s.scalars(
            select(Translation).where(Translation.article_id == first))}
    assert left == {("de", "headline")}


def test_a_quote_repeated_in_two_related_articles_is_kept(db: Database) -> None:
    quote = ('"We will not close a single ward this winter," said Dr Helena Marsh, the chief '
             'executive of St Aldhelm Hospital in Wexcombe.')
    a = _add(db, 1, "St Aldhelm Hospital in Wexcombe faces a winter of staff shortages", [
        "St Aldhelm Hospital in Wexcombe is short of more than eighty nurses as winter "
        "approaches, according to figures seen by the Gazette.", quote,
        "The Wexcombe health board will discuss emergency recruitment on Thursday."])
    b = _add(db, 2, "Wexcombe health board backs emergency hiring at St Aldhelm", [
        "The Wexcombe health board agreed on Thursday to hire forty agency nurses for St "
        "Aldhelm Hospital until the end of March.",
        "Board members said Dr Helena Marsh had assured them that wards would stay open.",
        quote])
    for n, aid in enumerate((a, b), 1):
        assert _clean(db, aid, n).notices == 0
    assert set(_roles(db, a).values()) == set(_roles(db, b).values()) == {"text"}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Boilerplate)) == 0


def test_story_updates_sharing_paragraphs_are_kept(db: Database) -> None:
    title, paragraphs = STORIES[4]
    first = _add(db, 1, title, paragraphs)
    update = _add(db, 2, title + " (updated)", [
        *paragraphs[:2], "Opponents said on Thursday that they would appeal against the "
        "decision, citing the cost of the Wend crossing.", paragraphs[2]])
    wire = _add(db, 3, "Opponents of the Wend bridge in Thornbury to appeal", [
        paragraphs[0], "A residents' group in Eastgate says the Thornbury bridge will bring "
        "noise and parking problems to their streets."])
    for n, aid in enumerate((first, update, wire), 1):
        assert _clean(db, aid, n).learned == ()
    for aid in (first, update, wire):
        assert set(_roles(db, aid).values()) == {"text"}


def test_appeals_in_any_language_are_learned(db: Database) -> None:
    cases = {
        "ru": ("Поддержите независимую журналистику: оформите ежемесячное пожертвование "
               "нашей редакции.", [
            ("В Томске открыли новый мост через Ушайку", [
                "Мэр Томска Дмитрий Махиня открыл в субботу новый пешеходный мост через "
                "реку Ушайку в центре города.",
                "Строительство заняло два года и обошлось бюджету в триста миллионов рублей."]),
            ("Казанский оркестр выступит в Вене", [
                "Государственный симфонический оркестр Татарстана впервые выступит в "
                "Венском концертном доме в декабре.",
                "Дирижёр Александр Сладковский привезёт программу из произведений Чайковского "
                "и Губайдулиной."])]),
        "ca": ("Fes-te subscriptor i ajuda'ns a mantenir un periodisme lliure i rigorós a "
               "les comarques gironines.", [
            ("Olot inaugura una nova biblioteca al barri de Sant Miquel", [
                "L'Ajuntament d'Olot ha inaugurat aquest dissabte la nova biblioteca del barri "
                "de Sant Miquel, amb més de vint mil volums.",
                "L'alcalde Pere Garcia ha destacat que l'equipament obrirà també els diumenges "
                "al matí."]),
            ("Els pagesos de l'Empordà reclamen més aigua per al reg", [
                "Els regants de la plana de l'Empordà demanen a la Generalitat que augmenti "
                "el cabal del Ter destinat al reg aquest estiu.",
                "Segons la Unió de Pagesos, sense aigua es perdran bona part de les collites "
                "de blat de moro."])])}
    n = 0
    for lang, (appeal, stories) in cases.items():
        source = f"paper-{lang}"
        with db.session() as s:
            queries.sync_sources(s, [_spec(source)])
        ids = []
        for title, paragraphs in stories:
            n += 1
            ids.append(store_article(db, source, n, title,
                                     [("paragraph", p) for p in paragraphs]
                                     + [("paragraph", appeal)], T0 + timedelta(hours=n)))
            _clean(db, ids[-1], n)
        for aid in ids:
            roles = _roles(db, aid)
            assert roles.pop(appeal) == "notice", lang
            assert set(roles.values()) == {"text"}, lang


def test_an_article_is_never_emptied(db: Database) -> None:
    box = [APPEAL, NEWSLETTER]
    _clean(db, _add(db, 1, *STORIES[0], *box), 1)
    _clean(db, _add(db, 2, *STORIES[1], *box), 2)
    short = store_article(db, "gazette", 3, "Gazette notice",
                          [("paragraph", APPEAL), ("paragraph", NEWSLETTER),
                           ("paragraph", "Back on Monday.")], T0 + timedelta(hours=3))
    result = _clean(db, short, 3)
    assert result.kept_short and result.notices == 0
    assert set(_roles(db, short).values()) == {"text"}


def test_articles_without_a_source_learn_nothing(db: Database) -> None:
    ids = [_add(db, n, *STORIES[n], APPEAL, source=None) for n in range(3)]
    for aid in ids:
        assert _clean(db, aid) == bp.CleanResult(aid)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SourceBlock)) == 0
        assert s.scalar(select(func.count()).select_from(Boilerplate)) == 0


def test_evidence_is_pruned_to_the_recent_articles(db: Database,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bp, "WINDOW", 3)
    monkeypatch.setattr(bp, "PRUNE_SLACK", 1)
    ids = [_add(db, n, *STORIES[n]) for n in range(6)]
    for n, aid in enumerate(ids):
        _clean(db, aid, n)
        with db.session() as s:
            held = set(s.scalars(select(SourceBlock.article_id).distinct()))
        assert len(held) <= 4
    assert held <= set(ids[-4:]) and ids[-1] in held
    with db.session() as s:
        assert bp.prune_evidence(s, "gazette", keep=2) == len(held) - 2
        assert set(s.scalars(select(SourceBlock.article_id).distinct())) == set(ids[-2:])


def test_related_tells_one_story_from_two() -> None:
    title, paragraphs = STORIES[4]
    follow_up = ["Thornbury council said the Wend bridge at Eastgate would cost more than "
                 "planned, and Councillor Dev Raman defended the extra spending."]
    assert bp.related(title, paragraphs, "Cost of cycle bridge rises", follow_up)
    assert not bp.related(title, paragraphs, *STORIES[5])


# ---------------------------------------------------------------------------- teasers

STORIES_DE = [
    ("Neue Seilbahn am Tegelberg eröffnet", [
        "Die neue Seilbahn am Tegelberg bei Füssen hat am Samstag ihre ersten Fahrgäste auf "
        "den Gipfel gebracht.",
        "Betriebsleiter Anton Kreuzer sagte, die Kabinen seien bereits für das ganze "
        "Wochenende ausgebucht."]),
    ("Bäckerei in Lüneburg feiert hundert Jahre", [
        "Die Bäckerei Hansen in der Lüneburger Altstadt feiert in diesem Monat ihr "
        "hundertjähriges Bestehen.",
        "Inhaberin Greta Hansen führt den Betrieb in vierter Generation und backt noch immer "
        "nach den Rezepten ihres Urgroßvaters."]),
    ("Forscher in Jena entdecken seltenen Käfer", [
        "Biologen der Universität Jena haben in einem Buchenwald im Saaletal einen seit "
        "Jahrzehnten verschollenen Käfer wiederentdeckt.",
        "Projektleiterin Miriam Vogt will nun gemeinsam mit dem Forstamt Schutzzonen für das "
        "Tier einrichten."]),
]
STORIES_RU = [
    ("В Томске открыли новый мост через Ушайку", [
        "Мэр Томска Дмитрий Махиня открыл в субботу новый пешеходный мост через реку Ушайку "
        "в центре города.",
        "Строительство заняло два года и обошлось бюджету в триста миллионов рублей."]),
    ("Казанский оркестр выступит в Вене", [
        "Государственный симфонический оркестр Татарстана впервые выступит в Венском "
        "концертном доме в декабре.",
        "Дирижёр Александр Сладковский привезёт программу из произведений Чайковского и "
        "Губайдулиной."]),
    ("В Мурманске начался сезон северного сияния", [
        "Туристы со всей страны приехали в Мурманск, чтобы увидеть первое в этом сезоне "
        "северное сияние.",
        "Гид Ольга Петрова говорит, что лучшие места для наблюдения находятся за городом, "
        "вдали от огней."]),
]
STORIES_KO = [
    ("부산 해운대에 새 도서관 개관", [
        "부산 해운대구가 토요일 바닷가 근처에 새 공공 도서관을 열었다고 밝혔다.",
        "도서관에는 어린이 열람실과 삼만 권의 책이 마련되어 있으며 평일 밤 열 시까지 운영된다."]),
    ("강원도 농민들 감자 수확 걱정", [
        "강원도 평창의 감자 농가들이 긴 장마 때문에 올해 수확량이 크게 줄어들 것이라고 "
        "우려했다.",
        "농민 김철수 씨는 밭의 절반 이상이 물에 잠겼다며 정부의 지원을 요청했다."]),
    ("대전 연구진 새로운 배터리 개발", [
        "대전의 한 연구소가 겨울철에도 성능이 떨어지지 않는 전기차 배터리를 개발했다고 "
        "발표했다.",
        "연구 책임자 박영희 박사는 삼 년 안에 상용화를 목표로 하고 있다고 말했다."]),
]
# A publisher's teaser lead-in and three unrelated reports of its, per language and script.
TEASER_CASES = {
    "en": ("Read more:", STORIES[:3]),
    "de": ("Lesen Sie auch:", STORIES_DE),
    "ru": ("ЧИТАЙТЕ ТАКЖЕ:", STORIES_RU),
    "ko": ("관련기사:", STORIES_KO),
}


def _source(db: Database, source: str) -> str:
    with db.session() as s:
        queries.sync_sources(s, [_spec(source)])
    return source


def test_lead_in_is_the_words_before_a_separator() -> None:
    teasers = ["Read more: Lindqvist wins the Westmoor chess open",
               "Read more – Museum in Carrow restores a medieval tapestry",
               "READ MORE | Thornbury council approves a new cycle bridge"]
    assert [bp.lead_in(t) for t in teasers] == ["Read more:", "Read more –", "READ MORE |"]
    keys = {bp.lead_key(t) for t in teasers}
    assert len(keys) == 1 and None not in keys  # one lead-in, whatever the separator
    assert len({bp.block_key(t) for t in teasers}) == 3  # while whole blocks differ
    assert keys.isdisjoint({bp.block_key(t) for t in teasers})
    assert bp.lead_in("ЧИТАЙТЕ ТАКЖЕ: Казанский оркестр выступит в Вене") == "ЧИТАЙТЕ ТАКЖЕ:"
    assert bp.lead_in("関連記事：東京で新しい橋が開通") == "関連記事:"  # NFKC colon
    assert bp.lead_in("あわせて読みたい：大阪の劇場で新作が初演") == "あわせて読みたい:"
    assert bp.lead_key("관련기사: 대전 연구진 새로운 배터리 개발") is not None
    assert bp.lead_key("Read more: Lindqvist wins") != bp.lead_key("Read also: Lindqvist wins")
    for text in [
        "But the council disagreed with the plan.",  # no separator
        "By Jane Holloway",
        "12.31 Uhr: Neue Zahlen aus dem Rathaus",  # a time, not a lead-in
        "Stand 10:33: Lage unverändert",
        "We like: the low price and the quiet motor",  # the sentence goes on
        "Главное — это не сдаваться",
        "“We won,” he said – and left.",  # a quotation
        "One of the five members of the board: Ana Ruiz",  # more than LEAD_WORDS words
        "Read more:",  # nothing after it
    ]:
        assert bp.lead_in(text) is None and bp.lead_key(text) is None, text
    # Only a short block has a lead-in key: a dateline opens long paragraphs.
    dateline = f"MOSCOW (Reuters) - {STORIES[0][1][0]}"
    assert bp.lead_in(dateline) == "MOSCOW (Reuters) -" and bp.lead_key(dateline) is None
    assert bp.lead_key("MOSCOW (Reuters) - Markets were closed on Monday.") is not None


@pytest.mark.parametrize("lang", sorted(TEASER_CASES))
def test_teasers_with_changing_headlines_are_learned(db: Database, lang: str) -> None:
    lead, stories = TEASER_CASES[lang]
    for (ta, pa), (tb, pb) in itertools.combinations(stories, 2):
        assert not bp.related(ta, pa, tb, pb)  # three unrelated reports
    source = _source(db, f"paper-{lang}")
    # Each report teases the next one's headline: only the lead-in recurs.
    teasers = [f"{lead} {stories[(i + 1) % 3][0]}" for i in range(3)]
    assert len({bp.block_key(t) for t in teasers}) == 3
    ids = [_add(db, n, *stories[n], teasers[n], source=source) for n in range(3)]

    assert _clean(db, ids[0], 0) == bp.CleanResult(ids[0])  # seen once: nothing learned
    assert set(_roles(db, ids[0]).values()) == {"text"}
    second = _clean(db, ids[1], 1)
    assert second.learned == (bp.lead_key(teasers[1]),) and second.notices == 1
    assert second.recleaned == (ids[0],)  # the first report's teaser became a notice too
    third = _clean(db, ids[2], 2)  # a headline never seen: known by its lead-in
    assert (third.notices, third.learned, third.recleaned) == (1, (), ())
    for aid, teaser in zip(ids, teasers, strict=True):
        roles = _roles(db, aid)
        assert roles.pop(teaser) == "notice"
        assert set(roles.values()) == {"text"}
    with db.session() as s:
        rows = list(s.scalars(select(Boilerplate).where(Boilerplate.source_id == source)))
    assert [(r.key, r.text, r.articles) for r in rows] == [
        (bp.lead_key(teasers[0]), f"{lead} \u2026", 2)]


def test_recleaning_for_a_lead_in_drops_full_translations(db: Database) -> None:
    first = _add(db, 1, *STORIES[3], "Related: Lindqvist wins the Westmoor chess open")
    _clean(db, first, 1)
    with db.session() as s:
        s.add(Translation(article_id=first, language="es", source_language="en",
                          scope="full", title="t", blocks=[], source_hash="x", created_at=T0))
    second = _add(db, 2, *STORIES[4], "Related: Museum in Carrow restores a medieval tapestry")
    assert _clean(db, second, 2).recleaned == (first,)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Translation)) == 0


def test_a_dateline_opening_long_paragraphs_is_not_learned(db: Database) -> None:
    briefs = ["MOSCOW (Reuters) - Markets in the Russian capital were closed for a holiday.",
              "MOSCOW (Reuters) - The rouble was little changed in early trade on Tuesday.",
              "MOSCOW (Reuters) - Snow delayed flights at Sheremetyevo airport overnight."]
    assert len({bp.lead_key(b) for b in briefs} - {None}) == 1  # short: they have a lead-in

    def report(n: int) -> tuple[str, list[str]]:
        title, paragraphs = STORIES[n]
        return title, [f"MOSCOW (Reuters) - {paragraphs[0]}", *paragraphs[1:]]

    # A wire publisher: every report opens with the dateline, and some carry a short brief
    # opening with it too. The lead-in recurs in unrelated articles but opens long paragraphs.
    wire = _source(db, "wire")
    ids = [_add(db, n, *report(n), *([briefs[n - 2]] if n >= 2 else []), source=wire)
           for n in range(5)]
    for n, aid in enumerate(ids):
        assert _clean(db, aid, n).learned == ()
    for aid in ids:
        assert set(_roles(db, aid).values()) == {"text"}
    # Control: where the dateline opens no long paragraph, the same briefs are learned.
    other = _source(db, "briefs")
    control = [_add(db, 10 + n, *STORIES[n], briefs[n], source=other) for n in range(2)]
    assert _clean(db, control[0], 10).learned == ()
    assert _clean(db, control[1], 11).learned == (bp.lead_key(briefs[0]),)


def test_short_real_paragraphs_opening_alike_stay_text(db: Database) -> None:
    one_liners = [
        ["But the council disagreed.", "The vote is on Monday.", "By Jane Holloway",
         "He said: “We will not give up on this town.”",
         "We like: the low price and the quiet motor",
         "10.15 GMT: Police reopened the road to traffic."],
        ["But the mayor was not convinced.", "The decision is expected in May.",
         "By Tom Greaves", "He said: “It was the best day of my life.”",
         "We like: the long battery life", "11.40 GMT: The first ferry left the harbour."],
        ["But nobody knows when it will open.", "The museum is closed on Mondays.",
         "By Ruth Okafor", "He said: “Nobody expected this to happen so soon.”",
         "We like: the bright and clear screen", "16.05 GMT: Flights are running again."],
    ]
    ids = [_add(db, n, *STORIES[n], *one_liners[n]) for n in range(3)]
    for n, aid in enumerate(ids):
        _clean(db, aid, n)
    for aid, lines in zip(ids, one_liners, strict=True):
        roles = _roles(db, aid)
        assert [roles[t] for t in lines] == ["text"] * len(lines)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Boilerplate)) == 0


def test_a_learned_lead_in_leaves_long_paragraphs_alone(db: Database) -> None:
    teasers = [f"Background: {STORIES[n + 1][0]}" for n in range(3)]
    long_paragraph = ("Background: The council first proposed a crossing at Eastgate in 2019, "
                      "but the plan was shelved twice for lack of money before the county "
                      "agreed to pay half of the cost.")
    assert bp.lead_in(long_paragraph) == "Background:" and bp.lead_key(long_paragraph) is None
    ids = [_add(db, 0, *STORIES[0], teasers[0]), _add(db, 1, *STORIES[2], teasers[1])]
    for n, aid in enumerate(ids):
        _clean(db, aid, n)
    assert _roles(db, ids[1])[teasers[1]] == "notice"
    title, paragraphs = STORIES[4]
    later = _add(db, 2, title, [paragraphs[0], long_paragraph, *paragraphs[1:]], teasers[2])
    result = _clean(db, later, 2)
    assert result.notices == 1
    roles = _roles(db, later)
    assert roles[teasers[2]] == "notice" and roles[long_paragraph] == "text"


def test_an_article_of_teasers_is_not_emptied(db: Database) -> None:
    _clean(db, _add(db, 0, *STORIES[0], f"Read more: {STORIES[4][0]}"), 0)
    assert _clean(db, _add(db, 1, *STORIES[1], f"Read more: {STORIES[5][0]}"), 1).learned
    stub = store_article(db, "gazette", 2, "Gazette notice",
                         [("paragraph", f"Read more: {STORIES[2][0]}"),
                          ("paragraph", "Back on Monday.")], T0 + timedelta(hours=2))
    result = _clean(db, stub, 2)
    assert result.kept_short and result.notices == 0
    assert set(_roles(db, stub).values()) == {"text"}


# ---------------------------------------------------------------------------- quality gate

# Measured November 2026 (python benchmarks/boilerplate.py; floors = measured less a margin,
# never below the issue's: recall >= 0.95, real paragraphs lost <= 1%).
# demo newsroom: 59 boilerplate blocks in 61 articles, recall 1.000, 0 of 380 real lost.
# With a synthetic teaser per article (`with_teasers`): 120 boilerplate blocks, 68 of them
# teasers (7 the newsroom's own Ukrainian box, which opens with the synthetic lead-in),
# recall 1.000, teasers 1.000, 0 lost (lead-ins off: recall 0.292, teasers 0.103).
DEMO_RECALL_FLOOR = 0.97
DEMO_TEASER_RECALL_FLOOR = 0.95
DEMO_LOST_CEILING = 0.005
# fundus, 64 publishers with 2-4 pages: 32 boilerplate blocks, 26 recurring whole and 6
# natural teasers (Metro's "MORE : <headline>"), recall 1.000 (lead-ins off: 0.812, no
# teaser); 1 of 3,221 real blocks lost (0.03%: an AnadoluAjansi dateline "Ankara").
FUNDUS_RECALL_FLOOR = 0.95
FUNDUS_NATURAL_TEASERS_FOUND = 5  # of 6
FUNDUS_LOST_CEILING = 0.005
# fundus with a synthetic teaser per page: 181 boilerplate blocks, 155 teasers, recall
# 0.906, teasers 0.890 (lead-ins off: 0.110, 0.000), 1 of 3,218 real lost. Of the 17 teasers
# missed, 12 are in six publishers whose two pages count as related (one group: nothing at
# all can be learned there), 4 in two publishers with one teaser longer than SHORT_WORDS
# (the other, alone, is not learned), 1 is the only block of a page (kept: never emptied).
FUNDUS_TEASERS_RECALL_FLOOR = 0.85
# ntrex, all real, with quotes, leads and halves of reports repeated: 24 of 22,640 lost.
NTREX_LOST_CEILING = 0.005


def _db_in(folder: Path) -> Any:
    folder.mkdir(exist_ok=True)
    return lambda name: Database(f"sqlite:///{folder}/{name}.db")


@pytest.mark.slow
def test_quality_on_the_demo_newsroom(tmp_path: Path, newsroom: Any) -> None:
    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.context import Context
    from tests.support.factories import make_settings

    ctx = Context.open(make_settings(tmp_path / "crawl"),
                       catalog=catalog_from_specs(newsroom.sources()))
    try:
        streams = demo_streams(ctx, newsroom)
    finally:
        ctx.close()
    sc = total(evaluate(_db_in(tmp_path / "plain"), streams))
    assert sc.boilerplate >= 50 and sc.real >= 300  # the newsroom was crawled and labelled
    assert sc.recall >= DEMO_RECALL_FLOOR, sc.missed
    assert sc.lost_share <= DEMO_LOST_CEILING, sc.lost_texts
    tz = total(evaluate(_db_in(tmp_path / "teasers"), with_teasers(streams)))
    assert tz.teasers >= 60 and tz.real == sc.real
    assert tz.recall >= DEMO_RECALL_FLOOR, tz.missed
    assert tz.teaser_recall >= DEMO_TEASER_RECALL_FLOOR, tz.missed
    assert tz.lost_share <= DEMO_LOST_CEILING, tz.lost_texts


@pytest.mark.slow
@pytest.mark.shared_data
def test_quality_on_real_pages_of_one_publisher(tmp_path: Path) -> None:
    data = shared_data("fundus-parser-testdata").parent
    streams = fundus_streams(data)
    sc = total(evaluate(_db_in(tmp_path / "plain"), streams))
    assert sc.boilerplate >= 20 and sc.real >= 3000
    assert sc.recall >= FUNDUS_RECALL_FLOOR, sc.missed
    # Metro's "MORE : <headline>" teasers are in no article's JSON-LD articleBody, so
    # extraction itself now leaves them out (extract._agree_with_article_body): the learner
    # has those left to find (the synthetic teasers below test it on every publisher).
    assert sc.teasers_found >= min(FUNDUS_NATURAL_TEASERS_FOUND, sc.teasers), sc.missed
    assert sc.lost_share <= FUNDUS_LOST_CEILING, sc.lost_texts
    tz = total(evaluate(_db_in(tmp_path / "teasers"), with_teasers(streams)))
    assert tz.teasers >= 140 and tz.real >= 3000
    assert tz.teaser_recall >= FUNDUS_TEASERS_RECALL_FLOOR, tz.missed
    assert tz.lost_share <= FUNDUS_LOST_CEILING, tz.lost_texts


@pytest.mark.slow
@pytest.mark.shared_data
def test_repeated_real_paragraphs_are_kept(tmp_path: Path) -> None:
    data = shared_data("mt-ntrex128").parent
    sc = total(evaluate(lambda name: Database(f"sqlite:///{tmp_path}/{name}.db"),
                        ntrex_streams(data)))
    assert sc.real >= 20_000 and sc.boilerplate == 0
    assert sc.lost_share <= NTREX_LOST_CEILING, sc.lost_texts[:20]
