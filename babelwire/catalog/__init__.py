"""The source catalogue: real news publishers as data, one TOML file per country.

docs/sources.md is rendered by ``babelwire.catalog.docs.sources_markdown``.
"""

from babelwire.catalog.loader import (
    Catalog,
    CatalogError,
    catalog_from_specs,
    load_catalog,
    source_problems,
    validate_catalog,
)
from babelwire.catalog.model import Policy, SourceSpec
from babelwire.catalog.opml import from_opml, to_opml
from babelwire.catalog.writer import country_toml

__all__ = [
    "Catalog",
    "CatalogError",
    "Policy",
    "SourceSpec",
    "catalog_from_specs",
    "country_toml",
    "from_opml",
    "load_catalog",
    "source_problems",
    "to_opml",
    "validate_catalog",
]
