"""Templates: one Jinja2 environment, autoescaped, with the reader's language installed
per request (gettext, names of languages and countries, dates)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from babelwire.web import i18n

TEMPLATES_DIR = Path(__file__).with_name("templates")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:;"
        " connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "interest-cohort=(), camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def slugify(text: str, max_len: int = 80) -> str:
    """ASCII slug of a title for readable URLs ("" when nothing ASCII is left)."""
    norm = unicodedata.normalize("NFKD", text)
    ascii_text = norm.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-")


def build_env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.filters["slug"] = slugify
    return env


class Renderer:
    def __init__(self, i18n_: i18n.I18n, languages: tuple[str, ...]) -> None:
        self.env = build_env()
        self.i18n = i18n_
        self.languages = languages

    def page(self, request: Request, template: str, lang: str, *, status: int = 200,
             headers: Mapping[str, str] | None = None, **ctx: Any) -> HTMLResponse:
        gettext = self.i18n.gettext(lang)
        ngettext = self.i18n.ngettext(lang)

        def query(**changes: Any) -> str:
            params = dict(request.query_params)
            params.update({k: v for k, v in changes.items() if v is not None})
            for k, v in changes.items():
                if v is None:
                    params.pop(k, None)
            return ("?" + urlencode(params)) if params else ""

        values: dict[str, Any] = {
            "lang": lang,
            "dir": i18n.text_direction(lang),
            "languages": self.languages,
            "_": gettext,
            "gettext": gettext,
            "ngettext": ngettext,
            "language_name": lambda code, in_lang=lang: i18n.language_name(code, in_lang),
            "native_language_name": i18n.native_language_name,
            "country_name": lambda code, in_lang=lang: i18n.country_name(code, in_lang),
            "format_time": lambda dt: i18n.format_time(dt, lang),
            "path": request.url.path,
            "query": query,
            "base_url": str(request.base_url).rstrip("/"),
        }
        values.update(ctx)
        html = self.env.get_template(template).render(values)
        all_headers = {**SECURITY_HEADERS, "Content-Language": lang, **(headers or {})}
        return HTMLResponse(html, status_code=status, headers=all_headers)
