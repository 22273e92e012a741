"""Duplicate detection primitives: canonical URLs, exact content hashes and 64-bit
near-duplicate fingerprints. Pure functions; the store keeps the values and finds candidates.

Fingerprints. `simhash` returns a 64-bit similarity fingerprint compared by Hamming distance,
like Charikar's SimHash, but each bit is a one-bit MinHash sample (b-bit minwise hashing with
b = 1, Li & König 2010; one permutation hashing with densification, Li, Owen & Zhang 2012;
Shrivastava 2017) of the text's word 3-shingles. For two texts whose shingle sets have Jaccard
similarity J, each bit differs with probability (1 - J) / 2: the expected distance grows
linearly with the share of text that changed. Sign-of-sum SimHash grows like the *square root*
of it (its bits differ with probability angle / pi), so one rewritten sentence in a 400-word
article costs SimHash about 6-7 bits of 64 and this fingerprint about 3: see
benchmarks/dedup.py for the measured distributions behind `near_duplicate_distance = 3`.
Unrelated texts, and different outlets' own coverage of one story, stay about 32 bits apart,
which also keeps the band index selective.
"""

from __future__ import annotations

import hashlib
import itertools
import posixpath
import re
import unicodedata
from urllib.parse import urljoin, urlsplit

import idna

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "canonicalize_url",
    "content_hash",
    "from_signed64",
    "hamming",
    "is_near_duplicate",
    "normalized_tokens",
    "simhash",
    "simhash_bands",
    "simhash_probes",
    "to_signed64",
    "url_key",
]

# ---------------------------------------------------------------------------------------------
# URLs

# Query parameters that identify a campaign, a click or a sharer, never the page. Compared
# case-insensitively. Data, not code: add a name here when a source's links carry a new one.
TRACKING_PARAMS: frozenset[str] = frozenset({
    # ad-network click ids
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "li_fat_id", "rb_clickid", "wickedid",
    # analytics and mailing-list tools (Google, Mailchimp, Adobe, HubSpot, Marketo, comScore,
    # AT Internet / Piano, Yahoo consent redirects)
    "_ga", "_gl", "mc_cid", "mc_eid", "s_cid", "_hsenc", "_hsmi", "mkt_tok", "xtor",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
    "at_medium", "at_campaign", "at_platform", "at_link", "at_ptr_name", "at_format",
    "at_custom1", "at_custom2", "at_custom3", "at_custom4",
    "guccounter", "guce_referrer", "guce_referrer_sig", "oly_anon_id", "oly_enc_id", "vero_id",
    # publishers' own campaign and referral codes (NYT smid, Guardian CMP, Times ito, MSN ocid,
    # Alibaba spm, Twitter embeds, share buttons)
    "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid", "smid", "smtyp", "ito",
    "icid", "sr_share", "spm", "__twitter_impression", "share", "shared", "sharesource",
    "share_source", "share_medium", "sh", "soc_src", "soc_trk", "fromshare", "via",
    # Matomo / Piwik campaigns
    "pk_campaign", "pk_kwd", "pk_source", "pk_medium", "pk_content", "pk_cid",
})
# Prefixes of whole families: Google Analytics (utm_), Matomo (mtm_), HubSpot ads (hsa_).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "mtm_", "hsa_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_SUB_DELIMS + ":@/")
_QUERY_PART_SAFE = frozenset("!$'()*+,;:@/?")  # no '&' or '=': they delimit the parameters
_HEX = frozenset("0123456789abcdefABCDEF")


def canonicalize_url(url: str, *, base: str | None = None) -> str:
    """The canonical form of an http(s) URL, for storing and comparing.

    Resolves `url` against `base`; lower-cases scheme and host; IDNA-encodes the host; drops
    user info, default ports, the fragment (except `#!` routes) and tracking parameters
    (`TRACKING_PARAMS`, `TRACKING_PREFIXES`); sorts the remaining parameters by name (values of
    one name keep their order); normalises percent-encoding (upper-case hex, unreserved
    characters decoded, others encoded as UTF-8); resolves dot-segments and collapses
    duplicate slashes in the path. The trailing slash, "www." and the rest of the path are kept.

    Raises ValueError for other schemes (mailto:, javascript:, ftp:, ...), relative URLs
    without a base, missing or invalid hosts and invalid ports.
    """
    url = url.strip()
    if base is not None:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = _canonical_host(parts.hostname or "")
    port = parts.port  # raises ValueError when out of range or not a number
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return (f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
            + (f"#{_normalize_percent(fragment, _PATH_SAFE | {'?'})}" if fragment else ""))


def url_key(url: str) -> str:
    """The canonical URL without its scheme and a leading "www.", so that the http/https and
    www/non-www forms of one page compare equal."""
    key = canonicalize_url(url).split("://", 1)[1]
    return key.removeprefix("www.")


def _canonical_host(host: str) -> str:
    host = host.rstrip(".")
    if not host:
        raise ValueError("URL has no host")
    if ":" in host:  # IPv6 literal (urlsplit removed the brackets)
        return f"[{host.lower()}]"
    if host.isascii():
        host = host.lower()
        if not host.startswith("xn--") and ".xn--" not in host:
            if not re.fullmatch(r"[a-z0-9_.-]+", host) or ".." in host:
                raise ValueError(f"invalid host: {host!r}")
            return host
    try:
        return idna.encode(host, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise ValueError(f"invalid host: {host!r}: {exc}") from None


def _canonical_path(path: str) -> str:
    path = _normalize_percent(path, _PATH_SAFE)
    path = re.sub(r"/{2,}", "/", path)
    if not path.startswith("/"):
        path = "/" + path
    # RFC 3986 section 5.2.4: posixpath.normpath does it, but drops the trailing slash.
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    path = posixpath.normpath(path)
    path = "/" + path.lstrip("/")  # normpath keeps a leading "//"
    if trailing and not path.endswith("/"):
        path += "/"
    return path


def _canonical_query(query: str) -> str:
    params: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = _normalize_percent(name, _QUERY_PART_SAFE)
        if _is_tracking(name):
            continue
        params.append((name, eq + _normalize_percent(value, _QUERY_PART_SAFE | {"="})))
    params.sort(key=lambda p: p[0])  # stable: repeated names keep their order
    return "&".join(name + value for name, value in params)


def _is_tracking(name: str) -> bool:
    lowered = _unquote_ascii(name).lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _unquote_ascii(s: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), s)


def _normalize_percent(s: str, safe: frozenset[str]) -> str:
    """Upper-case percent-escapes, decode the unreserved ones, escape what must be (UTF-8)."""
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch == "%" and i + 2 < n and s[i + 1] in _HEX and s[i + 2] in _HEX:
            decoded = chr(int(s[i + 1:i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + s[i + 1:i + 3].upper())
            i += 3
            continue
        if ch in _UNRESERVED or ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Text

# Scripts written without spaces between words: each character is a token, so shingles of
# these tokens are character n-grams. (Han, kana, Thai, Lao, Tibetan, Myanmar, Khmer, Yi.)
_NO_SPACE = ("\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
             "\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uf900-\ufaff\uff66-\uff9f"
             "\U00020000-\U0003134f")
# Combining marks belong to the word they sit on (Devanagari vowel signs, Arabic harakat, ...),
# although Python's \w does not match them.
_MARKS = ("\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
          "\u06d6-\u06ed\u0900-\u0dff\u1ab0-\u1aff\u1dc0-\u1dff\u200c\u200d\u20d0-\u20ff"
          "\ufe20-\ufe2f")
_TOKEN = re.compile(rf"[{_NO_SPACE}]|(?:[^\W{_NO_SPACE}]|[{_MARKS}])+")
_NO_SPACE_CHAR = re.compile(f"[{_NO_SPACE}]")


def normalized_tokens(text: str) -> list[str]:
    """Words of `text` after NFKC and case folding, without punctuation or spacing; in
    scripts written without spaces (Chinese, Japanese, Thai, ...) every character is a token."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _words(normalized: str) -> list[str]:
    return _TOKEN.findall(normalized.casefold())


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the text's normalised words: equal for texts that differ only in
    case, spacing (nbsp, line breaks), punctuation or quote style, or Unicode compatibility
    forms."""
    return hashlib.sha256(" ".join(normalized_tokens(text)).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Near-duplicate fingerprints

WORD_SHINGLE = 3  # words per shingle
CHAR_SHINGLE = 4  # characters per shingle, for texts mostly in scripts without spaces
_BITS = 64
_MASK64 = (1 << 64) - 1
_BIN_SHIFT = 58  # the top 6 bits of a feature hash choose its bin (one per output bit)
_VALUE_MASK = (1 << _BIN_SHIFT) - 1
_EMPTY = 1 << _BIN_SHIFT
_HASH_KEY = b"babelwire-dedup1"  # changing it (or the shingling) invalidates stored fingerprints


def _mix64(x: int) -> int:
    """splitmix64's finaliser: a stable 64-bit bijection with good avalanche."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


# A line is prose when it ends like a sentence (closing quotes and brackets aside) or is long.
_SENTENCE_END = re.compile(r"[.!?\u2026\u0589\u061f\u06d4\u0964\u0965\u104b\u1362\u17d4"
                           r"\u3002\uff0e]['\"\u2019\u201d\u00bb\u300d\u300f)\]]*\s*$")
_PROSE_MIN_TOKENS = 25


def _prose_tokens(text: str) -> list[str]:
    """Tokens of the lines that read as prose, leaving out headlines, bylines, datelines on
    their own line, captions without a full stop and leftovers such as "Advertisement" or
    "Read more: ...", which differ between the copies of one wire story. The whole text
    when less than half of it is prose (lists, results tables, scripts without full stops)."""
    all_tokens: list[str] = []
    prose: list[str] = []
    for line in unicodedata.normalize("NFKC", text).splitlines():
        tokens = _words(line)
        all_tokens += tokens
        if len(tokens) >= _PROSE_MIN_TOKENS or _SENTENCE_END.search(line):
            prose += tokens
    return prose if 2 * len(prose) >= len(all_tokens) else all_tokens


def _shingle_hashes(text: str) -> set[int]:
    tokens = _prose_tokens(text)
    if not tokens:
        return set()
    chars = sum(1 for t in tokens if len(t) == 1 and _NO_SPACE_CHAR.match(t))
    n = CHAR_SHINGLE if chars * 2 > len(tokens) else WORD_SHINGLE
    shingles = {" ".join(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))}
    return {
        int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8, key=_HASH_KEY)
                       .digest(), "little")
        for s in shingles
    }


def simhash(text: str) -> int:
    """64-bit unsigned near-duplicate fingerprint of `text`: Hamming distance between two
    fingerprints estimates 32 * (1 - J), J the Jaccard similarity of the texts' shingle sets
    (word 3-shingles of `normalized_tokens`; character 4-grams for Chinese, Japanese, Thai...).

    Only lines that read as prose count (ending like a sentence, or 25 words and more) when
    they make up at least half the text: a changed headline, byline or "Advertisement" line
    does not move the fingerprint. Bit i is one bit of the smallest shingle hash among the
    shingles hashed into bin i (one permutation hashing); an empty bin borrows from the next
    non-empty one (densification), which matters only for texts of a few dozen words.
    Stable across processes and machines (keyed BLAKE2b, never Python's hash()). A text
    without words gives 0.
    """
    mins = [_EMPTY] * _BITS
    for h in _shingle_hashes(text):
        b, v = h >> _BIN_SHIFT, h & _VALUE_MASK
        if v < mins[b]:
            mins[b] = v
    if all(m == _EMPTY for m in mins):
        return 0
    fingerprint = 0
    for i in range(_BITS):
        step = 0
        while mins[(i + step) % _BITS] == _EMPTY:
            step += 1
        bit = _mix64(mins[(i + step) % _BITS] + step * 0x9E3779B97F4A7C15) & 1
        fingerprint |= bit << i
    return fingerprint


def _as_unsigned(x: int) -> int:
    if not -(1 << 63) <= x <= _MASK64:
        raise ValueError(f"not a 64-bit value: {x}")
    return x & _MASK64


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two 64-bit fingerprints (signed or unsigned form)."""
    return (_as_unsigned(a) ^ _as_unsigned(b)).bit_count()


def is_near_duplicate(a: int, b: int, max_distance: int = 3) -> bool:
    """True when fingerprints `a` and `b` are at most `max_distance` bits apart."""
    return hamming(a, b) <= max_distance


def to_signed64(x: int) -> int:
    """An unsigned 64-bit value as the signed integer with the same bits (for a BIGINT)."""
    if not 0 <= x <= _MASK64:
        raise ValueError(f"not an unsigned 64-bit value: {x}")
    return x - (1 << 64) if x >> 63 else x


def from_signed64(x: int) -> int:
    """The inverse of `to_signed64`."""
    if not -(1 << 63) <= x < (1 << 63):
        raise ValueError(f"not a signed 64-bit value: {x}")
    return x & _MASK64


def simhash_bands(h: int, bands: int = 4) -> tuple[int, ...]:
    """Split a fingerprint into `bands` disjoint bit ranges, each tagged with its index
    (`index << width | value`, width = ceil(64 / bands); 16-bit chunks for 4 bands), so that
    all bands of all articles can share one indexed column: each tag fits a signed 32-bit
    INTEGER. By pigeonhole, fingerprints fewer than `bands` bits apart share at least one tag:
    look candidates up by equality on the tags, then confirm with `hamming`.
    `bands` must be between 3 and 64."""
    h = _as_unsigned(h)
    widths = _band_widths(bands)
    shift = widths[0]
    tags = []
    pos = 0
    for i, w in enumerate(widths):
        tags.append(i << shift | (h >> pos) & ((1 << w) - 1))
        pos += w
    return tuple(tags)


def _band_widths(bands: int) -> list[int]:
    if not 3 <= bands <= _BITS:
        raise ValueError(f"bands must be between 3 and 64, not {bands}")
    width, extra = divmod(_BITS, bands)
    return [width + (1 if i < extra else 0) for i in range(bands)]


def simhash_probes(h: int, max_distance: int, bands: int = 4) -> tuple[int, ...]:
    """Band tags to look up so that *every* fingerprint stored with `simhash_bands(_, bands)`
    within `max_distance` bits of `h` shares at least one of them, also when `max_distance`
    is not below `bands` (multi-index hashing, Norouzi et al. 2012). Fingerprints that far
    apart have some band within r = max_distance // bands bits, so each band contributes its
    own tag and those of all values within r bits: 4 tags for r = 0 (the same as
    `simhash_bands`), 68 for r = 1 (max_distance 4-7 with 4 bands), 548 for r = 2."""
    if max_distance < 0:
        raise ValueError(f"max_distance must not be negative, not {max_distance}")
    radius = max_distance // bands
    probes: list[int] = []
    for tag, width in zip(simhash_bands(h, bands), _band_widths(bands), strict=True):
        for r in range(min(radius, width) + 1):
            for positions in itertools.combinations(range(width), r):
                probes.append(tag ^ sum(1 << p for p in positions))
    return tuple(probes)
