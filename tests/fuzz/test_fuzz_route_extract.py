"""Fuzzing the translation router (random engines over random pairs) and the extractor's
block model (random HTML trees and hostile bytes)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from babelwire.ingest import boilerplate
from babelwire.ingest.extract import MAX_TITLE_CHARS, extract
from babelwire.translate.base import Health, Translated
from babelwire.translate.quality import Measured, QualityTable
from babelwire.translate.router import MAX_HOPS, Router

LANGS = ["en", "es", "fr", "pt", "ca", "ru", "uk", "de"]


class PairsEngine:
    """A stand-in engine that only has pairs (the router never translates)."""

    def __init__(self, name: str, pairs: frozenset[tuple[str, str]], quality: int) -> None:
        self.name, self.quality, self._pairs = name, quality, pairs

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self._pairs

    def version(self) -> str:
        return "1"

    def health(self) -> Health:
        return Health(True)

    def translate(self, segments: Sequence[str], source: str, target: str
                  ) -> list[Translated]:
        return [Translated(s) for s in segments]

    def close(self) -> None:
        pass


_pair = st.tuples(st.sampled_from(LANGS), st.sampled_from(LANGS)).filter(lambda p: p[0] != p[1])
_engines = st.lists(st.tuples(st.frozensets(_pair, max_size=12), st.integers(0, 20)),
                    min_size=1, max_size=4)
_chrf = st.floats(min_value=0, max_value=100, allow_nan=False)


def _reachable(graph: dict[str, set[str]], source: str, target: str) -> bool:
    frontier, seen = {source}, {source}
    for _ in range(MAX_HOPS):
        frontier = {b for a in frontier for b in graph.get(a, ())} - seen
        if target in frontier:
            return True
        seen |= frontier
    return False


@given(_engines, st.dictionaries(st.tuples(st.sampled_from(["e0", "e1"]), _pair.map("-".join)),
                                 _chrf, max_size=6),
       st.sampled_from(LANGS), st.sampled_from(LANGS), st.sampled_from([None, "e0", "e1"]))
def test_routes_are_valid_paths_over_available_pairs(
        specs: list[tuple[frozenset[tuple[str, str]], int]],
        measured: dict[tuple[str, str], float], source: str, target: str,
        only: str | None) -> None:
    engines = [PairsEngine(f"e{i}", pairs, q) for i, (pairs, q) in enumerate(specs)]
    table = QualityTable({(name, *pair.split("-")): Measured(chrf)  # type: ignore[misc]
                          for (name, pair), chrf in measured.items()})
    router = Router(engines, table=table, min_quality=0.0)
    routes = router.routes(source, target, engine=only, limit=50)
    if source == target:
        assert routes == []
        return
    for route in routes:
        path = route.path
        assert path[0] == source and path[-1] == target
        assert len(set(path)) == len(path), path  # no language twice
        assert 1 <= len(route.hops) <= MAX_HOPS
        for hop in route.hops:
            assert (hop.source, hop.target) in hop.engine.pairs()
            assert only is None or hop.engine.name == only
        assert 0.0 <= route.quality <= 100.0
    graph: dict[str, set[str]] = {}
    for e in engines:
        if only is None or e.name == only:
            for a, b in e.pairs():
                graph.setdefault(a, set()).add(b)
    assert bool(routes) == _reachable(graph, source, target)
    best = router.route(source, target, engine=only, min_quality=0.0)
    assert (best is None) == (not routes)
    if best is not None:
        assert best == routes[0]
        assert best.quality == max(r.quality for r in routes)


# HTML: random trees of the tags pages are made of, with hostile text and attributes.
_text = st.one_of(st.text(max_size=40), st.sampled_from([
    "The council voted on Tuesday to close the bridge.", "<script>alert(1)</script>",
    "&amp;&lt;&#0;&#xD800;&#x110000;", "\x00\x1f\ufeff\u200b", "東京で初雪", "  \n\t "]))
_tags = st.sampled_from(["p", "div", "article", "main", "section", "h1", "h2", "ul", "li",
                         "span", "a", "script", "style", "table", "td", "br", "img",
                         "nav", "footer", "figure", "blockquote", "svg", "math", "noscript"])
_attrs = st.dictionaries(st.sampled_from(["class", "id", "href", "src", "lang", "itemprop",
                                          "style", "content", "property"]),
                         st.text(alphabet=string.printable, max_size=20), max_size=3)


def _render(node: Any) -> str:
    if isinstance(node, str):
        return node
    tag, attrs, children = node
    attr = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{attr}>{''.join(_render(c) for c in children)}</{tag}>"


_tree = st.recursive(_text, lambda kids: st.tuples(_tags, _attrs, st.lists(kids, max_size=5)),
                     max_leaves=40)
_page = st.builds(
    lambda head, body, lang: f'<!doctype html><html lang="{lang}"><head>{head}</head>'
                             f"<body>{body}</body></html>",
    st.lists(st.sampled_from([
        "<title>Bridge closed</title>", '<meta property="og:title" content="Bridge">',
        '<meta property="article:published_time" content="2026-13-45T99:99">',
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": 5}</script>',
        '<script type="application/ld+json">[[[{"@graph": null}]]]</script>',
        '<meta name="author" content="' + "A, " * 200 + '">',
        '<link rel="canonical" href="javascript:alert(1)">',
        '<meta charset="utf-7">']), max_size=6).map("".join),
    st.lists(_tree, max_size=6).map(lambda ns: "".join(_render(n) for n in ns)),
    st.sampled_from(["en", "", "xx-YY", "\"><script>", "zh-Hant-TW"]))


@given(st.one_of(_page, st.text(max_size=300), st.binary(max_size=300)))
@example(b"\x00" * 10)
@example("<html>" * 500)
def test_extract_never_raises_and_its_blocks_are_clean_text(html: str | bytes) -> None:
    result = extract(html, "https://example.com/news/1")
    for block in result.blocks:
        assert block.text and block.text == block.text.strip()
        assert not any(ord(c) < 32 and c not in "\n\t" for c in block.text), block.text
    assert result.text == "\n\n".join(b.text for b in result.blocks)
    assert result.title is None or 0 < len(result.title) <= MAX_TITLE_CHARS
    assert result.published is None or result.published.tzinfo is not None
    for url in (result.canonical_url, result.image):
        assert url is None or url.startswith(("http://", "https://"))


@given(st.lists(st.text(max_size=80), max_size=6), st.lists(st.text(max_size=80), max_size=6),
       st.one_of(st.none(), st.text(max_size=30)))
def test_block_model_keys_and_relatedness_never_raise(a: list[str], b: list[str],
                                                      title: str | None) -> None:
    for text in a:
        key = boilerplate.block_key(text)
        assert -(2 ** 63) <= key < 2 ** 63
        assert boilerplate.block_key(" ".join(text.split()).upper()) == \
            boilerplate.block_key(text.casefold()) or not text.isascii()
        lead = boilerplate.lead_key(text)
        assert lead is None or lead != key
        boilerplate.lead_in(text)
    assert boilerplate.related(title, a, title, a) in (True, False)
    assert boilerplate.related(title, a, None, b) == boilerplate.related(None, b, title, a)
