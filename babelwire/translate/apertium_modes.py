"""Apertium mode files: find the installed language pairs and turn a mode's shell pipeline into
a list of stage commands that Babelwire runs itself (warm, with null-flush), with two changes:

- every stage that understands it gets `-z` (flush on NUL), so one long-running pipeline can
  translate batch after batch;
- a tagger model that Apertium 3.8 misreads (an HMM `.prob` that its perceptron loader accepts
  and then crashes on, as in the Debian rus-ukr pair; see docs/apertium-rus-ukr.md) is replaced
  by an equivalent re-encoded copy that the HMM loader reads instead.

Nothing here starts a process; apertium.py does.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from babelwire.translate import langcodes

Pair = tuple[str, str]
log = logging.getLogger(__name__)

# A mode file name: "eng-spa", "es-pt", with an optional variant "eng-cat_valencia", "es-pt_BR".
_MODE_NAME = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})(?:_([A-Za-z0-9_]+))?$")

# Stage programs checked to flush on NUL with -z (Apertium 3.8, lttoolbox 3.7, CG-3 1.3,
# lex-tools 0.4, anaphora 1.1, separable 0.6, recursive 1.1). Other programs are run as they
# are; if NULs do not come through them, apertium.py falls back to one run per batch.
NULL_FLUSH_PROGRAMS = frozenset({
    "lt-proc", "cg-proc", "apertium-tagger", "apertium-pretransfer", "lrx-proc",
    "apertium-transfer", "apertium-interchunk", "apertium-postchunk", "apertium-anaphora",
    "lsx-proc", "rtx-proc", "apertium-posttransfer",
})

# Unknown-word marks: "$1" is the generator flag (-g marks, -n does not); "$2" is a tagger flag
# (-m shows ambiguity) that plain translation leaves empty.
_GENERATOR_PLAIN = "-n"


class ModeError(ValueError):
    """A mode file this module cannot turn into a stage list."""


@dataclass(frozen=True)
class Mode:
    name: str  # "eng-spa"
    path: Path
    source: str  # BCP 47
    target: str
    variant: str = ""  # "valencia", "BR", "US"
    pre: Path | None = None  # a mode run first (a transliteration into the pair's script)


@dataclass
class StagePlan:
    """The commands of one pipeline, in order, and what was changed from the mode file."""

    commands: list[list[str]]
    null_flush: bool
    notes: list[str] = field(default_factory=list)

    def describe(self, index: int) -> str:
        """"stage 3/11 apertium-tagger (rus-ukr.prob)": position, program, last file."""
        cmd = self.commands[index]
        files = [Path(a).name for a in cmd[1:] if "/" in a]
        what = Path(cmd[0]).name + (f" ({files[-1]})" if files else "")
        return f"stage {index + 1}/{len(self.commands)} {what}"


def to_bcp47(code: str) -> str | None:
    """Apertium's codes (ISO 639-3, or 639-1 in older pairs) as BCP 47 primary subtags."""
    return langcodes.to_bcp47(code)


def parse_mode_name(name: str) -> tuple[str, str, str] | None:
    """("eng", "spa", "") for "eng-spa"; None for names that are not a language pair."""
    m = _MODE_NAME.match(name)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3) or ""


# Serbo-Croatian pairs ("hbs") serve three standard languages. As a target each has its own
# variant mode (eng-hbs_SR); as a source one mode reads all three, Serbian in Cyrillic after
# the pair's own Cyrillic-to-Latin transliteration (Serbian news is mostly Cyrillic).
_TARGET_VARIANTS = {"hbs": {"SR": "sr", "HR": "hr", "BS": "bs"}}
_SOURCE_LANGUAGES = {"hbs": ("sr", "hr", "bs")}
_TRANSLITERATE = {"sr": "Cyrl-Latn"}


def discover(modes_dir: Path) -> dict[Pair, Mode]:
    """The installed main mode for each BCP 47 pair (variants only where a variant is the
    mode for a language of its own, as eng-hbs_SR is for Serbian)."""
    found: dict[Pair, Mode] = {}
    if not modes_dir.is_dir():
        return found
    for path in sorted(modes_dir.glob("*.mode")):
        parsed = parse_mode_name(path.stem)
        if parsed is None:
            continue
        src, tgt, variant = parsed
        targets = [to_bcp47(tgt)]
        if tgt in _TARGET_VARIANTS:
            targets = [_TARGET_VARIANTS[tgt][variant]] if variant in _TARGET_VARIANTS[tgt] \
                else []
        elif variant:
            continue
        sources = list(_SOURCE_LANGUAGES.get(src, (to_bcp47(src),)))
        for source in sources:
            pre = None
            if source in _TRANSLITERATE:
                candidate = modes_dir / f"{_TRANSLITERATE[source]}.mode"
                pre = candidate if candidate.is_file() else None
            for target in targets:
                if source is None or target is None or (source, target) in found:
                    continue
                missing = missing_files(path) + (missing_files(pre) if pre else [])
                if missing:  # Debian's eo-ca and eo-es name files they do not ship
                    log.info("apertium mode %s left out: %d of its files are not installed "
                             "(%s, ...)", path.stem, len(missing), missing[0])
                    continue
                found[(source, target)] = Mode(path.stem, path, source, target, variant, pre)
    return found


def missing_files(path: Path) -> list[str]:
    """The data files a mode's stages name that are not on disk (a broken package)."""
    try:
        commands = parse_pipeline(path.read_text(encoding="utf-8"))
    except (OSError, ModeError):
        return [path.name]
    return [os.path.basename(a) for cmd in commands for a in cmd[1:]
            if a.startswith("/") and not os.path.exists(a)]


# A word of a plain mode file: bare characters and single-quoted parts ('/usr/share/...').
_PLAIN_WORD = re.compile(r"(?:'[^']*'|[^\s'\"\\|&;<>()])+|[|&;<>()]+|\S")


def _tokens(text: str) -> list[str]:
    """Shell words and operators; the common case (single quotes only) without shlex, which
    costs a command that reads every installed mode a fifth of a second."""
    if '"' not in text and "\\" not in text:
        tokens = _PLAIN_WORD.findall(text)
        if all(t.count("'") % 2 == 0 for t in tokens):
            return [t.replace("'", "") if "'" in t else t for t in tokens]
    lexer = shlex.shlex(" ".join(text.split()), posix=True, punctuation_chars="|&;<>()")
    lexer.whitespace_split = True
    return list(lexer)


def parse_pipeline(text: str) -> list[list[str]]:
    """A mode file's shell pipeline as argv lists ("$1"/"$2" left in place). Only plain
    `prog args | prog args` pipelines are accepted: anything else raises ModeError."""
    commands: list[list[str]] = [[]]
    for token in _tokens(text):
        if token == "|":
            commands.append([])
        elif token and set(token) <= set("|&;<>()"):
            raise ModeError(f"unsupported shell syntax {token!r} in mode")
        else:
            commands[-1].append(token)
    if any(not c for c in commands):
        raise ModeError("empty stage in mode pipeline")
    for cmd in commands:
        for arg in cmd:
            if "$" in arg and arg not in ("$1", "$2"):
                raise ModeError(f"unsupported variable {arg!r} in mode")
    return commands


def _has_short_flag(args: list[str], flag: str) -> bool:
    return any(a.startswith("-") and not a.startswith("--") and flag in a[1:] for a in args)


def _with_null_flush(cmd: list[str]) -> list[str]:
    if Path(cmd[0]).name not in NULL_FLUSH_PROGRAMS or _has_short_flag(cmd[1:], "z") \
            or "--null-flush" in cmd:
        return cmd
    return [cmd[0], "-z", *cmd[1:]]


def build_plan(mode: Mode, *, null_flush: bool = True, workdir: Path | None = None
               ) -> StagePlan:
    """The stage commands for `mode`: unknown-word marks off, `-z` added when `null_flush`,
    broken tagger models replaced (the copy is written under `workdir`)."""
    raw = parse_pipeline(mode.path.read_text(encoding="utf-8"))
    plan = StagePlan([], null_flush)
    if mode.pre is not None:
        raw = parse_pipeline(mode.pre.read_text(encoding="utf-8")) + raw
        plan.notes.append(f"{mode.pre.stem} transliteration first")
    for cmd in raw:
        argv = [_GENERATOR_PLAIN if a == "$1" else a for a in cmd if a != "$2"]
        if Path(argv[0]).name == "apertium-tagger":
            argv = _repair_tagger(argv, plan, workdir, mode.name)
            if not argv:
                continue
        plan.commands.append(_with_null_flush(argv) if null_flush else argv)
    return plan


# --- the tagger model repair -------------------------------------------------------------

def _repair_tagger(argv: list[str], plan: StagePlan, workdir: Path | None, label: str
                   ) -> list[str]:
    """`apertium-tagger -g MODEL` with no model-type flag makes Apertium 3.8 try the perceptron
    loader first and fall back to the HMM loader only if that throws. An HMM file that the
    perceptron loader happens to accept becomes a garbage perceptron that segfaults on the
    first ambiguous word. Give such a stage an equivalent copy the perceptron loader rejects;
    failing that, let the CG stage before it pick the first reading and drop the tagger."""
    flags = [a for a in argv[1:] if a.startswith("-")]
    files = [a for a in argv[1:] if not a.startswith("-")]
    if not _has_short_flag(flags, "g") or any(_has_short_flag(flags, f) for f in "uwx") \
            or not files:
        return argv
    model = Path(files[0])
    try:
        data = model.read_bytes()
    except OSError:
        return argv
    if not is_shadowed_hmm(data):
        return argv
    patched = reencode_hmm(data)
    if patched is not None and workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        copy = workdir / f"{label}.{model.name}"
        copy.write_bytes(patched)
        plan.notes.append(f"{model.name}: HMM model misread as a perceptron by apertium-tagger; "
                          f"using a re-encoded copy")
        return [str(copy) if a == files[0] else a for a in argv]
    if plan.commands and Path(plan.commands[-1][0]).name == "cg-proc":
        plan.commands[-1] = [*plan.commands[-1][:1], "-1", "-n", *plan.commands[-1][1:]]
        plan.notes.append(f"{model.name}: HMM model misread as a perceptron by apertium-tagger; "
                          f"tagger skipped, CG picks the first reading")
        return []
    plan.notes.append(f"{model.name}: HMM model misread as a perceptron; left unrepaired")
    return argv


class _Eof(Exception):
    pass


class _PerceptronReader:
    """Walks a byte string the way Apertium 3.8's perceptron loader (`PerceptronSpec::
    deserialise`) reads it, to tell whether that loader would accept the file. Each integer is
    a size byte followed by that many big-endian bytes; containers are a count then items.
    C++ shifts past 64 bits are undefined, so a value is computed either with x86 shift-count
    masking (`masked`) or with the high bytes shifted out."""

    def __init__(self, data: bytes, *, masked: bool) -> None:
        self.data = data
        self.masked = masked
        self.pos = 0
        self.reads: list[int] = []  # offsets where a count's size byte was read

    def _byte(self) -> int:
        if self.pos >= len(self.data):
            raise _Eof
        b = self.data[self.pos]
        self.pos += 1
        return b

    def integer(self, *, count: bool = False) -> int:
        if count:
            self.reads.append(self.pos)
        size = self._byte()
        value = 0
        for k in range(size - 1, -1, -1):
            b = self._byte()
            if self.masked:
                value = (value + (b << ((8 * k) % 64))) & (2**64 - 1)
            elif 8 * k < 64:
                value = (value + (b << (8 * k))) & (2**64 - 1)
        if count and value > len(self.data) - self.pos:
            raise _Eof  # each item takes at least a byte: reading them runs off the end
        return value

    def string(self) -> None:
        for _ in range(self.integer(count=True)):
            self.integer()

    def strings(self) -> None:
        for _ in range(self.integer(count=True)):
            self.string()

    def spec(self) -> bool:
        """True if the loader gets through the feature spec without running out of bytes."""
        try:
            self.integer()  # beam width
            self.strings()  # string constants
            for _ in range(self.integer(count=True)):  # set constants
                self.strings()
            self.strings()  # feature definitions
            self.strings()  # global definitions
            self.string()  # global predicate
        except _Eof:
            return False
        return True


def _accepting_reader(data: bytes) -> _PerceptronReader | None:
    """A reader (under either shift semantics) that accepts `data`, or None."""
    for masked in (True, False):
        reader = _PerceptronReader(data, masked=masked)
        if reader.spec():
            return reader
    return None


def perceptron_accepts(data: bytes) -> bool:
    return _accepting_reader(data) is not None


def is_shadowed_hmm(data: bytes) -> bool:
    """True for a tagger model that is not a perceptron (a perceptron file starts with the size
    byte of a 64-bit integer, at most 8) but that the perceptron loader would accept."""
    return bool(data) and data[0] > 8 and perceptron_accepts(data)


def _multibyte(data: bytes, pos: int) -> tuple[int, int]:
    """lttoolbox's Compression::multibyte_read: (value, next position)."""
    up = data[pos]
    n = 1 if up < 0x40 else 2 if up < 0x80 else 3 if up < 0xC0 else 4
    value = up & 0x3F if n > 1 else up
    for b in data[pos + 1:pos + n]:
        value = (value << 8) | b
    return value, pos + n


def _hmm_open_class_starts(data: bytes) -> list[int]:
    """Offsets of the integers that open an HMM model (TaggerDataHMM: the open-class count,
    then that many tag deltas), where re-encoding a value changes nothing for the HMM."""
    count, pos = _multibyte(data, 0)
    starts = [0]
    for _ in range(count):
        if pos >= len(data):
            break
        starts.append(pos)
        _, pos = _multibyte(data, pos)
    return starts


def reencode_hmm(data: bytes, *, max_changes: int = 64) -> bytes | None:
    """An equivalent HMM model the perceptron loader rejects, or None. lttoolbox integers have
    several encodings; writing one in its 4-byte form (first byte 0xC0-0xFF) at an offset where
    the perceptron loader reads a count makes that count huge, so the loader runs off the end
    of the file, throws, and apertium-tagger falls back to the HMM loader."""
    for _ in range(max_changes):
        reader = _accepting_reader(data)
        if reader is None:
            return data
        starts = set(_hmm_open_class_starts(data))
        target = next((p for p in reader.reads if p in starts and data[p] < 0xC0), None)
        if target is None:
            return None
        value, end = _multibyte(data, target)
        if value >= 0x40000000:
            return None
        four = bytes([0xC0 | (value >> 24), (value >> 16) & 0xFF, (value >> 8) & 0xFF,
                      value & 0xFF])
        data = data[:target] + four + data[end:]
    return None
