"""Text analysis for search: words, per-language Snowball stems, CJK bigrams.

The same analysis runs on the documents (SQLite: Python stems, indexed by FTS5) and on the
query, so the two always agree, on both stores (PostgreSQL is given the stems to index with
its 'simple' configuration); ANALYZER names it, and a change to it (a new stemmer version,
another rule here) is what `babelwire db reindex-search` is for."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

ANALYZER = "snowball-2"  # bump when the analysis below changes: stored documents go stale

# BCP 47 primary subtag -> Snowball algorithm (PyStemmer)
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "nb": "norwegian", "nn": "norwegian",
    "no": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "hr": "serbian", "bs": "serbian",
    "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
    "yi": "yiddish", "ms": "indonesian",
}

WORD = re.compile(r"\w+", re.UNICODE)
# Han, Hiragana, Katakana, Hangul: no spaces between words, so overlapping bigrams
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
MAX_TOKEN = 60  # longer "words" (base64, URLs run together) are not searched for


def primary(language: str | None) -> str:
    return (language or "").split("-")[0].split("_")[0].lower()


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    algorithm = SNOWBALL.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def fold(token: str) -> str:
    """Case and diacritics folded (after stemming: Snowball reads the accents)."""
    return token if token.isascii() else _fold(token)


# Latin letters written without an accent by readers who lack the key, that Unicode does
# not decompose into a base letter and a mark (Łódź -> lodz, Øresund -> oresund)
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i",
                          "ŀ": "l", "ŧ": "t", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th"})


@lru_cache(maxsize=65536)
def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)


def _cjk_bigrams(word: str) -> list[str]:
    out: list[str] = []
    run = ""
    for ch in word + " ":
        if CJK.match(ch):
            run += ch
            continue
        if run:
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
            run = ""
        if ch != " ":
            out.append(ch)
    # latin letters or digits between CJK characters stay one token
    merged: list[str] = []
    for tok in out:
        if merged and not CJK.match(tok) and not CJK.match(merged[-1][-1]):
            merged[-1] += tok
        else:
            merged.append(tok)
    return merged


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, in order (CJK runs as bigrams)."""
    lowered = text.lower()
    if not CJK.search(lowered):  # the common case, at C speed
        return [w for w in WORD.findall(lowered) if len(w) <= MAX_TOKEN]
    out: list[str] = []
    for match in WORD.finditer(lowered):
        word = match.group()
        if len(word) > MAX_TOKEN:
            continue
        if CJK.search(word):
            out.extend(_cjk_bigrams(word))
        else:
            out.append(word)
    return out


def stems(text: str, language: str | None) -> list[str]:
    """The searchable tokens of `text` written in `language`: its words, stemmed by the
    language's Snowball stemmer when there is one, then folded."""
    found = words(text)
    stemmer = _stemmer(primary(language))
    if stemmer is not None:
        found = stemmer.stemWords(found)
    if "".join(found).isascii():  # fold leaves ASCII as it is: skip the loop
        return found
    return [fold(t) for t in found]


def stem_words(tokens: list[str], language: str | None) -> list[str]:
    stemmer = _stemmer(primary(language))
    return [fold(t) for t in (stemmer.stemWords(tokens) if stemmer is not None else tokens)]
