"""Turn fetched bytes into text: find the encoding the way a browser would, then some.

Order: byte-order mark > Content-Type charset > ``<meta charset>`` / ``<meta http-equiv>`` or
``<?xml encoding?>`` in the first 4 KiB > valid UTF-8 > charset_normalizer's guess > UTF-8
with replacement characters. A declaration whose encoding does not decode the bytes is
skipped, so a page labelled utf-8 that is really cp1252 still comes out right. Labels are
read as the WHATWG Encoding Standard reads them (``iso-8859-1`` and ``us-ascii`` mean
windows-1252, ``gb2312`` means gb18030, ...), and labels of codecs that are no character
encodings (``unicode_escape``, ``utf-7``, ``idna``...) are ignored.

One deliberate exception to the header's precedence: servers often label every page
ISO-8859-1 by default. When the header names windows-1252 (or one of its aliases) but the
document itself declares UTF-8 and the bytes are valid UTF-8 with non-ASCII text, UTF-8 wins.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_body", "normalize_encoding", "parse_content_type", "sniff_declared_charset"]

_SCAN_BYTES = 4096
_SCORE_CHARS = 20_000
_NEAR_TIE = 0.1  # charset_normalizer "chaos" difference treated as a tie

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG Encoding Standard labels that mean something else than Python's codec of that name.
_WHATWG_ALIASES = {
    "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-1": "cp1252", "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "cp819": "cp1252", "ibm819": "cp1252", "iso-ir-100": "cp1252", "x-cp1252": "cp1252",
    "iso-8859-9": "cp1254", "iso8859-9": "cp1254", "latin5": "cp1254", "l5": "cp1254",
    "iso-8859-11": "cp874", "tis-620": "cp874", "windows-874": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "windows-949": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "ms_kanji": "cp932", "windows-31j": "cp932",
    "big5": "big5hkscs", "x-x-big5": "big5hkscs",
    "x-mac-cyrillic": "mac-cyrillic", "x-mac-ukrainian": "mac-cyrillic",
    "unicode-1-1-utf-8": "utf-8", "utf8": "utf-8",
}
_NOT_TEXT = frozenset({
    "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "utf-7", "mbcs",
    "oem", "charmap", "palmos",
})
_WINDOWS_1252 = "cp1252"

_META_RE = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_DECL_RE = re.compile(rb"""<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9_.:\-]+)["']""",
                          re.I)


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """("text/html", "utf-8") from "Text/HTML; Charset=\"UTF-8\""; ("", None) for nothing."""
    if not value:
        return "", None
    media, _, params = value.partition(";")
    charset: str | None = None
    for param in params.split(";"):
        key, sep, val = param.partition("=")
        if sep and key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip() or None
            break
    return media.strip().lower(), charset


def normalize_encoding(label: str | None) -> str | None:
    """Python's codec name for an encoding label (WHATWG-style), or None if unusable."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    key = _WHATWG_ALIASES.get(key, key)
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError):
        return None
    if info.name in _NOT_TEXT or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def sniff_declared_charset(content: bytes, *, is_html: bool = True) -> str | None:
    """The encoding label a document declares in its first 4 KiB (meta tag or XML decl)."""
    head = content[:_SCAN_BYTES]
    xml = _XML_DECL_RE.match(head.lstrip())
    meta = _META_RE.search(head) if is_html else None
    found = (meta or xml) if is_html else xml
    return found.group(1).decode("ascii") if found else None


def _strict(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _language_score(text: str) -> float:
    """How much `text` looks like some natural language (py3langid's log-probability)."""
    import py3langid

    return float(py3langid.classify(text[:_SCORE_CHARS])[1])


def _detect(content: bytes) -> tuple[str, str] | None:
    """charset_normalizer's guess, nudged towards windows-1252 on near-ties.

    On short Western European texts charset_normalizer often ranks cp1257 or cp1250 first
    with windows-1252 a hair behind (French comes out Baltic); the most common legacy
    encoding of the web gets the nod there unless the first guess reads as more natural
    language, which keeps Hungarian, Turkish or Lithuanian text in their own encodings.
    """
    from charset_normalizer import from_bytes

    results = list(from_bytes(content))
    if not results:
        return None
    best = results[0]
    encoding = normalize_encoding(best.encoding)
    if encoding is None:
        return None
    text = content.decode(encoding, errors="replace")
    if encoding != _WINDOWS_1252 and any(
            r.chaos <= best.chaos + _NEAR_TIE and _WINDOWS_1252 in
            {normalize_encoding(e) for e in (r.encoding, *r.could_be_from_charset)}
            for r in results):
        western = _strict(content, _WINDOWS_1252)
        if western is not None and _language_score(western) >= _language_score(text):
            return western, _WINDOWS_1252
    return text, encoding


def decode_body(content: bytes, header_charset: str | None = None, *,
                is_html: bool = True) -> tuple[str, str]:
    """Decode a response body; returns (text, Python codec name of the encoding used)."""
    for bom, bom_encoding in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(bom_encoding, errors="replace"), bom_encoding

    declared = normalize_encoding(sniff_declared_charset(content, is_html=is_html))
    if declared is not None and declared.startswith(("utf-16", "utf-32")):
        declared = "utf-8"  # an ASCII-readable declaration cannot be in UTF-16/32 bytes

    header = normalize_encoding(header_charset)
    if header == _WINDOWS_1252 and declared == "utf-8" and not content.isascii():
        as_utf8 = _strict(content, "utf-8")
        if as_utf8 is not None:
            return as_utf8, "utf-8"
    for encoding in (header, declared, "utf-8"):
        text = None if encoding is None else _strict(content, encoding)
        if encoding is not None and text is not None:
            return text, encoding

    detected = _detect(content)
    if detected is not None:
        return detected
    return content.decode("utf-8", errors="replace"), "utf-8"
