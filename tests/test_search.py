"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): stems, translations,
the index kept in the writer's transaction, hostile queries, filters, pagination,
re-indexing and the migration that builds the index for an existing store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from babelwire.catalog.model import SourceSpec
from babelwire.store import queries
from babelwire.store.database import Database, upgrade
from babelwire.store.models import DUPLICATE, READY, Article, Source, Translation
from babelwire.store.search import Filters, QueryError, parse, reindex, search

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPECS = [
    SourceSpec(id="es-diario", name="Diario", homepage="https://diario.example/",
               country="ES", languages=("es",), feeds=()),
    SourceSpec(id="de-zeitung", name="Zeitung", homepage="https://zeitung.example/",
               country="DE", languages=("de",), feeds=()),
    SourceSpec(id="us-post", name="Post", homepage="https://post.example/",
               country="US", languages=("en",), feeds=()),
]


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = Database(store_url)
    with database.session() as s:
        queries.sync_sources(s, SPECS)
    yield database
    database.dispose()


_n = 0


def add_article(db: Database, *, source: str, language: str, title: str, body: list[str],
                description: str = "", published: datetime = T0,
                translations: dict[str, tuple[str, list[str]]] | None = None) -> int:
    global _n
    _n += 1
    with db.session() as s:
        src = s.get(Source, source)
        assert src is not None
        art = Article(url=f"https://{source}.example/{_n}", url_key=f"{source}.example/{_n}",
                      status=READY, source_id=source, country=src.country,
                      discovered_at=published, published_at=published, title=title,
                      description=description, language=language, authors=[],
                      language_hints=[], word_count=100, attempts=0)
        s.add(art)
        s.flush()
        queries.replace_blocks(s, art.id, [("paragraph", p) for p in body])
        for lang, (tr_title, tr_body) in (translations or {}).items():
            s.add(Translation(article_id=art.id, language=lang, source_language=language,
                              scope="full", title=tr_title, description=None,
                              blocks=[{"text": b, "flagged": False} for b in tr_body],
                              source_hash="x", engines=["test"], path=[language, lang],
                              created_at=published))
        return art.id


def ids(db: Database, q: str, lang: str, **kw: object) -> list[int]:
    with db.session() as s:
        return [h.item.id for h in search(s, q, lang, **kw).hits]  # type: ignore[arg-type]


def test_body_words_are_found_through_their_stems(db: Database) -> None:
    aid = add_article(db, source="us-post", language="en", title="Council meeting",
                      body=["The council met on Tuesday.",
                            "Residents complained about the flooding of several basements."])
    add_article(db, source="us-post", language="en", title="Other", body=["Nothing here."])
    assert ids(db, "flooded basement", "en") == [aid]
    assert ids(db, "complaint residents", "en") == []  # complaint ≠ complain: stems differ
    assert ids(db, "complaining resident", "en") == [aid]
    de = add_article(db, source="de-zeitung", language="de", title="Haushalt",
                     body=["Die Haushaltsdebatten im Bundestag dauerten bis in die Nacht."])
    assert ids(db, "Haushaltsdebatte Bundestages", "de") == [de]


def test_a_translation_is_found_in_its_language_with_a_snippet(db: Database) -> None:
    aid = add_article(db, source="es-diario", language="es", title="Huelga de pilotos",
                      body=["Los pilotos anunciaron una huelga indefinida en Madrid."],
                      translations={"en": ("Pilots strike",
                                           ["The pilots announced an indefinite strike "
                                            "in Madrid."]),
                                    "de": ("Pilotenstreik", ["Die Piloten streiken."])})
    with db.session() as s:
        res = search(s, "indefinite strikes", "en")
    [hit] = res.hits
    assert hit.item.id == aid and hit.matched_language == "en" and not hit.matched_original
    marked = [piece for piece, on in hit.snippet.parts() if on]
    assert marked == ["indefinite", "strike"]
    assert ids(db, "huelga indefinida", "es") == [aid]  # the original, in Spanish
    # a German reader is not matched through the English translation
    assert ids(db, "indefinite", "de") == []
    assert ids(db, "Piloten", "de") == [aid]


def test_both_stores_fold_diacritics_and_stem_every_snowball_language(db: Database) -> None:
    """One analysis (Snowball stems, then case and diacritics folded, CJK bigrams) on SQLite
    and PostgreSQL alike: PostgreSQL's own configurations kept the accents and had no
    Polish stemmer."""
    zh = add_article(db, source="us-post", language="en", title="Talks in Zürich",
                     body=["Negotiators met at a café in Zürich and Montréal."])
    assert ids(db, "zurich", "en") == [zh]
    assert ids(db, "ZÜRICH cafe", "en") == [zh]
    assert ids(db, '"cafe in zurich"', "en") == [zh]  # a phrase: stems in order
    assert ids(db, '"zurich in cafe"', "en") == []
    pl = add_article(db, source="us-post", language="pl", title="Wybory prezydenckie",
                     body=["Kandydaci przed wyborami prezydenckimi spotkali się w Łodzi."])
    assert ids(db, "wyborów prezydenckich", "pl") == [pl]  # other cases of the same words
    assert ids(db, "lodzi", "pl") == [pl]
    ja = add_article(db, source="us-post", language="ja", title="東京で地震",
                     body=["東京都内で強い地震がありました。"])
    assert ids(db, "地震", "ja") == [ja]
    assert ids(db, "東京都", "ja") == [ja]
    assert ids(db, "京都", "ja") == [ja]  # bigrams: a substring of the text is found
    assert ids(db, "大阪", "ja") == []


def test_the_index_follows_the_writers_transaction(db: Database) -> None:
    aid = add_article(db, source="us-post", language="en", title="Bridge reopens",
                      body=["The suspension bridge reopened after repairs."])
    with pytest.raises(RuntimeError), db.session() as s:
        art = s.get(Article, aid)
        assert art is not None
        art.title = "Tunnel closes"
        raise RuntimeError("rolled back")
    assert ids(db, "tunnel", "en") == []
    assert ids(db, "bridge", "en") == [aid]
    with db.session() as s:
        art = s.get(Article, aid)
        assert art is not None
        art.title = "Tunnel closes"
    assert ids(db, "tunnel", "en") == [aid]
    with db.session() as s:  # a translation written later is found in its language
        s.add(Translation(article_id=aid, language="es", source_language="en",
                          scope="headline", title="Cierra el túnel", description=None,
                          blocks=[], source_hash="x", engines=["test"], path=["en", "es"],
                          created_at=T0))
    assert ids(db, "túnel", "es") == [aid]
    assert ids(db, "tunel", "es") == [aid]  # diacritics folded
    with db.session() as s:  # an article no longer shown leaves the index
        art = s.get(Article, aid)
        assert art is not None
        art.status = DUPLICATE
    assert ids(db, "tunnel", "en") == []


def test_two_writers_reindexing_one_article_at_once(db: Database) -> None:
    """Two transactions that both re-index one article (an on-demand translation beside the
    crawler's): the second waits for the first rather than failing on a duplicate entry
    (PostgreSQL, READ COMMITTED: each would delete nothing the other can see, then insert).
    Real concurrency: the first transaction stays open while the second one commits."""
    import threading

    aid = add_article(db, source="us-post", language="en", title="Harbour strike",
                      body=["Dock workers stopped work at the harbour."])
    entered, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.session() as s:
                s.add(Translation(article_id=aid, language="es", source_language="en",
                                  scope="headline", title="Huelga en el puerto",
                                  description=None, blocks=[], source_hash="x",
                                  engines=["test"], path=["en", "es"], created_at=T0))
                s.flush()
                from babelwire.store.search.index import index_articles
                index_articles(s.connection(), [aid])  # takes the article's index lock
                entered.set()
                release.wait(5)
        except BaseException as exc:
            errors.append(exc)
            entered.set()

    t = threading.Thread(target=first)
    t.start()
    assert entered.wait(10)
    timer = threading.Timer(0.5, release.set)  # let the first commit while the second waits
    timer.start()
    try:
        with db.session() as s:
            s.add(Translation(article_id=aid, language="fr", source_language="en",
                              scope="headline", title="Grève au port", description=None,
                              blocks=[], source_hash="x", engines=["test"], path=["en", "fr"],
                              created_at=T0))
    finally:
        release.set()
        t.join(10)
        timer.cancel()
    assert errors == []
    assert ids(db, "huelga", "es") == [aid]
    assert ids(db, "grève", "fr") == [aid]
    assert ids(db, "strike", "en") == [aid]


HOSTILE = ['"', '""', "'", "AND", "OR NOT", "a OR b", "NEAR(a b)", "title:strike", "strike*",
           "^strike", "-strike", "(strike", "strike)", "*", ":", "\\", "%", "_", "\x00x",
           "'; DROP TABLE articles; --", '"unclosed phrase', "strike\" AND \"x", "{a b}",
           "a\"b\"c", "🙂", "　", "strike " * 30, "x" * 199, "ü" * 61, "ﬁ", "NULL",
           "SELECT * FROM search_fts", "rank:", "bm25(", "&&", "!!", "<->", "a:*", "a & b | c"]


def test_hostile_queries_search_literally_or_are_refused(db: Database) -> None:
    aid = add_article(db, source="us-post", language="en", title="Strike ends",
                      body=["The strike ended; AND OR NOT are words here. Near title."])
    # both stores analyse alike and keep stop words: "AND" is a word found in the text
    literal = ["title:strike", "strike*", "^strike", "-strike", "(strike", "strike)", "AND"]
    refused = []
    for q in HOSTILE:
        try:
            parse(q)
        except QueryError as exc:
            assert str(exc)
            refused.append(q)
            continue
        with db.session() as s:
            res = search(s, q, "en")
        if q in literal:
            assert [h.item.id for h in res.hits] == [aid], q
    assert set(refused) == {'"', '""', "'", "*", ":", "\\", "%", "&&", "!!", "<->", "🙂",
                            "　", "strike " * 30, "x" * 199, "ü" * 61}


def test_filters_and_keyset_pages(db: Database) -> None:
    made = []
    for i in range(25):
        src = ("us-post", "de-zeitung", "es-diario")[i % 3]
        made.append(add_article(db, source=src, language="en", title=f"Harvest report {i}",
                                body=["The grape harvest " + "harvest " * (i % 4)],
                                published=T0 - timedelta(days=i)))
    seen: list[int] = []
    scores: list[float] = []
    cursor = None
    with db.session() as s:
        while True:
            res = search(s, "harvest", "en", cursor=cursor, limit=10, now=T0.timestamp())
            seen += [h.item.id for h in res.hits]
            scores += [h.score for h in res.hits]
            cursor = res.next
            if cursor is None:
                break
    assert sorted(seen) == sorted(made) and len(seen) == 25
    assert scores == sorted(scores, reverse=True)
    assert set(ids(db, "harvest", "en", filters=Filters(country="de"))) == set(made[1::3])
    assert set(ids(db, "harvest", "en", filters=Filters(source="es-diario"))) == set(made[2::3])
    week = Filters(since=T0 - timedelta(days=6, hours=1), until=T0 + timedelta(hours=1))
    assert set(ids(db, "harvest", "en", filters=week)) == set(made[:7])
    assert ids(db, "harvest", "en", filters=Filters(original_language="fr")) == []
    with db.session() as s:  # recency: of equal texts the newer ranks first
        s.execute(text("UPDATE sources SET opt_out = :t WHERE id = 'us-post'"), {"t": True})
    assert set(ids(db, "harvest", "en", limit=100)) == set(made) - set(made[::3])


def test_reindex_rebuilds_the_same_results(db: Database) -> None:
    aid = add_article(db, source="es-diario", language="es", title="Elecciones",
                      body=["Las elecciones regionales se celebrarán en marzo."])
    with db.session() as s:
        s.execute(text("DELETE FROM search_docs"))
    assert ids(db, "elección", "es") == []
    assert reindex(db.engine) == 1
    assert ids(db, "elección regional", "es") == [aid]


def test_the_migration_indexes_an_existing_store(store_url: str) -> None:
    old = Database(store_url, auto_upgrade=False)
    upgrade(old.engine, "0004")
    with old.engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, homepage, languages, policy, opt_out)"
                          " VALUES ('s', 'S', 'https://s.example/', '[]', 'full_text', :f)"),
                     {"f": False})
        conn.execute(text(
            "INSERT INTO articles (id, url, url_key, status, source_id, discovered_at, "
            "published_at, attempts, title, authors, language, language_hints, word_count) "
            "VALUES (7, 'https://s.example/7', 's.example/7', 'ready', 's', :t, :t, 0, "
            "'Wildfire', '[]', 'en', '[]', 90)"), {"t": T0})
        conn.execute(text("INSERT INTO blocks (article_id, position, type, text, role) VALUES "
                          "(7, 0, 'paragraph', 'Firefighters contained the blaze.', 'text')"))
    old.dispose()
    db = Database(store_url)
    assert ids(db, "firefighter blazes", "en") == [7]
    with db.session() as s:
        assert s.scalar(select(Article.id)) == 7
    db.dispose()


def test_the_analysis_migration_rebuilds_the_index(db: Database, store_url: str) -> None:
    """0007 (one analysis on both stores) rebuilds what an older analysis indexed: here
    the index as an older Babelwire might have left it, missing a document."""
    aid = add_article(db, source="de-zeitung", language="de", title="Brücke über den Øresund",
                      body=["Der Verkehr über die Straße nahm zu."])
    with db.session() as s:
        s.execute(text("DELETE FROM search_docs"))
    assert ids(db, "oresund", "de") == []
    with db.session() as s:  # the store as it was at 0006
        s.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    db.dispose()
    again = Database(store_url)  # upgrades to the head: 0007 runs
    try:
        assert ids(again, "oresund strasse", "de") == [aid]
        assert ids(again, "brucke", "de") == [aid]
    finally:
        again.dispose()

