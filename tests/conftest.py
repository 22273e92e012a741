"""Shared fixtures: settings in a temporary directory, a store on SQLite and (when
BABELWIRE_TEST_DATABASE_URL is set) PostgreSQL, and the demo newsroom on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from babelwire.config import Settings
from tests.support.factories import make_settings

PG_URL = os.environ.get("BABELWIRE_TEST_DATABASE_URL", "")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _pg_schema_url(schema: str) -> str:
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend; PostgreSQL runs in a throw-away schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not PG_URL:
        pytest.skip("BABELWIRE_TEST_DATABASE_URL not set: PostgreSQL tests not run")
    from babelwire.store.database import make_engine

    schema = f"bw_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def newsroom() -> Iterator[object]:
    from babelwire.demo.newsroom import DemoNewsroom

    with DemoNewsroom() as room:
        yield room
