"""`babelwire demo` as a real subprocess, for end-to-end tests.

Usage::

    from tests.support.demo_server import DemoServer

    with DemoServer(tmp_dir) as demo:
        demo.base_url           # "http://127.0.0.1:<port>" (Babelwire's site)
        demo.newsroom_url       # "http://127.0.0.1:<port>" (the bundled sample publishers)

The demo gets its own data directory (``BABELWIRE_DATA_DIR`` under `tmp_dir`), a free
loopback port, and no database URL or catalogue directory from the caller's environment.
Entering waits until the crawl is over and ``/healthz`` answers (the site starts serving only
after the crawl); the process is interrupted (SIGINT, then killed if it lingers) on exit.
Its output goes to ``demo.log`` in `tmp_dir`, and is quoted in the error if it fails.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["DemoServer", "DemoServerError", "free_port"]

NEWSROOM_LINE = re.compile(r"Demo newsroom: .* at (http://127\.0\.0\.1:\d+)/")
CLEARED_ENV = ("BABELWIRE_DATABASE_URL", "BABELWIRE_CATALOG_DIR", "BABELWIRE_HOST",
               "BABELWIRE_PORT")


class DemoServerError(RuntimeError):
    """The demo exited or did not become healthy in time."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoServer:
    def __init__(self, tmp_dir: Path, *, startup_timeout: float = 240.0,
                 stop_timeout: float = 15.0) -> None:
        self.tmp_dir = Path(tmp_dir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.newsroom_url = ""
        self.log_path = self.tmp_dir / "demo.log"
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        data_dir = self.tmp_dir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env["BABELWIRE_DATA_DIR"] = str(data_dir)
        cmd = [sys.executable, "-m", "babelwire.cli", "demo", "--host", "127.0.0.1",
               "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                          stdin=subprocess.DEVNULL)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                code = self._proc.poll()
                if code is not None:
                    raise DemoServerError(f"babelwire demo exited with {code}:\n{self.output()}")
                try:
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoServerError(f"babelwire demo not healthy after "
                                          f"{self.startup_timeout:.0f} s:\n{self.output()}")
                time.sleep(0.25)
        match = NEWSROOM_LINE.search(self.output())
        if match is None:
            raise DemoServerError(f"no newsroom URL in the demo's output:\n{self.output()}")
        self.newsroom_url = match.group(1)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
