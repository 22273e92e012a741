"""The website's UI catalogues: the .pot matches the strings in the templates and web code,
every reader language translates all of them (plural forms, placeholders, no fuzzy) and the
site serves the translations."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from starlette.requests import Request

from babelwire.web.i18n import LOCALES_DIR, I18n, load_translations
from babelwire.web.render import Renderer

REPO = Path(__file__).resolve().parents[1]
POT = LOCALES_DIR / "messages.pot"
# the same keywords as scripts/update-catalogs.sh passes to `pybabel extract`
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "gettext": None,
                                                "ngettext": (1, 2)}
# reader languages (English, the source language, has no catalogue) -> gettext nplurals
NPLURALS = {"de": 2, "es": 2, "fr": 2, "pt": 2, "ru": 3, "uk": 3, "ca": 2, "it": 2, "pl": 3}
# n -> plural form index each language must pick
PLURAL_CASES: dict[str, dict[int, int]] = {
    "de": {0: 1, 1: 0, 2: 1, 5: 1},
    "es": {0: 1, 1: 0, 2: 1, 1000000: 1},
    "pt": {0: 1, 1: 0, 2: 1},
    "it": {0: 1, 1: 0, 2: 1, 1000000: 1},
    "ca": {0: 1, 1: 0, 2: 1},
    "fr": {0: 0, 1: 0, 2: 1, 1000000: 1},
    "ru": {0: 2, 1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 21: 0, 22: 1, 111: 2},
    "uk": {0: 2, 1: 0, 3: 1, 5: 2, 11: 2, 14: 2, 21: 0, 24: 1},
    "pl": {0: 2, 1: 0, 2: 1, 5: 2, 12: 2, 21: 2, 22: 1, 101: 2},
}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa%])")

MsgKey = tuple[str, ...]


def _key(message: Message) -> MsgKey:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _strings(message: Message) -> tuple[str, ...]:
    """The msgstr, or the msgstr[i] of a plural message."""
    string = message.string
    if isinstance(string, (list, tuple)):
        return tuple(str(s) for s in string)
    return (string or "",)


def _placeholders(text: str) -> set[str]:
    return {f"%({name}){conv}" if name else f"%{conv}"
            for name, conv in PLACEHOLDER.findall(text) if conv != "%"}


def _sample_args(msgid: str) -> dict[str, object]:
    return {name: (7 if conv in "diouxXc" else 7.5 if conv in "eEfFgG" else "x")
            for name, conv in PLACEHOLDER.findall(msgid) if name}


@pytest.fixture(scope="module")
def pot() -> Catalog:
    return _read(POT)


@pytest.fixture(scope="module", params=sorted(NPLURALS))
def lang_catalog(request: pytest.FixtureRequest) -> tuple[str, Catalog]:
    lang: str = request.param
    return lang, _read(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", locale=lang)


def test_pot_is_up_to_date(pot: Catalog) -> None:
    """A string added to a template or to web code without re-running
    scripts/update-catalogs.sh fails here."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    extracted: set[MsgKey] = set()
    for _filename, _lineno, msg, _comments, context in extract_from_dir(
            REPO, method_map, options_map, keywords=KEYWORDS):
        assert context is None
        extracted.add(tuple(msg) if isinstance(msg, (list, tuple)) else (msg,))
    in_pot = {_key(m) for m in _messages(pot)}
    assert extracted, "extraction found no UI strings: is babel.cfg right?"
    assert extracted - in_pot == set(), "not in the .pot: run scripts/update-catalogs.sh"
    assert in_pot - extracted == set(), "stale in the .pot: run scripts/update-catalogs.sh"


def test_pot_has_the_plural_messages(pot: Catalog) -> None:
    plurals = [m for m in _messages(pot) if m.pluralizable]
    assert plurals, "ngettext() calls were not extracted with their plural"
    assert all(len(_key(m)) == 2 for m in plurals)


def test_every_message_is_translated(pot: Catalog, lang_catalog: tuple[str, Catalog]) -> None:
    lang, catalog = lang_catalog
    assert {_key(m) for m in _messages(catalog)} == {_key(m) for m in _messages(pot)}, \
        f"{lang}: catalogue differs from the .pot: run scripts/update-catalogs.sh"
    for message in _messages(catalog):
        assert not message.fuzzy, f"{lang}: fuzzy {message.id!r}"
        if message.pluralizable:
            assert isinstance(message.string, (list, tuple))
            assert len(message.string) == catalog.num_plurals, f"{lang}: {message.id!r}"
            assert all(s.strip() for s in message.string), f"{lang}: empty {message.id!r}"
        else:
            assert isinstance(message.string, str)
            assert message.string.strip(), f"{lang}: untranslated {message.id!r}"
    assert not catalog.obsolete, f"{lang}: obsolete entries left"


def test_placeholders_match(lang_catalog: tuple[str, Catalog]) -> None:
    lang, catalog = lang_catalog
    for message in _messages(catalog):
        ids = _key(message)
        strings = _strings(message)
        expected = _placeholders(ids[0])
        assert all(_placeholders(i) == expected for i in ids)
        args = _sample_args(ids[0])
        for s in strings:
            assert _placeholders(s) == expected, f"{lang}: {s!r} vs {ids[0]!r}"
            if expected:  # |format applies % only to strings with placeholders
                s % args  # a stray "%" would raise here, as it would in the page


def test_plural_forms_header(lang_catalog: tuple[str, Catalog]) -> None:
    lang, catalog = lang_catalog
    header = dict(catalog.mime_headers)["Plural-Forms"]
    match = re.fullmatch(r"\s*nplurals=(\d+);\s*plural=(.+?);?\s*", header)
    assert match, header
    assert int(match.group(1)) == NPLURALS[lang] == catalog.num_plurals
    plural = gettext.c2py(match.group(2))
    for n, form in PLURAL_CASES[lang].items():
        assert plural(n) == form, f"{lang}: n={n}"
    assert all(0 <= plural(n) < NPLURALS[lang] for n in range(200))


def test_loaded_translations(lang_catalog: tuple[str, Catalog]) -> None:
    lang, catalog = lang_catalog
    tr = load_translations(lang)
    assert tr.gettext("Select language") != "Select language"
    assert tr.gettext("Select country") != "Select country"
    for message in _messages(catalog):
        if message.pluralizable:
            ids = _key(message)
            for n, form in PLURAL_CASES[lang].items():
                assert tr.ngettext(ids[0], ids[1], n) == _strings(message)[form]
        else:
            assert tr.gettext(str(message.id)) == message.string


@pytest.mark.parametrize(("lang", "msgid", "expected"), [
    ("de", "Select language", "Sprache wählen"),
    ("de", "Select country", "Land wählen"),
    ("de", "Similar news", "Ähnliche Nachrichten"),
    ("de", "All news", "Alle Nachrichten"),
    ("ru", "Similar news", "Похожие новости"),
    ("ru", "All news", "Все новости"),
])
def test_known_wording(lang: str, msgid: str, expected: str) -> None:
    assert load_translations(lang).gettext(msgid) == expected


def test_english_needs_no_catalogue() -> None:
    assert load_translations("en").gettext("Select language") == "Select language"


def _request(path: str, query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "scheme": "http", "path": path,
                    "raw_path": path.encode(), "query_string": query, "root_path": "",
                    "headers": [(b"host", b"testserver")], "server": ("testserver", 80)})


def test_i18n_and_page_render_german() -> None:
    i18n = I18n(("en", "de"))
    de = load_translations("de")
    assert i18n.gettext("de")("Similar news") == de.gettext("Similar news") \
        == "Ähnliche Nachrichten"
    sg, pl = "%(num)d result for “%(query)s”", "%(num)d results for “%(query)s”"
    assert i18n.ngettext("de")(sg, pl, 1) % {"num": 1, "query": "Wahl"} \
        == "1 Ergebnis für „Wahl“"
    assert i18n.ngettext("en")(sg, pl, 1) == sg

    renderer = Renderer(i18n, ("en", "de"))
    page = renderer.page(_request("/de/search", b"q=Wahl"), "search.html", "de",
                         q="Wahl", items=[], countries=[], country=None)
    html = bytes(page.body).decode()
    assert page.headers["content-language"] == "de"
    for msgid in ("Select language", "Select country", "All news", "No news here yet."):
        assert de.gettext(msgid) in html
        assert msgid not in html
    assert de.ngettext(sg, pl, 0) % {"num": 0, "query": "Wahl"} in html
    english = bytes(renderer.page(_request("/en/search", b"q=Wahl"), "search.html", "en",
                                  q="Wahl", items=[], countries=[],
                                  country=None).body).decode()
    assert "Select language" in english and "0 results for “Wahl”" in english
