"""The source catalogue: bundled data, validation rules, URL matching, OPML, generated docs."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from babelwire.catalog import (
    Catalog,
    CatalogError,
    SourceSpec,
    catalog_from_specs,
    country_toml,
    from_opml,
    load_catalog,
    to_opml,
    validate_catalog,
)
from babelwire.catalog.docs import sources_markdown
from babelwire.catalog.loader import DATA_DIR, SOURCE_SCHEMA

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# --------------------------------------------------------------------------- bundled data


def test_bundled_catalogue_is_valid() -> None:
    assert validate_catalog() == []


def test_bundled_catalogue_size() -> None:
    catalog = load_catalog()
    assert len(catalog.countries()) >= 40
    assert len(catalog) >= 220
    assert len({spec.id for spec in catalog}) == len(catalog)


def test_bundled_catalogue_is_loaded_once() -> None:
    assert load_catalog() is load_catalog()


@pytest.mark.parametrize(
    ("country", "ids"),
    [
        (
            "RU",
            [
                "moscow-times",
                "meduza",
                "meduza-en",
                "novaya-gazeta-europe",
                "tass",
                "ria-novosti",
                "kommersant",
                "interfax",
            ],
        ),
        ("UA", ["kyiv-independent", "ukrainska-pravda", "ukrinform", "kyiv-post", "suspilne"]),
        ("ES", ["vilaweb", "ara", "el-periodico", "el-pais"]),
        ("QA", ["al-jazeera"]),
    ],
)
def test_expected_publishers_are_present(country: str, ids: list[str]) -> None:
    catalog = load_catalog()
    in_country = {spec.id for spec in catalog.by_country(country)}
    for source_id in ids:
        spec = catalog.get(source_id)
        assert spec is not None, source_id
        assert spec.country == country
        assert source_id in in_country
        assert spec.feeds or spec.sitemaps


def test_moscow_times_entry() -> None:
    spec = load_catalog().get("moscow-times")
    assert spec is not None
    assert spec.homepage == "https://www.themoscowtimes.com/"
    assert spec.languages == ("en",)
    assert "https://www.themoscowtimes.com/rss/news" in spec.feeds
    assert spec.policy == "full_text"


def test_wire_agencies_are_excerpt_only() -> None:
    catalog = load_catalog()
    for source_id in ("ap-news", "reuters", "tass", "interfax", "ria-novosti", "ansa"):
        spec = catalog.get(source_id)
        assert spec is not None, source_id
        assert spec.policy == "excerpt", source_id


def test_every_data_file_is_named_after_its_country() -> None:
    for path in sorted(DATA_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data["country"] == path.stem.upper()
        assert data["source"], path.name


def test_bundled_match_examples() -> None:
    catalog = load_catalog()
    cases = {
        "https://www.themoscowtimes.com/2024/03/01/some-story-a12345": "moscow-times",
        "https://meduza.io/en/feature/2024/01/01/story": "meduza-en",
        "https://meduza.io/feature/2024/01/01/story": "meduza",
        "https://www.bbc.com/russian/articles/c1234": "bbc-russian",
        "https://www.bbc.co.uk/news/world-europe-1": "bbc",
        "https://www.bbc.com/news/world-europe-1": "bbc",
        "https://de.euronews.com/2024/01/01/x": "euronews-de",
        "https://www.euronews.com/2024/01/01/x": "euronews",
        "https://kyivindependent.com/some-story/": "kyiv-independent",
    }
    for url, expected in cases.items():
        spec = catalog.match(url)
        assert spec is not None, url
        assert spec.id == expected, url
    assert catalog.match("https://example.org/news/1") is None


def test_fundus_publishers_are_mapped_to_iso_countries() -> None:
    """The catalogue's publishers taken from the fundus list keep its (mapped) country."""
    path = SHARED_DATA / "news-feeds" / "fundus-publisher-feed-urls.derived.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    catalog = load_catalog()
    mapped = {"uk": "GB", "ind": "IN", "isl": "IS"}
    checked = 0
    for entry in json.loads(path.read_text(encoding="utf-8")):
        for url in entry["rss_feeds"] + entry["news_sitemaps"]:
            owner = next((s for s in catalog if url in s.feeds or url in s.sitemaps), None)
            if owner is None or owner.id.startswith("euronews"):
                continue  # left out, or deliberately re-homed (Euronews is based in France)
            group = entry["country_group"]
            if owner.id != "reuters":
                assert owner.country == mapped.get(group, group.upper()), owner.id
            checked += 1
    assert checked >= 150


# --------------------------------------------------------------------------- validation

GOOD_SOURCE = """
[[source]]
id = "{id}"
name = "Example News"
homepage = "https://www.example.com/"
languages = ["ru"]
feeds = ["https://www.example.com/{id}/rss"]
"""


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def _ru(source: str) -> dict[str, str]:
    return {"ru.toml": 'country = "RU"\n' + source}


def _replace_line(key: str, line: str | None) -> str:
    lines = GOOD_SOURCE.format(id="example").splitlines()
    out = [ln for ln in lines if not ln.startswith(f"{key} =")]
    if line is not None:
        out.append(line)
    return "\n".join(out) + "\n"


BAD_CATALOGUES: dict[str, tuple[dict[str, str], str]] = {
    "toml syntax": (_ru("[[source]]\nid = \n"), "cannot be read as TOML"),
    "unknown key": (_ru(_replace_line("feeds", 'feed = ["https://a.example/rss"]')), "'feed'"),
    "wrong type": (_ru(_replace_line("languages", 'languages = "ru"')), "must be a list"),
    "wrong item type": (_ru(_replace_line("languages", "languages = [1]")), "must be a string"),
    "missing name": (_ru(_replace_line("name", None)), "missing required key 'name'"),
    "empty name": (_ru(_replace_line("name", 'name = "  "')), "'name' must not be empty"),
    "opt_out not bool": (_ru(_replace_line("opt_out", 'opt_out = "yes"')), "true or false"),
    "id not a slug": (_ru(_replace_line("id", 'id = "Example_News"')), "must be a slug"),
    "id double hyphen": (_ru(_replace_line("id", 'id = "example--news"')), "must be a slug"),
    "duplicate id": (
        {
            "ru.toml": 'country = "RU"\n' + GOOD_SOURCE.format(id="dup"),
            "ua.toml": 'country = "UA"\n'
            + GOOD_SOURCE.format(id="dup").replace("/dup/rss", "/other/rss"),
        },
        "'dup' is used twice",
    ),
    "country differs from file name": (
        {"ru.toml": 'country = "UA"\n' + GOOD_SOURCE.format(id="x")},
        "does not match the file name",
    ),
    "not an ISO country": (
        {"uk.toml": 'country = "UK"\n' + GOOD_SOURCE.format(id="x")},
        "not an ISO 3166-1 alpha-2 code",
    ),
    "lower-case country": (
        {"ru.toml": 'country = "ru"\n' + GOOD_SOURCE.format(id="x")},
        "not an ISO 3166-1 alpha-2 code",
    ),
    "file name not a country": (
        {"russia.toml": 'country = "RU"\n' + GOOD_SOURCE.format(id="x")},
        "file name must be a lower-case ISO 3166-1",
    ),
    "source country differs": (
        _ru(_replace_line("country", 'country = "UA"')),
        "differs from the file's country",
    ),
    "language not BCP 47": (
        _ru(_replace_line("languages", 'languages = ["english"]')),
        "not a well-formed BCP 47",
    ),
    "language unknown": (
        _ru(_replace_line("languages", 'languages = ["xx"]')),
        "not an ISO 639-1 language code",
    ),
    "language bad case": (
        _ru(_replace_line("languages", 'languages = ["pt-br"]')),
        "should be written 'pt-BR'",
    ),
    "language bad region": (
        _ru(_replace_line("languages", 'languages = ["en-UK"]')),
        "region 'UK' is not an ISO 3166-1 code",
    ),
    "no languages": (_ru(_replace_line("languages", "languages = []")), "at least one BCP 47"),
    "homepage not https": (
        _ru(_replace_line("homepage", 'homepage = "http://www.example.com/"')),
        "must be an https URL",
    ),
    "feed not http": (
        _ru(_replace_line("feeds", 'feeds = ["ftp://example.com/rss"]')),
        "must be an http or https URL",
    ),
    "feed without host": (_ru(_replace_line("feeds", 'feeds = ["https:///rss"]')), "has no host"),
    "sitemap with space": (
        _ru(_replace_line("feeds", 'sitemaps = ["https://example.com/news map.xml"]')),
        "white space",
    ),
    "bad logo": (_ru(_replace_line("logo", 'logo = "logo.png"')), "logo 'logo.png'"),
    "bad policy": (_ru(_replace_line("policy", 'policy = "paywalled"')), "'policy' must be one"),
    "no feed or sitemap": (_ru(_replace_line("feeds", None)), "at least one feed or sitemap"),
    "feed twice in a source": (
        _ru(_replace_line("feeds", 'feeds = ["https://a.example/rss", "https://a.example/rss"]')),
        "listed twice",
    ),
    "duplicate feed across sources": (
        _ru(
            GOOD_SOURCE.format(id="one")
            + GOOD_SOURCE.format(id="two")
            .replace("/two/rss", "/one/rss")
            .replace("www.example.com/", "www.example.net/", 1)
        ),
        "listed by both 'one' and 'two'",
    ),
    "same homepage twice": (
        _ru(GOOD_SOURCE.format(id="one") + GOOD_SOURCE.format(id="two")),
        "both claim example.com/",
    ),
    "bad alias": (_ru(_replace_line("aliases", 'aliases = ["not a host"]')), "alias 'not a host'"),
    "no source table": ({"ru.toml": 'country = "RU"\n'}, "missing required key 'source'"),
    "unknown file key": (
        {"ru.toml": 'country = "RU"\nlanguage = "ru"\n' + GOOD_SOURCE.format(id="x")},
        "unknown key 'language'",
    ),
}


def test_the_good_example_is_valid(tmp_path: Path) -> None:
    directory = _write(tmp_path, _ru(GOOD_SOURCE.format(id="example")))
    assert validate_catalog(directory) == []
    assert [s.id for s in load_catalog(directory)] == ["example"]


@pytest.mark.parametrize("case", sorted(BAD_CATALOGUES))
def test_each_rule_rejects_a_bad_file(tmp_path: Path, case: str) -> None:
    files, expected = BAD_CATALOGUES[case]
    directory = _write(tmp_path, files)
    problems = validate_catalog(directory)
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(CatalogError) as raised:
        load_catalog(directory)
    assert raised.value.problems == tuple(problems)


def test_local_demo_homepages_may_be_plain_http(tmp_path: Path) -> None:
    source = _replace_line("homepage", 'homepage = "http://127.0.0.1:8765/example/"')
    assert validate_catalog(_write(tmp_path, _ru(source))) == []


def test_empty_or_missing_directory_is_a_problem(tmp_path: Path) -> None:
    assert validate_catalog(tmp_path) != []
    assert validate_catalog(tmp_path / "absent") != []


def test_schema_is_data() -> None:
    assert SOURCE_SCHEMA["id"].required and SOURCE_SCHEMA["id"].kind is str
    assert not SOURCE_SCHEMA["logo"].required
    assert set(SOURCE_SCHEMA["policy"].choices) == {"full_text", "excerpt"}


# --------------------------------------------------------------------------- catalogue object


def _spec(source_id: str, homepage: str, **changes: object) -> SourceSpec:
    base = SourceSpec(
        id=source_id,
        name=source_id.title(),
        homepage=homepage,
        country="RU",
        languages=("ru",),
        feeds=(homepage.rstrip("/") + "/rss",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def catalog() -> Catalog:
    port = 8765
    return catalog_from_specs(
        [
            _spec("example", "https://www.example.com/", aliases=("example-cdn.net",)),
            _spec("example-sport", "https://sport.example.com/"),
            _spec("meduza", "https://meduza.io/"),
            _spec("meduza-en", "https://meduza.io/en/", languages=("en",)),
            _spec("site-a", f"http://127.0.0.1:{port}/site-a/", country="UA"),
            _spec("site-b", f"http://127.0.0.1:{port}/site-b/", opt_out=True),
            _spec("bbc", "https://www.bbc.co.uk/", country="GB", aliases=("bbc.com",)),
            _spec("bbc-russian", "https://www.bbc.com/russian", country="GB"),
            _spec(
                "mirror", "https://mirror.example.org/", aliases=("https://www.example.net/ru/",)
            ),
        ]
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/news/1", "example"),
        ("https://example.com/news/1", "example"),
        ("HTTPS://WWW.EXAMPLE.COM./news/1", "example"),
        ("https://deep.news.example.com/x", "example"),
        ("https://sport.example.com/football/1", "example-sport"),
        ("https://live.sport.example.com/x", "example-sport"),
        ("https://img.example-cdn.net/a.jpg", "example"),
        ("https://meduza.io/en/news/2024/01/01/x", "meduza-en"),
        ("https://meduza.io/en", "meduza-en"),
        ("https://meduza.io/english-learning", "meduza"),
        ("https://meduza.io/news/2024/01/01/x", "meduza"),
        ("http://127.0.0.1:8765/site-a/2024/story.html", "site-a"),
        ("http://127.0.0.1:8765/site-b/2024/story.html", "site-b"),
        ("http://127.0.0.1:8765/site-c/2024/story.html", None),
        ("http://127.0.0.1:8765/", None),
        ("http://127.0.0.1:9999/site-a/2024/story.html", None),
        ("https://www.bbc.com/russian/articles/x", "bbc-russian"),
        ("https://www.bbc.com/news/x", "bbc"),
        ("https://www.bbc.co.uk/russian/x", "bbc"),
        ("https://www.example.net/ru/story", "mirror"),
        ("https://www.example.net/en/story", None),
        ("https://notexample.com/x", None),
        ("https://example.com.evil.org/x", None),
        ("https://unknown.org/", None),
        ("not a url", None),
        ("http://[::1/broken", None),
        ("", None),
    ],
)
def test_match(catalog: Catalog, url: str, expected: str | None) -> None:
    spec = catalog.match(url)
    assert (spec.id if spec else None) == expected


def test_lookups(catalog: Catalog) -> None:
    example = catalog.get("example")
    assert example is not None and example.name == "Example"
    assert catalog.get("nope") is None
    assert [s.id for s in catalog.by_country("gb")] == ["bbc", "bbc-russian"]
    assert catalog.by_country("FR") == ()
    assert len(catalog) == 9
    assert [s.id for s in catalog][:2] == ["example", "example-sport"]
    assert catalog.sources == tuple(catalog)


def test_countries_skip_opted_out_sources() -> None:
    only_opted_out = _spec("b", "https://b.example/", country="UA", opt_out=True)
    catalog = catalog_from_specs([_spec("a", "https://a.example/"), only_opted_out])
    assert catalog.countries() == ("RU",)
    assert catalog.by_country("UA") == (only_opted_out,)
    assert catalog.match("https://b.example/x") == only_opted_out


def test_catalog_is_immutable(catalog: Catalog) -> None:
    with pytest.raises(AttributeError):
        catalog.sources = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        catalog._sources = ()


def test_catalog_from_specs_rejects_duplicate_ids() -> None:
    with pytest.raises(CatalogError, match="'a'"):
        catalog_from_specs([_spec("a", "https://a.example/"), _spec("a", "https://b.example/")])


# --------------------------------------------------------------------------- OPML


def test_opml_round_trip_of_the_bundled_catalogue() -> None:
    sources = load_catalog().sources
    back = from_opml(to_opml(sources))
    assert sorted(s.id for s in back) == sorted(s.id for s in sources)
    by_id = {s.id: s for s in back}
    for spec in sources:
        assert by_id[spec.id].feeds == spec.feeds
        assert by_id[spec.id] == spec  # every field survives


def test_opml_round_trip_of_every_field() -> None:
    odd = SourceSpec(
        id="odd",
        name='Mail & "Guardian" <Test>',
        homepage="https://odd.example/en/",
        country="ZA",
        languages=("en", "zu"),
        sitemaps=("https://odd.example/news.xml?a=1&b=2",),
        logo="https://odd.example/logo.png",
        policy="excerpt",
        opt_out=True,
        aliases=("odd-cdn.example", "https://mirror.example/odd/"),
    )
    text = to_opml([odd])
    assert 'type="link"' in text and "xmlUrl" not in text
    assert from_opml(text.encode("utf-8")) == [odd]


MINIFLUX_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Miniflux</title><dateCreated>Tue, 02 Jan 2024 10:00:00 UTC</dateCreated></head>
  <body>
    <outline text="RU">
      <outline title="The Moscow Times - News" text="The Moscow Times - News"
        xmlUrl="https://www.themoscowtimes.com/rss/news" htmlUrl="https://www.themoscowtimes.com/"/>
      <outline title="The Moscow Times - Opinion" text="The Moscow Times - Opinion"
        xmlUrl="https://www.themoscowtimes.com/rss/opinion"
        htmlUrl="https://www.themoscowtimes.com/opinion"/>
      <outline text="Regional">
        <outline title="Fontanka" text="Fontanka" type="rss"
          xmlUrl="https://www.fontanka.ru/fontanka.rss" htmlUrl="https://www.fontanka.ru/"/>
      </outline>
    </outline>
    <outline text="Tech" title="Tech">
      <outline title="Heise" text="Heise" type="rss" language="de"
        xmlUrl="https://www.heise.de/rss/heise.rdf" htmlUrl="https://www.heise.de/"/>
      <outline title="No homepage" text="No homepage" type="rss"
        xmlUrl="https://feeds.example.org/all.xml"/>
    </outline>
  </body>
</opml>
"""


def test_foreign_opml_groups_feeds_by_host() -> None:
    specs = from_opml(MINIFLUX_EXPORT, default_country="de")
    by_id = {s.id: s for s in specs}
    assert list(by_id) == ["themoscowtimes-com", "fontanka-ru", "heise-de", "feeds-example-org"]
    moscow = by_id["themoscowtimes-com"]
    assert moscow.country == "RU"
    assert moscow.feeds == (
        "https://www.themoscowtimes.com/rss/news",
        "https://www.themoscowtimes.com/rss/opinion",
    )
    assert moscow.homepage == "https://www.themoscowtimes.com/"
    assert moscow.name == "The Moscow Times - News"
    assert by_id["fontanka-ru"].country == "RU"  # from the enclosing country category
    assert by_id["heise-de"].country == "DE"  # "Tech" is no country: the default applies
    assert by_id["heise-de"].languages == ("de",)
    assert by_id["feeds-example-org"].homepage == "https://feeds.example.org/all.xml"
    catalog = catalog_from_specs(specs)
    assert catalog.match("https://www.themoscowtimes.com/2024/01/01/x") == moscow


def test_foreign_opml_without_country_is_an_error() -> None:
    with pytest.raises(CatalogError, match=r"Heise.*default_country"):
        from_opml(MINIFLUX_EXPORT)


def test_foreign_opml_derived_ids_do_not_collide() -> None:
    text = to_opml([_spec("example-com", "https://other.example/")]).replace(
        "</body>",
        '<outline text="RU"><outline xmlUrl="https://example.com/rss" '
        'htmlUrl="https://example.com/"/></outline></body>',
    )
    assert [s.id for s in from_opml(text)] == ["example-com", "example-com-2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<rss/>", "not an OPML document"),
        ('<opml version="2.0"><head/></opml>', "no <body>"),
        ("<opml", "not well-formed"),
        (
            '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><opml><body>&b;</body></opml>',
            "unsafe",
        ),
        (
            '<opml version="2.0"><body><outline text="RU">'
            '<outline xmlUrl="ftp://example.com/feed"/></outline></body></opml>',
            "not an http(s) URL",
        ),
        (
            '<opml version="2.0" xmlns:babelwire="urn:babelwire:opml"><body>'
            '<outline xmlUrl="https://example.com/feed" babelwire:country="XX"/></body></opml>',
            "'XX' is not an ISO 3166-1",
        ),
    ],
)
def test_bad_opml_is_refused(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(message)):
        from_opml(text, default_country="RU")


# --------------------------------------------------------------------------- writer, docs


def test_country_toml_writes_what_the_loader_reads(tmp_path: Path) -> None:
    catalog = load_catalog()
    for country in ("RU", "GB"):
        (tmp_path / f"{country.lower()}.toml").write_text(
            country_toml(country, catalog.by_country(country)), encoding="utf-8"
        )
    assert validate_catalog(tmp_path) == []
    reloaded = load_catalog(tmp_path)
    expected = catalog.by_country("RU") + catalog.by_country("GB")
    assert sorted(reloaded, key=lambda s: s.id) == sorted(expected, key=lambda s: s.id)


def test_country_toml_refuses_a_foreign_source() -> None:
    with pytest.raises(CatalogError):
        country_toml("UA", [_spec("a", "https://a.example/")])


def test_docs_sources_md_is_not_stale() -> None:
    committed = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    assert committed == sources_markdown(load_catalog()), (
        "docs/sources.md is stale: run python -m babelwire.catalog.docs docs/sources.md"
    )


def test_docs_list_every_source() -> None:
    text = sources_markdown()
    catalog = load_catalog()
    for spec in catalog:
        assert f"`{spec.id}`" in text
    for country in catalog.countries():
        assert f"\n## {country}\n" in text


def test_docs_reflect_the_catalogue_given() -> None:
    text = sources_markdown(
        catalog_from_specs([_spec("solo", "https://solo.example/", name="Solo | News")])
    )
    assert "1 publishers in 1 countries" in text
    assert "Solo \\| News" in text
