"""What several views share: items shown in the original for a reader who reads it."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from babelwire.store import reader, stories


def as_read(s: Session, items: list[reader.Item], reads: tuple[str, ...]) -> list[reader.Item]:
    """Items in a language the reader reads, with their original title and summary
    instead of the translated ones."""
    wanted: dict[str, list[int]] = {}
    for it in items:
        if it.translated and it.language in reads:
            wanted.setdefault(it.language, []).append(it.id)
    if not wanted:
        return items
    originals: dict[int, reader.Item] = {}
    for code, ids in wanted.items():  # an article has no translation into its language
        originals.update((o.id, o) for o in reader.by_ids(s, ids, code))
    return [originals.get(it.id, it) for it in items]


def stories_as_read(s: Session, top: list[stories.StorySummary], reads: tuple[str, ...]
                    ) -> list[stories.StorySummary]:
    if not reads:
        return top
    leads = as_read(s, [st.lead for st in top], reads)
    return [replace(st, lead=lead) for st, lead in zip(top, leads, strict=True)]
