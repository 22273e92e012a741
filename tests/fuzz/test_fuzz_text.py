"""Fuzzing the pure text parsers: sentence segmentation, URL canonicalisation, robots.txt,
charset detection, the text-size measure."""

from __future__ import annotations

import codecs
import string

from hypothesis import assume, example, given
from hypothesis import strategies as st

from babelwire.ingest.charset import decode_body, normalize_encoding, parse_content_type
from babelwire.ingest.dedup import canonicalize_url, url_key
from babelwire.ingest.robots import RobotsRule, parse_robots
from babelwire.ingest.textsize import word_equivalents
from babelwire.translate.segment import MAX_SEGMENT_CHARS, join, normalise, split_sentences

# Text that looks like news in many scripts, with the punctuation segmentation looks at.
_PUNCT = list(".!?…。！？\"'”’»«“‘()[]¿¡—–-,;: \n\t\u00a0\u3000")
_WORDS = ["Mr.", "Dr.", "U.S.", "3.14", "J.", "K.", "etc.", "e.g.", "https://a.b/c.d?e=1.",
          "Hello", "world", "the", "Один", "два", "政府", "東京", "ข่าว", "서울", "a", "B"]
news_text = st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(_PUNCT),
                               st.text(max_size=8)), max_size=80).map("".join)


@given(st.one_of(news_text, st.text()))
@example("A" * (MAX_SEGMENT_CHARS * 3))
@example(("word " * 400) + ". Next")
@example("x, " * 1200)
@example("a,   " * 600)
@example(" " * 1000 + "x" * 1000)
def test_segmentation_loses_no_character(text: str) -> None:
    pieces = split_sentences(text)
    assert join(pieces, [p.text for p in pieces]) == text
    assert all(len(p.text) <= MAX_SEGMENT_CHARS for p in pieces)
    assert all(p.tail.strip() == "" for p in pieces)


def test_a_long_sentence_is_cut_without_adding_or_losing_spaces() -> None:
    # found by fuzzing: a cut with no space inserted one; runs of spaces became one
    pieces = split_sentences("A" * 4000)
    assert [len(p.text) for p in pieces] == [MAX_SEGMENT_CHARS, MAX_SEGMENT_CHARS, 1000]
    assert [p.tail for p in pieces] == ["", "", ""]
    spaced = "word,   " * 400
    pieces = split_sentences(spaced)
    assert pieces[0].text.endswith("word,") and pieces[0].tail == "   "
    assert join(pieces, [p.text for p in pieces]) == spaced


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()


# URLs: real-shaped ones (hosts, ports, paths, queries with tracking parameters, fragments,
# percent-escapes, non-ASCII) and arbitrary text.
_seg = st.text(alphabet=string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@ äöü東京",
               max_size=12)
_host = st.one_of(
    st.lists(st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1,
                     max_size=10), min_size=1, max_size=4).map(".".join),
    st.sampled_from(["example.com", "WWW.Example.COM", "bücher.de", "xn--bcher-kva.de",
                     "127.0.0.1", "[::1]", "東京.jp", "a..b", ".com", "-x-.org"]))
_param = st.tuples(st.sampled_from(["utm_source", "id", "page", "fbclid", "q", "ref", "a b",
                                    "", "x%20y", "p=q"]), _seg)
url_like = st.builds(
    lambda scheme, host, port, path, query, frag: (
        f"{scheme}://{host}{port}/{'/'.join(path)}"
        + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
        + (f"#{frag}" if frag is not None else "")),
    st.sampled_from(["http", "https", "HTTP", "HtTpS"]), _host,
    st.sampled_from(["", ":80", ":443", ":8080", ":0", ":65535", ":99999", ":x"]),
    st.lists(st.one_of(_seg, st.sampled_from([".", "..", ""])), max_size=5),
    st.lists(_param, max_size=4), st.one_of(st.none(), st.sampled_from(["top", "!/a/b", ""]),
                                            _seg))


@given(st.one_of(url_like, st.text(max_size=60)))
@example("http://example.com/a/../../b/./c//d?utm_source=x&b=2&a=1#frag")
@example("https://[::1]:443/")
def test_canonicalize_url_is_idempotent_or_refuses(url: str) -> None:
    try:
        once = canonicalize_url(url)
    except ValueError:
        return
    assert once.startswith(("http://", "https://"))
    assert canonicalize_url(once) == once
    assert url_key(once) == url_key(canonicalize_url(once))
    assert once.isascii()
    assert " " not in once


@given(url_like, st.sampled_from(["https://example.com/a/b", "http://x.org"]))
def test_canonicalize_url_resolves_against_a_base(url: str, base: str) -> None:
    try:
        once = canonicalize_url(url, base=base)
    except ValueError:
        return
    assert canonicalize_url(once) == once


# robots.txt: real-shaped files (groups, rules with * and $, odd keys, comments) and any text.
_path = st.text(alphabet=string.ascii_letters + string.digits + "/*$?=&%-_.~é東", max_size=15)
_line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(
        ["User-agent", "user-agent", "USER_AGENT", "Allow", "Disallow", "disallow",
         "Crawl-delay", "Sitemap", "Host", "Noindex"]),
        st.one_of(_path, st.sampled_from(["*", "Babelwire", "babelwire/2.0", "Googlebot",
                                          "5", "-1", "nan", "inf", "1e308", "0.5"]))),
    st.text(max_size=20), st.just("# comment"), st.just(""))
robots_text = st.lists(_line, max_size=30).map("\n".join)


@given(st.one_of(robots_text, st.text()), st.lists(_path.map(lambda p: "/" + p), max_size=5))
def test_robots_never_raises_and_answers_a_bool(text: str, paths: list[str]) -> None:
    policy = parse_robots(text)
    assert policy.crawl_delay is None or policy.crawl_delay >= 0
    for path in [*paths, "", "/", "/robots.txt"]:
        assert isinstance(policy.allows(path), bool)
    assert policy.allows("/robots.txt")


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1,
               max_size=12), st.text(alphabet=string.ascii_letters + "/", max_size=10))
def test_robots_disallow_covers_its_prefix(prefix: str, rest: str) -> None:
    policy = parse_robots(f"User-agent: *\nDisallow: /{prefix}\n")
    assert not policy.allows(f"/{prefix}{rest}")
    assert policy.allows(f"/~{prefix}")  # "~" is not in the prefix alphabet
    assert parse_robots(f"User-agent: *\nDisallow: /{prefix}\nAllow: /{prefix}\n").allows(
        f"/{prefix}")  # the longest match wins, Allow on a tie


@given(st.text(alphabet="ab*$/", max_size=8), st.text(alphabet="ab/", max_size=10))
def test_robots_rule_matches_like_a_glob(pattern: str, path: str) -> None:
    import re

    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = "".join(".*" if c == "*" else re.escape(c) for c in body) + ("$" if anchored else "")
    assert RobotsRule(True, pattern).matches(path) == bool(re.match(regex, path, re.S))


# Charset detection: any bytes, any declared label.
_labels = st.one_of(st.none(), st.sampled_from(
    ["utf-8", "UTF8", "latin1", "iso-8859-1", "windows-1251", "shift_jis", "euc-kr", "gbk",
     "big5", "utf-16", "utf-7", "idna", "rot13", "base64", "x-unknown", "", "\"utf-8\"",
     "zip", "hex", "punycode"]), st.text(max_size=12))
_markup = st.sampled_from([b"", b'<meta charset="utf-16">', b'<meta charset="rot13">',
                           b'<?xml version="1.0" encoding="base64"?>',
                           b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00", b"\xff\xfe\x00\x00"])


@given(_markup, st.binary(max_size=300), _labels, st.booleans())
def test_decode_body_always_gives_text_and_a_text_codec(prefix: bytes, body: bytes,
                                                       label: str | None, html: bool) -> None:
    text, encoding = decode_body(prefix + body, label, is_html=html)
    assert isinstance(text, str)
    info = codecs.lookup(encoding)
    assert getattr(info, "_is_text_encoding", True)
    assert normalize_encoding(encoding) == info.name


@given(st.text(max_size=200), st.sampled_from(["utf-8", "cp1251", "cp1252", "gb18030",
                                               "cp932", "utf-16"]))
def test_decode_body_reads_what_the_header_declares(text: str, encoding: str) -> None:
    assume(not text.startswith("\ufeff"))  # a leading U+FEFF is read as a byte-order mark
    assume(not text.startswith("\x00"))  # in UTF-16 LE, BOM + U+0000 is UTF-32's BOM
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    assume(data.decode(encoding) == text)  # cp932 writes some characters as others ('¢')
    decoded, used = decode_body(data, encoding)
    assert decoded == text
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # else the BOM's
        assert used == codecs.lookup(encoding).name


@given(st.text(max_size=60))
def test_parse_content_type_never_raises(value: str) -> None:
    media, charset = parse_content_type(value)
    assert media == media.strip().lower()
    assert charset is None or charset == charset.strip()


@given(st.text())
def test_word_equivalents_are_additive_across_paragraphs(text: str) -> None:
    n = word_equivalents(text)
    assert n >= 0
    assert abs(word_equivalents(f"{text}\n\n{text}") - 2 * n) <= 1
