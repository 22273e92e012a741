"""Apertium, the offline default engine.

Each language pair gets one warm pipeline: the stage commands of its mode file, started once
and chained with pipes, every stage in null-flush mode (`-z`). A batch is written as one record
per segment, each deformatted (escaped, with an end marker superblank) and followed by a NUL;
each stage flushes at every NUL, so every segment comes back as its own NUL-terminated record,
in order, without restarting anything. Records are checked (the end marker must be there, the
text must not be empty or cut short), so a crashed stage, a hung stage or a short output never
turns into silent loss: the pipeline is restarted, the segment that failed is retried alone,
and only a segment that fails on its own comes back as `Translated(None, error)`.

A pair whose pipeline does not pass NULs through (a stage without null-flush) falls back to one
pipeline run per batch (never per sentence), with the same end markers to split the output.

Proper names (`keep_names`, on by default; see names.py): the pair's pipeline runs in two
warm halves, its first stage (the `lt-proc` analyser) and the stages after it. The names are
found in the analyser's output and replaced there by placeholder units (unknown words, which
Apertium passes through in place), the rest of the pipeline reads that, and the names are
restored in its output: every word is analysed once, as in the raw mode. When the analyser
stage does not give dictionary case (`-w`), the capitalised words are looked up once each in a
dictionary-case analyser (and remembered). A long batch goes in parts, the next part analysed
while the rest of the pipeline translates this one. A segment whose placeholders do not come
back exactly once is translated again without them; an analyser that fails only turns name
protection off for that batch, and a mode whose first stage is no analyser, or whose later
stages cannot run on their own, is translated whole, without name protection.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from babelwire.translate import apertium_modes, names
from babelwire.translate.apertium_modes import Mode, ModeError, StagePlan
from babelwire.translate.base import EngineError, Health, Pair, Translated

log = logging.getLogger(__name__)

DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")

_BATCH_UNITS = 1000  # segments per exchange (bounds memory, not correctness)
_ONESHOT_UNITS = 200  # segments per process run in the fallback mode
_GIVE_UP_AFTER = 10  # consecutive segments failing alone: the pipeline is broken, stop trying
_PROBE_TIMEOUT = 15.0  # a started pipeline answers "1" in well under a second
_BROKEN_SHARE = 0.2  # ... or at least that many, and more than this share of those tried
_STDERR_KEEP = 64 * 1024
_NAMES_PART = 200  # segments analysed ahead while the rest of the pipeline translates
_CASES_MAX = 100_000  # capitalised words' dictionary-case readings kept per pair

# --- deformatting / reformatting ---------------------------------------------------------

_SPECIAL = re.compile(r"([\\^$\[\]{}/@<>])")
# Whitespace other than single spaces, and '#', go into superblanks: '#' is also the mark
# Apertium leaves on words it could not generate, and those marks are dropped.
_TO_SUPERBLANK = re.compile(r"[^\S ]\s*|  +|#+")
_URL = r"(?:(?:https?|ftp)://|www\.)[^\s<>\"]+"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_PROTECT = re.compile(f"{_URL}|{_EMAIL}")
_TRAILING = ".,;:!?'\")]}»\u201d\u2019"
_KEEP = re.compile(r"<bwk:(\d+)>")
_END = "<bw:{}>"
_END_ANY = re.compile(rb"\[<bw:(\d+)>\]")
_WORDISH = re.compile(r"\w")


def _protected_spans(text: str) -> list[tuple[int, int]]:
    """URLs and e-mail addresses, which some pairs take apart (eng-cat reorders their parts)."""
    if "@" not in text and "://" not in text and "www." not in text:
        return []  # the search below costs more than the rest of encoding a sentence
    spans = []
    for m in _PROTECT.finditer(text):
        start, end = m.start(), m.end()
        while end > start and text[end - 1] in _TRAILING:
            if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                break
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _escape(text: str) -> str:
    text = _SPECIAL.sub(r"\\\1", text.replace("\0", " "))
    return _TO_SUPERBLANK.sub(lambda m: "[" + m.group() + "]", text)


def encode(text: str, index: int) -> tuple[bytes, list[str]]:
    """One segment as an Apertium stream record: escaped text, URLs and e-mail addresses as
    superblank placeholders (returned, to restore), then an end-marker superblank."""
    kept: list[str] = []
    parts: list[str] = []
    pos = 0
    for start, end in _protected_spans(text):
        parts.append(_escape(text[pos:start]))
        parts.append(f"[<bwk:{len(kept)}>]")
        kept.append(text[start:end])
        pos = end
    parts.append(_escape(text[pos:]))
    parts.append("[" + _END.format(index) + "]")
    return "".join(parts).encode("utf-8", errors="replace"), kept


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


# An escape, a superblank, or a '#' outside superblanks (a generation mark).
_TOKEN = re.compile(r"\\(.)|\[((?:[^\]\\]|\\.)*)\]|#", re.S)


def decode(record: bytes, index: int, kept: Sequence[str]) -> str | None:
    """A record's plain text, or None when it is not whole: its end marker missing or not
    the one expected, or a protected span lost or duplicated."""
    if _END_ANY.findall(record) != [str(index).encode()]:
        return None
    used = [0] * len(kept)
    end = _END.format(index)

    def token(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return m.group(1)
        content = m.group(2)
        if content is None:
            return ""
        keep = _KEEP.fullmatch(content)
        if keep and int(keep.group(1)) < len(kept):
            used[int(keep.group(1))] += 1
            return kept[int(keep.group(1))]
        return "" if content == end else _unescape(content)

    text = _TOKEN.sub(token, record.decode("utf-8", errors="replace"))
    if any(u != 1 for u in used):
        return None
    return text


def _with_edges(source: str, text: str) -> str:
    """The translation with the source's leading and trailing whitespace."""
    core = text.strip()
    lead = source[:len(source) - len(source.lstrip())]
    trail = source[len(source.rstrip()):]
    return lead + core + trail


def _suspicious(source: str, text: str) -> str | None:
    """Why an output looks lost or cut short, or None. Apertium translates word by word, so a
    real output is never empty and rarely under a third of the source's length."""
    src, out = source.strip(), text.strip()
    if not out and _WORDISH.search(src):
        return "empty output"
    if len(src) >= 40 and len(out) < len(src) / 3:
        return f"output cut short ({len(out)} of {len(src)} characters)"
    return None


# --- processes ---------------------------------------------------------------------------

def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C.UTF-8"  # the stages need a UTF-8 locale (`apertium` forces one too)
    return env


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


class _Failure(Exception):
    """A pipeline run that did not bring every record back."""


@dataclass
class _Exchange:
    records: list[bytes]
    error: str | None = None  # why records stop short of what was sent


class _Pipeline:
    """The stages of one plan, started and chained; our ends are non-blocking."""

    def __init__(self, plan: StagePlan, label: str) -> None:
        self.plan = plan
        self.label = label
        self.procs: list[subprocess.Popen[bytes]] = []
        self.errs: list[IO[bytes]] = []
        env = _child_env()
        prev: IO[bytes] | None = None
        try:
            for i, cmd in enumerate(plan.commands):
                err = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
                fcntl.fcntl(err.fileno(), fcntl.F_SETFL,
                            fcntl.fcntl(err.fileno(), fcntl.F_GETFL) | os.O_APPEND)
                self.errs.append(err)
                try:
                    proc = subprocess.Popen(cmd, stdin=prev if prev is not None
                                            else subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=err, env=env)
                except OSError as exc:
                    raise _Failure(f"{plan.describe(i)} of {label} cannot start: {exc}") from exc
                finally:
                    if prev is not None:
                        prev.close()
                self.procs.append(proc)
                prev = proc.stdout
        except BaseException:
            self.close()
            raise
        stdin, stdout = self.procs[0].stdin, self.procs[-1].stdout
        assert stdin is not None and stdout is not None
        self.stdin: IO[bytes] = stdin
        self.stdout: IO[bytes] = stdout
        os.set_blocking(stdin.fileno(), False)
        os.set_blocking(stdout.fileno(), False)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def alive(self) -> bool:
        return bool(self.procs) and all(p.poll() is None for p in self.procs)

    def exchange(self, payload: bytes, expect: int | None, timeout: float) -> _Exchange:
        """Write `payload`, read NUL-terminated records until `expect` of them came back; with
        `expect` None (one-shot mode) close stdin and read everything until end of file, as
        one record. Fails on end of file, or when no record (one-shot: no byte) arrives for
        `timeout` seconds."""
        records: list[bytes] = []
        buf = bytearray()
        view = memoryview(payload)
        pos = 0
        wfd, rfd = self.stdin.fileno(), self.stdout.fileno()
        sel = selectors.DefaultSelector()
        if payload:
            sel.register(wfd, selectors.EVENT_WRITE)
        elif expect is None:
            self.stdin.close()
        sel.register(rfd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while expect is None or len(records) < expect:
                left = deadline - time.monotonic()
                if left <= 0:
                    return _Exchange(records, f"no output for {timeout:g} s (a stage hangs)")
                for key, _ in sel.select(left):
                    if key.fd == wfd:
                        try:
                            pos += os.write(wfd, view[pos:pos + 65536])
                        except BlockingIOError:
                            continue
                        except OSError:  # a stage died: read what is left, then end of file
                            sel.unregister(wfd)
                            continue
                        if pos >= len(payload):
                            sel.unregister(wfd)
                            if expect is None:
                                self.stdin.close()
                        continue
                    try:
                        data = os.read(rfd, 65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        if expect is None:
                            return _Exchange([bytes(buf)])
                        return _Exchange(records, "pipeline ended before all output came")
                    if expect is None:
                        buf += data
                        deadline = time.monotonic() + timeout
                        continue
                    buf += data
                    if b"\0" in data:
                        *done, rest = bytes(buf).split(b"\0")
                        records.extend(done)
                        buf = bytearray(rest)
                        deadline = time.monotonic() + timeout
            if buf:
                return _Exchange(records, "unexpected output after the last record")
            return _Exchange(records)
        finally:
            sel.close()
            self._trim_stderr()

    def diagnose(self) -> str:
        """Which stage died and how (call after a failed exchange, before close)."""
        end = time.monotonic() + 0.5
        while time.monotonic() < end and any(p.poll() is None for p in self.procs):
            time.sleep(0.01)
        findings = []
        for i, proc in enumerate(self.procs):
            rc = proc.poll()
            if rc is None or rc == 0 or rc == -signal.SIGPIPE:
                continue
            how = _signal_name(rc) if rc < 0 else f"exit status {rc}"
            tail = self._stderr_tail(i)
            findings.append(f"{self.plan.describe(i)} crashed ({how})"
                            + (f": {tail}" if tail else ""))
        if findings:
            return "; ".join(findings[:2])
        if all(p.poll() is None for p in self.procs):
            return "all stages still running"
        return "a stage ended without an error status"

    def _stderr_tail(self, i: int) -> str:
        err = self.errs[i]
        try:
            err.seek(0, os.SEEK_END)
            size = err.tell()
            err.seek(max(0, size - 300))
            return " ".join(err.read().decode("utf-8", "replace").split())
        except (OSError, ValueError):
            return ""

    def _trim_stderr(self) -> None:
        for err in self.errs:
            try:
                if os.fstat(err.fileno()).st_size > _STDERR_KEEP:
                    err.truncate(0)
            except (OSError, ValueError):
                pass

    def close(self) -> None:
        for stream in (getattr(self, "stdin", None), getattr(self, "stdout", None)):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        for err in self.errs:
            err.close()
        self.procs, self.errs = [], []


# --- per pair ----------------------------------------------------------------------------

@dataclass
class _PairState:
    mode: Mode
    lock: threading.Lock = field(default_factory=threading.Lock)
    plan: StagePlan | None = None
    pipeline: _Pipeline | None = None
    starts: int = 0
    last_error: str = ""
    # names (see the module docstring): the mode's analyser stage, the stages after it, and
    # when the analyser does not give dictionary case, a dictionary-case analyser to ask
    # about capitalised words
    split: _Split | None = None
    no_split: bool = False  # the mode has no lt-proc analyser first, or it cannot run
    analyser: _Pipeline | None = None
    rest: _Pipeline | None = None
    lookup: _Pipeline | None = None
    dictionary_case: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    case_stats: names.CaseStats = field(default_factory=names.CaseStats)
    last_used: float = 0.0  # time.monotonic() of the pair's last batch

    @property
    def warm(self) -> bool:
        return any(p is not None for p in (self.pipeline, self.analyser, self.rest,
                                           self.lookup))

    def drop_pipeline(self) -> None:
        if self.pipeline is not None:
            self.pipeline.close()
            self.pipeline = None

    def drop_analyser(self, rest: bool = True) -> None:
        for attr in ("analyser", "lookup", "rest")[:3 if rest else 2]:
            running = getattr(self, attr)
            if running is not None:
                running.close()
                setattr(self, attr, None)


@dataclass(frozen=True)
class _Split:
    """A mode's pipeline cut after its analyser (an `lt-proc` analysis stage)."""

    analyser: StagePlan
    rest: StagePlan
    lookup: StagePlan | None  # dictionary case (-w), when the analyser stage lacks it


class _NoSplit(Exception):
    """The stages after the analyser cannot run on their own: translate whole."""


@dataclass
class _Prepared:
    """A part of a batch ready for the stages after the analyser (see _with_names)."""

    units: list[_Unit]
    kept: list[list[str]]  # each segment's names, in placeholder order
    spans: list[list[tuple[int, int]]]
    streams: list[str]  # the analysed segments as they were, to retry without names
    kept_urls: list[list[str]]


@dataclass
class _Unit:
    text: str  # the segment
    record: bytes  # encoded, without the index-specific end marker
    kept: list[str]


class _Resources:
    """What the engine owns outside Python: pipelines and a directory of repaired models.
    Kept apart from the engine so that a finalizer (and the reaper thread, which must not
    keep the engine alive) can release them.

    Each warm pair holds a few processes of 10-50 MB (a soak warmed ~25 pairs: 5 GB), so a
    pair's processes are closed after `idle_seconds` without a batch, and beyond `max_warm`
    warm pairs the least recently used are closed; the next batch starts them again (well
    under a second). What the pair learned (dictionary case, capitalisation) is kept."""

    def __init__(self, idle_seconds: float = 0.0, max_warm: int = 0) -> None:
        self.states: dict[Pair, _PairState] = {}
        self.workdir: Path | None = None
        self.idle_seconds = idle_seconds
        self.max_warm = max_warm
        self.closing = threading.Event()
        self._reaper: threading.Thread | None = None
        self._reaper_lock = threading.Lock()

    def used(self, state: _PairState) -> None:
        """After a batch of `state` (its lock released): enforce the bounds."""
        state.last_used = time.monotonic()
        if self.idle_seconds > 0 and self._reaper is None:
            with self._reaper_lock:
                if self._reaper is None and not self.closing.is_set():
                    self._reaper = threading.Thread(target=self._reap_forever, daemon=True,
                                                    name="apertium-reaper")
                    self._reaper.start()
        if self.max_warm > 0:
            self.reap()

    def _reap_forever(self) -> None:
        interval = min(max(self.idle_seconds / 4, 0.05), 30.0)
        while not self.closing.wait(interval):
            self.reap()

    def reap(self, now: float | None = None) -> list[str]:
        """Close the processes of pairs idle for `idle_seconds`, and of the least recently
        used beyond `max_warm`. A pair in the middle of a batch is left alone. Returns the
        modes closed."""
        now = time.monotonic() if now is None else now
        warm = sorted((s for s in list(self.states.values()) if s.warm),
                      key=lambda s: s.last_used)
        excess = len(warm) - self.max_warm if self.max_warm > 0 else 0
        closed = []
        for i, state in enumerate(warm):
            idle = self.idle_seconds > 0 and now - state.last_used >= self.idle_seconds
            if not (idle or i < excess) or not state.lock.acquire(blocking=False):
                continue
            try:
                if state.warm:
                    state.drop_pipeline()
                    state.drop_analyser()
                    closed.append(state.mode.name)
            finally:
                state.lock.release()
        if closed:
            log.info("apertium: closed the processes of %s (%s)", ", ".join(closed),
                     "idle" if not excess else f"more than {self.max_warm} warm pairs")
        return closed

    def release(self) -> None:
        self.closing.set()
        for state in self.states.values():
            state.drop_pipeline()
            state.drop_analyser()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def available(binary: str = "apertium", modes_dir: Path = DEFAULT_MODES_DIR) -> bool:
    """The apertium binary is on PATH and a language pair's mode file is installed (its
    files are checked when the engine reads the modes)."""
    return shutil.which(binary) is not None and modes_dir.is_dir() and any(
        apertium_modes.parse_mode_name(p.stem) for p in modes_dir.glob("*.mode"))


class ApertiumEngine:
    """Babelwire's offline default engine (see the module docstring)."""

    name = "apertium"
    quality = 10

    def __init__(self, *, modes_dir: Path = DEFAULT_MODES_DIR, timeout: float = 60.0,
                 binary: str = "apertium", keep_names: bool = True,
                 names_gate: bool = True, idle_seconds: float = 0.0,
                 max_warm_pairs: int = 0) -> None:
        self.modes_dir = Path(modes_dir)
        self.timeout = timeout
        self.binary = binary
        self.keep_names = keep_names
        # pairs where keeping names was measured to cost chrF (names_gate.json) translate
        # without; names_gate=False protects names on every pair (to measure them)
        self._names_off = names.gated_pairs() if names_gate else frozenset()
        self._modes = apertium_modes.discover(self.modes_dir)
        self._res = _Resources(idle_seconds, max_warm_pairs)
        self._res.states = {pair: _PairState(mode) for pair, mode in self._modes.items()}
        self._version: str | None = None
        self._core_version = "apertium unknown"
        self._data_versions: dict[str, str] = {}
        self._pair_versions: dict[Pair, str] = {}
        self._closed = False
        self._setup = threading.Lock()  # guards the shared work directory
        self._finalizer = weakref.finalize(self, self._res.release)

    # -- Engine --------------------------------------------------------------------------

    def pairs(self) -> frozenset[Pair]:
        return frozenset(self._modes)

    def version(self) -> str:
        if self._version is None:
            self._version = self._read_version()
        return self._version

    def health(self) -> Health:
        if shutil.which(self.binary) is None:
            return Health(False, f"{self.binary} is not installed")
        if not self._modes:
            return Health(False, f"no Apertium modes in {self.modes_dir}")
        names = ", ".join(f"{a}-{b}" for a, b in sorted(self._modes))
        notes = [f"{a}-{b}: {s.last_error}" for (a, b), s in sorted(self._res.states.items())
                 if s.last_error]
        repaired = [n for s in self._res.states.values() if s.plan for n in s.plan.notes]
        detail = f"{len(self._modes)} pairs ({names})"
        if repaired:
            detail += "; repaired: " + "; ".join(repaired)
        if notes:
            detail += "; recent failures: " + "; ".join(notes)
        return Health(True, detail)

    def translate(self, segments: Sequence[str], source: str, target: str
                  ) -> list[Translated]:
        if self._closed:
            raise EngineError("the Apertium engine is closed")
        state = self._res.states.get((source, target))
        if state is None:
            raise EngineError(f"Apertium has no mode for {source}->{target}")
        results: list[Translated | None] = [None] * len(segments)
        todo: list[int] = []
        for i, seg in enumerate(segments):
            if seg.strip():
                todo.append(i)
            else:
                results[i] = Translated(seg)
        with state.lock:
            for start in range(0, len(todo), _BATCH_UNITS):
                chunk = todo[start:start + _BATCH_UNITS]
                texts = [segments[i] for i in chunk]
                outs = self._with_names(state, texts) \
                    if self.keep_names and (source, target) not in self._names_off \
                    else self._translate_units(state, texts)
                for i, res in zip(chunk, outs, strict=True):
                    results[i] = res
        self._res.used(state)
        return [r if r is not None else Translated(None, "not translated") for r in results]

    def analyse(self, segments: Sequence[str], source: str, target: str
                ) -> list[list[names.Token]] | None:
        """The morphological analysis of each segment by the pair's own analyser (its first
        stage, with dictionary case), one warm process for the pair, the whole batch in one
        exchange; None when the pair has no such analyser or it fails."""
        state = self._res.states.get((source, target))
        if state is None:
            raise EngineError(f"Apertium has no mode for {source}->{target}")
        with state.lock:
            got = self._analyse(state, list(segments))
        self._res.used(state)
        return got

    def close(self) -> None:
        self._closed = True
        self._finalizer()

    # -- internals -----------------------------------------------------------------------

    def _read_version(self) -> str:
        """"apertium 3.8.3; eng-spa 0.8.1; ..." from dpkg, else from `apertium -V`."""
        data_pkgs = {pkg for mode in self._modes.values() for pkg in _data_packages(mode.path)}
        versions: dict[str, str] = {}
        if shutil.which("dpkg-query"):
            try:
                proc = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Version}\n",
                                       "apertium", *sorted(data_pkgs)],
                                      capture_output=True, text=True, timeout=10)
                for line in proc.stdout.splitlines():
                    pkg, _, ver = line.partition("\t")
                    if ver:
                        versions[pkg] = re.split(r"[-+~]", ver.split(":")[-1])[0]
            except (OSError, subprocess.SubprocessError):
                pass
        core = versions.pop("apertium", "")
        if not core and shutil.which(self.binary):
            try:
                proc = subprocess.run([self.binary, "-V"], capture_output=True, text=True,
                                      timeout=10)
                core = proc.stdout.strip().split()[-1] if proc.stdout.strip() else ""
            except (OSError, subprocess.SubprocessError):
                pass
        self._core_version = f"apertium {core or 'unknown'}"
        self._data_versions = versions
        parts = [self._core_version]
        parts += [f"{pkg.removeprefix('apertium-')} {ver}" for pkg, ver in sorted(versions.items())]
        return "; ".join(parts)

    def pair_version(self, source: str, target: str) -> str:
        """"apertium 3.8.3; eng-spa 0.8.1": the core and the data package of one pair, which
        is what its translations depend on (the translation memory's key, provenance)."""
        found = self._pair_versions.get((source, target))
        if found is None:
            self.version()
            mode = self._modes.get((source, target))
            pkgs = sorted(_data_packages(mode.path)) if mode is not None else []
            found = "; ".join([self._core_version] + [
                f"{p.removeprefix('apertium-')} {self._data_versions[p]}" for p in pkgs
                if p in self._data_versions])
            self._pair_versions[(source, target)] = found
        return found

    def live_pids(self) -> list[int]:
        """Process ids of the running pipeline stages (for tests and diagnostics)."""
        return [pid for s in self._res.states.values()
                for running in (s.pipeline, s.analyser, s.rest, s.lookup) if running
                for pid in running.pids]

    def _plan(self, state: _PairState, *, null_flush: bool = True) -> StagePlan:
        if state.plan is None or state.plan.null_flush != null_flush:
            with self._setup:
                if self._res.workdir is None:
                    self._res.workdir = Path(tempfile.mkdtemp(prefix="babelwire-apertium-"))
            try:
                state.plan = apertium_modes.build_plan(state.mode, null_flush=null_flush,
                                                       workdir=self._res.workdir)
            except (ModeError, OSError) as exc:
                raise _Failure(f"mode {state.mode.name} unusable: {exc}") from exc
            for note in state.plan.notes:
                log.info("apertium %s: %s", state.mode.name, note)
        return state.plan

    def _pipeline(self, state: _PairState, rest: bool = False) -> _Pipeline:
        """The pair's warm pipeline (`rest`: its stages after the analyser, which read an
        analysed stream), started (and probed) if needed. Raises _Failure when it cannot
        start; switches the pair to one-shot mode when NULs do not come through (the rest:
        raises _NoSplit)."""
        running = state.rest if rest else state.pipeline
        if running is not None and running.alive():
            return running
        if rest:
            if state.rest is not None:
                state.rest.close()
                state.rest = None
        else:
            state.drop_pipeline()
        if self._closed:
            raise _Failure("the Apertium engine was closed")
        if rest:
            assert state.split is not None
            plan = state.split.rest
            probe, kept = b"[" + _END.format(0).encode() + b"]", list[str]()
        else:
            plan = self._plan(state)
            probe, kept = encode("1", 0)
        pipeline = _Pipeline(plan, state.mode.name)
        state.starts += 1
        got = pipeline.exchange(probe + b"\0", 1, min(self.timeout, _PROBE_TIMEOUT))
        if got.error is None and decode(got.records[0], 0, kept) is not None:
            if rest:
                state.rest = pipeline
            else:
                state.pipeline = pipeline
            return pipeline
        why = got.error or "garbled probe output"
        alive = pipeline.alive()
        detail = pipeline.diagnose()
        pipeline.close()
        if rest:
            raise _NoSplit(f"{state.mode.name} after its analyser does not start: {why}; "
                           f"{detail}")
        if alive and got.error is not None and not got.records:
            log.warning("apertium %s: no null-flush (%s); one process run per batch",
                        state.mode.name, why)
            self._plan(state, null_flush=False)
            raise _OneShot
        raise _Failure(f"{state.mode.name} pipeline does not start: {why}; {detail}")

    def _split(self, state: _PairState) -> _Split | None:
        """The mode cut after its first stage when that is an `lt-proc` analyser."""
        if state.split is None and not state.no_split:
            try:
                plan = state.plan if state.plan is not None and state.plan.null_flush \
                    else self._plan(state)
            except _Failure:
                state.no_split = True
                return None
            first = list(plan.commands[0])
            files = [a for a in first[1:] if not a.startswith("-")]
            flags = [a for a in first[1:] if a.startswith("-")]
            if Path(first[0]).name != "lt-proc" or len(files) != 1 \
                    or not files[0].endswith(".bin") or len(plan.commands) < 2 \
                    or not all(re.fullmatch(r"-[weacz]+", f) for f in flags):
                state.no_split = True  # not an analyser (a transliterator: lt-proc -t)
                return None
            lookup = None
            if not any("w" in f for f in flags):
                lookup = StagePlan([[first[0], "-w", *flags, files[0]]], True)
            state.split = _Split(StagePlan([first], True), StagePlan(plan.commands[1:], True),
                                 lookup)
        return state.split

    def _analysed(self, state: _PairState, texts: list[str]
                  ) -> tuple[list[str], list[list[str]], list[list[names.Token]],
                             list[list[names.Unit]]] | None:
        """Each segment through the pair's analyser stage: the analysed stream (without its
        end marker), the segment's protected spans (URLs), and its tokens placed in the text,
        with dictionary-case readings. None when there is no analyser or it failed."""
        split = self._split(state)
        if split is None:
            return None
        payload, kept_all, masks = [], [], []
        for k, text in enumerate(texts):
            record, kept = encode(text, k)
            payload.append(record + b"\0")
            kept_all.append(kept)
            masks.append(_protected_spans(text))
        try:
            if state.analyser is None or not state.analyser.alive():
                if state.analyser is not None:
                    state.analyser.close()
                state.analyser = _Pipeline(split.analyser, f"{state.mode.name} analyser")
            got = state.analyser.exchange(b"".join(payload), len(payload), self.timeout)
        except _Failure as exc:
            log.warning("apertium %s: analyser unusable, names not protected: %s",
                        state.mode.name, exc)
            state.no_split = True
            return None
        if got.error is not None:
            log.warning("apertium %s analyser: %s; names not protected in this batch",
                        state.mode.name, got.error)
            state.drop_analyser(rest=False)
            return None
        streams: list[str] = []
        units: list[list[names.Unit]] = []
        for k, record in enumerate(got.records):
            marks = list(_END_ANY.finditer(record))
            if [m.group(1) for m in marks] != [str(k).encode()]:
                state.drop_analyser(rest=False)
                return None
            stream = record[:marks[0].start()].decode("utf-8", errors="replace")
            streams.append(stream)
            units.append(names.parse_stream(stream))
        if split.lookup is not None and not self._dictionary_case(state, split.lookup, units):
            return None
        cases = state.dictionary_case
        tokens = []
        for text, found, mask in zip(texts, units, masks, strict=True):
            pairs = [(u.surface, cases.get(u.surface) or u.readings
                      if split.lookup is not None and u.surface[:1].isupper() else u.readings)
                     for u in found]
            tokens.append(names.place(text, pairs, mask))
        return streams, kept_all, tokens, units

    def _dictionary_case(self, state: _PairState, plan: StagePlan,
                         units: list[list[names.Unit]]) -> bool:
        """Learn the dictionary-case readings of the capitalised words not seen before (the
        analyser stage capitalises every lemma of a capitalised word, so "Trump" and "Monday"
        look alike there), from the dictionary-case analyser, each word alone."""
        cases = state.dictionary_case
        ask = list(dict.fromkeys(u.surface for found in units for u in found
                                 if u.surface[:1].isupper() and u.surface not in cases
                                 and not all(r.startswith("*") for r in u.readings)))
        if not ask:
            return True
        payload = b"".join(_escape(w).encode("utf-8", errors="replace") + b"[" +
                           _END.format(k).encode() + b"]\0" for k, w in enumerate(ask))
        try:
            if state.lookup is None or not state.lookup.alive():
                if state.lookup is not None:
                    state.lookup.close()
                state.lookup = _Pipeline(plan, f"{state.mode.name} dictionary-case analyser")
            got = state.lookup.exchange(payload, len(ask), self.timeout)
        except _Failure as exc:
            log.warning("apertium %s: %s; names not protected", state.mode.name, exc)
            state.no_split = True
            return False
        if got.error is not None:
            log.warning("apertium %s dictionary-case analyser: %s; names not protected in "
                        "this batch", state.mode.name, got.error)
            state.drop_analyser(rest=False)
            return False
        if len(cases) > _CASES_MAX:
            cases.clear()
        for word, record in zip(ask, got.records, strict=True):
            found = names.parse_stream(record.decode("utf-8", errors="replace"))
            cases[word] = found[0].readings if len(found) == 1 and found[0].surface == word \
                else None
        return True

    def _analyse(self, state: _PairState, texts: list[str]) -> list[list[names.Token]] | None:
        got = self._analysed(state, texts)
        return None if got is None else got[2]

    def _with_names(self, state: _PairState, texts: list[str]) -> list[Translated]:
        """Translate with the names found kept (see the module docstring): the analyser
        stage, names found in its output and replaced there by placeholder units, then the
        rest of the pipeline. A long batch goes in parts, the next part analysed while the
        rest of the pipeline translates this one."""
        learned: set[str] = set()
        parts = [texts[i:i + _NAMES_PART] for i in range(0, len(texts), _NAMES_PART)]
        if len(parts) == 1:
            return self._finish(state, texts, self._prepare(state, texts, learned))
        results: list[Translated] = []
        with ThreadPoolExecutor(1, thread_name_prefix="apertium-names") as pool:
            ahead = pool.submit(self._prepare, state, parts[0], learned)
            for k, part in enumerate(parts):
                prepared = ahead.result()
                if k + 1 < len(parts):
                    ahead = pool.submit(self._prepare, state, parts[k + 1], learned)
                results.extend(self._finish(state, part, prepared))
        return results

    def _prepare(self, state: _PairState, texts: list[str], learned: set[str]
                 ) -> _Prepared | None:
        """The analysed segments with their names replaced by placeholder units; None when
        there is no usable analyser (translate without names)."""
        analysed = self._analysed(state, texts)
        if analysed is None:
            return None
        streams, kept_urls, tokens, units = analysed
        spans = names.find_names(texts, tokens, state.case_stats, learned)
        prepared = _Prepared([], [], spans, streams, kept_urls)
        for i, text in enumerate(texts):
            if names.has_placeholder(text):
                spans[i] = []
            protected, names_kept = names.protect(text, spans[i])
            stream = _substitute(streams[i], units[i], tokens[i], spans[i]) if spans[i] \
                else streams[i]
            prepared.units.append(_Unit(protected, stream.encode("utf-8", errors="replace"),
                                        kept_urls[i]))
            prepared.kept.append(names_kept)
        return prepared

    def _finish(self, state: _PairState, texts: list[str], prepared: _Prepared | None
                ) -> list[Translated]:
        """The rest of the pipeline over prepared segments, and the names put back."""
        if prepared is None:
            return self._translate_units(state, texts)
        kept, spans = prepared.kept, prepared.spans
        try:
            results = self._warm(state, prepared.units, analysed=True)
        except _NoSplit as exc:
            log.warning("apertium %s: %s; names not protected", state.mode.name, exc)
            state.no_split = True
            return self._translate_units(state, texts)
        again = []
        for i, res in enumerate(results):
            if kept[i] and res.text is not None:
                restored = names.restore(res.text, kept[i])
                if restored is None:
                    again.append(i)
                else:
                    results[i] = Translated(names.recase_after_initial(texts[i], spans[i],
                                                                       restored))
            elif kept[i]:
                again.append(i)  # failed with placeholders: try the original text alone
        if again:
            plain = [_Unit(texts[i], prepared.streams[i].encode("utf-8", errors="replace"),
                           prepared.kept_urls[i]) for i in again]
            try:
                redone = self._warm(state, plain, analysed=True)
            except _NoSplit:
                redone = self._translate_units(state, [texts[i] for i in again])
            for i, res in zip(again, redone, strict=True):
                results[i] = res
        return results

    def _translate_units(self, state: _PairState, texts: list[str]) -> list[Translated]:
        units = []
        for text in texts:
            record, kept = encode(text, 0)
            units.append(_Unit(text, record[:record.rindex(b"[<bw:")], kept))
        try:
            if state.plan is not None and not state.plan.null_flush:
                return self._oneshot_all(state, units)
            return self._warm(state, units)
        except _Failure as exc:
            state.last_error = str(exc)
            log.warning("apertium %s: %s", state.mode.name, exc)
            return [Translated(None, str(exc)) for _ in units]

    def _warm(self, state: _PairState, units: list[_Unit], analysed: bool = False
              ) -> list[Translated]:
        """Translate through the warm pipeline (`analysed`: the stages after the analyser, for
        analysed records): the whole batch in one exchange; after a failure keep the records
        that came back whole, retry the first missing segment alone, and go on with the
        rest."""
        out: dict[int, Translated] = {}
        pending = list(range(len(units)))
        failed_alone = failed_total = 0
        while pending:
            try:
                pipeline = self._pipeline(state, analysed)
            except _OneShot:
                left = [units[i] for i in pending]
                out.update(zip(pending, self._oneshot_all(state, left), strict=True))
                break
            except _Failure as exc:
                state.last_error = str(exc)
                log.warning("apertium %s: %s", state.mode.name, exc)
                out.update((i, Translated(None, str(exc))) for i in pending)
                break
            got = pipeline.exchange(_payload([units[i] for i in pending]), len(pending),
                                    self.timeout)
            retry: list[tuple[int, str]] = []
            for k, record in enumerate(got.records):
                i = pending[k]
                text = decode(record, k, units[i].kept)
                why = "output record incomplete" if text is None else \
                    _suspicious(units[i].text, text)
                if why is None and text is not None:
                    out[i] = Translated(_with_edges(units[i].text, text))
                else:
                    retry.append((i, why or "bad output"))
            rest = pending[len(got.records):]
            if got.error is not None or any(why == "output record incomplete" for _, why in retry):
                reason = got.error or "output out of step"
                detail = pipeline.diagnose() if got.error else ""
                state.last_error = f"{reason}; {detail}" if detail else reason
                log.warning("apertium %s: %s", state.mode.name, state.last_error)
                self._drop(state, analysed)
                if rest:
                    retry.append((rest[0], state.last_error))
                    rest = rest[1:]
            for i, why in retry:
                result = self._alone(state, units[i], why, analysed)
                out[i] = result
                failed_alone = failed_alone + 1 if not result.ok else 0
                failed_total += not result.ok
            tried = len(units) - len(rest)
            if rest and (failed_alone >= _GIVE_UP_AFTER or (
                    failed_total >= _GIVE_UP_AFTER and failed_total > tried * _BROKEN_SHARE)):
                # A stage that crashes on a large share of sentences (Debian's hbs-mkd
                # transfer does on most): restarting it for each would take minutes.
                msg = (f"not tried: the {state.mode.name} pipeline failed on {failed_total} "
                       f"of {tried} segments ({state.last_error})")
                out.update((i, Translated(None, msg)) for i in rest)
                break
            pending = rest
        return [out[i] for i in range(len(units))]

    @staticmethod
    def _drop(state: _PairState, rest: bool) -> None:
        if not rest:
            state.drop_pipeline()
        elif state.rest is not None:
            state.rest.close()
            state.rest = None

    def _alone(self, state: _PairState, unit: _Unit, why: str, rest: bool = False
               ) -> Translated:
        """One segment on its own; its result is final."""
        try:
            pipeline = self._pipeline(state, rest)
        except _OneShot:
            return self._oneshot_all(state, [unit])[0]
        except _Failure as exc:
            return Translated(None, f"{why}; then {exc}")
        got = pipeline.exchange(_payload([unit]), 1, self.timeout)
        if got.error is not None:
            detail = pipeline.diagnose()
            self._drop(state, rest)
            return Translated(None, f"Apertium {state.mode.name} fails on this segment: "
                                    f"{got.error}; {detail}")
        text = decode(got.records[0], 0, unit.kept)
        if text is None:
            self._drop(state, rest)
            return Translated(None, f"Apertium {state.mode.name}: incomplete output ({why})")
        bad = _suspicious(unit.text, text)
        if bad is not None:
            return Translated(None, f"Apertium {state.mode.name}: {bad}")
        return Translated(_with_edges(unit.text, text))

    # -- one-shot fallback ---------------------------------------------------------------

    def _oneshot_all(self, state: _PairState, units: list[_Unit]) -> list[Translated]:
        results: list[Translated] = []
        for start in range(0, len(units), _ONESHOT_UNITS):
            results.extend(self._oneshot(state, units[start:start + _ONESHOT_UNITS]))
        return results

    def _oneshot(self, state: _PairState, units: list[_Unit]) -> list[Translated]:
        """One process run for the batch, split by end markers; on any mismatch, halves."""
        plan = self._plan(state, null_flush=False)
        payload = b"".join(u.record + b"[" + _END.format(k).encode() + b"]"
                           for k, u in enumerate(units))
        pipeline = _Pipeline(plan, state.mode.name)
        state.starts += 1
        try:
            got = pipeline.exchange(payload, None, self.timeout)
            detail = pipeline.diagnose() if got.error else ""
        finally:
            pipeline.close()
        texts = None if got.error else _split_oneshot(got.records[0].replace(b"\0", b""),
                                                      units)
        if texts is not None:
            bad = [_suspicious(u.text, t) for u, t in zip(units, texts, strict=True)]
            if len(units) == 1 or not any(bad):
                return [Translated(None, f"Apertium {state.mode.name}: {b}") if b
                        else Translated(_with_edges(u.text, t))
                        for u, t, b in zip(units, texts, bad, strict=True)]
        if len(units) == 1:
            why = f"{got.error}; {detail}" if got.error else "incomplete output"
            return [Translated(None, f"Apertium {state.mode.name} fails on this segment: "
                                     f"{why}")]
        half = len(units) // 2
        return self._oneshot(state, units[:half]) + self._oneshot(state, units[half:])


def _substitute(stream: str, units: Sequence[names.Unit], tokens: Sequence[names.Token],
                spans: Sequence[tuple[int, int]]) -> str:
    """The analysed stream with the units of each span replaced by a placeholder unit (an
    unknown word, which the rest of the pipeline passes through in place)."""
    parts, pos = [], 0
    for k, (start, end) in enumerate(spans):
        inside = [t.unit for t in tokens if start <= t.start and t.end <= end and t.unit >= 0]
        if not inside:
            continue
        first, last = units[min(inside)], units[max(inside)]
        word = names.placeholder(k)
        parts.append(stream[pos:first.start])
        parts.append(f"^{word}/*{word}$")
        pos = last.end
    parts.append(stream[pos:])
    return "".join(parts)


def _data_packages(mode_file: Path) -> set[str]:
    """The Debian data packages a mode's stages read ("apertium-eng-spa")."""
    try:
        text = mode_file.read_text(encoding="utf-8")
    except OSError:
        return set()
    return set(re.findall(r"/(apertium-[a-z]{2,3}-[a-z]{2,3})/", text))


class _OneShot(Exception):
    """The pair's pipeline cannot null-flush: use one process run per batch."""


def _payload(units: Sequence[_Unit]) -> bytes:
    return b"".join(u.record + b"[" + _END.format(k).encode() + b"]\0"
                    for k, u in enumerate(units))


def _split_oneshot(output: bytes, units: Sequence[_Unit]) -> list[str] | None:
    """A one-shot run's output cut at the end markers, or None unless every marker is there,
    once, in order."""
    marks = list(_END_ANY.finditer(output))
    if [int(m.group(1)) for m in marks] != list(range(len(units))):
        return None
    texts = []
    start = 0
    for k, (m, unit) in enumerate(zip(marks, units, strict=True)):
        text = decode(output[start:m.end()], k, unit.kept)
        if text is None:
            return None
        texts.append(text)
        start = m.end()
    return texts
