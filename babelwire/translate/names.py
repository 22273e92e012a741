"""Proper names that Apertium must not translate as words ("Trump" -> "Triunfo", "Theresa May"
-> "Theresa Puede"), found without word lists in any language, and kept through the pipeline.

The evidence, all language-independent:

- the pair's own morphological analyser (its first stage, run with dictionary case `-w`): a
  capitalised word it knows only with lower-case lemmas is a common word used as a name or a
  title; a word it knows as a proper noun (`<np>`) or with a capitalised lemma (Monday,
  January, London) is left to Apertium, which translates those properly; an unknown word
  passes through Apertium verbatim anyway;
- adjacency: a word right after a person's name (an unknown capitalised word, or a proper noun
  tagged as a given name or surname: `<ant>`, `<cog>`) is the rest of that name ("Theresa
  May", "Maxine Waters", "Mato Grosso"); a given name right before an unknown word is kept
  too ("Jordan Spieth");
- the batch (an article's sentences): a word found as part of a name keeps being one in the
  other sentences, at the start of a sentence too ("Trump said ...");
- capitalisation statistics of the text seen so far in that language (the source's recent
  articles): a capitalised word in mid-sentence that is rarely written in lower case ("trump"
  almost never is) is a name, unless it follows a determiner ("the Senate", "la Asamblea":
  institutions, which Apertium translates); a capitalised determiner in mid-sentence opens a
  title ("told The Sunday Telegraph").

In segments set in title case (headlines where most words are capitalised) and for the first
word of a sentence, capitalisation says nothing, and only the name evidence above is used.
Languages that capitalise every noun (German) give their nouns capitalised lemmas, so the
mechanism leaves them alone. All-capital words (acronyms) and one-letter words are left to
Apertium.

A protected name is replaced by a placeholder word that the analyser does not know, so that
Apertium keeps it in its place like any unknown word, and restored afterwards (`protect`,
`restore`); a segment whose placeholders do not all come back exactly once is translated again
without protection, so protection never costs a translation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

_LETTER = re.compile(r"[^\W\d_]")
# what before a word opens a sentence: its end, a dash, or a quote or bracket opened right
# before the word ("Trump, but not Party," Trump: a closing quote goes on)
_INITIAL_GAP = re.compile(r"[.!?:;—–…]|[\"“”«»„‘(\[]\S*$")
_TAG = re.compile(r"<([^>]+)>")
_PERSON = frozenset({"ant", "cog"})
_FUNCTION = frozenset({"det", "pr", "cnjcoo", "cnjsub", "cnjadv", "prn"})
RARE_LOWER = 0.2  # a word written in lower case at most this often counts as a name
ARTICLE_SHARE = 0.06  # of the words seen, with a determiner reading: articles are in use
_STATS_MAX = 200_000  # distinct words kept per language before old counts are halved


class Token(NamedTuple):
    """One lexical unit of the analyser's output, placed in the segment's text."""

    start: int
    end: int
    surface: str
    readings: tuple[str, ...]  # "trump<n><sg>", "*Maxine" for an unknown word
    unit: int = -1  # its index among the stream's units (`place`)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


# An escape, a superblank, or a lexical unit (group 1: its body) of an Apertium stream.
_STREAM = re.compile(r"\\.|\[(?:[^\]\\]|\\.)*\]|\^((?:[^\\$]|\\.)*)\$", re.S)


class Unit(NamedTuple):
    """A lexical unit of an Apertium stream and where it stands in the stream."""

    surface: str
    readings: tuple[str, ...]
    start: int  # offsets of "^...$" in the stream
    end: int


def parse_stream(stream: str) -> list[Unit]:
    """The lexical units of an Apertium stream ("^surface/reading/...$"), superblanks and
    escapes skipped, in order, with their offsets."""
    units: list[Unit] = []
    for m in _STREAM.finditer(stream):
        body = m.group(1)
        if body is None:
            continue
        if "\\" in body:
            parts = [_unescape(p) for p in _split_unescaped(body, "/")]
        else:
            parts = body.split("/")
        units.append(Unit(parts[0], tuple(parts[1:]), m.start(), m.end()))
    return units


def parse_units(stream: str) -> list[tuple[str, tuple[str, ...]]]:
    """The lexical units of an Apertium stream: (surface, readings), in order."""
    return [(u.surface, u.readings) for u in parse_stream(stream)]


def place(text: str, units: Sequence[tuple[str, tuple[str, ...]]],
          masked: Sequence[tuple[int, int]] = ()) -> list[Token]:
    """The units found in order in `text` (outside the `masked` spans: URLs)."""
    plain = text
    for start, end in masked:
        plain = plain[:start] + "\0" * (end - start) + plain[end:]
    tokens, pos = [], 0
    for k, (surface, readings) in enumerate(units):
        if not surface:
            continue
        start = plain.find(surface, pos)
        if start < 0:
            continue
        pos = start + len(surface)
        tokens.append(Token(start, pos, surface, readings, k))
    return tokens


@dataclass(slots=True)
class _Word:
    tok: Token
    gap: str | None  # text since the previous word (None: first word)
    initial: bool
    cap: bool
    acronym: bool
    unknown: bool
    np: bool
    person: bool
    common: bool  # some reading is not a proper noun
    cap_lemma: bool  # some common reading has a capitalised lemma (Monday, January)
    det: bool
    function: bool
    noun: bool  # some common reading is a noun (titles before names are nouns)
    connector: bool  # a preposition or determiner, never a conjunction: de, la, van, von
    verb: bool  # every reading is a verb form

    key: str  # the surface in lower case


def _tags(reading: str) -> set[str]:
    return set(_TAG.findall(reading))


_Features = tuple[bool, bool, bool, bool, bool, bool, bool, bool, bool, bool]
_FEATURES: dict[tuple[str, ...], _Features] = {}
_FEATURES_MAX = 100_000


def _features(readings: tuple[str, ...]) -> _Features:
    """What a unit's readings say (cached: the same readings recur all the time)."""
    found = _FEATURES.get(readings)
    if found is not None:
        return found
    known = [r for r in readings if not r.startswith("*")]
    tags = [_tags(r) for r in known]
    np_tags = [t for t in tags if "np" in t]
    common = [r for r, t in zip(known, tags, strict=True) if "np" not in t]
    # a determiner is a word of its own (the, la) or one joined to a preposition (del, al),
    # not an article suffixed to a noun (Basque batu<adj>+a<det>)
    heads = [_tags(r.split("+", 1)[0]) for r in known]
    found = (
        not known, bool(np_tags), any(t & _PERSON for t in np_tags), bool(common),
        any(r[:1].isupper() for r in common),
        any("det" in h or ("pr" in h and "det" in t) for h, t in zip(heads, tags, strict=True)),
        bool(tags) and all(t & _FUNCTION for t in tags),
        any("n" in t for t in tags if "np" not in t),
        any(t & {"pr", "det"} for t in tags)
        and not any(t & {"cnjcoo", "cnjsub", "cnjadv"} for t in tags),
        bool(tags) and all(any(x.startswith("vb") for x in t) for t in tags))
    if len(_FEATURES) > _FEATURES_MAX:
        _FEATURES.clear()
    _FEATURES[readings] = found
    return found


def _words(text: str, tokens: Sequence[Token]) -> list[_Word]:
    words: list[_Word] = []
    prev_end: int | None = None
    for tok in tokens:
        surface = tok.surface
        if not (surface[:1].isalpha() or _LETTER.search(surface)):
            continue
        gap = text[prev_end:tok.start] if prev_end is not None else None
        (unknown, np, person, common, cap_lemma, det, function, noun, connector,
         verb) = _features(tok.readings)
        words.append(_Word(
            tok, gap, gap is None or bool(_INITIAL_GAP.search(gap)), surface[0].isupper(),
            len(surface) > 1 and surface.isupper(), unknown, np, person, common, cap_lemma,
            det, function, noun, connector, verb, surface.lower()))
        prev_end = tok.end
    return words


@dataclass
class CaseStats:
    """How often each word was written in lower case, and capitalised in mid-sentence, in the
    text of one language seen so far (bounded: old counts are halved when it grows)."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    words: int = 0
    articles: int = 0  # words with a determiner reading

    def add(self, words: Sequence[_Word]) -> None:
        self.words += len(words)
        self.articles += sum(w.det for w in words)
        if self.words > 10 * _STATS_MAX:
            self.words //= 2
            self.articles //= 2
        for w in words:
            if w.acronym or len(w.tok.surface) < 2:
                continue
            if w.cap and w.initial:
                continue
            entry = self.counts.setdefault(w.key, [0, 0])
            entry[0 if not w.cap else 1] += 1
        if len(self.counts) > _STATS_MAX:
            self.counts = {k: [v[0] // 2, v[1] // 2] for k, v in self.counts.items()
                           if v[0] // 2 or v[1] // 2}

    @property
    def has_articles(self) -> bool:
        """Determiners are frequent (English, Romance languages: "the Senate", "la
        Asamblea"), so an institution's name shows by the article before it. Without them
        (Slavic languages) capitalisation alone cannot tell a name from an institution."""
        return self.words >= 50 and self.articles >= ARTICLE_SHARE * self.words

    def rarely_lower(self, key: str) -> bool:
        lower, cap = self.counts.get(key, (0, 0))
        return lower <= RARE_LOWER * (lower + cap)


def _adjacent(words: Sequence[_Word], i: int) -> bool:
    """Word i follows word i-1 with nothing but spaces between."""
    gap = words[i].gap
    return i > 0 and gap is not None and not gap.strip()


def _linked(words: Sequence[_Word], i: int) -> int | None:
    """The index of the unknown capitalised word that word i follows through one or two
    lower-case function words (de, la, del, van, von), all adjacent; else None."""
    for n in (1, 2):
        j = i - n - 1
        if j < 0:
            return None
        between = words[j + 1:i]
        if all(w.connector and not w.cap for w in between) \
                and all(_adjacent(words, k) for k in range(j + 1, i + 1)) \
                and words[j].cap and words[j].unknown:
            return j
    return None


def _may_propagate(words: Sequence[_Word], i: int) -> bool:
    """A word learned as a name elsewhere in the batch is one here too, unless Apertium knows
    it with a capitalised lemma (May the month) and nothing here says name: it stands alone
    in mid-sentence."""
    w = words[i]
    if not w.cap_lemma or w.initial:
        return True
    prev = i > 0 and _adjacent(words, i) and words[i - 1].cap
    nxt = i + 1 < len(words) and _adjacent(words, i + 1) and words[i + 1].cap
    return bool(prev or nxt)


def _title_case(words: Sequence[_Word]) -> bool:
    long = [w for w in words if len(w.tok.surface) > 3]
    return len(long) >= 4 and sum(w.cap for w in long) > 0.6 * len(long)


def find_names(texts: Sequence[str], tokens: Sequence[Sequence[Token]],
               stats: CaseStats | None = None, learned: set[str] | None = None
               ) -> list[list[tuple[int, int]]]:
    """For each segment, the character spans of the names to keep (adjacent names joined).
    `tokens` are each segment's analysed units (`place`); `stats` learns from the batch;
    `learned` (the words found as parts of names) carries over from earlier parts of the
    same batch when it is given in parts."""
    stats = stats if stats is not None else CaseStats()
    all_words = [_words(t, toks) for t, toks in zip(texts, tokens, strict=True)]
    for words in all_words:
        stats.add(words)
    learned = learned if learned is not None else set()
    marks: list[list[bool]] = []
    articles = stats.has_articles
    for words in all_words:
        titled = _title_case(words)
        mark = [False] * len(words)
        after_det = [False] * len(words)
        for i, w in enumerate(words):
            if i and _adjacent(words, i) and w.cap and words[i - 1].cap \
                    and not words[i - 1].initial:
                after_det[i] = after_det[i - 1]
            else:
                after_det[i] = i > 0 and _adjacent(words, i) and words[i - 1].det \
                    and (not words[i - 1].cap or words[i - 1].initial)
        for i, w in enumerate(words):
            if not w.cap or w.acronym or len(w.tok.surface) < 2 or w.unknown:
                continue
            prev = words[i - 1] if i and _adjacent(words, i) and words[i - 1].cap else None
            nxt = words[i + 1] if i + 1 < len(words) and _adjacent(words, i + 1) \
                and words[i + 1].cap else None
            if w.common and prev is not None and (prev.unknown or prev.person or mark[i - 1]):
                mark[i] = True  # the rest of a person's name: Theresa May, Maxine Waters
                learned.add(w.tok.surface)
            elif not w.common and w.person and nxt is not None and nxt.unknown:
                mark[i] = True  # a given name before an unknown surname: Jordan Spieth
                learned.add(w.tok.surface)
            elif w.verb and not w.initial and nxt is not None and nxt.unknown:
                mark[i] = True  # a verb form before an unknown word: Mato Grosso
                learned.add(w.tok.surface)
            elif articles and not w.initial and not titled and nxt is not None \
                    and nxt.unknown and not w.function:
                mark[i] = True  # in mid-sentence, before an unknown name: Baton Rouge
            elif w.np and w.common and _linked(words, i) is not None:
                mark[i] = True  # after an unknown name and connectors: Talavera de la Reina
            elif articles and not w.initial and not titled and w.common and not w.np \
                    and not w.cap_lemma and not after_det[i] and stats.rarely_lower(w.key):
                mark[i] = True  # capitalised in mid-sentence, rarely written in lower case
                learned.add(w.tok.surface)  # then also after an article: the Trump White House
        if not titled:  # a title opened by a capitalised article: told The Sunday Telegraph
            for i, w in enumerate(words):
                if w.cap and w.function and not w.initial and len(w.tok.surface) > 1:
                    j = i + 1
                    while j < len(words) and _adjacent(words, j) and words[j].cap:
                        j += 1
                    if j > i + 1:
                        for k in range(i, j):
                            mark[k] = mark[k] or not words[k].unknown
        marks.append(mark)
    spans: list[list[tuple[int, int]]] = []
    for text, words, mark in zip(texts, all_words, marks, strict=True):
        out: list[tuple[int, int]] = []
        for i, w in enumerate(words):
            if not mark[i] and not (w.cap and not w.unknown and w.tok.surface in learned
                                    and _may_propagate(words, i)):
                continue
            start = w.tok.start
            link = _linked(words, i) if mark[i] and w.np else None
            if link is not None:
                start = words[link].tok.start
            if out and not text[out[-1][1]:start].strip():
                out[-1] = (out[-1][0], w.tok.end)
            elif out and out[-1][1] > start:
                out[-1] = (min(out[-1][0], start), w.tok.end)
            else:
                out.append((start, w.tok.end))
        spans.append(out)
    return spans


# --- the per-pair gate --------------------------------------------------------------------

GATE_PATH = Path(__file__).with_name("names_gate.json")


@cache
def gated_pairs(path: Path = GATE_PATH) -> frozenset[tuple[str, str]]:
    """The pairs where keeping names was measured to lower chrF (benchmarks/names.py
    --write, on the NTREX documents it develops on): those translate without it. The
    reasons are the pair's, not a word list: a target in another script (Macedonian names
    come out in Latin letters in English), a pair whose dictionaries already carry the
    names, an analyser that reads an inflected institution as a name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(tuple(k.split("-", 1)) for k, v in data.get("pairs", {}).items()
                     if not v.get("keep_names", True))


# --- placeholders ------------------------------------------------------------------------

_DIGITS = "bcdfghjklmnpqrstvwz"  # no x: x ends a placeholder
# with the unknown-word mark some pairs print anyway ("*Bwnqbx")
_PLACEHOLDER = re.compile(r"[*#@]?bwnq([bcdfghjklmnpqrstvwz]+)x", re.I)


def placeholder(index: int) -> str:
    """A capitalised word no analyser knows, naming protected span `index`."""
    digits = ""
    while True:
        index, d = divmod(index, len(_DIGITS))
        digits = _DIGITS[d] + digits
        if not index:
            break
    return f"Bwnq{digits}x"


def _index(digits: str) -> int:
    value = 0
    for c in digits.lower():
        value = value * len(_DIGITS) + _DIGITS.index(c)
    return value


def protect(text: str, spans: Sequence[tuple[int, int]]) -> tuple[str, list[str]]:
    """The text with each span replaced by a placeholder, and the spans' texts."""
    parts: list[str] = []
    kept: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos:start])
        parts.append(placeholder(len(kept)))
        kept.append(text[start:end])
        pos = end
    parts.append(text[pos:])
    return "".join(parts), kept


def restore(text: str, kept: Sequence[str]) -> str | None:
    """The translation with the names back, or None unless every placeholder came back
    exactly once (and no other)."""
    if not kept:
        return text
    used = [0] * len(kept)
    bad = False

    def put(m: re.Match[str]) -> str:
        nonlocal bad
        i = _index(m.group(1))
        if i >= len(kept):
            bad = True
            return m.group()
        used[i] += 1
        return kept[i]

    out = _PLACEHOLDER.sub(put, text)
    if bad or any(u != 1 for u in used):
        return None
    return out


def has_placeholder(text: str) -> bool:
    """The text already holds something a placeholder would be mistaken for."""
    return _PLACEHOLDER.search(text) is not None


_NEXT_WORD = re.compile(r"\s+([^\W\d_])([^\W\d_]*)")


def recase_after_initial(source: str, spans: Sequence[tuple[int, int]], output: str) -> str:
    """Apertium capitalises the word after an unknown word that opens a sentence ("Trump
    Dijo"); when a kept name opens the segment and the word after it in the source is in
    lower case, put the word after it in the output in lower case too."""
    if not spans or _LETTER.search(source[:spans[0][0]]):
        return output
    name = source[spans[0][0]:spans[0][1]]
    after = _NEXT_WORD.match(source, spans[0][1])
    if after is None or not after.group(1).islower():
        return output
    at = output.find(name)
    if at < 0 or _LETTER.search(output[:at]):
        return output
    m = _NEXT_WORD.match(output, at + len(name))
    if m is None or not m.group(1).isupper() or (m.group(2) and m.group(2).isupper()):
        return output
    return output[:m.start(1)] + m.group(1).lower() + output[m.end(1):]
