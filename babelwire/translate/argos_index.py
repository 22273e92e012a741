"""The Argos Translate package index, and downloads from it, for operators with internet.

The index is the JSON list Argos Translate itself reads (setting ``argos_index_url``; by
default argospm-index on GitHub). Each entry describes one package::

    {"package_version": "1.9", "argos_version": "1.9.0",
     "from_code": "de", "from_name": "German", "to_code": "en", "to_name": "English",
     "links": ["https://argos-net.com/v1/translate-de_en-1_9.argosmodel"],
     "code": "translate-de_en"}

``type`` (default ``translate``; ``sbd`` packages are skipped) may be present, and links
that are not http(s) (``ipfs://``) are skipped. The public index gives neither a size nor a
checksum; when an entry carries ``size`` (bytes) or ``sha256`` (hex, or ``sha256:<hex>`` in
``checksum``), as a mirror's index may, they are checked too.

`plan_for_readers` chooses what readers of a language need: every catalogue language into
English and English into the reader's language (so each reaches the reader by a pivot
through English), the reader's language into English, and any direct package from a
catalogue language into the reader's language that the index offers.

`download` fetches a package into ``<models_dir>/.downloads/<file>.part`` and:

- resumes a cut transfer with an HTTP ``Range`` request (with ``If-Range`` when the first
  response gave an ETag or Last-Modified), in the same run (a few attempts) and in the
  next; a server that ignores Range (200) or answers another range restarts from zero;
- checks the length the server announced (Content-Length / Content-Range), the index's
  size and sha256 when given, and every zip member's CRC; a file that fails is deleted,
  never resumed or installed.

`install_package` then installs it with `models.install_model` (atomic: nothing
half-installed is ever visible), removes older versions of the pair and deletes the
download. Every failure is a `ModelInstallError` (`IndexUnreachable` when the index cannot
be reached at all) with a one-line message.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from babelwire.translate.langcodes import canonical
from babelwire.translate.models import (
    InstalledModel,
    ModelInstallError,
    argos_code_to_bcp47,
    install_model,
    list_models,
    remove_model,
    version_key,
)

__all__ = [
    "DOWNLOADS",
    "PIVOT",
    "IndexPackage",
    "IndexUnreachable",
    "Plan",
    "download",
    "fetch_index",
    "find_package",
    "install_package",
    "open_client",
    "package_sizes",
    "parse_index",
    "plan_for_readers",
]

log = logging.getLogger(__name__)

PIVOT = "en"
DOWNLOADS = ".downloads"  # inside models_dir; list_models skips dot entries
ATTEMPTS = 4  # transfers of one package per run (the first plus resumptions)

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.IGNORECASE)


class IndexUnreachable(ModelInstallError):
    """The package index could not be reached (no network, DNS, refused, timed out)."""

    def __init__(self, url: str, exc: BaseException) -> None:
        super().__init__(f"cannot reach the Argos package index at {url}: {network_reason(exc)}")
        self.url = url


@dataclass(frozen=True)
class IndexPackage:
    """One package the index offers. Codes are Argos codes, as the index writes them."""

    from_code: str
    to_code: str
    version: str
    links: tuple[str, ...]  # http(s) only, in the index's order
    argos_version: str = ""
    from_name: str = ""
    to_name: str = ""
    size: int | None = None  # bytes, when the index says
    sha256: str | None = None  # lower-case hex, when the index says

    @property
    def pair(self) -> tuple[str, str]:
        """(source, target) as BCP 47, spelt as Babelwire's tables spell them."""
        return _norm(self.from_code), _norm(self.to_code)

    @property
    def label(self) -> str:
        return f"{self.from_code}→{self.to_code} {self.version}"

    @property
    def filename(self) -> str:
        """What the download is called: Argos's own file name for it."""
        version = re.sub(r"[^0-9A-Za-z]+", "_", self.version).strip("_") or "0"
        return f"translate-{self.from_code}_{self.to_code}-{version}.argosmodel"


# --------------------------------------------------------------------------- the index


def network_reason(exc: BaseException) -> str:
    """A short reason for a failed connection: "host name not resolved", "connection
    refused", "timed out", or the error's own text."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, socket.gaierror):
            return f"host name not resolved (no network or no DNS?): {cur.strerror or cur}"
        if isinstance(cur, ConnectionRefusedError) or (
                isinstance(cur, OSError) and cur.errno == errno.ECONNREFUSED):
            return "connection refused"
        if isinstance(cur, OSError) and cur.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        cur = cur.__cause__ or cur.__context__
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = str(exc).strip()
    low = text.lower()
    if "name or service not known" in low or "nodename nor servname" in low \
            or "temporary failure in name resolution" in low:
        return f"host name not resolved (no network or no DNS?): {text}"
    if "connection refused" in low:
        return "connection refused"
    return text or type(exc).__name__


def open_client(*, user_agent: str, connect_timeout: float = 10.0,
                read_timeout: float = 60.0) -> httpx.Client:
    """An HTTP client for the index and its downloads (redirects followed; proxies from
    the environment honoured, as for any command-line download)."""
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=True,
                        headers={"User-Agent": user_agent})


def fetch_index(client: httpx.Client, url: str) -> list[IndexPackage]:
    """The translation packages the index at `url` offers (newest version per pair last
    wins in `find_package`; entries that are not translation packages are skipped)."""
    try:
        resp = client.get(url)
    except httpx.TransportError as exc:
        raise IndexUnreachable(url, exc) from exc
    except httpx.InvalidURL as exc:
        raise ModelInstallError(f"invalid Argos package index URL {url!r}: {exc}") from exc
    if resp.status_code != 200:
        raise ModelInstallError(f"the Argos package index at {url} answered HTTP "
                                f"{resp.status_code}")
    try:
        data = resp.json()
    except ValueError as exc:
        raise ModelInstallError(f"{url} is not an Argos package index (not JSON)") from exc
    return parse_index(data, source=url)


def parse_index(data: object, *, source: str = "the index") -> list[IndexPackage]:
    """Parse index.json's content; malformed entries are skipped with a log line."""
    if not isinstance(data, list):
        raise ModelInstallError(f"{source} is not an Argos package index (not a JSON list)")
    found = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            log.warning("%s: entry %d is not an object; skipped", source, i)
            continue
        if entry.get("type", "translate") != "translate":
            continue  # e.g. "sbd" (sentence splitting): Babelwire segments text itself
        package = _parse_entry(entry)
        if package is None:
            log.info("%s: entry %d has no http(s) link or no language codes; skipped",
                     source, i)
            continue
        found.append(package)
    return found


def _parse_entry(entry: dict[str, object]) -> IndexPackage | None:
    src, tgt = entry.get("from_code"), entry.get("to_code")
    if not (isinstance(src, str) and isinstance(tgt, str) and src and tgt):
        return None
    links = entry.get("links")
    http_links = tuple(link for link in links if isinstance(link, str)
                       and link.lower().startswith(("http://", "https://"))
                       ) if isinstance(links, list) else ()
    if not http_links:
        return None
    size = entry.get("size")
    sha = entry.get("sha256")
    checksum = entry.get("checksum")
    if sha is None and isinstance(checksum, str) and checksum.lower().startswith("sha256:"):
        sha = checksum.split(":", 1)[1]
    return IndexPackage(
        from_code=src, to_code=tgt, version=str(entry.get("package_version") or "0"),
        links=http_links, argos_version=str(entry.get("argos_version") or ""),
        from_name=str(entry.get("from_name") or ""), to_name=str(entry.get("to_name") or ""),
        size=size if isinstance(size, int) and not isinstance(size, bool) and size > 0
        else None,
        sha256=sha.lower() if isinstance(sha, str) and _HEX64.match(sha) else None)


def _norm(code: str) -> str:
    """Argos or BCP 47 code -> the BCP 47 spelling pairs are compared in ("no" -> "nb")."""
    return canonical(argos_code_to_bcp47(code))


def find_package(index: Iterable[IndexPackage], source: str, target: str
                 ) -> IndexPackage | None:
    """The newest package from `source` to `target` (BCP 47 or Argos codes), or None."""
    want = (_norm(source), _norm(target))
    best: IndexPackage | None = None
    for package in index:
        if package.pair == want and (
                best is None or version_key(package.version) > version_key(best.version)):
            best = package
    return best


def newest_per_pair(index: Iterable[IndexPackage]) -> list[IndexPackage]:
    """One package per pair (the newest), sorted by pair."""
    best: dict[tuple[str, str], IndexPackage] = {}
    for package in index:
        have = best.get(package.pair)
        if have is None or version_key(package.version) > version_key(have.version):
            best[package.pair] = package
    return [best[p] for p in sorted(best)]


@dataclass(frozen=True)
class Plan:
    """What readers of `readers` need from the index."""

    readers: tuple[str, ...]
    packages: tuple[IndexPackage, ...]  # one per pair, in install order
    missing: tuple[tuple[str, str], ...]  # pairs wanted that the index does not offer


def plan_for_readers(index: Sequence[IndexPackage], readers: Iterable[str],
                     languages: Iterable[str], *, pivot: str = PIVOT) -> Plan:
    """The packages readers of each of `readers` need for articles in `languages` (the
    catalogue's): pivot→reader and reader→pivot, every catalogue language →pivot, plus a
    direct catalogue language →reader package when the index has one."""
    pivot = _norm(pivot)
    readers = tuple(dict.fromkeys(_norm(r) for r in readers))
    langs = sorted({_norm(lang) for lang in languages})
    wanted: list[tuple[str, str]] = []
    optional: set[tuple[str, str]] = set()
    for reader in readers:
        if reader != pivot:
            wanted += [(pivot, reader), (reader, pivot)]
        for lang in langs:
            if lang in (reader, pivot):
                continue
            wanted.append((lang, pivot))
            if reader != pivot:
                wanted.append((lang, reader))
                optional.add((lang, reader))
    chosen: dict[tuple[str, str], IndexPackage] = {}
    missing: list[tuple[str, str]] = []
    for pair in dict.fromkeys(wanted):
        package = find_package(index, *pair)
        if package is not None:
            chosen[pair] = package
        elif pair not in optional and pair not in missing:
            missing.append(pair)
    return Plan(readers, tuple(chosen.values()), tuple(missing))


def package_sizes(client: httpx.Client, packages: Iterable[IndexPackage], *,
                  workers: int = 8) -> dict[IndexPackage, int | None]:
    """Each package's size: the index's, else the Content-Length of a HEAD request on its
    first link (None when the server does not say)."""
    todo = list(dict.fromkeys(packages))

    def size(package: IndexPackage) -> int | None:
        if package.size is not None:
            return package.size
        try:
            resp = client.head(package.links[0])
        except httpx.HTTPError:
            return None
        length = resp.headers.get("content-length", "")
        return int(length) if resp.status_code == 200 and length.isdigit() else None

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1))) as pool:
        return dict(zip(todo, pool.map(size, todo), strict=True))


# --------------------------------------------------------------------------- downloads


class _Restart(Exception):
    """The partial file cannot be continued: start the transfer again from zero."""


class _Cut(Exception):
    """The transfer stopped before the end: resume it."""


@contextlib.contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    fd = os.open(cache_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ModelInstallError(f"another `babelwire models install` is downloading "
                                    f"into {cache_dir}") from exc
        yield
    finally:
        os.close(fd)


def _parse_content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    """'bytes 100-199/200' -> (100, 199, 200); 'bytes */200' -> (None, None, 200)."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None, None, None
    start, end, total = match.groups()
    return (int(start) if start else None, int(end) if end else None,
            int(total) if total and total != "*" else None)


def _read_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) \
        else {}


def _discard(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _transfer(client: httpx.Client, url: str, part: Path, state_path: Path,
              progress: Progress | None) -> int | None:
    """One GET into `part`, continuing it when it has bytes; the announced total or None.
    Raises _Cut when the body ended early, _Restart when the part must be dropped."""
    have = part.stat().st_size if part.exists() else 0
    state = _read_state(state_path) if have else {}
    if have and state.get("url") not in (None, url):
        raise _Restart  # another mirror: its file may differ
    headers = {"Accept-Encoding": "identity"}  # ranges count bytes of the file itself
    if have:
        headers["Range"] = f"bytes={have}-"
        if state.get("validator"):
            headers["If-Range"] = state["validator"]
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 416 and have:
            _, _, total = _parse_content_range(resp.headers.get("content-range"))
            if total == have:
                return total  # the part was already complete
            raise _Restart
        if resp.status_code == 206 and have:
            start, _, total = _parse_content_range(resp.headers.get("content-range"))
            if start != have:
                raise _Restart
            mode = "ab"
        elif resp.status_code == 200:
            if have:
                log.info("%s ignored the Range request: downloading from the start", url)
            have = 0
            mode = "wb"
            length = resp.headers.get("content-length", "")
            total = int(length) if length.isdigit() else None
            validator = resp.headers.get("etag") or resp.headers.get("last-modified") or ""
            if validator.startswith("W/"):
                validator = ""  # a weak ETag cannot be used with If-Range
            state_path.write_text(json.dumps({"url": url, "validator": validator}),
                                  encoding="utf-8")
        else:
            raise ModelInstallError(f"HTTP {resp.status_code} from {url}")
        if progress is not None:
            progress(have, total)
        try:
            with part.open(mode) as out:
                for chunk in resp.iter_raw():  # as received: a cut keeps every byte
                    out.write(chunk)
                    have += len(chunk)
                    if progress is not None:
                        progress(have, total)
        except httpx.TransportError as exc:
            log.info("download of %s cut after %d bytes: %s", url, have, exc)
            raise _Cut(str(exc)) from exc
    if total is not None and have < total:
        raise _Cut(f"{have} of {total} bytes")
    if total is not None and have > total:
        raise _Restart
    return total


def _check_file(path: Path, package: IndexPackage, total: int | None) -> None:
    size = path.stat().st_size
    if total is not None and size != total:
        raise ModelInstallError(f"{package.label}: got {size} bytes, the server announced "
                                f"{total}")
    if package.size is not None and size != package.size:
        raise ModelInstallError(f"{package.label}: size mismatch: the index says "
                                f"{package.size} bytes, the download has {size}")
    if package.sha256 is not None:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1024 * 1024), b""):
                digest.update(block)
        if digest.hexdigest() != package.sha256:
            raise ModelInstallError(f"{package.label}: checksum mismatch: the index says "
                                    f"sha256 {package.sha256}, the download has "
                                    f"{digest.hexdigest()}")
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, OSError,
            NotImplementedError, RuntimeError) as exc:
        raise ModelInstallError(f"{package.label}: the download is not a valid package "
                                f"(corrupt zip: {exc})") from exc
    if bad is not None:
        raise ModelInstallError(f"{package.label}: the download is corrupt (bad CRC in "
                                f"{bad})")


def download(package: IndexPackage, cache_dir: Path, *, client: httpx.Client,
             progress: Progress | None = None, attempts: int = ATTEMPTS,
             retry_delay: float = 0.5) -> Path:
    """Download `package` into `cache_dir` (resuming a previous partial download) and
    return the checked file. A file that fails its checks is deleted and the error
    raised; a transfer still cut after `attempts` keeps its ``.part`` for the next run."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / package.filename
    part = cache_dir / (package.filename + ".part")
    state_path = cache_dir / (package.filename + ".part.json")
    with _cache_lock(cache_dir):
        _discard(final)  # a leftover of a run killed between check and install
        errors: list[str] = []
        for url in package.links:
            tries = 0
            while tries < attempts:
                tries += 1
                try:
                    total = _transfer(client, url, part, state_path, progress)
                except _Restart:
                    _discard(part, state_path)
                    continue
                except _Cut as exc:
                    errors.append(f"{url}: cut ({exc})")
                    if tries < attempts:
                        time.sleep(min(retry_delay * 2 ** (tries - 1), 5.0))
                    continue
                except httpx.TransportError as exc:
                    errors.append(f"{url}: {network_reason(exc)}")
                    break  # try the next link
                except httpx.InvalidURL as exc:
                    errors.append(f"{url}: {exc}")
                    break
                except ModelInstallError as exc:
                    errors.append(str(exc))
                    break
                try:
                    _check_file(part, package, total)
                except ModelInstallError:
                    _discard(part, state_path)
                    raise
                part.rename(final)
                _discard(state_path)
                return final
        last = errors[-1] if errors else "no download link"
        raise ModelInstallError(f"cannot download {package.label}: {last}"
                                + (" (the partial download is kept and resumed next time)"
                                   if part.exists() else ""))


def install_package(package: IndexPackage, models_dir: Path, *, client: httpx.Client,
                    progress: Progress | None = None, attempts: int = ATTEMPTS,
                    retry_delay: float = 0.5) -> InstalledModel:
    """Download, check and install `package`; older installed versions of its pair are
    removed once the new one is in place. The download is deleted afterwards."""
    cache_dir = models_dir / DOWNLOADS
    try:
        path = download(package, cache_dir, client=client, progress=progress,
                        attempts=attempts, retry_delay=retry_delay)
        try:
            model = install_model(path, models_dir,
                                  expect_pair=(package.from_code, package.to_code))
        finally:
            _discard(path)
    finally:
        with contextlib.suppress(OSError):
            cache_dir.rmdir()  # only when empty: a partial download stays for next time
    for old in list_models(models_dir):
        if (old.from_code, old.to_code) == (model.from_code, model.to_code) \
                and version_key(old.version) < version_key(model.version):
            remove_model(models_dir, old.from_code, old.to_code, old.version)
    return model


def installed_versions(models_dir: Path) -> dict[tuple[str, str], str]:
    """Newest installed version per pair (BCP 47 pairs, as `IndexPackage.pair`)."""
    best: dict[tuple[str, str], str] = {}
    for model in list_models(models_dir):
        pair = (_norm(model.from_code), _norm(model.to_code))
        if pair not in best or version_key(model.version) > version_key(best[pair]):
            best[pair] = model.version
    return best


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


def progress_text(label: str, done: int, total: int | None, elapsed: float,
                  width: int = 24) -> str:
    """'en→de 1.0 [#########.......] 38% 12.1/31.8 MB 2.3 MB/s'."""
    rate = f"{human_size(int(done / elapsed))}/s" if elapsed > 0.2 else ""
    if total:
        frac = min(done / total, 1.0)
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        return (f"{label} [{bar}] {frac:4.0%} {human_size(done)}/{human_size(total)} "
                f"{rate}").rstrip()
    return f"{label} {human_size(done)} {rate}".rstrip()


def needs_install(package: IndexPackage, installed: dict[tuple[str, str], str]) -> bool:
    """True unless this version of the pair, or a newer one, is installed already."""
    have = installed.get(package.pair)
    return have is None or version_key(have) < version_key(package.version)
