"""End-to-end tests of the reader's site in a real browser: `babelwire demo` (a real
subprocess: the bundled newsroom crawled and translated through the real pipeline) driven
by Playwright in Debian's headless Chromium. Also an accessibility check with axe-core
(npm, tests/browser/) and full-page screenshots of the main pages.

Needs: the `playwright` Python package, /usr/bin/chromium (Debian `chromium`), and for the
axe tests `npm ci --prefix tests/browser`. Each missing piece skips cleanly.
Screenshots go to screenshots/browser/ in the repository (git-ignored), or to
$BABELWIRE_SCREENSHOTS_DIR; their paths are printed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from babelwire.web.render import slugify
from tests.support.demo_server import DemoServer

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Page,
        ViewportSize,
        expect,
        sync_playwright,
    )
except ImportError:  # pragma: no cover - depends on the environment
    pytest.skip("playwright is not installed (pip install playwright)",
                allow_module_level=True)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - depends on the environment
    pytest.skip(f"{CHROMIUM} not found (Debian package `chromium`)", allow_module_level=True)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
AXE_JS = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
LOCALES = REPO / "babelwire" / "web" / "locales"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MOBILE: ViewportSize = {"width": 390, "height": 844}
TRANSLATED_FROM = ("es", "fr", "ca", "pt")  # originals Apertium translates into English


def say(capsys: pytest.CaptureFixture[str], *lines: str) -> None:
    """Print past pytest's capture (figures and paths the run is asked to show)."""
    with capsys.disabled():
        print()
        for line in lines:
            print(line)


def catalogue(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def catalogue_string(lang: str, msgid: str) -> str | None:
    """The catalogue's translation of `msgid` (None: no catalogue, or not translated)."""
    from babel.messages.pofile import read_po

    with catalogue(lang).open("rb") as fh:
        message = read_po(fh, locale=lang).get(msgid)
    if message is None or message.fuzzy or not message.string:
        return None
    return str(message.string)


def ws(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Story:
    """An article originally in another language, fully translated into English."""

    id: int
    language: str
    url: str
    title_en: str
    title_original: str
    blocks: list[dict[str, Any]]

    def path(self, lang: str = "en", view: str | None = None) -> str:
        title = self.title_original if lang == self.language else self.title_en
        return f"/{lang}/a/{self.id}-{slugify(title) or 'article'}" + (
            f"?view={view}" if view else "")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with DemoServer(tmp_path_factory.mktemp("demo")) as server:
        yield server


@pytest.fixture(scope="module")
def api(demo: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.base_url, timeout=10.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def story(api: httpx.Client) -> Story:
    items = api.get("/api/v1/articles", params={"lang": "en", "limit": 100}).json()["items"]
    for language in TRANSLATED_FROM:
        for it in items:
            if it["language"] != language:
                continue
            detail = api.get(f"/api/v1/articles/{it['id']}", params={"lang": "en"}).json()
            tr = detail["translation"]
            if tr and tr["scope"] == "full" and tr["current"] and detail["blocks"]:
                original = api.get(f"/api/v1/articles/{it['id']}",
                                   params={"lang": language}).json()
                return Story(id=it["id"], language=language, url=detail["url"],
                             title_en=detail["title"], title_original=original["title"],
                             blocks=detail["blocks"])
    pytest.fail(f"the demo has no article in {TRANSLATED_FROM} fully translated into English")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
    finally:
        pw.stop()


@pytest.fixture
def context(browser: Browser, demo: DemoServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=demo.base_url, locale="en-US", viewport=DESKTOP)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("BABELWIRE_SCREENSHOTS_DIR")
    path = Path(env) if env else REPO / "screenshots" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def choose(page: Page, testid: str, value: str) -> None:
    page.get_by_test_id(testid).select_option(value)


# --------------------------------------------------------------------------- 1 negotiation


@pytest.mark.parametrize(("locale", "expected"), [("de-DE", "de"), ("es-AR", "es"),
                                                  ("ja-JP", "en")])
def test_root_redirects_to_the_accept_language(browser: Browser, demo: DemoServer,
                                               locale: str, expected: str) -> None:
    ctx = browser.new_context(base_url=demo.base_url, locale=locale)
    try:
        page = ctx.new_page()
        page.goto("/")
        assert page.url == f"{demo.base_url}/{expected}/"
        assert html_lang(page) == expected
    finally:
        ctx.close()


def test_remembered_language_wins_over_accept_language(browser: Browser,
                                                       demo: DemoServer) -> None:
    ctx = browser.new_context(base_url=demo.base_url, locale="de-DE")
    try:
        ctx.add_cookies([{"name": "lang", "value": "fr", "url": demo.base_url}])
        page = ctx.new_page()
        page.goto("/")
        assert page.url == f"{demo.base_url}/fr/"
        assert html_lang(page) == "fr"
    finally:
        ctx.close()


# --------------------------------------------------------------------------- 2 language select


def test_language_select_switches_to_the_equivalent_page(page: Page, demo: DemoServer,
                                                         story: Story) -> None:
    page.goto(story.path("en"))
    lang_form_button = page.locator("form:has([data-testid=language-select]) "
                                    "button[type=submit]")
    expect(lang_form_button).to_be_hidden()  # enhance.js: the select submits itself
    title = page.get_by_test_id("article-title")
    expect(title).to_have_text(story.title_en)
    label_en = page.locator("label[for=language-select]").inner_text()

    choose(page, "language-select", story.language)
    expect(page).to_have_url(re.compile(rf"/{story.language}/a/{story.id}-[^/]*$"))
    assert html_lang(page) == story.language
    expect(title).to_have_text(story.title_original)
    assert ws(story.title_original) != ws(story.title_en)
    assert page.get_by_test_id("mt-notice").count() == 0  # the reader reads the original

    choose(page, "language-select", "de")
    expect(page).to_have_url(re.compile(rf"/de/a/{story.id}-[^/]*$"))
    assert html_lang(page) == "de"
    assert page.get_by_test_id("language-select").input_value() == "de"
    label_de = page.locator("label[for=language-select]").inner_text()
    if catalogue("de").exists():
        assert label_de != label_en
        expected_de = catalogue_string("de", "Select language")
        if expected_de:
            assert label_de.strip() == expected_de
    # The choice is remembered: the root now goes to German although the browser says en-US.
    page.goto("/")
    assert page.url == f"{demo.base_url}/de/"

    choose(page, "language-select", "en")
    expect(page).to_have_url(f"{demo.base_url}/en/")
    expect(page.get_by_test_id("language-select")).to_have_value("en")


# --------------------------------------------------------------------------- 3 country select


def test_country_select_lists_only_that_country(page: Page, demo: DemoServer,
                                                api: httpx.Client) -> None:
    countries = [c for c in api.get("/api/v1/countries").json() if c["articles"]]
    total = sum(c["articles"] for c in countries)
    assert len(countries) >= 2
    cc = min(countries, key=lambda c: (c["articles"], c["code"]))["code"]
    expected = {it["id"] for it in api.get("/api/v1/articles", params={
        "lang": "en", "country": cc, "limit": 30}).json()["items"]}

    page.goto("/en/")
    name = page.get_by_test_id("country-select").locator(f"option[value={cc}]").inner_text()
    choose(page, "country-select", cc)
    expect(page).to_have_url(f"{demo.base_url}/en/{cc}/")
    expect(page.get_by_test_id("country-select")).to_have_value(cc)
    items = page.get_by_test_id("all-news").get_by_test_id("news-item")
    metas = items.locator(".meta").all_inner_texts()
    assert 0 < len(metas) < total
    assert all(name.strip() in meta for meta in metas), metas
    hrefs = items.locator("a.headline").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    ids = {int(h.split("/")[3].split("-")[0]) for h in hrefs}
    assert all(h.startswith("/en/a/") for h in hrefs), hrefs
    assert ids == expected
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("country") == cc


# --------------------------------------------------------------------------- 4 article


def test_translated_article_shows_notice_original_and_similar(
        page: Page, demo: DemoServer, story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    page.goto(f"/en/a/{story.id}")  # redirects to the slugged URL
    assert page.url == demo.base_url + story.path("en")
    body = page.get_by_test_id("article-body")
    assert body.get_attribute("lang") == "en"
    expect(page.get_by_test_id("article-title")).to_have_attribute("lang", "en")
    first = next(b for b in story.blocks if b["text"].strip())
    expect(body).to_contain_text(ws(first["text"]))
    notice = page.get_by_test_id("mt-notice")
    expect(notice).to_be_visible()
    notice_text = notice.inner_text()
    assert "apertium" in notice_text.lower()
    link = page.get_by_test_id("original-link")
    href = link.get_attribute("href") or ""
    assert href == story.url
    assert href.startswith(demo.newsroom_url + "/")
    expect(link).to_be_visible()
    similar = page.get_by_test_id("similar-news").get_by_test_id("similar-item")
    n = similar.count()
    assert n >= 1
    assert f"/a/{story.id}-" not in " ".join(
        similar.locator("a.headline").evaluate_all("els => els.map(e => e.href)"))
    say(capsys, f"article {story.id} ({story.language} -> en): {n} similar items; "
                f"notice: {ws(notice_text)!r}")


# --------------------------------------------------------------------------- 5 views


def test_bilingual_and_original_views(page: Page, story: Story) -> None:
    page.goto(story.path("en"))
    page.get_by_test_id("show-bilingual").click()
    expect(page).to_have_url(re.compile(r"\?view=bilingual$"))
    first_pair = page.locator(".bilingual .pair").first
    translated = first_pair.locator(".side.translated")
    original = first_pair.locator(".side.original")
    expect(translated).to_be_visible()
    expect(original).to_be_visible()
    expect(translated).to_have_text(ws(story.blocks[0]["text"]))
    expect(original).to_have_text(ws(story.blocks[0]["original"]))
    assert original.get_attribute("lang") == story.language
    assert ws(story.blocks[0]["text"]) != ws(story.blocks[0]["original"])
    # Side by side: the two columns sit next to each other on a desktop screen.
    tbox, obox = translated.bounding_box(), original.bounding_box()
    assert tbox is not None and obox is not None
    assert tbox["x"] + tbox["width"] <= obox["x"]

    page.get_by_test_id("show-original").click()
    expect(page).to_have_url(re.compile(r"\?view=original$"))
    body = page.get_by_test_id("article-body")
    assert body.get_attribute("lang") == story.language
    expect(page.get_by_test_id("article-title")).to_have_text(story.title_original)
    expect(body.locator("p").first).to_have_text(ws(story.blocks[0]["original"]))


# --------------------------------------------------------------------------- 6 without JS


def test_selectors_work_without_javascript(browser: Browser, demo: DemoServer,
                                           story: Story) -> None:
    ctx = browser.new_context(base_url=demo.base_url, locale="en-US",
                              java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(story.path("en"))
        form = page.locator("form:has([data-testid=language-select])")
        button = form.locator("button[type=submit]")
        expect(button).to_be_visible()
        choose(page, "language-select", story.language)
        assert page.url == demo.base_url + story.path("en")  # nothing submits by itself
        button.click()
        expect(page).to_have_url(re.compile(rf"/{story.language}/a/{story.id}-[^/]*$"))
        assert html_lang(page) == story.language
        expect(page.get_by_test_id("article-title")).to_have_text(story.title_original)

        page.goto("/en/")
        cc_form = page.locator("form:has([data-testid=country-select])")
        cc = page.get_by_test_id("country-select").locator("option:not([value=''])").first \
            .get_attribute("value")
        assert cc
        choose(page, "country-select", cc)
        cc_form.locator("button[type=submit]").click()
        expect(page).to_have_url(f"{demo.base_url}/en/{cc}/")
    finally:
        ctx.close()


# --------------------------------------------------------------------------- 7 search


def search_word(story: Story) -> str:
    """The longest word of the English title that the original title does not contain."""
    original = story.title_original.lower()
    words = [w for w in re.findall(r"[^\W\d_]{4,}", story.title_en)
             if w.lower() not in original]
    assert words, (story.title_en, story.title_original)
    return max(words, key=len)


def test_search_finds_a_translated_title(page: Page, demo: DemoServer, story: Story) -> None:
    word = search_word(story)
    page.goto("/en/")
    page.locator("#q").fill(word)
    page.locator("#q").press("Enter")
    expect(page).to_have_url(re.compile(r"/en/search\?q="))
    results = page.get_by_test_id("search-results")
    expect(results).to_be_visible()
    hrefs = results.get_by_test_id("news-item").locator("a.headline").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))")
    assert story.path("en") in hrefs, (word, hrefs)


# --------------------------------------------------------------------------- 8 screenshots


def test_screenshots(browser: Browser, demo: DemoServer, story: Story, shots_dir: Path,
                     api: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    cc = api.get(f"/api/v1/articles/{story.id}").json()["country"]
    assert cc
    pages: list[tuple[str, str, ViewportSize]] = [
        ("front-en", "/en/", DESKTOP),
        ("front-de", "/de/", DESKTOP),
        (f"country-{cc}-en", f"/en/{cc}/", DESKTOP),
        ("article-en", story.path("en"), DESKTOP),
        ("article-en-bilingual", story.path("en", "bilingual"), DESKTOP),
        ("search-en", f"/en/search?q={search_word(story)}", DESKTOP),
        ("article-en-mobile", story.path("en"), MOBILE),
        ("article-en-bilingual-mobile", story.path("en", "bilingual"), MOBILE),
    ]
    saved = []
    for name, path, viewport in pages:
        ctx = browser.new_context(base_url=demo.base_url, locale="en-US", viewport=viewport,
                                  device_scale_factor=1)
        try:
            page = ctx.new_page()
            response = page.goto(path)
            assert response is not None and response.ok, (path, response)
            out = shots_dir / f"{name}-{viewport['width']}x{viewport['height']}.png"
            page.screenshot(path=str(out), full_page=True)
            assert out.stat().st_size > 1000
            saved.append(str(out))
        finally:
            ctx.close()
    say(capsys, "screenshots:", *saved)


# --------------------------------------------------------------------------- 9 first visit


def untranslated(api: httpx.Client, language: str, into: str) -> dict[str, Any]:
    """An article in `language` that nobody has asked to read in `into` yet (its status says
    so), and that an engine translates into `into`."""
    items = api.get("/api/v1/articles", params={"lang": "en", "limit": 100,
                                                "original": language}).json()["items"]
    for it in items:
        status = api.get(f"/api/v1/articles/{it['id']}/translation-status",
                         params={"lang": into}).json()
        if status["status"] == "none":
            return dict(it)
    pytest.fail(f"no {language} article of the demo is left untranslated into {into}")


def test_first_visit_shows_the_translation(page: Page, demo: DemoServer, api: httpx.Client,
                                           shots_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The required measurement: an article opened for the first time in a reader language
    it has no translation into (the demo translates the full text only into English at
    ingest) is shown translated on that first visit, not "in progress"."""
    it = untranslated(api, "en", "es")
    t0 = time.monotonic()
    response = page.goto(f"/es/a/{it['id']}")
    took = time.monotonic() - t0
    assert response is not None and response.ok
    body = page.get_by_test_id("article-body")
    assert body.get_attribute("lang") == "es"
    notice = page.get_by_test_id("mt-notice")
    expect(notice).to_be_visible()
    assert "apertium" in notice.inner_text().lower()
    assert page.locator(".mt-notice.pending").count() == 0
    status = api.get(f"/api/v1/articles/{it['id']}/translation-status",
                     params={"lang": "es"}).json()
    assert status["status"] == "translated"
    detail = api.get(f"/api/v1/articles/{it['id']}", params={"lang": "es"}).json()
    first = next(b for b in detail["blocks"] if b["text"].strip())
    assert ws(first["text"]) != ws(first["original"])  # really translated, not the original
    expect(body).to_contain_text(ws(first["text"]))
    out = shots_dir / f"article-first-visit-es-{DESKTOP['width']}x{DESKTOP['height']}.png"
    page.screenshot(path=str(out), full_page=True)
    say(capsys, f"first visit: article {it['id']} (en) opened in Spanish: translated on the "
                f"first request, page loaded in {took:.2f} s; screenshot {out}")


@pytest.fixture(scope="module")
def slow_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A second demo whose pages never wait for a translation (budget 0): every first
    visit runs past the budget."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BABELWIRE_TRANSLATE_REQUEST_BUDGET", "0")
        server = DemoServer(tmp_path_factory.mktemp("slow-demo"))
        server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_past_the_budget_the_page_shows_the_translation_when_ready(
        browser: Browser, slow_demo: DemoServer, shots_dir: Path, javascript: bool,
        capsys: pytest.CaptureFixture[str]) -> None:
    original, lang = ("en", "ca") if javascript else ("es", "pt")
    with httpx.Client(base_url=slow_demo.base_url, timeout=10.0, trust_env=False) as api:
        it = untranslated(api, original, lang)
    ctx = browser.new_context(base_url=slow_demo.base_url, locale="en-US", viewport=DESKTOP,
                              java_script_enabled=javascript)
    try:
        page = ctx.new_page()
        page.goto(f"/{lang}/a/{it['id']}")
        url = page.url
        body = page.get_by_test_id("article-body")
        pending = page.locator(".mt-notice.pending")
        # the original at once, with a notice that says the translation is coming
        assert body.get_attribute("lang") == original
        expect(pending).to_be_visible()
        assert pending.get_attribute("role") == "status"
        if javascript:
            page.screenshot(path=str(shots_dir / "article-pending-ca-1280x900.png"))
        t0 = time.monotonic()
        # ... then the translation, without the reader doing anything
        expect(page.get_by_test_id("article-body")).to_have_attribute("lang", lang,
                                                                      timeout=30_000)
        took = time.monotonic() - t0
        expect(page.locator(".mt-notice.pending")).to_have_count(0)
        assert "apertium" in page.get_by_test_id("mt-notice").inner_text().lower()
        assert page.url == url
        if javascript:  # swapped in place (enhance.js), not reloaded
            assert page.locator("html").get_attribute("data-translation-swapped") == "1"
            out = shots_dir / "article-swapped-ca-1280x900.png"
            page.screenshot(path=str(out), full_page=True)
        say(capsys, f"past the budget ({'JavaScript' if javascript else 'no JavaScript'}): "
                    f"article {it['id']} shown in the original, then in {lang} "
                    f"{took:.1f} s later")
    finally:
        ctx.close()


def test_languages_i_read(page: Page, demo: DemoServer, story: Story, shots_dir: Path
                          ) -> None:
    """Tick a language in the settings form: its articles are then shown in the original,
    without the "not translated" label or a machine-translation notice."""
    page.goto("/de/all")
    label = catalogue_string("de", "Original: %(language)s (not translated)")
    assert label
    spanish = label % {"language": "Spanisch"}
    expect(page.get_by_test_id("all-news")).to_contain_text(spanish)
    page.get_by_test_id("reads-link").click()
    expect(page).to_have_url(re.compile(r"/de/settings\?next=(/|%2F)de(/|%2F)all$"))
    page.get_by_label(re.compile("^Spanisch")).check()
    page.screenshot(path=str(shots_dir / "settings-de-1280x900.png"), full_page=True)
    page.get_by_test_id("reads-save").click()
    expect(page.get_by_test_id("reads-saved")).to_be_visible()
    expect(page.get_by_label(re.compile("^Spanisch"))).to_be_checked()
    page.get_by_test_id("reads-saved").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/de/all$"))
    expect(page.get_by_test_id("all-news")).not_to_contain_text(spanish)
    if story.language == "es":
        page.goto(story.path("en"))
        expect(page.get_by_test_id("reads-notice")).to_be_visible()
        assert page.get_by_test_id("article-body").get_attribute("lang") == "es"
        expect(page.get_by_test_id("article-title")).to_have_text(story.title_original)


# --------------------------------------------------------------------------- axe-core


AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ["violations"]});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.length,
                                 targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


@pytest.fixture(scope="module")
def axe_context(browser: Browser, demo: DemoServer) -> Iterator[BrowserContext]:
    if not AXE_JS.exists():
        pytest.skip(f"axe-core not installed ({AXE_JS.relative_to(REPO)} missing): run "
                    "`npm ci --prefix tests/browser`")
    # The site's CSP (script-src 'self') would block the injected axe script: only this
    # context bypasses it, and it is used for nothing but the accessibility check.
    ctx = browser.new_context(base_url=demo.base_url, locale="en-US", viewport=DESKTOP,
                              bypass_csp=True)
    yield ctx
    ctx.close()


def test_axe_check_catches_a_violation(axe_context: BrowserContext) -> None:
    """The harness itself: unlabelling the language select must be reported."""
    page = axe_context.new_page()
    try:
        page.goto("/en/")
        page.locator("label[for=language-select]").evaluate("el => el.remove()")
        page.add_script_tag(path=str(AXE_JS))
        violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    finally:
        page.close()
    assert any(v["id"] == "select-name" and v["impact"] in ("serious", "critical")
               for v in violations), violations


AXE_PAGES = ["front", "country", "all", "article", "article-bilingual", "search", "story",
             "settings"]


@pytest.mark.parametrize("which", AXE_PAGES)
def test_accessibility(axe_context: BrowserContext, story: Story, api: httpx.Client,
                       which: str, capsys: pytest.CaptureFixture[str]) -> None:
    detail = api.get(f"/api/v1/articles/{story.id}").json()
    cc = detail["country"]
    path = {"front": "/en/", "country": f"/en/{cc}/", "all": "/en/all",
            "article": story.path("en"), "article-bilingual": story.path("en", "bilingual"),
            "search": f"/en/search?q={search_word(story)}",
            "story": f"/en/s/{detail['story_id']}", "settings": "/en/settings"}[which]
    page = axe_context.new_page()
    try:
        response = page.goto(path)
        assert response is not None and response.ok
        page.add_script_tag(path=str(AXE_JS))
        violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    finally:
        page.close()
    say(capsys, f"axe {which} ({path}): {len(violations)} violation(s)",
        *(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['nodes']} node(s): "
          f"{'; '.join(v['targets'])})" for v in violations))
    severe = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not severe, severe
