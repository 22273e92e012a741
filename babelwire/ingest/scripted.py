"""Article bodies that a page carries only inside its scripts.

Some sites built on Next.js (the App Router) send the article's HTML not in the page's
markup but in the React Server Components payload, as `self.__next_f.push([1, "..."])`
calls whose strings, joined, hold rows like `24:T1b7b,<p>...</p>` (a text row: its length
in UTF-8 bytes, in hex, then the text). The page then shows the article only once its
scripts run, and an extractor reading the markup finds no text (fundus: Hankook Ilbo).

`script_body_html()` rebuilds those text rows that hold paragraphs into a small HTML page
for the extractor. It is only asked when the markup gave no article text.
"""

from __future__ import annotations

import json
import re

__all__ = ["script_body_html"]

MAX_PAYLOAD_BYTES = 5_000_000

_PUSH_RE = re.compile(r'self\.__next_f\.push\(\[1,\s*("(?:[^"\\]|\\.)*")\]\)')
_TEXT_ROW_RE = re.compile(rb"(?:^|\n|\])([0-9a-f]{1,8}):T([0-9a-f]{1,8}),")
_PARAGRAPH_RE = re.compile(r"<p[\s>]", re.IGNORECASE)


def _payload(html: str) -> bytes:
    parts: list[str] = []
    size = 0
    for match in _PUSH_RE.finditer(html):
        try:
            part = json.loads(match.group(1))
        except ValueError:
            continue
        if not isinstance(part, str):
            continue
        parts.append(part)
        size += len(part)
        if size > MAX_PAYLOAD_BYTES:
            break
    return "".join(parts).encode("utf-8", "replace")


def script_body_html(html: str) -> str | None:
    """An HTML page of the paragraphs found in the page's RSC payload, or None."""
    if "self.__next_f.push" not in html:
        return None
    payload = _payload(html)
    fragments: list[str] = []
    for match in _TEXT_ROW_RE.finditer(payload):
        start = match.end()
        text = payload[start:start + int(match.group(2), 16)].decode("utf-8", "replace")
        if _PARAGRAPH_RE.search(text):
            fragments.append(text)
    if not fragments:
        return None
    return "<html><body><article>" + "\n".join(fragments) + "</article></body></html>"
