"""Fast bulk seeding of a store with N synthetic but realistic READY articles, for load tests.

50 publishers in 20 countries writing in 8 languages; articles published over 60 days, each
about one of N/8 "stories" (several outlets cover one event, so similar news has something
to find), with 6-12 blocks of text. English is the pivot of the generator: every sentence is
made in English from a vocabulary, and the other languages are word-for-word pseudo-words
(Latin or Cyrillic, per language), so an article's English "translation" is exact. Most
non-English articles get a full English `Translation` whose source hash matches the article,
so the reader sees the translated state, as after a real ingest.

Story intelligence is in place as the pipeline would leave it: every article has a vector of
the default embedder's model (`article_vectors`; the model key and dimension come from a real
`VectorSpace`), synthetic but clustered — each story has a random unit centre and a member is
that centre plus Gaussian noise, normalised (cosine ~0.83 to the centre, ~0.68 between two
members of a story, like same-story articles in different languages; ~0 across stories) — and
belongs to its story (`stories` rows with the sum of member vectors as centroid and counts,
times and lead article computed from the members). Beside the database a data directory
(`data_dir_for`) holds the vector index snapshot a `VectorSpace` with that data_dir starts
from, HNSW graph included at >= 50,000 articles, so web workers don't each build one.

Rows go in with SQLAlchemy Core executemany, 10,000 articles per transaction; a database is
built once per (N, schema revision, generator version, embedding model) and cached under /tmp.

Usage: python benchmarks/_seed.py N   (prints the path of the cached database)
       python benchmarks/_seed.py N POSTGRESQL_URL   (seeds that empty database or schema)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from babelwire.catalog.model import SourceSpec  # noqa: E402

if TYPE_CHECKING:
    from babelwire.config import Settings
    from babelwire.similar.vectors import VectorSpace

CACHE_DIR = Path("/tmp/babelwire-bench/web")
GENERATOR_VERSION = 3  # bump when the generated data changes (2: vectors and stories;
# 3: the full-text search index)
SEED = 20261127
ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the newest article; fixed: cacheable
SPAN = timedelta(days=60)
CHUNK = 10_000  # articles per transaction
TRANSLATED_SHARE = 0.9  # of non-English articles, with a full English translation
ENGINES = ["apertium 3.8"]
# Per-dimension noise around a story's centre at dim 512 (scaled by sqrt(512 / dim) for
# another dimension, so the cosines stay the same): a member's cosine to the centre is
# 1/sqrt(1 + 512 * 0.03^2) ~ 0.83, to another member ~ 0.68 (as benchmarks/similar.py).
NOISE = 0.03
NOISE_DIM = 512

# 20 countries, 8 languages
COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("DE", "de", "Deutsche"), ("ES", "es", "Diario"), ("FR", "fr", "Parisien"),
    ("RU", "ru", "Moscow"), ("UA", "uk", "Kyiv"), ("IT", "it", "Romano"),
    ("BR", "pt", "Carioca"), ("US", "en", "American"), ("MX", "es", "Mexicano"),
    ("GB", "en", "British"), ("AT", "de", "Wiener"), ("CH", "de", "Zürcher"),
    ("AR", "es", "Porteño"), ("BE", "fr", "Bruxellois"), ("PT", "pt", "Lisboeta"),
    ("KZ", "ru", "Steppe"), ("IE", "en", "Irish"), ("AU", "en", "Australian"),
    ("IN", "en", "Indian"), ("CA", "en", "Canadian"),
)
MASTHEADS = ("Herald", "Times", "Courier", "Post", "Gazette", "Tribune", "Observer",
             "Chronicle", "Monitor", "Ledger")
N_SOURCES = 50

# --------------------------------------------------------------------------- vocabulary


def _split(words: str) -> list[str]:
    return words.split()


SUBJECTS = _split("""election inflation budget strike drought flood wildfire earthquake
vaccine outbreak
summit treaty tariff pension reform protest referendum merger bankruptcy scandal trial verdict
ceasefire blockade sanctions embargo harvest heatwave storm hurricane pipeline refinery railway
airport bridge tunnel stadium museum festival tournament championship transfer coalition
parliament cabinet ministry senate court constitution census migration border asylum housing
rents mortgage wages unemployment exports imports currency bonds stocks deficit taxes subsidy
electricity nuclear solar wind coal gas oil battery semiconductor satellite rocket telescope
hospital nurses doctors teachers students university school exam curriculum police prison
corruption fraud cyberattack outage shortage recall ferry port fishing forest glacier river
vineyard cathedral monument archive library theatre orchestra film novel""")
PLACES = _split("""Berlin Vienna Zurich Madrid Mexico Buenos Paris Brussels Lisbon Rio Moscow Astana
Kyiv Rome Washington London Dublin Sydney Delhi Toronto Hamburg Munich Seville Lyon Porto
Kharkiv Milan Naples Chicago Manchester Cork Melbourne Mumbai Vancouver Geneva Salzburg Valencia
Marseille Antwerp Recife Novosibirsk Almaty Odesa Turin Boston Glasgow Perth Chennai Montreal
Bavaria Catalonia Patagonia Brittany Flanders Algarve Siberia Crimea Sicily Texas Scotland
Queensland Kerala Quebec Tyrol Andalusia Provence Galicia Ural Donbas Tuscany California""")
ACTORS = _split("""government ministers lawmakers regulators unions farmers investors voters judges
prosecutors mayors governors activists researchers scientists engineers economists officials
diplomats generals pilots workers residents fishermen shopkeepers banks insurers airlines
carmakers retailers tenants landlords exporters miners""")
VERBS = _split("""approve reject delay announce confirm deny extend cut raise freeze suspend resume
criticise defend investigate warn promise demand block unveil launch expand reduce review
challenge welcome protest""")
ADJECTIVES = _split("""new major controversial long-awaited sudden record surprise costly fragile
historic disputed emergency regional national cross-border temporary permanent
unprecedented modest sweeping limited renewed delayed secret public official""")
NOUNS = _split("""plan deal law bill report study survey decision proposal measure policy agreement
package programme investigation inquiry ruling vote talks negotiations project contract fund
loan grant rate price figure forecast estimate warning statement interview meeting visit
hearing session debate campaign crisis recovery growth decline rise fall shift""")
FILLER = _split("""after before during amid despite while since until over under across against
within without between among following ahead following""")
ADVERBS = _split("""sharply slowly quietly openly again finally partly largely nearly widely
already still""")
FIRST_NAMES = _split("""Anna Ivan Maria Jan Olga Pierre Sofia Luca Elena Diego Laura Marco Chloe
Tomas Nina Pablo Clara Oleh Irina Paulo""")
LAST_NAMES = _split("""Müller Petrova García Dubois Rossi Silva Kowalski Novak Schmidt Ivanova
Martin Santos Ferrari Kovalenko Smith Murphy Brown Wilson Shevchenko Costa""")

# Per-language syllables for the pseudo-words the originals are written in.
SYLLABLES: dict[str, tuple[str, ...]] = {
    "de": ("ber", "sch", "ung", "ein", "gen", "ach", "lich", "keit", "stra", "wer", "zei",
           "hof", "mann", "ver", "tor", "ste"),
    "es": ("ción", "cas", "mer", "pla", "ero", "ada", "ran", "dos", "lia", "ños", "que",
           "sal", "tor", "ven", "iza", "mente"),
    "fr": ("eau", "ette", "ion", "oir", "que", "mai", "tre", "ble", "ant", "rou", "cha",
           "lie", "pré", "sse", "ais", "ment"),
    "pt": ("ção", "ões", "nho", "lha", "ar", "ei", "ida", "ado", "pro", "tão", "mos", "ver",
           "são", "res", "ica", "mente"),
    "it": ("zio", "ne", "etti", "gli", "ano", "cchi", "ore", "ella", "ssi", "ria", "pro",
           "lia", "tto", "ran", "ini", "mente"),
    "ru": ("ска", "ова", "ние", "ель", "про", "зда", "тор", "вет", "ность", "ский", "ого",
           "ми", "ра", "ство", "лю", "ный"),
    "uk": ("ськ", "ння", "ій", "ів", "при", "зна", "роб", "ще", "ість", "ка", "ого", "їх",
           "єв", "ра", "ний", "ці"),
}
_WORD = re.compile(r"[A-Za-zÀ-ÿ'-]+")


def source_specs() -> list[SourceSpec]:
    """The 50 publishers, spread over the 20 countries (first ten countries get three)."""
    specs = []
    for i in range(N_SOURCES):
        code, lang, adjective = COUNTRIES[i % len(COUNTRIES)]
        masthead = MASTHEADS[(i // len(COUNTRIES) + i) % len(MASTHEADS)]
        slug = f"{code.lower()}-{masthead.lower()}-{i}"
        specs.append(SourceSpec(id=slug, name=f"The {adjective} {masthead}",
                                homepage=f"https://{slug}.example/", country=code,
                                languages=(lang,)))
    return specs


class Lexicon:
    """English -> pseudo-language, word for word, deterministic."""

    def __init__(self) -> None:
        self._maps: dict[str, dict[str, str]] = {lang: {} for lang in SYLLABLES}

    def word(self, word: str, lang: str) -> str:
        table = self._maps[lang]
        low = word.lower()
        out = table.get(low)
        if out is None:
            rng = random.Random(f"{lang}:{low}")
            syl = SYLLABLES[lang]
            out = "".join(rng.choice(syl) for _ in range(1 + min(2, len(low) // 4)))
            table[low] = out
        return out.capitalize() if word[:1].isupper() else out

    def translate(self, text: str, lang: str) -> str:
        """`text` (English) in the pseudo-language `lang`."""
        if lang == "en":
            return text
        return _WORD.sub(lambda m: self.word(m.group(), lang), text)


def _sentence(rng: random.Random, subject: str | None = None, place: str | None = None) -> str:
    subject = subject or rng.choice(SUBJECTS)
    place = place or rng.choice(PLACES)
    a, n, v = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS)
    form = rng.randrange(6)
    if form == 0:
        s = (f"The {a} {n} on the {subject} in {place} was expected to {v} the "
             f"{rng.choice(NOUNS)} {rng.choice(FILLER)} the {rng.choice(NOUNS)}")
    elif form == 1:
        s = (f"{rng.choice(ACTORS).capitalize()} said they would {v} the {subject} "
             f"{rng.choice(NOUNS)} {rng.choice(ADVERBS)}, {rng.choice(FILLER)} a "
             f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} in {place}")
    elif form == 2:
        s = (f"According to a {a} {n}, the {subject} could {v} {rng.choice(ADJECTIVES)} "
             f"{rng.choice(NOUNS)} for {rng.choice(ACTORS)} across {place}")
    elif form == 3:
        s = (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}, who follows the {subject} "
             f"for the {rng.choice(ACTORS)}, called the {n} {a} and urged them to {v} it")
    elif form == 4:
        s = (f"In {place}, {rng.choice(ACTORS)} {rng.choice(VERBS)} the {a} {n} "
             f"{rng.choice(FILLER)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} about the "
             f"{subject}")
    else:
        s = (f"{rng.randint(2, 98)} per cent of {rng.choice(ACTORS)} in {place} expect the "
             f"{subject} {n} to {v} {rng.choice(ADVERBS)} this year")
    return s + "."


@dataclass(frozen=True)
class Story:
    index: int  # its row in the centres; its id in the store is index + 1
    subject: str
    place: str
    actor: str
    center: datetime


@dataclass(frozen=True)
class SeedInfo:
    path: Path
    articles: int
    translated: int
    sources: int
    seconds: float  # 0.0 when the cached database was reused
    stories: int = 0
    model: str = ""  # the embedding model of the vectors
    data_dir: Path | None = None  # holds the vector index snapshot (see data_dir_for)
    index_seconds: float = 0.0  # of `seconds`: index built (graph included) and saved
    graph: bool = False  # the snapshot holds an HNSW graph


def _title(rng: random.Random, st: Story) -> str:
    form = rng.randrange(5)
    a, n, v = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS)
    if form == 0:
        t = f"{st.actor.capitalize()} {v} {a} {st.subject} {n} in {st.place}"
    elif form == 1:
        t = f"{st.place}: {a} {st.subject} {n} as {st.actor} {v} {rng.choice(NOUNS)}"
    elif form == 2:
        t = f"Why the {st.subject} in {st.place} {rng.choice(ADVERBS)} worries {st.actor}"
    elif form == 3:
        t = f"{st.subject.capitalize()} {n}: {st.actor} in {st.place} {v} {a} {rng.choice(NOUNS)}"
    else:
        t = (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} on the {st.subject} in "
             f"{st.place} and the {a} {n}")
    return t


def n_stories(n: int) -> int:
    return max(20, n // 8)


def _stories(rng: random.Random, n: int) -> list[Story]:
    return [Story(i, rng.choice(SUBJECTS), rng.choice(PLACES), rng.choice(ACTORS),
                  ANCHOR - SPAN * rng.random()) for i in range(n_stories(n))]


def _source_hash(title: str, description: str, blocks: list[str]) -> str:
    # The same digest as babelwire.translate.articles.source_hash (full_text policy: all
    # blocks); imported lazily in seed() and checked against this one once.
    h = hashlib.sha256()
    for part in (title, description, *blocks):
        h.update(part.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


def _generate(n: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]],
                                        dict[str, Any] | None, int]]:
    """(article row, block rows, translation row or None, story index), in id order (oldest
    first); the article row's story_id is the story's index + 1."""
    rng = random.Random(SEED)
    lex = Lexicon()
    specs = source_specs()
    weights = [1.0 / (1 + i % 7) for i in range(len(specs))]  # a few big outlets
    stories = _stories(rng, n)
    # a pool of English sentences with their pseudo-language versions: blocks are made of
    # 2-4 random ones (cheap, and still never the same block twice in practice)
    pool = [_sentence(rng) for _ in range(6000)]
    pool_tr = {lang: [lex.translate(s, lang) for s in pool] for lang in SYLLABLES}
    metas = []
    for _ in range(n):
        st = rng.choice(stories)
        published = st.center + timedelta(hours=rng.gauss(0, 30))
        if not ANCHOR - SPAN <= published <= ANCHOR:
            published = st.center
        metas.append((published, st))
    metas.sort(key=lambda m: m[0])
    for aid, (published, st) in enumerate(metas, start=1):
        spec = rng.choices(specs, weights)[0]
        lang = spec.languages[0]
        en_title = _title(rng, st)
        en_desc = _sentence(rng, st.subject, st.place)
        kinds = ["paragraph"] * rng.randint(6, 12)
        if len(kinds) > 7 and rng.random() < 0.5:
            kinds[len(kinds) // 2] = "heading"
        if rng.random() < 0.3:
            kinds[-2] = "quote"
        picks = [rng.sample(range(len(pool)), 1 if k == "heading" else rng.randint(2, 4))
                 for k in kinds]
        en_blocks = [(" ".join(pool[i] for i in p)).rstrip(".") if k == "heading"
                     else " ".join(pool[i] for i in p) for k, p in zip(kinds, picks, strict=True)]
        if lang == "en":
            title, desc, blocks = en_title, en_desc, en_blocks
        else:
            title, desc = lex.translate(en_title, lang), lex.translate(en_desc, lang)
            blocks = [(" ".join(pool_tr[lang][i] for i in p)).rstrip(".") if k == "heading"
                      else " ".join(pool_tr[lang][i] for i in p)
                      for k, p in zip(kinds, picks, strict=True)]
        slug = re.sub(r"[^a-z0-9]+", "-", en_title.lower()).strip("-")[:60]
        host = spec.homepage.split("/")[2]
        path = f"{published:%Y/%m/%d}/{slug}-{aid}"
        words = sum(len(b.split()) for b in blocks)
        body = "\n".join(blocks)
        authors = ([f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    for _ in range(rng.choice((0, 1, 1, 2)))])
        discovered = published + timedelta(minutes=rng.randint(2, 90))
        article = {
            "id": aid, "url": f"https://{host}/{path}", "url_key": f"{host}/{path}",
            "status": "ready", "source_id": spec.id, "country": spec.country, "feed_id": None,
            "discovered_at": discovered, "fetched_at": discovered + timedelta(seconds=20),
            "attempts": 1, "feed_title": title, "feed_summary": desc,
            "feed_published": published, "feed_language": lang, "title": title,
            "authors": authors, "published_at": published, "updated_at": None,
            "image": (f"https://{host}/img/{aid}.jpg" if rng.random() < 0.7 else None),
            "description": desc, "site_name": spec.name, "language": lang,
            "language_confidence": round(rng.uniform(0.9, 1.0), 3), "language_hints": [lang],
            "word_count": words, "content_hash": hashlib.sha256(body.encode()).hexdigest(),
            "simhash": rng.getrandbits(63) - (1 << 62), "duplicate_of": None,
            "story_id": st.index + 1, "error_reason": None, "error_message": None,
        }
        block_rows = [{"article_id": aid, "position": i, "type": k, "text": t}
                      for i, (k, t) in enumerate(zip(kinds, blocks, strict=True))]
        translation = None
        if lang != "en" and rng.random() < TRANSLATED_SHARE:
            translation = {
                "article_id": aid, "language": "en", "source_language": lang, "scope": "full",
                "title": en_title, "description": en_desc,
                "blocks": [{"text": t, "flagged": False, "type": k}
                           for k, t in zip(kinds, en_blocks, strict=True)],
                "source_hash": _source_hash(title, desc, blocks), "engines": ENGINES,
                "path": [lang, "en"], "segments": 2 + len(blocks), "flagged": 0,
                "memory_hits": 0, "created_at": discovered + timedelta(seconds=40),
                "duration_ms": 50 + 12 * words // 10,
            }
        yield article, block_rows, translation, st.index


def data_dir_for(db_path: Path) -> Path:
    """The data directory that goes with a seeded database (the vector index snapshot)."""
    return db_path.with_name(f"{db_path.name.removesuffix('.db')}.data")


def store_settings(db_path: Path, **overrides: Any) -> Settings:
    """Settings over a seeded database: its data directory (so a `VectorSpace` starts from
    the snapshot) and the default embedder, environment ignored (BABELWIRE_* variables
    must not change what is measured). The seeder and the benchmark's servers both use it."""
    from babelwire.config import Settings

    return Settings.load(env={}, data_dir=str(data_dir_for(db_path)),
                         database_url=f"sqlite:///{db_path}", **overrides)


def _vector_space(db_path: Path) -> VectorSpace:
    from babelwire.similar.vectors import VectorSpace
    from babelwire.store.database import Database

    return VectorSpace(Database(f"sqlite:///{db_path}"), store_settings(db_path))


def default_model() -> tuple[str, int]:
    """(model key, dimension) of the default embedder, as a real VectorSpace has them."""
    from babelwire.similar.vectors import VectorSpace
    from babelwire.store.database import Database

    space = VectorSpace(Database("sqlite://"), store_settings(CACHE_DIR / "probe.db"))
    try:
        return space.model, space.embedder.dim
    finally:
        space.db.dispose()


def _snapshot_model(data_dir: Path) -> str | None:
    """The model of the vector index snapshot in data_dir, or None when there is none."""
    for meta in sorted((data_dir / "vectors").glob("*.json")):
        if meta.with_suffix(".index").exists():
            try:
                return str(json.loads(meta.read_text())["model"])
            except (OSError, ValueError, KeyError):
                return None
    return None


def write_snapshot(db_path: Path) -> tuple[float, bool]:
    """Build the vector index of the store at db_path as a web worker would (a VectorSpace
    with the store's data_dir: `sync`), wait for its HNSW graph when it gets one, and save
    the snapshot. Returns (seconds, whether the snapshot holds a graph)."""
    t0 = time.perf_counter()
    data = data_dir_for(db_path)
    shutil.rmtree(data, ignore_errors=True)
    space = _vector_space(db_path)
    try:
        if not space.sync():
            raise SystemExit(f"{db_path}: no article vector of {space.model}")
        space.index.wait_ready()
        graph = space.index.uses_graph
        space.save_snapshot()
    finally:
        space.db.dispose()
    return time.perf_counter() - t0, graph


def _search_documents(arts: list[dict[str, Any]], blocks: list[dict[str, Any]],
                      trs: list[dict[str, Any]]) -> Iterator[Any]:
    """The search documents of a chunk, from its rows in memory (what
    store.search.documents reads back from the tables, without reading them)."""
    from babelwire.store.search.documents import Document

    bodies: dict[int, list[str]] = {}
    for b in blocks:
        bodies.setdefault(b["article_id"], []).append(b["text"])
    by_article = {t["article_id"]: t for t in trs}
    for a in arts:
        common = {"article_id": a["id"], "published": int(a["published_at"].timestamp()),
                  "country": a["country"], "source_id": a["source_id"],
                  "article_language": a["language"]}
        yield Document(language=a["language"], original=True, title=a["title"],
                       summary=a["description"], body="\n".join(bodies.get(a["id"], [])),
                       **common)
        tr = by_article.get(a["id"])
        if tr is not None:
            yield Document(language=tr["language"], original=False, title=tr["title"],
                           summary=tr["description"],
                           body="\n".join(str(b["text"]) for b in tr["blocks"]), **common)


def seed(path: Path, n: int, url: str | None = None) -> SeedInfo:
    """Create a fresh store at `path` holding `n` READY articles with their vectors and
    stories, and the vector index snapshot beside it (replaces any there). With `url` (an
    empty PostgreSQL database or schema), the store goes there and no snapshot is made."""
    from sqlalchemy import bindparam, insert, update

    from babelwire.similar.vectors import to_bytes
    from babelwire.store import queries
    from babelwire.store.database import Database
    from babelwire.store.models import Article, ArticleVector, Block, Story, Translation
    from babelwire.store.search import index as search_index
    from babelwire.translate.articles import source_hash

    assert source_hash("a", "b", ["c"]) == _source_hash("a", "b", ["c"]), "hash drifted"
    t0 = time.perf_counter()
    if url is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    model, dim = default_model()
    db = Database(url or f"sqlite:///{path}")
    sqlite = db.backend == "sqlite"
    specs = source_specs()
    with db.session() as s:
        queries.sync_sources(s, specs)
    # vectors: a unit centre per story, members around it (numpy, seeded: reproducible)
    vrng = np.random.default_rng(SEED)
    sigma = NOISE * (NOISE_DIM / dim) ** 0.5
    centres = vrng.standard_normal((n_stories(n), dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sums = np.zeros_like(centres)  # a story's centroid: the sum of its members' vectors
    # per story (by index): articles, sources, countries, languages, first and last
    # published, lead (earliest; articles come oldest first), created, updated
    stats: dict[int, list[Any]] = {}
    translated = 0
    arts: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    trs: list[dict[str, Any]] = []
    members: list[int] = []  # story index of each article in `arts`
    new_stories: list[int] = []  # first met in this chunk: their rows go in first
    with db.engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        else:
            conn.exec_driver_sql("SET synchronous_commit = off")
        conn.commit()  # end the autobegun transaction: each chunk has its own

        def flush() -> None:
            idx = np.array(members, dtype=np.int64)
            vecs = centres[idx] + vrng.standard_normal((len(idx), dim), dtype=np.float32) * sigma
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            np.add.at(sums, idx, vecs)
            vec_rows = [{"article_id": a["id"], "model": model, "vector": to_bytes(v),
                         "published_at": a["published_at"],
                         "created_at": a["fetched_at"] + timedelta(seconds=30)}
                        for a, v in zip(arts, vecs, strict=True)]
            docs = list(_search_documents(arts, blocks, trs))
            with conn.begin():
                if new_stories:  # counts and centroid are set once every member is in
                    conn.execute(insert(Story), [
                        {"id": i + 1, "created_at": stats[i][7], "updated_at": stats[i][7],
                         "model": model} for i in new_stories])
                conn.execute(insert(Article), arts)
                conn.execute(insert(Block), blocks)
                if trs:
                    conn.execute(insert(Translation), trs)
                conn.execute(insert(ArticleVector), vec_rows)
                search_index.backend(conn).insert(conn, docs)
            for rows in (arts, blocks, trs, members, new_stories):
                rows.clear()

        for art, block_rows, tr, story in _generate(n):
            arts.append(art)
            blocks.extend(block_rows)
            members.append(story)
            if tr is not None:
                trs.append(tr)
                translated += 1
            st = stats.get(story)
            if st is None:
                st = stats[story] = [0, set(), set(), set(), art["published_at"], None,
                                     art["id"], art["fetched_at"], None]
                new_stories.append(story)
            st[0] += 1
            st[1].add(art["source_id"])
            st[2].add(art["country"])
            st[3].add(art["language"])
            st[5] = art["published_at"]
            st[8] = art["fetched_at"]
            if len(arts) >= CHUNK:
                flush()
        if arts:
            flush()
        with conn.begin():  # Core executemany: the SET clause is each row's other keys
            conn.execute(update(Story).where(Story.id == bindparam("story")), [
                {"story": i + 1, "articles": st[0], "sources": len(st[1]),
                 "countries": len(st[2]), "languages": len(st[3]),
                 "first_published_at": st[4], "last_published_at": st[5],
                 "lead_article_id": st[6], "created_at": st[7], "updated_at": st[8],
                 "centroid": to_bytes(sums[i])} for i, st in stats.items()])
        with conn.begin():
            search_index.finish(conn)
        if sqlite:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # the ids were given: the sequences must follow
            for table in ("articles", "stories", "article_vectors", "translations"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                     f" (SELECT coalesce(max(id), 1) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")
        conn.commit()
    db.dispose()
    index_seconds, graph = write_snapshot(path) if sqlite else (0.0, False)
    return SeedInfo(path, n, translated, len(specs), time.perf_counter() - t0, len(stats),
                    model, data_dir_for(path), index_seconds, graph)


def cached_db(n: int, cache_dir: Path = CACHE_DIR) -> SeedInfo:
    """A store with `n` articles and its data directory (vector index snapshot), seeded
    once and cached under `cache_dir` (keyed by N, the schema's migration head, the
    generator's version and the embedding model)."""
    from sqlalchemy import create_engine, func, select

    from babelwire.store.database import head_revision
    from babelwire.store.models import Story, Translation

    model, _dim = default_model()
    slug = "".join(c if c.isalnum() else "-" for c in model)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"articles-{n}-rev{head_revision()}-v{GENERATOR_VERSION}-{slug}.db"
    data = data_dir_for(path)
    if path.exists():
        t0 = time.perf_counter()
        index_seconds, graph = 0.0, False
        if _snapshot_model(data) != model:  # the snapshot went missing: write it again
            index_seconds, graph = write_snapshot(path)
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            translated = conn.scalar(select(func.count()).select_from(Translation)) or 0
            stories = conn.scalar(select(func.count()).select_from(Story)) or 0
        engine.dispose()
        return SeedInfo(path, n, translated, N_SOURCES,
                        time.perf_counter() - t0 if index_seconds else 0.0, stories, model,
                        data, index_seconds, graph)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    info = seed(tmp, n)
    # the data directory first, the database last: a cached database has its snapshot
    shutil.rmtree(data, ignore_errors=True)
    os.replace(data_dir_for(tmp), data)
    os.replace(tmp, path)
    return replace(info, path=path, data_dir=data)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    if len(sys.argv) > 2:  # a PostgreSQL URL: seed it (it must hold no schema yet)
        pg = seed(Path("/nonexistent"), n, url=sys.argv[2])
        print(f"{sys.argv[2]}: {pg.articles} articles, {pg.translated} English translations,"
              f" {pg.stories} stories (seeded in {pg.seconds:.1f} s)")
        return 0
    info = cached_db(n)
    if not info.seconds:
        how = "cached"
    else:
        how = f"seeded in {info.seconds:.1f} s"
        if info.index_seconds:
            how += (f", of which vector index {info.index_seconds:.1f} s"
                    f"{' (HNSW graph)' if info.graph else ''}")
    print(f"{info.path}: {info.articles} articles, {info.translated} English translations, "
          f"{info.sources} sources, {info.stories} stories, vectors of {info.model} "
          f"({how}; {info.path.stat().st_size / 1e6:.0f} MB; load "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])})")
    print(f"vector index snapshot in {info.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
