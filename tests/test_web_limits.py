"""Per-client bounds on the costly paths (issue 13 item 5): a client that searches in a tight
loop or pages deep through the listings gets 429s with Retry-After, and slows only itself.
A real uvicorn server on loopback; two real clients on two loopback addresses (127.0.0.1
and 127.0.0.2), so the server sees two client addresses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.web.app import create_app
from babelwire.web.limits import Limit, RateTable, classify
from tests.support.demo_server import free_port
from tests.support.factories import make_settings

BURST = 4
RATE = 1.0  # a token a second


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("limits")
    settings = make_settings(tmp, database_url=f"sqlite:///{tmp}/l.db",
                             client_search_rate=RATE, client_search_burst=BURST,
                             client_pages_rate=RATE, client_pages_burst=BURST)
    ctx = Context.open(settings, catalog=catalog_from_specs([]))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the site did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        ctx.close()


def client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10,
                        trust_env=False)


def test_a_client_searching_in_a_loop_slows_only_itself(site: str) -> None:
    with client("127.0.0.1") as greedy, client("127.0.0.2") as other:
        statuses = [greedy.get(f"{site}/en/search", params={"q": f"harbour {i}"}).status_code
                    for i in range(BURST + 3)]
        assert statuses[:BURST] == [200] * BURST, statuses
        assert statuses[BURST:] == [429] * 3, statuses
        refused = greedy.get(f"{site}/en/search", params={"q": "harbour"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        assert "try again in" in refused.text
        assert refused.headers["cache-control"] == "no-store"
        assert "content-security-policy" in refused.headers  # still the site's headers
        # the API search shares the bound, and answers in JSON
        api = greedy.get(f"{site}/api/v1/search", params={"q": "harbour"})
        assert api.status_code == 429 and api.json()["error"] == "rate_limited"
        # another client is not affected, nor are the greedy client's other pages
        assert other.get(f"{site}/en/search", params={"q": "harbour"}).status_code == 200
        assert other.get(f"{site}/api/v1/search", params={"q": "harbour"}).status_code == 200
        assert greedy.get(f"{site}/en/").status_code == 200
        assert greedy.get(f"{site}/en/all").status_code == 200
        # and the greedy client may search again once its bucket refills
        time.sleep(int(refused.headers["retry-after"]) + 0.1)
        assert greedy.get(f"{site}/en/search", params={"q": "harbour"}).status_code == 200


def test_deep_pagination_is_bounded_per_client(site: str) -> None:
    with client("127.0.0.3") as greedy, client("127.0.0.4") as other:
        statuses = [greedy.get(f"{site}/en/all", params={"cursor": f"x{i}"}).status_code
                    for i in range(BURST + 2)]
        assert 429 not in statuses[:BURST], statuses
        assert statuses[BURST:] == [429, 429], statuses
        assert greedy.get(f"{site}/api/v1/articles",
                          params={"cursor": "x"}).status_code == 429
        assert other.get(f"{site}/en/all", params={"cursor": "x"}).status_code != 429
        assert greedy.get(f"{site}/en/all").status_code == 200  # the first page is not


def test_the_bucket_refills_and_the_table_stays_bounded() -> None:
    now = [0.0]
    table = RateTable(Limit(rate=2.0, burst=3), max_keys=3, clock=lambda: now[0])
    assert [table.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert table.take("a") == pytest.approx(0.5)  # one token takes half a second at 2/s
    now[0] += 0.5
    assert table.take("a") == 0.0
    for key in ("b", "c", "d", "e"):
        table.take(key)
    assert len(table) == 3  # the least recently seen clients are forgotten
    assert RateTable(Limit(rate=0.0, burst=0)).take("x") == 0.0  # rate 0: no bound


@pytest.mark.parametrize(("path", "query", "kind"), [
    ("/en/search", b"q=x", "search"), ("/api/v1/search", b"q=x", "search"),
    ("/en/all", b"cursor=abc", "pages"), ("/en/gb/", b"cursor=abc", "pages"),
    ("/api/v1/articles", b"cursor=abc", "pages"), ("/en/all", b"", None),
    ("/en/a/3-search", b"", None), ("/en/", b"", None), ("/static/search", b"", None),
])
def test_classify(path: str, query: bytes, kind: str | None) -> None:
    assert classify(path, query) == kind
