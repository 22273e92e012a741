"""Load, validate and query the source catalogue: one TOML file per country in ``data/``.

A file ``ru.toml`` holds ``country = "RU"`` and one ``[[source]]`` table per publisher.
``validate_catalog`` lists every problem in human words; ``load_catalog`` refuses a catalogue
with problems and returns an immutable ``Catalog`` whose ``match`` maps any URL to its
publisher with a few dict look-ups.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn
from urllib.parse import SplitResult, urlsplit

from babelwire.catalog.model import SourceSpec

__all__ = [
    "DATA_DIR",
    "FILE_SCHEMA",
    "SOURCE_SCHEMA",
    "Catalog",
    "CatalogError",
    "catalog_from_specs",
    "load_catalog",
    "source_problems",
    "validate_catalog",
]

DATA_DIR = Path(__file__).resolve().with_name("data")

# ISO 3166-1 alpha-2, officially assigned codes (note: "UK" is not one; Great Britain is "GB").
_ISO_3166_1_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_3166_1 = frozenset(_ISO_3166_1_CODES.split())

# ISO 639-1 two-letter language codes: the primary subtags the catalogue accepts.
_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
    ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw
    ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
    ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
    ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())

POLICIES = ("full_text", "excerpt")

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# BCP 47 language tag, the subset a news catalogue needs: language[-script][-region][-variant]*
_BCP47 = re.compile(
    r"(?P<language>[a-z]{2,3})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)",
    re.IGNORECASE,
)
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CatalogError(ValueError):
    """The catalogue (or an OPML file, or a set of specs) is not acceptable.

    ``problems`` holds one human-readable line per problem.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems)


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class FieldRule:
    """One key of a TOML table: its type, whether it must be there, and what a list holds."""

    kind: type
    required: bool = False
    item: type | None = None  # element type when kind is list
    choices: tuple[str, ...] = ()
    help: str = ""


FILE_SCHEMA: Mapping[str, FieldRule] = MappingProxyType(
    {
        "country": FieldRule(str, required=True, help="ISO 3166-1 alpha-2, upper case"),
        "source": FieldRule(list, required=True, item=dict, help="one table per publisher"),
    }
)

SOURCE_SCHEMA: Mapping[str, FieldRule] = MappingProxyType(
    {
        "id": FieldRule(str, required=True, help="slug, unique across the catalogue"),
        "name": FieldRule(str, required=True, help="the publisher's own name"),
        "homepage": FieldRule(
            str, required=True, help="https URL (http for loopback); a path narrows match()"
        ),
        "languages": FieldRule(list, required=True, item=str, help="BCP 47 tags"),
        "country": FieldRule(str, help="optional; must equal the file's country"),
        "feeds": FieldRule(list, item=str, help="RSS / Atom / JSON Feed URLs"),
        "sitemaps": FieldRule(list, item=str, help="Google News sitemap URLs"),
        "logo": FieldRule(str, help="URL of the publisher's logo"),
        "policy": FieldRule(str, choices=POLICIES, help="full_text (default) or excerpt"),
        "opt_out": FieldRule(bool, help="the publisher asked not to be collected"),
        "aliases": FieldRule(list, item=str, help="other hosts or URL prefixes"),
    }
)

_TYPE_NAMES = {str: "a string", bool: "true or false", list: "a list", dict: "a table"}


def _is_type(value: object, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    return isinstance(value, kind) and not isinstance(value, bool)


def _schema_problems(table: Mapping[str, Any], schema: Mapping[str, FieldRule]) -> list[str]:
    problems: list[str] = []
    for key in table:
        if key not in schema:
            known = ", ".join(schema)
            problems.append(f"unknown key {key!r} (known keys: {known})")
    for key, rule in schema.items():
        if key not in table:
            if rule.required:
                problems.append(f"missing required key {key!r} ({rule.help})")
            continue
        value = table[key]
        if not _is_type(value, rule.kind):
            problems.append(f"{key!r} must be {_TYPE_NAMES[rule.kind]}, not {value!r}")
            continue
        if rule.item is not None:
            for element in value:
                if not _is_type(element, rule.item):
                    what = _TYPE_NAMES[rule.item]
                    problems.append(f"every entry of {key!r} must be {what}, not {element!r}")
                    break
        if rule.kind is str and rule.required and not value.strip():
            problems.append(f"{key!r} must not be empty")
        if rule.choices and value not in rule.choices:
            problems.append(f"{key!r} must be one of {', '.join(rule.choices)}, not {value!r}")
    return problems


# --------------------------------------------------------------------------- value checks


def _url_problem(url: str, what: str, *, https_only: bool = False) -> str | None:
    schemes = ("https",) if https_only else ("http", "https")
    if url != url.strip() or any(ch.isspace() for ch in url):
        return f"{what} {url!r} contains white space"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"{what} {url!r} is not a valid URL ({exc})"
    if not parts.hostname:
        return f"{what} {url!r} has no host"
    if parts.scheme not in schemes and not (parts.scheme == "http" and _is_loopback(parts)):
        return f"{what} {url!r} must be an {' or '.join(schemes)} URL"
    return None


def _is_loopback(parts: SplitResult) -> bool:
    """A local server (the offline demo, tests): the one place a homepage may be plain http."""
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _language_problem(tag: str) -> str | None:
    found = _BCP47.fullmatch(tag)
    if found is None:
        return f"language {tag!r} is not a well-formed BCP 47 tag (like 'en' or 'pt-BR')"
    language = found["language"].lower()
    if language not in ISO_639_1:
        return f"language {tag!r}: {language!r} is not an ISO 639-1 language code"
    region = found["region"]
    if region and region.isalpha() and region.upper() not in ISO_3166_1:
        return f"language {tag!r}: region {region!r} is not an ISO 3166-1 code"
    canonical = language
    if found["script"]:
        canonical += "-" + found["script"].title()
    if region:
        canonical += "-" + region.upper()
    canonical += found["variants"].lower()
    if canonical != tag:
        return f"language {tag!r} should be written {canonical!r}"
    return None


def _alias_parts(alias: str) -> SplitResult | None:
    """Split an alias (a host name, host/path, or a full URL) into URL parts."""
    try:
        parts = urlsplit(alias if "://" in alias else "//" + alias)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if not parts.hostname or (parts.scheme and parts.scheme not in _DEFAULT_PORTS):
        return None
    return parts


def source_problems(spec: SourceSpec, *, https_homepage: bool = True) -> list[str]:
    """Problems of one source on its own (no cross-source checks), as readable lines."""
    problems: list[str] = []
    if not _SLUG.fullmatch(spec.id):
        problems.append(
            f"id {spec.id!r} must be a slug: lower-case letters, digits and single hyphens"
        )
    if not spec.name.strip():
        problems.append("name must not be empty")
    problem = _url_problem(spec.homepage, "homepage", https_only=https_homepage)
    if problem:
        problems.append(problem)
    if spec.country not in ISO_3166_1:
        problems.append(
            f"country {spec.country!r} is not an ISO 3166-1 alpha-2 code (upper case, e.g. 'GB')"
        )
    if not spec.languages:
        problems.append("languages must list at least one BCP 47 tag")
    for tag in spec.languages:
        problem = _language_problem(tag)
        if problem:
            problems.append(problem)
    if not spec.feeds and not spec.sitemaps:
        problems.append("needs at least one feed or sitemap")
    for what, urls in (("feed", spec.feeds), ("sitemap", spec.sitemaps)):
        seen: set[str] = set()
        for url in urls:
            problem = _url_problem(url, what)
            if problem:
                problems.append(problem)
            if url in seen:
                problems.append(f"{what} {url!r} is listed twice")
            seen.add(url)
    if spec.logo is not None:
        problem = _url_problem(spec.logo, "logo")
        if problem:
            problems.append(problem)
    if spec.policy not in POLICIES:
        problems.append(f"policy must be one of {', '.join(POLICIES)}, not {spec.policy!r}")
    for alias in spec.aliases:
        parts = _alias_parts(alias)
        if parts is None or not _HOST.fullmatch(parts.hostname or ""):
            problems.append(f"alias {alias!r} must be a host name, host/path or http(s) URL")
    return problems


def _claims(spec: SourceSpec) -> list[tuple[str, _Claim]]:
    """The (host, claim) pairs by which URLs are attributed to ``spec``."""
    out: list[tuple[str, _Claim]] = []
    for text in (spec.homepage, *spec.aliases):
        parts = _alias_parts(text)
        if parts is None or not parts.hostname:
            continue
        host = _bare_host(parts.hostname)
        out.append((host, _Claim(parts.path.rstrip("/"), parts.port, spec)))
    return out


def _cross_problems(specs: Iterable[SourceSpec]) -> list[str]:
    problems: list[str] = []
    ids: dict[str, SourceSpec] = {}
    urls: dict[str, str] = {}
    claims: dict[tuple[str, str, int | None], str] = {}
    for spec in specs:
        if spec.id in ids:
            first = ids[spec.id]
            problems.append(
                f"id {spec.id!r} is used twice ({first.country} {first.name!r} and "
                f"{spec.country} {spec.name!r})"
            )
        else:
            ids[spec.id] = spec
        for url in dict.fromkeys((*spec.feeds, *spec.sitemaps)):
            owner = urls.setdefault(url, spec.id)
            if owner != spec.id:
                problems.append(f"feed/sitemap {url!r} is listed by both {owner!r} and {spec.id!r}")
        for host, claim in _claims(spec):
            key = (host, claim.path, claim.port)
            owner = claims.setdefault(key, spec.id)
            if owner != spec.id:
                problems.append(
                    f"{owner!r} and {spec.id!r} both claim {host}{claim.path or '/'}: "
                    "URLs there could not be told apart"
                )
    return problems


# --------------------------------------------------------------------------- reading files


def _spec_from_table(table: Mapping[str, Any], country: str) -> SourceSpec:
    return SourceSpec(
        id=table["id"],
        name=table["name"],
        homepage=table["homepage"],
        country=country,
        languages=tuple(table["languages"]),
        feeds=tuple(table.get("feeds", ())),
        sitemaps=tuple(table.get("sitemaps", ())),
        logo=table.get("logo"),
        policy=table.get("policy", "full_text"),
        opt_out=table.get("opt_out", False),
        aliases=tuple(table.get("aliases", ())),
    )


def _read_file(path: Path) -> tuple[list[SourceSpec], list[str]]:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [], [f"{where}: cannot be read as TOML: {exc}"]
    problems = [f"{where}: {p}" for p in _schema_problems(data, FILE_SCHEMA)]
    expected = path.stem.upper()
    if not (len(path.stem) == 2 and path.stem.islower() and expected in ISO_3166_1):
        problems.append(
            f"{where}: the file name must be a lower-case ISO 3166-1 alpha-2 code, like ru.toml"
        )
    country = data.get("country")
    if isinstance(country, str):
        if country not in ISO_3166_1:
            problems.append(
                f"{where}: country {country!r} is not an ISO 3166-1 alpha-2 code "
                "(upper case; Great Britain is 'GB', not 'UK')"
            )
        elif country != expected:
            problems.append(
                f"{where}: country {country!r} does not match the file name (expected {expected!r})"
            )
    else:
        country = expected
    specs: list[SourceSpec] = []
    entries = data.get("source")
    if not isinstance(entries, list):
        return specs, problems
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            continue  # reported by the file schema
        label = f"{where}: source #{index}"
        if isinstance(entry.get("id"), str):
            label += f" ({entry['id']})"
        entry_problems = _schema_problems(entry, SOURCE_SCHEMA)
        if "country" in entry and entry["country"] != country:
            entry_problems.append(
                f"country {entry['country']!r} differs from the file's country {country!r}"
            )
        if entry_problems:
            problems.extend(f"{label}: {p}" for p in entry_problems)
            continue
        spec = _spec_from_table(entry, country)
        problems.extend(f"{label}: {p}" for p in source_problems(spec))
        specs.append(spec)
    return specs, problems


def _read_directory(directory: Path) -> tuple[list[SourceSpec], list[str]]:
    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    files = sorted(directory.glob("*.toml"))
    if not files:
        return [], [f"{directory}: holds no *.toml catalogue files"]
    specs: list[SourceSpec] = []
    problems: list[str] = []
    for path in files:
        file_specs, file_problems = _read_file(path)
        specs.extend(file_specs)
        problems.extend(file_problems)
    problems.extend(_cross_problems(specs))
    return specs, problems


def validate_catalog(directory: Path | None = None) -> list[str]:
    """Every problem of the catalogue in ``directory`` (default: the bundled one); [] if valid."""
    return _read_directory(Path(directory) if directory is not None else DATA_DIR)[1]


def _raise(message: str, problems: list[str]) -> NoReturn:
    listed = "\n".join(f"  - {p}" for p in problems[:50])
    more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
    raise CatalogError(f"{message}:\n{listed}{more}", problems)


def _load(directory: Path) -> Catalog:
    specs, problems = _read_directory(directory)
    if problems:
        _raise(f"the source catalogue in {directory} has {len(problems)} problem(s)", problems)
    return Catalog(specs)


@cache
def _bundled_catalog() -> Catalog:
    return _load(DATA_DIR)


def load_catalog(directory: Path | None = None) -> Catalog:
    """The catalogue in ``directory``; the bundled one (loaded once, then cached) by default.

    Raises CatalogError listing every problem when the files are not valid.
    """
    if directory is None:
        return _bundled_catalog()
    return _load(Path(directory))


def catalog_from_specs(specs: Iterable[SourceSpec]) -> Catalog:
    """A catalogue of ready-made specs (the offline demo, tests); ids must be unique."""
    return Catalog(specs)


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True, slots=True)
class _Claim:
    """A source's claim on the URLs of one host: below ``path``, on ``port`` if given."""

    path: str  # "" for the whole host, else "/en" (no trailing slash)
    port: int | None
    spec: SourceSpec

    def accepts(self, path: str, port: int | None) -> bool:
        if self.port is not None and port != self.port:
            return False
        if not self.path:
            return True
        return path == self.path or path.startswith(self.path + "/")


def _bare_host(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _is_ip(host: str) -> bool:
    if ":" not in host and not host[-1:].isdigit():
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Catalog:
    """An immutable set of sources with look-ups by id, by country and by URL."""

    __slots__ = ("_by_country", "_by_host", "_by_id", "_sources")

    _sources: tuple[SourceSpec, ...]
    _by_id: Mapping[str, SourceSpec]
    _by_country: Mapping[str, tuple[SourceSpec, ...]]
    _by_host: dict[str, tuple[_Claim, ...]]

    def __init__(self, sources: Iterable[SourceSpec]) -> None:
        specs = tuple(sources)
        by_id: dict[str, SourceSpec] = {}
        duplicates: list[str] = []
        for spec in specs:
            if spec.id in by_id:
                duplicates.append(f"id {spec.id!r} is used by more than one source")
            by_id.setdefault(spec.id, spec)
        if duplicates:
            _raise("source ids must be unique", sorted(set(duplicates)))
        by_country: dict[str, list[SourceSpec]] = {}
        by_host: dict[str, list[_Claim]] = {}
        for spec in specs:
            by_country.setdefault(spec.country.upper(), []).append(spec)
            for host, claim in _claims(spec):
                by_host.setdefault(host, []).append(claim)
        object.__setattr__(self, "_sources", specs)
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))
        object.__setattr__(
            self, "_by_country", MappingProxyType({k: tuple(v) for k, v in by_country.items()})
        )
        # A plain dict (never handed out): match() runs for every WARC record. Within a host
        # the longest path prefix is tried first (stable for equal lengths).
        object.__setattr__(
            self,
            "_by_host",
            {
                host: tuple(sorted(claims, key=lambda c: len(c.path), reverse=True))
                for host, claims in by_host.items()
            },
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Catalog is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Catalog is immutable")

    @property
    def sources(self) -> tuple[SourceSpec, ...]:
        """All sources, opted-out ones included, in catalogue order."""
        return self._sources

    def get(self, source_id: str) -> SourceSpec | None:
        return self._by_id.get(source_id)

    def by_country(self, country: str) -> tuple[SourceSpec, ...]:
        """The sources of one country (any case), opted-out ones included."""
        return self._by_country.get(country.upper(), ())

    def countries(self) -> tuple[str, ...]:
        """Sorted ISO codes of the countries that have at least one source not opted out."""
        return tuple(sorted({s.country.upper() for s in self._sources if not s.opt_out}))

    def match(self, url: str) -> SourceSpec | None:
        """The publisher ``url`` belongs to, or None.

        A source claims its homepage host and every subdomain ("www." ignored), and the same
        for each alias; a homepage or alias with a path (``http://127.0.0.1:8000/site-a/``)
        claims only URLs below that path, and one with a port only that port. The most
        specific claim wins: the longest host, then the longest path. Opted-out sources are
        matched too: callers decide what to do with them.
        """
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
            port = parts.port
        except ValueError:
            return None
        if not hostname:
            return None
        if port is None:
            port = _DEFAULT_PORTS.get(parts.scheme)
        path = parts.path or "/"
        host = _bare_host(hostname)
        walk_parents = not _is_ip(host)
        while host:
            for claim in self._by_host.get(host, ()):
                if claim.accepts(path, port):
                    return claim.spec
            if not walk_parents:
                break
            _, _, host = host.partition(".")
        return None

    def __len__(self) -> int:
        return len(self._sources)

    def __iter__(self) -> Iterator[SourceSpec]:
        return iter(self._sources)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, SourceSpec) and self._by_id.get(item.id) == item

    def __repr__(self) -> str:
        return f"<Catalog: {len(self._sources)} sources, {len(self._by_country)} countries>"
