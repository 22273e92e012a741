"""Article extraction: golden pages, metadata details, dates, hostile input."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from babelwire.ingest.extract import Block, Extracted, extract

PAGES = Path(__file__).parent / "data" / "pages"
GOLDEN = sorted(PAGES.glob("*.json"))

# Enough distinct article text for trafilatura to see a main content block.
ARTICLE = "".join(
    f"<p>Paragraph {n}: the council met on Tuesday to discuss the new bridge over the river, "
    f"and residents of district {n} asked for a safer crossing for cyclists and children.</p>"
    for n in range(1, 5)
)


def page(head: str = "", body: str = ARTICLE, html_attrs: str = 'lang="en"') -> str:
    return (f"<!DOCTYPE html><html {html_attrs}><head><meta charset='utf-8'>{head}</head>"
            f"<body><article>{body}</article></body></html>")


def _load(path: Path) -> tuple[str, dict[str, Any], Extracted]:
    case = json.loads(path.read_text(encoding="utf-8"))
    html = path.with_suffix(".html").read_bytes()
    return case["url"], case["expected"], extract(html, case["url"])


# ---------------------------------------------------------------------------- golden pages


def test_golden_pages_exist() -> None:
    assert len(GOLDEN) >= 2


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_page(path: Path) -> None:
    _url, expected, result = _load(path)
    got = result.to_json()
    assert got.pop("text") == "\n\n".join(b["text"] for b in expected["blocks"])
    got["language_hints"] = list(result.language_hints)
    assert got == expected


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_page_leaves_out_the_chrome(path: Path) -> None:
    _url, _expected, result = _load(path)
    text = result.text.lower()
    for chrome in ("cookie", "accept", "sport", "most read", "newsletter", "imprint", "privacy",
                   "rights reserved", "relacionadas", "aviso legal", "portada", "aceptar",
                   "párrafo falso", "texto de estilo", "document.write"):
        assert chrome not in text
    assert result.title is not None
    assert all(b.text != result.title for b in result.blocks)


def test_golden_page_block_types() -> None:
    _url, _expected, result = _load(PAGES / "northport_en.json")
    types = [b.type for b in result.blocks]
    assert types.count("heading") == 1
    assert types.count("quote") == 1
    assert types.count("list_item") == 3
    assert isinstance(result.blocks[0], Block)


def test_published_dates_are_aware_utc() -> None:
    _url, _expected, result = _load(PAGES / "northport_en.json")
    assert result.published == datetime(2026, 3, 14, 8, 30, tzinfo=UTC)
    assert result.updated == datetime(2026, 3, 15, 23, 5, tzinfo=UTC)
    assert result.published is not None and result.published.utcoffset() is not None
    assert result.published.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-01-05T23:30:00-08:00", datetime(2026, 1, 6, 7, 30, tzinfo=UTC)),
    ("2026-01-05T23:30:00+0530", datetime(2026, 1, 5, 18, 0, tzinfo=UTC)),
    ("2026-01-05T23:30:00.250Z", datetime(2026, 1, 5, 23, 30, 0, 250000, tzinfo=UTC)),
    ("2026-01-05 23:30:00", datetime(2026, 1, 5, 23, 30, tzinfo=UTC)),  # naive is UTC
    ("2026-01-05", datetime(2026, 1, 5, tzinfo=UTC)),
    ("Mon, 05 Jan 2026 23:30:00 +0100", datetime(2026, 1, 5, 22, 30, tzinfo=UTC)),
])
def test_published_date_offsets_are_converted_to_utc(value: str, expected: datetime) -> None:
    head = f'<meta property="article:published_time" content="{value}">'
    result = extract(page(head), "https://example.org/a")
    assert result.published == expected
    assert result.published is not None and result.published.tzinfo is not None
    assert result.published.utcoffset() == expected.utcoffset()


def test_json_ld_date_wins_over_meta_tags() -> None:
    head = ('<meta property="article:published_time" content="2020-01-01T00:00:00Z">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
            ' "datePublished": "2026-02-02T10:00:00+02:00"}</script>')
    assert extract(page(head)).published == datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


def test_unparsable_dates_are_dropped() -> None:
    head = '<meta property="article:published_time" content="yesterday-ish">'
    assert extract(page(head)).published is None


def test_relative_canonical_and_image_need_a_base_url() -> None:
    head = ('<link rel="canonical" href="/news/a.html">'
            '<meta property="og:image" content="img/a.jpg">')
    with_base = extract(page(head), "https://example.org/news/a.html?ref=rss")
    assert with_base.canonical_url == "https://example.org/news/a.html"
    assert with_base.image == "https://example.org/news/img/a.jpg"
    without_base = extract(page(head))
    assert without_base.canonical_url is None
    assert without_base.image is None


def test_javascript_urls_are_not_images_or_canonicals() -> None:
    head = ('<link rel="canonical" href="javascript:alert(1)">'
            '<meta property="og:image" content="data:image/png;base64,AAAA">')
    result = extract(page(head), "https://example.org/a")
    assert result.canonical_url is None
    assert result.image is None


def test_language_hints_are_normalised_and_ordered() -> None:
    head = ('<meta property="og:locale" content="en_US">'
            '<meta http-equiv="content-language" content="pt-BR, es">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
            ' "inLanguage": "pt-BR"}</script>')
    result = extract(page(head, html_attrs='lang="pt-br"'))
    assert result.language_hints == ("pt", "en", "es")


def test_site_suffix_is_cut_from_the_title() -> None:
    head = ('<title>Bridge plan approved | The Riverside Post</title>'
            '<meta property="og:site_name" content="The Riverside Post">')
    result = extract(page(head, body="<h1>Bridge plan approved</h1>" + ARTICLE))
    assert result.title == "Bridge plan approved"
    assert result.site_name == "The Riverside Post"
    assert result.blocks[0].type == "paragraph"  # the h1 is the title, not a block


def test_h1_title_text_keeps_its_order() -> None:
    body = "<h1>Big <span>news <em>today</em> here</span> now<br>again<script>x()</script></h1>"
    result = extract(page(body=body + ARTICLE), "https://example.org/a")
    assert result.title == "Big news today here now again"


def test_authors_from_meta_are_split_and_cleaned() -> None:
    head = '<meta name="author" content="By Jane Roe, John Doe &amp; jdoe@example.org">'
    assert extract(page(head)).authors == ("Jane Roe", "John Doe")


def test_to_json_shape() -> None:
    head = '<meta property="article:published_time" content="2026-01-05T23:30:00-08:00">'
    data = extract(page(head), "https://example.org/a").to_json()
    assert set(data) == {"title", "authors", "published", "updated", "language",
                         "canonical_url", "image", "description", "site_name", "blocks", "text"}
    assert data["published"] == "2026-01-06T07:30:00+00:00"
    assert data["language"] is None
    assert data["authors"] == []
    assert data["blocks"][0] == {"type": "paragraph", "text": data["text"].split("\n\n")[0]}
    json.dumps(data)  # serialisable as it is


def test_declared_legacy_encoding_is_decoded() -> None:
    html = page("<meta charset='iso-8859-1'>",
                body=ARTICLE + "<p>El niño comió piñones en Logroño, según la señora Muñoz, "
                               "que vivía en la calle Añón desde hacía años.</p>")
    html = html.replace("<meta charset='utf-8'>", "")
    result = extract(html.encode("iso-8859-1"))
    assert "El niño comió piñones en Logroño" in result.text


# ---------------------------------------------------------------------------- plain text


def test_markup_inside_text_becomes_plain_text() -> None:
    body = ARTICLE + ("<p>Use <b>bold</b>, <i>italics</i> and <a href='/x'>links</a> "
                      "sparingly; the page showed &lt;script&gt;alert(1)&lt;/script&gt; "
                      "as&nbsp;an  example\n of   injection.</p>")
    result = extract(page(body=body))
    last = result.blocks[-1].text
    assert last == ("Use bold, italics and links sparingly; the page showed "
                    "<script>alert(1)</script> as an example of injection.")
    assert "&lt;" not in result.text and "<b>" not in result.text


def test_line_breaks_inside_a_paragraph_become_spaces() -> None:
    body = ARTICLE + "<p>First line of the address<br>second line<br/>third line, all one.</p>"
    assert extract(page(body=body)).blocks[-1].text == (
        "First line of the address second line third line, all one.")


def test_script_and_style_contents_never_become_text() -> None:
    head = "<script>var x = '<p>Fake paragraph from a script tag</p>';</script>"
    body = (ARTICLE + "<script>document.write('<p>Another fake paragraph here</p>')</script>"
            "<style>.a:after { content: 'style text' }</style><noscript>Enable JS</noscript>")
    text = extract(page(head, body=body)).text
    assert "Fake paragraph" not in text
    assert "Another fake" not in text
    assert "style text" not in text
    assert "Paragraph 4" in text


def test_control_and_invisible_characters_are_dropped() -> None:
    body = ARTICLE + "<p>Zero\u200bwidth, soft\u00adhyphen, bell\x07 and tab\tinside text.</p>"
    assert extract(page(body=body)).blocks[-1].text == (
        "Zerowidth, softhyphen, bell and tab inside text.")


# ---------------------------------------------------------------------------- hostile input


def _nested(depth: int) -> str:
    return "<html><body>" + "<div>" * depth + ARTICLE + "</div>" * depth + "</body></html>"


HOSTILE: dict[str, str | bytes] = {
    "empty string": "",
    "empty bytes": b"",
    "whitespace": " \n\t ",
    "nul bytes": "\x00" * 100,
    "binary junk": bytes(random.Random(7).randrange(256) for _ in range(20_000)),
    "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj",
    "plain text": "just words and no markup at all",
    "10k nested divs": _nested(10_000),
    "unclosed tags": "<html><body>" + "<p><b><i><span>" * 2000,
}


@pytest.mark.parametrize("html", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_input_gives_no_blocks_and_no_exception(html: str | bytes) -> None:
    result = extract(html, "https://example.org/a")
    assert isinstance(result, Extracted)
    assert result.blocks == ()
    assert result.text == ""


def test_huge_attribute_values_are_survived_and_bounded() -> None:
    head = ('<meta property="og:title" content="' + "A" * 2_000_000 + '">'
            '<meta property="og:image" content="/' + "b" * 1_000_000 + '.jpg">')
    result = extract(page(head), "https://example.org/a")
    assert result.title is not None and len(result.title) <= 500
    assert "Paragraph 1" in result.text


@pytest.mark.parametrize("ld", [
    '{"@type": "NewsArticle", "headline": "x",, }',
    "[" * 50_000 + "]" * 50_000,
    '{"@graph": ' + "[" * 2000 + "]" * 2000 + "}",
    '{"@type": ["NewsArticle"], "author": {"name": ["A B", 3, null]}, "image": [{}, 5]}',
    "null",
])
def test_broken_json_ld_is_ignored(ld: str) -> None:
    head = f'<script type="application/ld+json">{ld}</script>'
    result = extract(page(head), "https://example.org/a")
    assert "Paragraph 4" in result.text


def test_broken_lang_attributes_give_no_hints() -> None:
    result = extract(page(html_attrs='lang="&lt;script&gt;"'))
    assert result.language_hints == ()


# ---------------------------------------------------------------------------- bylines

BYLINE_PAGES = [
    '<div class="meta"><span class="author-name">Jane Roe</span></div>',
    '<p class="byline">By John Doe</p><span class="author">Someone Else</span>',
    '<div class="comments"><span class="author">A Commenter</span></div>'
    '<div class="writer">Ann Writer</div>',
    '<figure><figcaption class="author">Photo: Pat Lens</figcaption></figure>',
    '<div class="sidebar"><a rel="author">Side Bar</a></div><h4 class="byl">Max Muster</h4>',
    '<a rel="author">Lee <time>2024-05-01</time> Kim</a>',
    '<span itemprop="author"><span itemprop="name">Ida Item</span></span>',
    '<div id="author-box">x</div><div id="Author">Al Capital</div>',
]


@pytest.mark.parametrize("markup", BYLINE_PAGES)
def test_byline_search_agrees_with_trafilaturas(markup: str) -> None:
    import lxml.html
    from trafilatura.metadata import extract_author

    from babelwire.ingest.byline import find_byline

    tree = lxml.html.fromstring(page(body=markup + ARTICLE))
    assert find_byline(tree) == extract_author(tree)


def test_byline_skips_comments_and_figures() -> None:
    import lxml.html

    from babelwire.ingest.byline import find_byline

    tree = lxml.html.fromstring(page(body=BYLINE_PAGES[2] + ARTICLE))
    assert find_byline(tree) == "Ann Writer"
    tree = lxml.html.fromstring(page(body=BYLINE_PAGES[3] + ARTICLE))
    assert find_byline(tree) is None


def test_page_byline_is_read_when_no_metadata_names_the_author() -> None:
    assert extract(page(body='<p class="byline">By John Doe</p>' + ARTICLE)).authors == (
        "John Doe",)


# ---------------------------------------------------------------------------- fallback


def test_the_full_cascade_runs_only_on_short_or_malformed_results() -> None:
    import lxml.etree as etree

    from babelwire.ingest.extract import FALLBACK_BELOW_CHARS, _needs_fallback

    def body(markup: str) -> etree._Element:
        return etree.fromstring(f"<body>{markup}</body>")

    long_text = "word " * (FALLBACK_BELOW_CHARS // 4)
    assert _needs_fallback(None, "")
    assert _needs_fallback(body("<p>short</p>"), "short")
    assert not _needs_fallback(body(f"<p>{long_text}</p>"), long_text)
    assert _needs_fallback(body(f"<div>{long_text}</div>"), long_text)  # no paragraph
    assert _needs_fallback(body(f"<p>{long_text}</p><table/><table/>"), long_text)


def test_article_in_divs_without_paragraphs_is_still_found() -> None:
    divs = "".join(f"<div>{n}. The council met on Tuesday to discuss the bridge over the river "
                   f"and the residents of district {n} asked for a safer crossing.</div>"
                   for n in range(1, 12))
    text = extract(page(body=divs)).text
    assert "district 1 asked" in text and "district 11 asked" in text


# ---------------------------------------------------------------------------- articleBody

STORY = [f"Sentence {n} of the story: the council met on Tuesday to discuss the bridge over "
         f"the river, and the residents of district {n} asked for a safer crossing."
         for n in range(1, 7)]


def test_article_body_drops_what_it_does_not_hold() -> None:
    from babelwire.ingest.structured import confirmed

    blocks = [(False, STORY[0]), (False, "Sign up for our newsletter to get the best stories "
                                        "in your inbox every morning"),
              (True, "The vote"), *[(False, s) for s in STORY[1:]],
              (True, "Most read"), (False, "Another story entirely about a football match "
                                          "that ended in a draw on Sunday")]
    keep = confirmed(blocks, " ".join(STORY))
    assert keep == [True, False, True, *[True] * 5, False, False]


def test_article_body_that_does_not_match_is_ignored() -> None:
    from babelwire.ingest.structured import confirmed

    blocks = [(False, s) for s in STORY]
    assert confirmed(blocks, " ".join(STORY[:1])) == [True] * 6  # a teaser, too short
    other = " ".join(s.replace("council", "club").replace("bridge", "stadium") for s in STORY)
    assert confirmed(blocks, other) == [True] * 6  # another text
    assert confirmed(blocks, " ".join(STORY[:3]) * 2) == [True] * 6  # half the article


def test_the_lead_is_confirmed_by_the_description() -> None:
    from babelwire.ingest.structured import confirmed

    lead = "A short summary of the story that the publisher puts above it and in its meta tags"
    blocks = [(False, lead), *[(False, s) for s in STORY]]
    assert confirmed(blocks, " ".join(STORY)) == [False, *[True] * 6]
    assert confirmed(blocks, " ".join(STORY), [lead]) == [True] * 7


def test_extract_uses_the_json_ld_article_body() -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Bridge", "articleBody": " ".join(STORY)})
    body = "".join(f"<p>{s}</p>" for s in STORY[:3]) + \
        "<p>Sign up for our newsletter to get the best stories in your inbox every morning.</p>" + \
        "".join(f"<p>{s}</p>" for s in STORY[3:])
    html = page(f'<script type="application/ld+json">{ld}</script>', body)
    text = extract(html).text
    assert "Sentence 6 of the story" in text and "newsletter" not in text
    assert "newsletter" in extract(page("", body)).text


# ---------------------------------------------------------------------------- titles


def _titled(og: str, ld: str | None, h1: str) -> str:
    head = f'<meta property="og:title" content="{og}"><title>{h1} - Section</title>'
    if ld:
        head += ('<script type="application/ld+json">'
                 + json.dumps({"@type": "NewsArticle", "headline": ld}) + "</script>")
    return page(head, f"<h1>{h1}</h1>{ARTICLE}")


def test_title_is_the_most_voted_source() -> None:
    # JSON-LD and the h1 agree against og:title
    assert extract(_titled("Short social title", "Full headline", "Full headline")).title \
        == "Full headline"
    # og:title and the h1 tie with JSON-LD's double vote: og:title's reading goes first
    assert extract(_titled("Social title", "Structured headline", "Social title")).title \
        == "Social title"
    # without JSON-LD, og:title against the h1: og:title first among equals
    assert extract(_titled("Social title", None, "Page heading")).title == "Social title"
    # the JSON-LD headline alone outvotes either of the others alone
    assert extract(_titled("Social title", "Structured headline", "Page heading")).title \
        == "Structured headline"


def test_captions_and_pull_quotes_stay_out_of_the_body() -> None:
    figure = ("<figure><img src='a.jpg'><figcaption>The bridge at dawn. Photo: Pat Lens / "
              "Agency</figcaption></figure>")
    aside = "<aside class='pullquote'><p>A pull quote repeated from the article</p></aside>"
    text = extract(page(body=ARTICLE[:400] + figure + ARTICLE[400:] + aside)).text
    assert "Paragraph 4" in text
    assert "Pat Lens" not in text and "pull quote" not in text
