"""HTML pages of the demo sites, rendered from Jinja2 templates, one template family per style."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from babelwire.demo.publishers import Insert, Publisher, Section, StoredArticle

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FEED_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml",
              "json": "application/feed+json"}


@dataclass(frozen=True)
class ArticleView:
    """A stored article placed on the server: its URL and absolute publication time."""

    stored: StoredArticle
    url: str
    published: datetime  # UTC
    section: Section

    @property
    def title(self) -> str:
        return self.stored.title


def local_zone(pub: Publisher) -> timezone:
    sign = -1 if pub.utc_offset.startswith("-") else 1
    hours, minutes = pub.utc_offset.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _body_items(pub: Publisher, article: StoredArticle) -> list[dict[str, Any]]:
    """Body blocks grouped for the templates (list items into lists), with the inserts placed."""
    items: list[dict[str, Any]] = []
    paragraphs = 0
    pending: list[Insert] = [i for i in pub.inserts if i.after is not None]
    for block in article.blocks:
        if block.kind == "li":
            if items and items[-1]["kind"] == "ul":
                items[-1]["items"].append(block.text)
            else:
                items.append({"kind": "ul", "items": [block.text]})
            continue
        items.append({"kind": block.kind, "text": block.text})
        if block.kind == "p":
            paragraphs += 1
            for insert in [i for i in pending if i.after == paragraphs]:
                items.append({"kind": "insert", "insert": insert})
                pending.remove(insert)
    ending = pending + [i for i in pub.inserts if i.after is None]
    items.extend({"kind": "insert", "insert": insert} for insert in ending)
    if article.author in pub.bios:
        items.append({"kind": "bio", "text": pub.bios[article.author]})
    return items


def _json_ld(pub: Publisher, view: ArticleView, image: str, logo: str) -> str:
    doc = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": view.url},
        "headline": view.title,
        "description": view.stored.summary,
        "image": [image],
        "datePublished": view.published.astimezone(local_zone(pub)).isoformat(),
        "dateModified": view.published.astimezone(local_zone(pub)).isoformat(),
        "inLanguage": pub.language,
        "articleSection": view.section.name,
        "author": [{"@type": "Person", "name": view.stored.author}],
        "publisher": {"@type": "Organization", "name": pub.name,
                      "logo": {"@type": "ImageObject", "url": logo}},
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).replace("</", "<\\/")


class PageRenderer:
    """Renders every page of every demo site for one base URL."""

    def __init__(self, base_url: str, chrome: dict[str, dict[str, Any]]) -> None:
        self.base_url = base_url
        self.chrome = chrome
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def site_url(self, pub: Publisher) -> str:
        return f"{self.base_url}/{pub.id}/"

    def _display(self, pub: Publisher, moment: datetime) -> str:
        ui = self.chrome[pub.language]
        local = moment.astimezone(local_zone(pub))
        return str(ui["date_format"]).format(
            d=local.day, month=ui["months"][local.month - 1], y=local.year,
            hh=f"{local.hour:02d}", mm=f"{local.minute:02d}",
            dd=f"{local.day:02d}", mo=f"{local.month:02d}",
        )

    def _common(self, pub: Publisher, views: Sequence[ArticleView]) -> dict[str, Any]:
        site_url = self.site_url(pub)
        ranked = sorted(views, key=lambda v: (len(v.stored.slug) * 7 + v.stored.age_hours) % 11)
        return {
            "pub": pub,
            "ui": self.chrome[pub.language],
            "site_url": site_url,
            "logo_url": f"{site_url}logo.svg",
            "feed_url": f"{self.base_url}/{pub.feed_path}",
            "feed_type": FEED_TYPES[pub.feed],
            "most_read": [self._teaser(pub, v) for v in ranked[:5]],
            "year": max((v.published for v in views), default=datetime.now(UTC)).year,
            "private_url": f"{site_url}private/{pub.private_path}" if pub.private_path else None,
        }

    def _teaser(self, pub: Publisher, view: ArticleView) -> dict[str, Any]:
        return {
            "url": view.url,
            "title": view.title,
            "summary": view.stored.summary,
            "author": view.stored.author,
            "section": view.section,
            "iso": view.published.astimezone(local_zone(pub)).isoformat(),
            "display": self._display(pub, view.published),
            "image": self.image_url(view),
        }

    def image_url(self, view: ArticleView) -> str:
        return f"{self.base_url}/{view.stored.site}/images/{view.stored.slug}.svg"

    def article(self, pub: Publisher, view: ArticleView, views: Sequence[ArticleView]) -> str:
        others = [v for v in views if v.url != view.url]
        related = sorted(
            others,
            key=lambda v: (v.stored.story != view.stored.story or view.stored.story is None,
                           v.section != view.section, v.stored.age_hours),
        )[:3]
        ctx = self._common(pub, views)
        image = self.image_url(view)
        local = view.published.astimezone(local_zone(pub))
        ctx.update(
            page_title=f"{view.title} | {pub.name}",
            description=view.stored.summary,
            canonical=view.url,
            og_type="article",
            og_image=image,
            a=self._teaser(pub, view),
            published_iso=local.isoformat(),
            section_url=f"{ctx['site_url']}{view.section.slug}/",
            body=_body_items(pub, view.stored),
            related=[self._teaser(pub, v) for v in related],
            json_ld=_json_ld(pub, view, image, ctx["logo_url"]) if pub.jsonld else None,
        )
        return self.env.get_template(f"{pub.style}/article.html").render(ctx)

    def listing(self, pub: Publisher, views: Sequence[ArticleView],
                section: Section | None = None) -> str:
        ctx = self._common(pub, views)
        shown = [v for v in views if section is None or v.section == section]
        url = ctx["site_url"] + (f"{section.slug}/" if section else "")
        ctx.update(
            page_title=f"{section.name} | {pub.name}" if section else f"{pub.name}: {pub.tagline}",
            description=pub.tagline,
            canonical=url,
            og_type="website",
            og_image=ctx["logo_url"],
            section=section,
            teasers=[self._teaser(pub, v) for v in sorted(shown, key=lambda v: v.stored.age_hours)],
        )
        return self.env.get_template("listing.html").render(ctx)

    def about(self, pub: Publisher, views: Sequence[ArticleView], *, private: bool = False) -> str:
        ctx = self._common(pub, views)
        ui = ctx["ui"]
        ctx.update(
            page_title=f"{ui['private_title'] if private else ui['about']} | {pub.name}",
            description=pub.tagline,
            canonical=(ctx["private_url"] if private else f"{ctx['site_url']}about.html"),
            og_type="website",
            og_image=ctx["logo_url"],
            heading=ui["private_title"] if private else ui["about"],
            paragraphs=[ui["private_text"]] if private else list(pub.about),
            noindex=private,
        )
        return self.env.get_template("about.html").render(ctx)


def logo_svg(pub: Publisher) -> str:
    initials = "".join(word[0] for word in pub.name.split() if word[0].isupper())[:3]
    serif = 'font-family="Georgia, serif"'
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="180" height="40" viewBox="0 0 180 40">\n'
        f'<rect width="40" height="40" rx="6" fill="{pub.color}"/>\n'
        f'<text x="20" y="26" {serif} font-size="16" fill="#fff" text-anchor="middle">'
        f"{escape(initials)}</text>\n"
        f'<text x="48" y="26" {serif} font-size="13" fill="#222">{escape(pub.name)}</text>\n'
        "</svg>\n"
    )


def image_svg(pub: Publisher, view: ArticleView) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" '
        'viewBox="0 0 1200 630">\n'
        f'<rect width="1200" height="630" fill="{pub.color}"/>\n'
        '<text x="60" y="120" font-family="Georgia, serif" font-size="40" fill="#fff">'
        f"{escape(pub.name)} · {escape(view.section.name)}</text>\n"
        '<text x="60" y="560" font-family="sans-serif" font-size="28" fill="#fff" opacity="0.8">'
        f"{escape(view.title[:80])}</text>\n"
        "</svg>\n"
    )
