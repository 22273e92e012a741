"""Duplicate-detection primitives: canonical URLs, content hashes, near-duplicate fingerprints
and the band index over them."""

from __future__ import annotations

import hashlib
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from babelwire.ingest.dedup import (
    canonicalize_url,
    content_hash,
    from_signed64,
    hamming,
    is_near_duplicate,
    normalized_tokens,
    simhash,
    simhash_bands,
    simhash_probes,
    to_signed64,
    url_key,
)

DATA = Path(__file__).resolve().parent / "data" / "dedup"
NTREX = Path(__file__).resolve().parents[2] / "shared" / "data" / "mt-ntrex128"
THRESHOLD = 3  # settings.near_duplicate_distance, default
FAR = 16  # half the distance of unrelated texts (32 of 64 bits): clearly not copies


def read(name: str) -> str:
    return (DATA / f"{name}.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# URLs

@pytest.mark.parametrize(("url", "expected"), [
    # case of scheme and host; path case is kept
    ("HTTPS://WWW.Example.COM/News/A.html", "https://www.example.com/News/A.html"),
    # default ports dropped, others kept
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    # empty path, fragment, trailing slash kept as is
    ("https://example.com", "https://example.com/"),
    ("https://example.com/a/#comments", "https://example.com/a/"),
    ("https://example.com/a#top", "https://example.com/a"),
    ("https://example.com/#!/story/12", "https://example.com/#!/story/12"),
    ("https://example.com/a/index.html", "https://example.com/a/index.html"),
    # tracking parameters dropped (any case), the others sorted by name
    ("https://example.com/a?utm_source=tw&utm_medium=social&id=7",
     "https://example.com/a?id=7"),
    ("https://example.com/a?b=2&fbclid=IwAR0&a=1&gclid=x&UTM_Campaign=y",
     "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?CMP=share_btn_tw&smid=nytcore&ito=792&ref=hn&spm=a2.b",
     "https://example.com/a"),
    ("https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&_ga=4&_gl=5&msclkid=6&yclid=7",
     "https://example.com/a"),
    ("https://example.com/a?at_medium=x&at_campaign=y&__twitter_impression=true&ocid=z",
     "https://example.com/a"),
    ("https://example.com/a?page=2&sr_share=facebook&share=1&s_cid=x&cmpid=y&ref_src=z",
     "https://example.com/a?page=2"),
    ("https://example.com/?utm_source=x", "https://example.com/"),
    # repeated names keep their order; valueless parameters keep their form
    ("https://example.com/a?tag=b&x=1&tag=a", "https://example.com/a?tag=b&tag=a&x=1"),
    ("https://example.com/a?print&page=", "https://example.com/a?page=&print"),
    # percent-encoding: upper-case hex, unreserved characters decoded, the rest encoded
    ("https://example.com/%7euser/%41b%2fc", "https://example.com/~user/Ab%2Fc"),
    ("https://example.com/caf%c3%a9?q=%e2%82%ac", "https://example.com/caf%C3%A9?q=%E2%82%AC"),
    ("https://example.com/café?q=€", "https://example.com/caf%C3%A9?q=%E2%82%AC"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/s?q=a%26b%3Dc", "https://example.com/s?q=a%26b%3Dc"),
    # dot-segments resolved, duplicate slashes collapsed
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a//b///c/", "https://example.com/a/b/c/"),
    ("https://example.com/a/b/..", "https://example.com/a/"),
    ("https://example.com/../../a", "https://example.com/a"),
    # international host names, user info, trailing dot, IP literals
    ("https://Bücher.example/a", "https://xn--bcher-kva.example/a"),
    ("https://пример.рф/новости", "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81"
     "%D1%82%D0%B8"),
    ("https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/"),
    ("https://user:secret@example.com/a", "https://example.com/a"),
    ("https://example.com./a", "https://example.com/a"),
    ("http://[2001:DB8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
    ("  https://example.com/a\n", "https://example.com/a"),
])
def test_canonicalize_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected
    assert canonicalize_url(expected) == expected  # idempotent


@pytest.mark.parametrize(("url", "base", "expected"), [
    ("../b/c.html?x=1", "https://Example.com/news/2024/a.html", "https://example.com/news/b/c.html?x=1"),
    ("/world/?utm_source=rss", "https://example.com/feed.xml", "https://example.com/world/"),
    ("//cdn.example.org/x", "https://example.com/", "https://cdn.example.org/x"),
    ("story-2", "https://example.com/news/", "https://example.com/news/story-2"),
    ("https://other.example/a", "https://example.com/", "https://other.example/a"),
])
def test_canonicalize_relative_url(url: str, base: str, expected: str) -> None:
    assert canonicalize_url(url, base=base) == expected


@pytest.mark.parametrize("url", [
    "mailto:news@example.com", "javascript:alert(1)", "ftp://example.com/file.txt",
    "data:text/html,hi", "file:///etc/passwd", "/relative/path", "", "http://", "https:///path",
    "https://example.com:99999/", "https://exa mple.com/", "http://a..b/",
])
def test_canonicalize_url_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        canonicalize_url(url)


def test_canonicalize_rejects_relative_against_non_http_base() -> None:
    with pytest.raises(ValueError):
        canonicalize_url("a", base="ftp://example.com/")


def test_url_key_merges_scheme_and_www() -> None:
    forms = ["http://www.example.com/a?b=1", "https://example.com/a?b=1&utm_source=x",
             "https://WWW.EXAMPLE.COM:443/a?b=1#c", "http://example.com:80/./a?b=1"]
    assert {url_key(u) for u in forms} == {"example.com/a?b=1"}
    assert url_key("https://www2.example.com/a") == "www2.example.com/a"
    assert url_key("https://example.com/a") != url_key("https://example.com/b")
    assert url_key("https://example.com:8080/a") != url_key("https://example.com/a")
    assert url_key("https://www.example.com/a") != url_key("https://www.example.org/a")
    with pytest.raises(ValueError):
        url_key("mailto:a@example.com")


# ---------------------------------------------------------------------------------------------
# Content hash

def test_content_hash_ignores_spacing_case_and_typography() -> None:
    text = read("en_storm_wire")
    variants = [
        text.replace("\n\n", "\n"),
        text.replace(" ", "\u00a0"),
        text.replace(" ", "  ").replace("\n", " \r\n"),
        text.replace('"', "\u201c").replace("'", "\u2019"),
        text.replace(" — ", " - "),
        text.upper(),
        text.replace("fi", "\ufb01"),  # a ligature: NFKC
    ]
    digest = content_hash(text)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    for variant in variants:
        assert variant != text
        assert content_hash(variant) == digest


def test_content_hash_differs_for_different_text() -> None:
    text = read("en_storm_wire")
    assert content_hash(text.replace("two dead", "three dead")) != content_hash(text)
    assert content_hash(text.replace("182", "128")) != content_hash(text)
    assert content_hash(read("en_storm_outlet")) != content_hash(text)
    assert content_hash("") == hashlib.sha256(b"").hexdigest()


def test_tokens_in_any_script() -> None:
    assert normalized_tokens("Don’t PANIC, it's 3.5%!") == ["don", "t", "panic", "it", "s", "3",
                                                            "5"]
    assert normalized_tokens("Москва — столица") == ["москва", "столица"]
    assert normalized_tokens("东京都，大阪") == ["东", "京", "都", "大", "阪"]
    assert normalized_tokens("हिन्दी समाचार") == ["हिन्दी", "समाचार"]  # vowel signs stay in words
    assert normalized_tokens("ＡＢＣ１２３") == ["abc123"]  # full-width forms (NFKC)


# ---------------------------------------------------------------------------------------------
# Near-duplicate fingerprints

# One sentence of each wire story as another site rewrites it.
REWRITES = {
    "en_storm_wire": ("Schools in eleven municipalities will stay closed on Wednesday.",
                      "Classes were cancelled for Wednesday across eleven municipalities."),
    "en_tram_wire": ("Business groups welcomed the decision.",
                     "The decision was welcomed by employers and business organisations."),
    "ru_snow_wire": ("Детские сады работают в обычном режиме, но родителей попросили по "
                     "возможности оставить детей дома.",
                     "Детсады открыты, однако мэрия советует родителям не водить туда детей."),
    "ru_fire_wire": ("Полиция возбудила шесть уголовных дел по статье об уничтожении лесных "
                     "насаждений.",
                     "По фактам поджогов полицейские уже завели шесть уголовных дел."),
}
HEADLINE = {"en": ("Floods, storms and a long night: the story as another site tells it",
                   "From staff and agencies"),
            "ru": ("Заголовок перепечатки, который придумала другая редакция",
                   "По материалам информационных агентств")}


def wire_copies(name: str) -> dict[str, str]:
    text = read(name)
    headline, byline = HEADLINE[name[:2]]
    lines = text.split("\n")
    old, new = REWRITES[name]
    assert old in text
    rewritten = text.replace(old, new)
    return {
        "headline": "\n".join([headline, *lines[1:]]),
        "byline": "\n".join([lines[0], byline, *lines[2:]]),
        "sentence": rewritten,
        "all three": "\n".join([headline, byline, *rewritten.split("\n")[2:]]),
        "typography": text.replace("'", "\u2019").replace(" ", "\u00a0", 20),
    }


def test_simhash_is_deterministic_and_64_bit() -> None:
    text = read("en_storm_wire")
    h = simhash(text)
    assert h == simhash(text)
    assert 0 <= h < 1 << 64
    assert 16 < h.bit_count() < 48  # bits are balanced, not mostly 0 or 1


def test_simhash_is_stable_across_processes() -> None:
    """No Python hash() (randomised per process) in the fingerprint."""
    code = ("import sys; from babelwire.ingest.dedup import simhash; "
            "print(simhash(sys.stdin.read()))")
    text = read("ru_fire_wire")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True,
                             text=True, encoding="utf-8", check=True,
                             env={"PYTHONHASHSEED": seed, "PYTHONIOENCODING": "utf-8",
                                  "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        assert int(out.stdout) == simhash(text)


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_wire_copy_is_near_duplicate(name: str) -> None:
    h = simhash(read(name))
    for kind, copy in wire_copies(name).items():
        distance = hamming(h, simhash(copy))
        assert distance <= THRESHOLD, (kind, distance)
        assert is_near_duplicate(h, simhash(copy)), kind


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_one_sentence_less_is_near_on_average(name: str) -> None:
    """Dropping any one sentence moves a 300-450 word article by about 2 bits (the expected
    distance is 32 * (1 - Jaccard)); a few positions go past the threshold."""
    text = read(name)
    h = simhash(text)
    body = text.split("\n", 3)[3]
    sentences = [s for s in re.split(r"(?<=[.!?»])\s+", body) if len(s.split()) > 3]
    assert len(sentences) >= 15
    distances = [hamming(h, simhash(text.replace(s, "", 1))) for s in sentences]
    assert statistics.mean(distances) <= THRESHOLD
    assert statistics.median(distances) <= THRESHOLD
    assert max(distances) < FAR


@pytest.mark.parametrize(("a", "b"), [
    ("en_storm_wire", "en_storm_outlet"), ("en_tram_wire", "en_tram_outlet"),
    ("ru_snow_wire", "ru_snow_outlet"), ("ru_fire_wire", "ru_fire_outlet"),
    ("zh_rail_wire", "zh_rail_outlet"),
])
def test_other_outlets_coverage_of_same_story_is_far(a: str, b: str) -> None:
    """Same facts, figures and a shared quotation, but independently written: not a copy."""
    distance = hamming(simhash(read(a)), simhash(read(b)))
    assert distance > THRESHOLD
    assert distance >= FAR


def test_same_text_in_other_language_is_far() -> None:
    distance = hamming(simhash(read("en_storm_wire")), simhash(read("ru_storm_wire_translated")))
    assert distance >= FAR


def test_different_stories_are_far() -> None:
    names = [p.stem for p in sorted(DATA.glob("*_wire.txt"))]
    hashes = {n: simhash(read(n)) for n in names}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert hamming(hashes[a], hashes[b]) >= FAR, (a, b)


def test_chinese_uses_character_shingles() -> None:
    text = read("zh_rail_wire")
    h = simhash(text)
    lines = text.split("\n")
    copies = [
        "\n".join(["转载：成渝中线高铁贯通", "本报综合报道", *lines[2:]]),  # headline, byline
        text.replace("50分钟", "45分钟"),
        text.replace("，", ",").replace("“", '"').replace("”", '"'),
    ]
    for copy in copies:
        assert hamming(h, simhash(copy)) <= THRESHOLD
    # Without character shingles, a line without spaces would be one token.
    assert hamming(h, simhash(text.replace("292公里", "300公里").replace("690亿元", "700亿元")
                              .replace("150对", "160对"))) < FAR


def test_short_texts() -> None:
    assert simhash("") == 0
    assert simhash("  \n\t ") == 0
    assert simhash("…!?") == 0
    one = simhash("Earthquake")
    assert one != 0 and one == simhash("earthquake!")
    headlines = ["Earthquake hits central Chile", "Markets fall as oil prices rise",
                 "Parliament approves the budget", "Землетрясение в Чили", "智利发生地震"]
    hashes = [simhash(h) for h in headlines]
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            assert hamming(hashes[i], hashes[j]) > THRESHOLD, (headlines[i], headlines[j])
    assert simhash("Earthquake hits central Chile.") == simhash("EARTHQUAKE  hits central Chile")
    # Too short for one changed word to be a small change.
    assert hamming(simhash("Earthquake hits central Chile"),
                   simhash("Earthquake hits northern Chile")) > THRESHOLD


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_headline_byline_and_boilerplate_lines_do_not_count(name: str) -> None:
    """Lines that do not read as sentences (headline, byline, "Advertisement", "Read more")
    are left out of the fingerprint of a text that is mostly prose."""
    copies = wire_copies(name)
    lines = read(name).split("\n")
    boilerplate = "\n".join([*lines[:4], "Advertisement", *lines[4:], "Read more: Latest news"])
    for copy in (copies["headline"], copies["byline"], boilerplate):
        assert simhash(copy) == simhash(read(name))


def test_text_without_prose_uses_every_line() -> None:
    listing = "\n".join(f"Result {i}: Team {i} {i % 3} - {i % 2} Team {i + 1}" for i in range(40))
    changed = listing.replace("Result 7: Team 7", "Result 7: Team 70")
    assert simhash(listing) != simhash(changed)  # no prose at all: every line counts


# ---------------------------------------------------------------------------------------------
# Hamming distance, signed storage, bands

def test_hamming() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0, (1 << 64) - 1) == 64
    assert hamming(0b1011, 0b0110) == 3
    h = 0xF00D_CAFE_1234_5678_9ABC_DEF0 & ((1 << 64) - 1) | 1 << 63
    assert hamming(h, to_signed64(h)) == 0  # the stored (signed) form compares equal
    assert is_near_duplicate(h, h ^ 0b111)
    assert not is_near_duplicate(h, h ^ 0b1111)
    assert is_near_duplicate(h, h ^ 0b1111, max_distance=4)
    with pytest.raises(ValueError):
        hamming(1 << 64, 0)


def test_signed_round_trip() -> None:
    rng = random.Random(64)
    values = [0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1] + [rng.getrandbits(64)
                                                             for _ in range(1000)]
    for x in values:
        s = to_signed64(x)
        assert -(1 << 63) <= s < 1 << 63
        assert (s < 0) == (x >= 1 << 63)
        assert from_signed64(s) == x
    assert to_signed64((1 << 64) - 1) == -1
    for bad in (-1, 1 << 64):
        with pytest.raises(ValueError):
            to_signed64(bad)
    for bad in (1 << 63, -(1 << 63) - 1):
        with pytest.raises(ValueError):
            from_signed64(bad)


def test_bands_layout() -> None:
    h = 0x1234_5678_9ABC_DEF0
    assert simhash_bands(h) == (0xDEF0, 1 << 16 | 0x9ABC, 2 << 16 | 0x5678, 3 << 16 | 0x1234)
    for bands in (3, 4, 5, 7, 8, 16, 64):
        tags = simhash_bands((1 << 64) - 1, bands)
        assert len(tags) == bands == len(set(tags))
        assert all(0 <= t < 1 << 31 for t in tags)  # fits a signed 32-bit INTEGER column
    # the same value in different bands gives different tags
    assert len(set(simhash_bands(0xABCD_ABCD_ABCD_ABCD))) == 4
    assert simhash_bands(to_signed64(h | 1 << 63)) == simhash_bands(h | 1 << 63)
    for bad in (0, 1, 2, 65):
        with pytest.raises(ValueError):
            simhash_bands(h, bad)


def _flip(h: int, positions: list[int]) -> int:
    for p in positions:
        h ^= 1 << p
    return h


def test_bands_pigeonhole_property() -> None:
    rng = random.Random(20261105)
    for bands in (4, 8, 5):
        for _ in range(2000):
            h = rng.getrandbits(64)
            other = _flip(h, rng.sample(range(64), rng.randrange(bands)))
            assert set(simhash_bands(h, bands)) & set(simhash_bands(other, bands))
    # The bound is tight: one flipped bit in each band, and no band is shared.
    h = rng.getrandbits(64)
    assert not set(simhash_bands(h)) & set(simhash_bands(_flip(h, [3, 19, 40, 63])))


def test_probes_find_everything_within_distance() -> None:
    rng = random.Random(7)
    for max_distance, expected_count in ((3, 4), (7, 4 * 17), (11, 4 * (1 + 16 + 120))):
        assert len(simhash_probes(0, max_distance)) == expected_count
        for _ in range(500):
            h = rng.getrandbits(64)
            other = _flip(h, rng.sample(range(64), rng.randrange(max_distance + 1)))
            assert set(simhash_probes(h, max_distance)) & set(simhash_bands(other))
    assert set(simhash_probes(5, 3)) == set(simhash_bands(5))
    with pytest.raises(ValueError):
        simhash_probes(0, -1)


# ---------------------------------------------------------------------------------------------
# Quality gate on real news text (NTREX-128 in ../shared/data)

def _ntrex(lang_file: str) -> dict[str, list[str]]:
    ids = (NTREX / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").split()
    lines = (NTREX / lang_file).read_text(encoding="utf-8").splitlines()
    docs: dict[str, list[str]] = {}
    for doc_id, line in zip(ids, lines, strict=True):
        docs.setdefault(doc_id, []).append(line.strip())
    return docs


SAME_STORY_PAIRS = [("rt.com.91337", "reuters.218932"), ("nytimes.184837", "reuters.218863"),
                    ("euronews-en.153835", "nytimes.184860"), ("cbsnews.248387", "reuters.218909"),
                    ("bbc.381746", "scotsman.133791"), ("cnbc.com.6769", "reuters.218861"),
                    ("newsweek.51300", "abcnews.306755"), ("cnn.304478", "newsweek.51339")]


@pytest.mark.shared_data
@pytest.mark.parametrize("lang_file", ["newstest2019-src.eng.txt", "newstest2019-ref.rus.txt"])
def test_quality_gate_ntrex(lang_file: str) -> None:
    """Real articles (headline first, one sentence a line), 300+ words: a copy with a new
    headline and byline or one sentence fewer is found at the default threshold; other outlets'
    reports of the same event and other stories are not. Floors pinned below the measured
    values (benchmarks/dedup.py)."""
    if not NTREX.is_dir():
        pytest.skip("../shared/data/mt-ntrex128 is absent")
    docs = _ntrex(lang_file)
    rng = random.Random(3)
    found = total = 0
    hashes = {}
    for doc_id, doc in docs.items():
        if sum(len(x.split()) for x in doc) < 300:
            continue
        h = hashes[doc_id] = simhash("\n".join(doc))
        other = docs[rng.choice(list(docs))]
        copies = ["\n".join([other[0], "By Staff Reporter", *doc[1:]]),
                  "\n".join(doc[:(i := rng.randrange(1, len(doc)))] + doc[i + 1:])]
        for copy in copies:
            total += 1
            found += is_near_duplicate(h, simhash(copy), THRESHOLD)
    assert total >= 100
    assert found / total >= 0.85  # measured 0.9+
    for a, b in SAME_STORY_PAIRS:
        assert hamming(simhash("\n".join(docs[a])), simhash("\n".join(docs[b]))) >= FAR, (a, b)
    ids = sorted(hashes)
    close = sum(hamming(hashes[a], hashes[b]) <= THRESHOLD
                for i, a in enumerate(ids) for b in ids[i + 1:])
    assert close == 0
