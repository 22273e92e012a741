"""Language codes: the ISO 639-3 (and 639-2/B) codes engines use, to BCP 47 primary
subtags, which is what every Babelwire interface speaks."""

from __future__ import annotations

# ISO 639-3 (and the 639-2/B forms some pairs use) -> ISO 639-1, for the languages Apertium
# has pairs for. A 3-letter code missing here has no 2-letter form and is already BCP 47.
ISO3_TO_1 = {
    "afr": "af", "amh": "am", "ara": "ar", "arg": "an", "aze": "az", "bak": "ba",
    "bel": "be", "ben": "bn", "bos": "bs", "bre": "br", "bul": "bg", "cat": "ca",
    "ces": "cs", "cze": "cs", "chv": "cv", "cos": "co", "cym": "cy", "wel": "cy",
    "dan": "da", "deu": "de", "ger": "de", "ell": "el", "gre": "el", "eng": "en",
    "epo": "eo", "est": "et", "eus": "eu", "baq": "eu", "fao": "fo", "fas": "fa",
    "per": "fa", "fin": "fi", "fra": "fr", "fre": "fr", "fry": "fy", "gla": "gd",
    "gle": "ga", "glg": "gl", "grn": "gn", "guj": "gu", "hat": "ht", "heb": "he",
    "hin": "hi", "hrv": "hr", "hun": "hu", "hye": "hy", "arm": "hy", "ibo": "ig",
    "ind": "id", "isl": "is", "ice": "is", "ita": "it", "jpn": "ja", "kat": "ka",
    "geo": "ka", "kaz": "kk", "khm": "km", "kir": "ky", "kor": "ko", "kur": "ku",
    "lat": "la", "lav": "lv", "lit": "lt", "ltz": "lb", "mal": "ml", "mar": "mr",
    "mkd": "mk", "mac": "mk", "mlt": "mt", "mon": "mn", "msa": "ms", "may": "ms",
    "nld": "nl", "dut": "nl", "nno": "nn", "nob": "nb", "nor": "no", "oci": "oc",
    "pan": "pa", "pol": "pl", "por": "pt", "pus": "ps", "que": "qu", "roh": "rm",
    "ron": "ro", "rum": "ro", "rus": "ru", "san": "sa", "sme": "se", "slk": "sk",
    "slo": "sk", "slv": "sl", "snd": "sd", "som": "so", "spa": "es", "sqi": "sq",
    "alb": "sq", "srd": "sc", "srp": "sr", "swa": "sw", "swe": "sv", "tam": "ta",
    "tat": "tt", "tel": "te", "tgk": "tg", "tgl": "tl", "tha": "th", "tur": "tr",
    "uig": "ug", "ukr": "uk", "urd": "ur", "uzb": "uz", "vie": "vi", "xho": "xh",
    "yid": "yi", "yor": "yo", "zho": "zh", "chi": "zh", "zul": "zu", "hbs": "sh",
    "arb": "ar", "zlm": "ms", "zsm": "ms", "cmn": "zh", "ekk": "et", "lvs": "lv",
}

# Codes that name the same written language as another code, mapped to the one every
# Babelwire table uses: "no" (Norwegian, the macrolanguage that language identifiers and
# publishers give) is written Bokmål ("nb") in news; "in", "iw", "ji" are withdrawn codes.
ALIASES = {"no": "nb", "in": "id", "iw": "he", "ji": "yi", "mo": "ro"}


def to_bcp47(code: str) -> str:
    """"eng" -> "en", "fr" -> "fr", "cat_valencia" -> "ca", "ast" -> "ast" (a 3-letter code
    with no 2-letter form is already BCP 47)."""
    base = code.split("_", 1)[0].lower()
    return ISO3_TO_1.get(base, base)


def canonical(code: str) -> str:
    """A BCP 47 primary subtag as every Babelwire table spells it: "no" -> "nb",
    "NO" -> "nb", "pt-BR" -> "pt-BR" (regions and scripts are kept)."""
    head, sep, rest = code.strip().partition("-")
    head = head.lower()
    return ALIASES.get(head, head) + (sep + rest if sep else "")
