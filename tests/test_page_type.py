"""Every real article is stored: text measured in any script, briefs kept, and a visible
reason for every page that is not an article. Pages are served on loopback and run
through the real ingest path (fetch, extract, store in SQLite/PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.ingest.extract import Extracted
from babelwire.ingest.pagetype import PageSignals, decide, page_signals
from babelwire.ingest.textsize import word_equivalents
from babelwire.store.models import READY, SKIPPED, Article
from tests.support.factories import make_settings
from tests.support.httpserver import LoopbackServer, Reply


def page(lang: str, title: str, paragraphs: list[str], *, og_type: str | None = "article",
         ld_type: str | None = "NewsArticle", date: str | None = "2026-11-30T08:15:00+09:00",
         extra_body: str = "") -> str:
    meta = [f'<meta property="og:title" content="{title}">']
    if og_type:
        meta.append(f'<meta property="og:type" content="{og_type}">')
    if date:
        meta.append(f'<meta property="article:published_time" content="{date}">')
    if ld_type:
        ld = {"@context": "https://schema.org", "@type": ld_type, "headline": title}
        if date:
            ld["datePublished"] = date
        meta.append('<script type="application/ld+json">'
                    f"{json.dumps(ld, ensure_ascii=False)}</script>")
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{title}</title>{''.join(meta)}</head><body>"
            '<nav><a href="/">Home</a> <a href="/news/">News</a></nav>'
            f"<main><article><h1>{title}</h1>{body}</article></main>{extra_body}"
            "<footer><p>© 2026</p></footer></body></html>")


# Real-shaped short news items, each well under 40 space-separated "words".
JA = page("ja", "東京で初雪、平年より9日早く", [
    "気象庁は30日、東京都心で初雪を観測したと発表した。平年より9日早く、昨年より16日早い。",
    "上空に強い寒気が流れ込んだ影響で、朝の最低気温は都心で1.2度まで下がった。"
    "交通機関に大きな乱れはなかったが、気象庁は路面の凍結に注意するよう呼びかけている。",
    "関東の山沿いでは夕方にかけて雪が強まる見込みで、群馬県北部では10センチの積雪が予想されている。",
])
ZH = page("zh", "北京地铁新线开通运营", [
    "北京地铁十七号线北段于周六上午正式开通运营，全长约二十公里，共设九座车站。",
    "北京市轨道交通指挥中心表示，新线开通后，昌平区居民前往市中心的通勤时间将缩短约三十分钟。"
    "首日客流超过八万人次，各站秩序良好。",
    "按照计划，该线路南段将于明年年底前全线贯通，届时可与六号线、十号线等多条线路换乘。",
], date="2026-11-28T10:00:00+08:00")
KO = page("ko", "서울 첫눈, 평년보다 일주일 빨라", [
    "기상청은 30일 오전 서울에서 올겨울 첫눈이 관측됐다고 밝혔다. 평년보다 일주일 빠르다.",
    "북쪽에서 내려온 찬 공기의 영향으로 아침 최저기온은 영하 4도까지 떨어졌다. "
    "기상청은 출근길 빙판길 사고에 주의해 달라고 당부했다.",
    "강원 산간에는 내일 새벽까지 최대 5센티미터의 눈이 더 내릴 것으로 예보됐다.",
], date="2026-11-30T09:00:00+09:00")
TH = page("th", "กรุงเทพฯ ฝนตกหนัก น้ำท่วมหลายจุด", [
    "ฝนที่ตกหนักตั้งแต่ช่วงเย็นวันศุกร์ทำให้เกิดน้ำท่วมขังในหลายพื้นที่ของกรุงเทพมหานคร "
    "โดยเฉพาะบริเวณถนนสุขุมวิทและถนนพหลโยธิน",
    "สำนักการระบายน้ำระบุว่าได้เร่งสูบน้ำออกจากพื้นที่แล้ว และคาดว่าสถานการณ์จะกลับสู่ภาวะปกติ"
    "ภายในเช้าวันเสาร์ ขณะที่กรมอุตุนิยมวิทยาเตือนว่าอาจมีฝนตกหนักต่อเนื่องอีกสองวัน",
], date="2026-11-27T19:30:00+07:00")
BRIEF_TEXT = ("The northern ferry line to the islands will not run on Monday because of "
              "gale-force winds, the operator said on Sunday evening. Services are expected "
              "to resume on Tuesday morning.")
BRIEF = page("en", "Island ferries cancelled as gales arrive", [BRIEF_TEXT],
             date="2026-11-29T18:40:00+00:00")
TEASER = page("en", "Island ferries", [BRIEF_TEXT], og_type="website", ld_type=None,
              date=None)
FRONT = page("en", "World news", ["Latest stories"], og_type="website",
             ld_type="CollectionPage", date=None,
             extra_body="<ul>" + "".join(f'<li><a href="/news/{i}">Headline number {i}</a></li>'
                                         for i in range(30)) + "</ul>")
ERROR = page("en", "Page not found", [
    "Sorry, the page you are looking for does not exist or has been moved. Try the search."],
    og_type="website", ld_type=None, date=None)



def next_js_page(title: str, paragraphs: list[str]) -> str:
    """A Next.js (App Router) page: the body is only in the RSC payload's text rows."""
    row = "".join(f'<p class="editor-p">{p}</p>' for p in paragraphs)
    payload = f'0:["$","div",null,{{}}]\n24:T{len(row.encode()):x},{row}1f:["$","p",null]\n'
    pushes = "".join(f"<script>self.__next_f.push([1,{json.dumps(chunk)}])</script>"
                     for chunk in (payload[:40], payload[40:]))
    return page("ko", title, [], extra_body=pushes).replace("<h1>", '<h1 class="t">')


NEXT_JS = next_js_page("국민의힘, 지방선거 체제로 전환", [
    "국민의힘은 조만간 인재영입위원회를 발족하는 등 당을 지방선거 체제로 조속히 전환할 방침이다.",
    "지도부 한 관계자는 설 연휴 전에 새로운 당명과 정강정책 개정안을 내놓겠다고 말했다. "
    "당내에서는 중도층을 끌어안기 위한 인사 영입이 관건이라는 평가가 나온다.",
    "야당은 이번 결정이 당내 갈등을 덮기 위한 시선 돌리기에 불과하다고 비판했다.",
])

PAGES = {"/ja.html": JA, "/zh.html": ZH, "/ko.html": KO, "/th.html": TH,
         "/brief.html": BRIEF, "/teaser.html": TEASER, "/front.html": FRONT,
         "/error.html": ERROR, "/nextjs.html": NEXT_JS}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer({path: Reply(body=html.encode()) for path, html in PAGES.items()}) as s:
        yield s


@pytest.fixture
def ctx(tmp_path: Path, store_url: str) -> Iterator[Context]:
    c = Context.open(make_settings(tmp_path, database_url=store_url),
                     catalog=catalog_from_specs([]))
    yield c
    c.close()


def _ingest_all(ctx: Context, server: LoopbackServer) -> dict[str, Article]:
    async def go() -> None:
        try:
            for path in PAGES:
                aid, _ = pipeline.add_url(ctx, server.url(path))
                await pipeline.ingest(ctx, aid)
        finally:
            await ctx.aclose()

    asyncio.run(go())
    with ctx.db.session() as s:
        return {a.url.rsplit("/", 1)[-1]: a for a in s.scalars(select(Article))}


def test_short_articles_in_every_script_are_stored(
        ctx: Context, server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="babelwire.ingest.pagetype"):
        arts = _ingest_all(ctx, server)
    for name, lang in [("ja.html", "ja"), ("zh.html", "zh"), ("ko.html", "ko"),
                       ("th.html", "th"), ("brief.html", "en"), ("nextjs.html", "ko")]:
        a = arts[name]
        assert a.status == READY, (name, a.status, a.error_message)
        assert a.language == lang, name
        assert a.error_message is None
    # each is short by the old measure (spaces): all but the brief fell under 40
    for name in ("ja.html", "zh.html", "ko.html", "th.html", "nextjs.html"):
        assert arts[name].word_count >= 40, (name, arts[name].word_count)
    with ctx.db.session() as s:
        nxt = s.get(Article, arts["nextjs.html"].id)
        assert nxt is not None
        texts = [b.text for b in nxt.blocks]
    assert texts[0].startswith("국민의힘은 조만간") and texts[-1].endswith("비판했다."), texts
    assert 25 <= arts["brief.html"].word_count < 40
    assert any("kept as a brief" in r.getMessage() and "brief.html" in r.getMessage()
               for r in caplog.records)


def test_non_articles_are_skipped_with_their_reason(
        ctx: Context, server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="babelwire.ingest.pagetype"):
        arts = _ingest_all(ctx, server)
    expected = {
        "teaser.html": "no article markup (og:type or schema.org), no publishing date",
        "front.html": "a listing page (schema.org collectionpage",
        "error.html": "an error page (title 'Page not found')",
    }
    for name, reason in expected.items():
        a = arts[name]
        assert (a.status, a.error_reason) == (SKIPPED, "not_an_article"), name
        assert a.error_message is not None and reason in a.error_message, a.error_message
        logged = [r.getMessage() for r in caplog.records if name in r.getMessage()]
        assert logged == [f"not an article: {a.url}: {a.error_message}"]


@pytest.mark.parametrize(("text", "low", "high"), [
    # one news sentence in five languages (English: 22 words)
    ("The Polish government has approved a new law to toughen penalties for crimes "
     "committed against animals, aiming to give them greater protection.", 20, 24),
    ("政府批准了一项新法律，加重对虐待动物罪行的处罚，旨在为动物提供更多保护。", 15, 30),
    ("ポーランド政府は動物に対する犯罪の罰則を強化し、"
     "動物をより手厚く保護する新法を承認した。", 15, 30),
    ("รัฐบาลโปแลนด์อนุมัติกฎหมายใหม่เพื่อเพิ่มโทษสำหรับอาชญากรรมที่กระทำต่อสัตว์ "
     "โดยมีเป้าหมายเพื่อให้การคุ้มครองสัตว์มากขึ้น", 15, 30),
    ("폴란드 정부는 동물을 대상으로 한 범죄에 대한 처벌을 강화하는 새 법안을 승인했다.", 15, 30),
])
def test_word_equivalents_are_comparable_across_scripts(text: str, low: int,
                                                        high: int) -> None:
    assert low <= word_equivalents(text) <= high
    assert word_equivalents(text * 10) >= 9 * word_equivalents(text)


def test_word_equivalents_ignore_punctuation_and_empty_text() -> None:
    assert word_equivalents("") == 0
    assert word_equivalents("— • | ・ 。、") == 0
    assert word_equivalents("Kyiv, 12:30 — talks resume") == 4


def test_page_signals_read_markup_in_any_order_or_case() -> None:
    html = ("<META content='Article' property=og:type>"
            '<script type="application/ld+json">{"@graph": [{"@type": ["WebPage"]},'
            '{"@type": "ReportageNewsArticle"}]}</script>'
            '<div itemscope itemtype="https://schema.org/Person"></div>')
    s = page_signals(html)
    assert s.og_type == "article"
    assert s.types == ("webpage", "reportagenewsarticle", "person")
    assert s.article_markup == "og:type article"
    assert page_signals("<p>nothing</p>") == PageSignals()
    assert PageSignals(types=("liveblogposting",)).article_markup == "schema.org liveblogposting"


def test_decide_keeps_long_pages_and_dated_briefs_only() -> None:
    from datetime import UTC, datetime

    dated = Extracted(title="Ferries cancelled", published=datetime(2026, 11, 29, tzinfo=UTC))
    marked = PageSignals(og_type="article")
    kw = {"min_words": 40, "min_brief_words": 15}
    assert decide(300, Extracted(), PageSignals(), **kw).kind == "article"
    assert decide(30, dated, marked, **kw).kind == "brief"
    assert decide(10, dated, marked, **kw).reason == (
        "10 words of article text (fewer than 15, the shortest brief kept)")
    assert decide(0, dated, marked, **kw).reason == "no article text found"
    assert decide(30, Extracted(title="Ferries"), marked, **kw).reason.endswith(
        "not a brief: no publishing date")
    # a dated news item whose headline reads like an error page is still a brief
    lost = Extracted(title="Missing hiker not found", published=dated.published)
    assert decide(30, lost, marked, **kw).kind == "brief"
    assert decide(30, Extracted(title="404 Not Found"), PageSignals(), **kw).kind == \
        "not_article"


@pytest.mark.parametrize("html", [
    "<script>self.__next_f.push([1,\"24:Tffff,<p>cut short\"])</script>",  # length past the end
    "<script>self.__next_f.push([1,\"not json\\x\"])</script>",
    "<script>self.__next_f.push([1,\"0:[\\\"$\\\"]\\n\"])</script>",  # no text rows
    "<p>no payload</p>",
])
def test_script_body_html_tolerates_broken_payloads(html: str) -> None:
    from babelwire.ingest.scripted import script_body_html

    out = script_body_html(html)
    assert out is None or "cut short" in out
