"""The reader's language: UI strings from gettext catalogues (one .po file per language,
read at start-up), language and country names and dates from Babel's CLDR data, and the
choice of language from the cookie or Accept-Language."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"


def load_translations(lang: str, locales_dir: Path = LOCALES_DIR) -> NullTranslations:
    """The UI catalogue of `lang` (compiled in memory from its .po file); English, the
    source language of the UI strings, needs none."""
    po = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


class I18n:
    def __init__(self, languages: Sequence[str], locales_dir: Path = LOCALES_DIR) -> None:
        self.languages = tuple(languages)
        self._translations = {lang: load_translations(lang, locales_dir)
                              for lang in self.languages}

    def gettext(self, lang: str) -> Callable[[str], str]:
        return self._translations.get(lang, NullTranslations()).gettext

    def ngettext(self, lang: str) -> Callable[[str, str, int], str]:
        return self._translations.get(lang, NullTranslations()).ngettext

    def negotiate(self, accept_language: str | None, default: str = "en") -> str:
        """The best reader language for an Accept-Language header."""
        wanted: list[tuple[float, str]] = []
        for part in (accept_language or "").split(",")[:20]:
            tag, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            if tag:
                wanted.append((q, tag.strip().lower()))
        wanted.sort(key=lambda x: -x[0])
        for q, tag in wanted:
            primary = tag.split("-")[0]
            if q > 0 and primary in self.languages:
                return primary
        return default if default in self.languages else self.languages[0]


@cache
def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def language_name(code: str | None, lang: str) -> str:
    """"ru" in German -> "Russisch"; the code itself when CLDR has no name."""
    if not code:
        return "?"
    name = _locale(lang).languages.get(code.split("-")[0])
    return (name[:1].upper() + name[1:]) if name else code


def native_language_name(code: str) -> str:
    return language_name(code, code)


def country_name(code: str | None, lang: str) -> str:
    if not code:
        return "?"
    return _locale(lang).territories.get(code.upper(), code.upper())


def format_time(dt: datetime | None, lang: str) -> str:
    if dt is None:
        return ""
    dt = dt.astimezone(UTC)
    loc = _locale(lang)
    return (f"{format_date(dt, 'medium', locale=loc)}, "
            f"{babel_format_time(dt, 'short', tzinfo=UTC, locale=loc)} UTC")


def text_direction(lang: str | None) -> str:
    return "rtl" if lang and lang.split("-")[0] in {"ar", "he", "fa", "ur", "yi", "ps"} \
        else "ltr"
