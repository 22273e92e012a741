"""A reader's query, read as literal words and "quoted phrases" — never as FTS syntax.

Operators (AND, OR, NOT, NEAR, -, *, ^, :, parentheses) are not interpreted: punctuation
separates words and the words are searched for as they are. What cannot be searched for
is refused with a QueryError (a 400 with its message), never passed on."""

from __future__ import annotations

from dataclasses import dataclass

from babelwire.store.search.analyze import words

MAX_QUERY_CHARS = 200
MAX_TERMS = 16  # words and phrases together
MAX_WORDS = 32  # words, in phrases too


class QueryError(ValueError):
    """A query that cannot be searched for; the message says why, for the reader."""


@dataclass(frozen=True)
class ParsedQuery:
    """Lower-cased words (unstemmed: each backend stems in the language it searches), and
    phrases (lists of words that must appear in this order)."""

    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @property
    def all_words(self) -> tuple[str, ...]:
        return self.terms + tuple(w for p in self.phrases for w in p)


def parse(query: str) -> ParsedQuery:
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    query = query.replace("\x00", " ")
    parts = query.split('"')
    # text between an odd and the next even quote is a phrase; an unclosed quote closes at
    # the end (a literal reading of what was typed)
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for i, part in enumerate(parts):
        found = words(part)
        if i % 2 == 1 and len(found) > 1:
            phrases.append(tuple(found))
        else:
            terms.extend(found)
    terms = list(dict.fromkeys(terms))
    if not terms and not phrases:
        raise QueryError("the query has no words to search for")
    if len(terms) + len(phrases) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} words")
    if len(terms) + sum(len(p) for p in phrases) > MAX_WORDS:
        raise QueryError(f"the query has more than {MAX_WORDS} words")
    return ParsedQuery(tuple(terms), tuple(phrases))
