"""Full-text search over every stored text: originals and translations (see query.py)."""

from babelwire.store.search.index import index_articles, reindex, track
from babelwire.store.search.parse import QueryError, parse
from babelwire.store.search.query import Filters, Hit, SearchCursor, SearchResult, search
from babelwire.store.search.snippet import Snippet

__all__ = ["Filters", "Hit", "QueryError", "SearchCursor", "SearchResult", "Snippet",
           "index_articles", "parse", "reindex", "search", "track"]
