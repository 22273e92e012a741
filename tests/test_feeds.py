"""parse_feed: RSS 0.91/1.0/2.0, Atom, JSON Feed, bad and hostile inputs, real feeds."""

from __future__ import annotations

import gzip
import json
import re
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from babelwire.ingest.feeds import FeedEntry, FeedError, ParsedFeed, parse_date, parse_feed

DATA = Path(__file__).parent / "data" / "feeds"
SHARED_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "news-feeds"
FEED_URL = "https://lantern.example/feeds/main.xml"


def _parse(name: str, url: str = FEED_URL, **kwargs: object) -> ParsedFeed:
    return parse_feed((DATA / name).read_bytes(), url=url, **kwargs)  # type: ignore[arg-type]


def _by_url(feed: ParsedFeed) -> dict[str, FeedEntry]:
    return {e.url: e for e in feed.entries}


def _rss(items: str, *, declaration: str = '<?xml version="1.0"?>') -> str:
    return (f'{declaration}<rss version="2.0"><channel><title>T</title>'
            f"<link>https://x.example/</link>{items}</channel></rss>")


def _item(i: int, *, title: str | None = None, day: int = 1) -> str:
    return (f"<item><title>{title or f'Item {i}'}</title><link>https://x.example/a/{i}</link>"
            f"<pubDate>Mon, {day:02d} Jan 2024 {i // 60 % 24:02d}:{i % 60:02d}:00 GMT</pubDate>"
            "</item>")


# --------------------------------------------------------------------------- formats


def test_rss_091_with_netscape_doctype() -> None:
    feed = _parse("rss091.xml")
    assert feed.kind == "rss"
    assert feed.title == "Harbour Gazette"
    assert feed.link == "https://gazette.example/"
    assert feed.language == "en-GB"
    assert [e.title for e in feed.entries] == ["Ferry timetable changes for winter",
                                               "Lighthouse reopens to visitors"]
    assert feed.entries[1].summary == "After two years of repairs & repainting."
    assert all(e.language == "en-GB" for e in feed.entries)


def test_rss_10_rdf_uses_dc_creator_and_dc_date() -> None:
    feed = _parse("rss10.rdf")
    assert feed.kind == "rss"
    assert feed.language == "de"
    school, bridge = feed.entries  # newest first
    assert school.url == "https://valley.example/a/school"
    assert school.authors == ("Jonas Weber",)
    assert school.published == datetime(2024, 3, 3, 9, 0, tzinfo=UTC)
    assert bridge.title == "Neue Brücke über den Fluss"
    assert bridge.published == datetime(2024, 3, 2, 7, 30, tzinfo=UTC)


def test_rss_20_links_order_and_dedupe() -> None:
    feed = _parse("rss20.xml")
    assert feed.kind == "rss"
    assert [e.url for e in feed.entries] == [
        "https://lantern.example/world/newest-story",  # "/world/newest-story"
        "https://lantern.example/feeds/world/middle-story",  # "world/middle-story"
        "https://lantern.example/world/older-story",
        "https://lantern.example/world/time-traveller",  # its date was dropped: last
    ]
    # The duplicate (older) item lost to the newer one with the same URL.
    assert _by_url(feed)["https://lantern.example/world/older-story"].title == (
        "Older story with an absolute link")
    assert any("2 entries without a usable" in w for w in feed.warnings)


def test_rss_20_fields() -> None:
    entries = _by_url(_parse("rss20.xml"))
    newest = entries["https://lantern.example/world/newest-story"]
    assert newest.title == "Newest story, relative link"
    assert newest.summary == "Summary with bold text & an inline link."
    assert newest.published == datetime(2024, 3, 6, 17, 30, tzinfo=UTC)
    assert newest.published is not None and newest.published.tzinfo is UTC
    assert newest.authors == ("Luis Ortega", "Ana Gil")
    assert newest.image == "https://cdn.lantern.example/img/newest.jpg"  # media:content
    assert newest.guid == "lantern-1003"
    assert newest.language == "es-ES"
    middle = entries["https://lantern.example/feeds/world/middle-story"]
    assert middle.summary == "Only content, no description."  # from content:encoded
    assert middle.image == "https://lantern.example/img/middle.png"  # <img> in content


def test_future_dates_are_dropped_with_a_warning() -> None:
    feed = _parse("rss20.xml")
    traveller = _by_url(feed)["https://lantern.example/world/time-traveller"]
    assert traveller.published is None
    assert any("future" in w and "time-traveller" in w for w in feed.warnings)


def test_atom() -> None:
    feed = _parse("atom.xml", url="https://phare.example/atom.xml")
    assert feed.kind == "atom"
    assert feed.title == "Le Phare du Matin"
    assert feed.link == "https://phare.example/"
    assert feed.language == "fr-FR"
    entries = _by_url(feed)
    marees = entries["https://phare.example/articles/marees"]
    assert marees.title == "Les marées exceptionnelles de printemps"  # type="html" stripped
    assert marees.summary == "Le coefficient atteindra 118."
    assert marees.published == datetime(2024, 4, 9, 5, 0, tzinfo=UTC)
    assert marees.updated == datetime(2024, 4, 9, 7, 15, tzinfo=UTC)
    assert marees.image == "https://phare.example/img/marees.jpg"  # image enclosure
    assert marees.guid == "tag:phare.example,2024:marees"
    update_only = entries["https://phare.example/articles/mise-a-jour"]
    assert update_only.published is None
    assert update_only.updated == datetime(2024, 4, 10, 11, 0, tzinfo=UTC)
    assert update_only.authors == ("Paul Durand", "Claire Martin")
    assert update_only.summary == "Texte brut <pas une balise>"  # a text construct: kept
    assert entries["https://phare.example/en/tides"].language == "en"  # xml:lang on entry
    # Sorted by published, else updated: the update-only entry (10 April) comes first.
    assert feed.entries[0] is update_only


def test_json_feed_11() -> None:
    feed = _parse("jsonfeed.json", url="https://pineridge.example/feed.json")
    assert feed.kind == "json"
    assert feed.title == "Pine Ridge Notes"
    assert feed.link == "https://pineridge.example/"
    assert feed.language == "en-US"
    assert [e.url for e in feed.entries] == [
        "https://pineridge.example/posts/snow",
        "https://pineridge.example/posts/id-only",
        "https://pineridge.example/posts/market",
    ]
    snow, id_only, market = feed.entries
    assert snow.published == datetime(2024, 11, 20, 11, 0, tzinfo=UTC)
    assert snow.updated == datetime(2024, 11, 20, 8, 0, tzinfo=UTC)
    assert snow.summary == "It snowed overnight."
    assert snow.image == "https://pineridge.example/media/snow.jpg"
    assert snow.authors == ("Dana Lee",)
    assert id_only.summary == "Plain text body."
    assert id_only.authors == ("Pine Ridge Staff",)  # the feed's authors
    assert market.language == "es"
    assert market.guid == "2"
    assert market.image == "https://pineridge.example/media/market.jpg"
    assert any("1 items without a usable" in w for w in feed.warnings)


def test_json_feed_10_with_author_object_and_rfc822_date() -> None:
    doc = {"version": "https://jsonfeed.org/version/1", "title": "Old style",
           "items": [{"id": "a", "url": "https://x.example/a", "title": "A",
                      "author": {"name": "Sam"},
                      "date_published": "Fri, 31 May 2019 12:17:58 -0700"}]}
    (entry,) = parse_feed(json.dumps(doc).encode(), url="https://x.example/f.json").entries
    assert entry.authors == ("Sam",)
    assert entry.published == datetime(2019, 5, 31, 19, 17, 58, tzinfo=UTC)


def test_json_that_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(b'{"name": "not a feed", "items": []}', url=FEED_URL)
    assert err.value.reason == "not_a_feed"
    with pytest.raises(FeedError) as err:
        parse_feed(b'[{"version": "https://jsonfeed.org/version/1.1"}]', url=FEED_URL)
    assert err.value.reason == "not_a_feed"


def test_broken_json_is_malformed() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', url=FEED_URL)
    assert err.value.reason == "malformed"


def test_utf16_feed() -> None:
    text = _rss(_item(1, title="ação é"), declaration='<?xml version="1.0" encoding="utf-16"?>')
    (entry,) = parse_feed(text.encode("utf-16"), url=FEED_URL).entries
    assert entry.title == "ação é"


def test_gzipped_feed() -> None:
    raw = (DATA / "rss20.xml").read_bytes()
    assert parse_feed(gzip.compress(raw), url=FEED_URL).entries == (
        parse_feed(raw, url=FEED_URL).entries)


# --------------------------------------------------------------------------- encodings


def test_latin1_without_declaration() -> None:
    text = _rss(_item(1, title="Ação é preço: ç, ã, é"))
    feed = parse_feed(text.encode("latin-1"), url=FEED_URL)
    assert feed.entries[0].title == "Ação é preço: ç, ã, é"
    assert any("CharacterEncodingOverride" in w for w in feed.warnings)


def test_latin1_bytes_declared_utf8() -> None:
    text = _rss(_item(1, title="Coração à noite"),
                declaration='<?xml version="1.0" encoding="utf-8"?>')
    feed = parse_feed(text.encode("latin-1"), url=FEED_URL)
    assert feed.entries[0].title == "Coração à noite"
    assert feed.warnings  # the override is reported


def test_utf8_bytes_declared_latin1() -> None:
    text = _rss(_item(1, title="Coração à noite"),
                declaration='<?xml version="1.0" encoding="iso-8859-1"?>')
    feed = parse_feed(text.encode("utf-8"), url=FEED_URL)
    assert feed.entries[0].title == "Coração à noite"


def test_charset_from_content_type() -> None:
    text = _rss(_item(1, title="Café"))
    feed = parse_feed(text.encode("latin-1"), url=FEED_URL,
                      content_type="application/rss+xml; charset=ISO-8859-1")
    assert feed.entries[0].title == "Café"
    assert not feed.warnings


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("content", [b"", b"  \n\t "])
def test_empty(content: bytes) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(content, url=FEED_URL)
    assert err.value.reason == "empty"
    assert "\n" not in str(err.value) and "empty" in str(err.value)


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as err:
        _parse("homepage.html")
    assert err.value.reason == "not_a_feed"
    with pytest.raises(FeedError) as err:
        parse_feed(b"<html><body><p>Hello</p></body></html>", url=FEED_URL)
    assert err.value.reason == "not_a_feed"


def test_other_xml_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(b"<?xml version='1.0'?><config><a>1</a></config>", url=FEED_URL)
    assert err.value.reason == "not_a_feed"


def test_content_is_never_taken_for_a_file_name() -> None:
    # feedparser would open a str/bytes argument that names an existing file.
    path = str((DATA / "rss20.xml").resolve()).encode()
    with pytest.raises(FeedError) as err:
        parse_feed(path, url=FEED_URL)
    assert err.value.reason == "not_a_feed"


def test_malformed_xml_with_nothing_usable() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(b"<rss version='2.0'><channel><<<>>>", url=FEED_URL)
    assert err.value.reason == "malformed"


def test_malformed_xml_recovers_entries_with_a_warning() -> None:
    text = _rss(_item(1, title="A &nbsp; undeclared entity") + _item(2, title="B <b>unclosed"))
    feed = parse_feed(text.encode(), url=FEED_URL)
    assert {e.url for e in feed.entries} == {"https://x.example/a/1", "https://x.example/a/2"}
    assert any(w.startswith("recovered from malformed XML") for w in feed.warnings)


@pytest.mark.parametrize("cut_after", ["<title>Item 3", "<link>https://x.example/a/", "</it"])
def test_truncated_feed_keeps_complete_items(cut_after: str) -> None:
    text = _rss(_item(1) + _item(2) + _item(3))
    cut = text.index(cut_after, text.index("<title>Item 3")) + len(cut_after)
    feed = parse_feed(text[:cut].encode(), url=FEED_URL)
    urls = {e.url for e in feed.entries}
    assert {"https://x.example/a/1", "https://x.example/a/2"} <= urls
    assert "https://x.example/a/" not in urls  # never a half-read link
    assert feed.warnings


def test_empty_but_valid_feed_has_no_entries() -> None:
    feed = parse_feed(_rss("").encode(), url=FEED_URL)
    assert feed.kind == "rss" and feed.entries == () and feed.title == "T"


def test_ten_thousand_items_are_capped_newest_first() -> None:
    items = "".join(_item(i, day=1 + i // 1440) for i in range(10_000))
    feed = parse_feed(_rss(items).encode(), url=FEED_URL, max_entries=50)
    assert len(feed.entries) == 50
    assert feed.entries[0].url == "https://x.example/a/9999"
    assert feed.entries[-1].url == "https://x.example/a/9950"
    dates = [e.published for e in feed.entries]
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert any("kept the newest 50" in w for w in feed.warnings)


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://x.example/a</link></item></channel></rss>
"""


def test_billion_laughs_is_refused_without_expanding() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FeedError) as err:
            parse_feed(BILLION_LAUGHS, url=FEED_URL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.reason == "unsafe_xml"
    assert peak < 5_000_000  # expanded, lol9 alone would be 3 GB


def _xxe(secret_path: Path, *, doctype_prefix: str = "") -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [{doctype_prefix}\n'
            f' <!ENTITY xxe SYSTEM "file://{secret_path}">]>\n'
            '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
            "<link>https://x.example/a</link><description>&xxe;</description></item>"
            "</channel></rss>").encode()


@pytest.mark.parametrize("prefix", [
    "",
    " <!-- ]> a comment that looks like the end of the subset -->",
    ' <!ATTLIST rss note CDATA "]>">',
])
def test_external_entity_is_refused(tmp_path: Path, prefix: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    with pytest.raises(FeedError) as err:
        parse_feed(_xxe(secret, doctype_prefix=prefix), url=FEED_URL)
    assert err.value.reason == "unsafe_xml"
    assert "TOP-SECRET-MARKER" not in str(err.value)


def test_parameter_entity_in_utf16_is_refused() -> None:
    text = ('<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM '
            '"http://127.0.0.1:9/x.dtd"> %remote;]><rss version="2.0"><channel/></rss>')
    with pytest.raises(FeedError) as err:
        parse_feed(text.encode("utf-16"), url=FEED_URL)
    assert err.value.reason == "unsafe_xml"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T10:00:00+02:00", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
    ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("Wed, 01 May 2024 10:00:00 +0000", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
    ("mer, 16 nov 2022 00:38:15 +0100", datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)),
    ("Mi, 04 Mär 2020 12:00:00 +0100", datetime(2020, 3, 4, 11, 0, tzinfo=UTC)),
    ("not a date", None),
    ("", None),
])
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


# --------------------------------------------------------------------------- real feeds


def _shared_feed_files() -> list[Path]:
    if not SHARED_FEEDS.is_dir():
        return []
    return sorted(p for p in SHARED_FEEDS.rglob("*")
                  if p.suffix in (".rss", ".atom", ".xml", ".json") and ".expected" not in p.name)


def _files_or_skip() -> list[Path | None]:
    return list(_shared_feed_files()) or [None]


def _is_json_feed(content: bytes) -> bool:
    doc = json.loads(content)
    return isinstance(doc, dict) and "jsonfeed.org/version" in str(doc.get("version"))


@pytest.mark.shared_data
@pytest.mark.parametrize("path", _files_or_skip(),
                         ids=lambda p: p.name if isinstance(p, Path) else "absent")
def test_real_feed(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"{SHARED_FEEDS} is absent")
    content = path.read_bytes()
    if path.suffix == ".json" and not _is_json_feed(content):
        with pytest.raises(FeedError) as err:  # JSON, but not a JSON Feed
            parse_feed(content, url="https://feeds.example/feed")
        assert err.value.reason == "not_a_feed"
        return
    feed = parse_feed(content, url="https://feeds.example/feed", max_entries=1000)
    assert feed.entries
    urls = [e.url for e in feed.entries]
    assert len(set(urls)) == len(urls)
    for entry in feed.entries:
        parts = urlsplit(entry.url)
        assert parts.scheme in ("http", "https") and parts.hostname, entry.url
        for when in (entry.published, entry.updated):
            assert when is None or when.utcoffset() is not None
        assert "\ufffd" not in (entry.title or ""), entry.title  # decoded correctly
    dated = [e.published or e.updated for e in feed.entries if e.published or e.updated]
    assert dated == sorted(dated, reverse=True)  # type: ignore[type-var]


def _expected_items(path: Path) -> list[tuple[str, str]] | None:
    """(title, link) pairs from a neighbouring *.expected*.json, in one of the two layouts."""
    doc = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    if isinstance(doc.get("entries"), list):  # feed-rs
        return [(((e.get("title") or {}).get("content") or ""),
                 (e.get("links") or [{}])[0].get("href") or "") for e in doc["entries"]]
    items = (doc.get("feed") or {}).get("items")  # rss-parser
    if isinstance(items, list):
        return [(i.get("title") or "", i.get("link") or "") for i in items]
    return None


def _expected_pairs() -> list[tuple[Path, Path] | None]:
    pairs: list[tuple[Path, Path] | None] = []
    for expected in sorted(SHARED_FEEDS.rglob("*.expected*.json")) if SHARED_FEEDS.is_dir() else []:
        stem = expected.name.split(".expected")[0]
        for feed in sorted(expected.parent.glob(stem + ".*")):
            if ".expected" not in feed.name and feed.suffix in (".rss", ".atom", ".xml", ".json"):
                pairs.append((feed, expected))
    return pairs or [None]


def _title_pattern(title: str) -> re.Pattern[str]:
    # Reference outputs mis-decoded some Latin-1 feeds: a U+FFFD there stands for any one
    # character (our decoding is checked separately: no U+FFFD in our titles).
    words = " ".join(title.split())
    return re.compile("".join("." if c == "\ufffd" else re.escape(c) for c in words))


@pytest.mark.shared_data
@pytest.mark.parametrize("pair", _expected_pairs(),
                         ids=lambda p: p[0].name if isinstance(p, tuple) else "absent")
def test_real_feed_matches_expected(pair: tuple[Path, Path] | None) -> None:
    if pair is None:
        pytest.skip(f"{SHARED_FEEDS} is absent")
    feed_path, expected_path = pair
    expected = _expected_items(expected_path)
    if expected is None:
        pytest.skip(f"{expected_path.name}: unknown layout")
    feed = parse_feed(feed_path.read_bytes(), url="https://feeds.example/feed", max_entries=1000)
    assert len(feed.entries) == len(expected)
    ours = sorted(" ".join((e.title or "").split()) for e in feed.entries)
    for title, _ in expected:
        pattern = _title_pattern(title)
        match = next((t for t in ours if pattern.fullmatch(t)), None)
        assert match is not None, f"expected title {title!r} not found"
        ours.remove(match)
    expected_links = {link for _, link in expected if link}
    assert expected_links <= {e.url for e in feed.entries}


def test_entities_behind_leading_junk_are_refused() -> None:
    content = (b"junk before the prolog <!DOCTYPE rss [<!ENTITY x 'y'>]>"
               b"<rss version='2.0'><channel><title>&x;</title></channel></rss>")
    with pytest.raises(FeedError) as err:
        parse_feed(content, url=FEED_URL)
    assert err.value.reason == "unsafe_xml"
