"""How fetched bytes become text: declarations, byte-order marks, lies and guesses."""

from __future__ import annotations

import codecs

import pytest

from babelwire.ingest.charset import decode_body, normalize_encoding, parse_content_type

FRENCH = ("Le garçon était très âgé ; il mangeait une crème brûlée à la française, près du "
          "château. Où est la forêt ? Ça coûte cher, déjà.")
RUSSIAN = ("Москва — столица России, крупнейший по численности населения город страны. "
           "Президент заявил сегодня, что экономика растёт быстрее, чем ожидалось.")


def page(body: str, head: str = "") -> str:
    return (f"<!doctype html><html><head>{head}<title>t</title></head>"
            f"<body><p>{body}</p></body></html>")


def test_header_charset_is_used() -> None:
    text, encoding = decode_body(page(FRENCH).encode("iso-8859-15"), "ISO-8859-15")
    assert FRENCH in text and encoding == "iso8859-15"


def test_header_charset_beats_meta_when_both_decode() -> None:
    data = page(RUSSIAN, '<meta charset="koi8-r">').encode("cp1251")
    text, encoding = decode_body(data, "windows-1251")
    assert RUSSIAN in text and encoding == "cp1251"


@pytest.mark.parametrize(("bom_codec", "expected"), [
    ("utf-8-sig", "utf-8"), ("utf-16", None), ("utf-16-be", "utf-16-be"),
])
def test_byte_order_mark_wins_over_everything(bom_codec: str, expected: str | None) -> None:
    html = page(RUSSIAN, '<meta charset="windows-1252">')
    if bom_codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + html.encode("utf-16-be")
    else:
        data = html.encode(bom_codec)
    text, encoding = decode_body(data, "iso-8859-1")
    assert text == html
    assert encoding == (expected or ("utf-16-le" if data[:2] == codecs.BOM_UTF16_LE
                                     else "utf-16-be"))


def test_meta_charset() -> None:
    data = page(FRENCH, '<meta charset="windows-1252">').encode("cp1252")
    text, encoding = decode_body(data)
    assert FRENCH in text and encoding == "cp1252"


def test_meta_http_equiv() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-2">'
    polish = "Zażółć gęślą jaźń, powiedział prezydent w Łodzi."
    text, encoding = decode_body(page(polish, meta).encode("iso-8859-2"))
    assert polish in text and encoding == "iso8859-2"


def test_xml_declaration() -> None:
    xml = f'<?xml version="1.0" encoding="windows-1251"?>\n<rss><title>{RUSSIAN}</title></rss>'
    text, encoding = decode_body(xml.encode("cp1251"), None, is_html=False)
    assert text == xml and encoding == "cp1251"


def test_cyrillic_windows_1251_page_with_meta() -> None:
    meta = '<meta http-equiv="content-type" content="text/html; charset=windows-1251" />'
    data = page(RUSSIAN, meta).encode("cp1251")
    text, encoding = decode_body(data)
    assert RUSSIAN in text and encoding == "cp1251"


def test_latin1_without_any_declaration() -> None:
    text, encoding = decode_body(page(FRENCH).encode("latin-1"))
    assert FRENCH in text
    assert encoding in {"cp1252", "iso8859-1", "iso8859-15"}


def test_header_says_utf8_but_bytes_are_cp1252() -> None:
    body = FRENCH + " « Guillemets » – et l’apostrophe courbe, 5 €."
    text, encoding = decode_body(page(body).encode("cp1252"), "utf-8")
    assert body in text and "\ufffd" not in text
    assert encoding == "cp1252"


def test_header_says_utf8_but_bytes_are_cp1251_with_meta() -> None:
    data = page(RUSSIAN, '<meta charset="windows-1251">').encode("cp1251")
    text, encoding = decode_body(data, "utf-8")
    assert RUSSIAN in text and encoding == "cp1251"


def test_default_latin1_header_loses_to_a_utf8_document() -> None:
    """Servers label everything ISO-8859-1; a UTF-8 page saying so in its meta is UTF-8."""
    data = page(FRENCH, '<meta charset="utf-8">').encode("utf-8")
    text, encoding = decode_body(data, "ISO-8859-1")
    assert FRENCH in text and encoding == "utf-8"


def test_undeclared_utf8_and_cyrillic_guess() -> None:
    assert decode_body(page(RUSSIAN).encode("utf-8")) == (page(RUSSIAN), "utf-8")
    text, encoding = decode_body(page(RUSSIAN).encode("cp1251"))
    assert RUSSIAN in text and encoding == "cp1251"


def test_unknown_and_dangerous_labels_are_ignored() -> None:
    data = page(FRENCH).encode("utf-8")
    for label in ("no-such-charset", "unicode_escape", "utf-7", "rot13", "base64", ""):
        text, encoding = decode_body(data, label)
        assert FRENCH in text and encoding == "utf-8", label


def test_binary_garbage_falls_back_to_utf8_with_replacement() -> None:
    data = b"\x00\x00\x00\x81\x00\xc3" * 100  # no text encoding makes sense of this
    text, encoding = decode_body(data, "utf-8")
    assert encoding == "utf-8"
    assert text.count("\ufffd") == 200 and len(text) == 600


def test_empty_body() -> None:
    assert decode_body(b"") == ("", "utf-8")


def test_meta_beyond_first_4k_is_not_read() -> None:
    filler = "<!-- " + "x" * 5000 + " -->"
    data = (filler + '<meta charset="koi8-r">' + FRENCH).encode("utf-8")
    text, encoding = decode_body(data)
    assert encoding == "utf-8" and FRENCH in text


def test_labels_are_read_the_whatwg_way() -> None:
    assert normalize_encoding("ISO-8859-1") == "cp1252"
    assert normalize_encoding("us-ascii") == "cp1252"
    assert normalize_encoding("GB2312") == "gb18030"
    assert normalize_encoding('"UTF8"') == "utf-8"
    assert normalize_encoding("x-user-defined") is None
    assert normalize_encoding(None) is None


def test_parse_content_type() -> None:
    assert parse_content_type('Text/HTML; Charset="UTF-8"') == ("text/html", "UTF-8")
    assert parse_content_type("application/rss+xml") == ("application/rss+xml", None)
    assert parse_content_type("text/html; boundary=x; charset=koi8-r") == ("text/html", "koi8-r")
    assert parse_content_type(None) == ("", None)
    assert parse_content_type("") == ("", None)
