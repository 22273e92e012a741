"""Neural translation models installed by the operator: Argos Translate packages.

An Argos Translate package (``*.argosmodel``) is a zip holding one directory (or, leniently,
its contents at the root) with:

- ``metadata.json``: ``from_code``, ``to_code``, ``package_version``, ``argos_version``, ...
- ``model/``: a CTranslate2 model (``model.bin``, ``config.json``, ``*vocabulary*``);
- ``sentencepiece.model``: the SentencePiece tokeniser;
- optionally ``stanza/`` (sentence splitting; not used: Babelwire segments text itself).

`install_model` checks the archive (no absolute paths, no ``..``, no links, a bounded size,
the files above present), extracts it into a temporary directory inside `models_dir` and
renames it to ``<from>_<to>-<version>`` only when complete, so a reader never sees a
half-installed model. Nothing here needs ctranslate2: listing and installing work without
the ``neural`` extra. Downloading packages from the Argos package index is `argos_index`.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "InstalledModel",
    "ModelInstallError",
    "argos_code_to_bcp47",
    "install_model",
    "list_models",
    "remove_model",
]

log = logging.getLogger(__name__)

METADATA = "metadata.json"
MODEL_DIR = "model"
MODEL_BIN = "model.bin"
SENTENCEPIECE = "sentencepiece.model"
DEFAULT_MAX_BYTES = 4 * 1024**3  # uncompressed size accepted for one package

_CODE_RE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
_VERSION_RE = re.compile(r"[^0-9A-Za-z.]+")

# Argos Translate's own codes that are not BCP 47.
_ARGOS_SPECIAL = {"zt": "zh-Hant", "pb": "pt-BR"}


class ModelInstallError(ValueError):
    """A package was refused: not a zip, unsafe paths, missing files or bad metadata."""


@dataclass(frozen=True, order=True)
class InstalledModel:
    """One installed package. Codes are as written in its metadata (Argos codes)."""

    from_code: str
    to_code: str
    version: str
    path: Path

    @property
    def pair(self) -> tuple[str, str]:
        """(source, target) as BCP 47."""
        return argos_code_to_bcp47(self.from_code), argos_code_to_bcp47(self.to_code)

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    @property
    def sentencepiece_path(self) -> Path:
        return self.path / SENTENCEPIECE

    @property
    def target_prefix(self) -> str:
        """A token some multilingual packages want at the start of the output ("" if none)."""
        meta = _read_metadata(self.path / METADATA)
        value = meta.get("target_prefix", "")
        return value if isinstance(value, str) else ""


def argos_code_to_bcp47(code: str) -> str:
    """Argos/LibreTranslate language code -> BCP 47 ("en" -> "en", "zt" -> "zh-Hant")."""
    low = code.strip().replace("_", "-")
    if low.lower() in _ARGOS_SPECIAL:
        return _ARGOS_SPECIAL[low.lower()]
    head, _, rest = low.partition("-")
    return head.lower() + (f"-{rest}" if rest else "")


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Sort key for package versions: numeric parts numerically ("1.10" > "1.9")."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


def _read_metadata(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelInstallError(f"unreadable {METADATA}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelInstallError(f"{METADATA} is not a JSON object")
    return data


def _parse_metadata(data: dict[str, object]) -> tuple[str, str, str]:
    kind = data.get("type", "translate")
    if kind != "translate":
        raise ModelInstallError(f"not a translation package (type {kind!r})")
    codes = []
    for key in ("from_code", "to_code"):
        value = data.get(key)
        if not isinstance(value, str) or not _CODE_RE.match(value):
            raise ModelInstallError(f"{METADATA}: missing or invalid {key}: {value!r}")
        codes.append(value)
    raw_version = data.get("package_version", "0")
    version = _VERSION_RE.sub("_", str(raw_version)).strip("._") or "0"
    return codes[0], codes[1], version


def _safe_member(info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path, or ModelInstallError when it could escape the target directory."""
    name = info.filename
    if "\\" in name or "\x00" in name:
        raise ModelInstallError(f"unsafe path in archive: {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise ModelInstallError(f"absolute path in archive: {name!r}")
    if any(part == ".." for part in path.parts):
        raise ModelInstallError(f"path traversal in archive: {name!r}")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ModelInstallError(f"symbolic link in archive: {name!r}")
    return path


def _package_root(names: list[PurePosixPath]) -> PurePosixPath:
    """Where metadata.json sits: the archive root or its single top-level directory."""
    roots = {p.parent for p in names if p.name == METADATA and len(p.parts) <= 2}
    if len(roots) != 1:
        raise ModelInstallError(f"no {METADATA} at the package root"
                                if not roots else f"several {METADATA} files")
    return roots.pop()


def install_model(path: Path, models_dir: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  expect_pair: tuple[str, str] | None = None) -> InstalledModel:
    """Check and install the package at `path` into `models_dir`; return what was installed.

    An existing install of the same pair and version is replaced (atomically); other
    versions are kept. `expect_pair` (Argos codes, e.g. what the package index said) is
    checked against the package's metadata. Raises `ModelInstallError` for anything it
    refuses."""
    if not zipfile.is_zipfile(path):
        raise ModelInstallError(f"not a zip archive: {path}")
    models_dir.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            members = [(info, _safe_member(info)) for info in infos]
            if sum(info.file_size for info in infos) > max_bytes:
                raise ModelInstallError(f"package unpacks to more than {max_bytes} bytes")
            root = _package_root([p for _, p in members])
            with tempfile.TemporaryDirectory(prefix=".install-", dir=models_dir) as tmp:
                staging = Path(tmp) / "package"
                staging.mkdir()
                for info, member in members:
                    if info.is_dir() or not member.is_relative_to(root):
                        continue
                    target = staging.joinpath(*member.relative_to(root).parts)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                model = _check_package(staging)
                if expect_pair is not None and (model.from_code, model.to_code) != expect_pair:
                    raise ModelInstallError(
                        f"the package is {model.from_code}→{model.to_code}, not the "
                        f"{expect_pair[0]}→{expect_pair[1]} it was downloaded as")
                final = models_dir / f"{model.from_code}_{model.to_code}-{model.version}"
                _replace_dir(staging, final)
                return InstalledModel(model.from_code, model.to_code, model.version, final)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error,
            NotImplementedError, RuntimeError) as exc:  # bad data, unknown method, encrypted
        raise ModelInstallError(f"corrupt archive {path}: {exc}") from exc


def _check_package(directory: Path) -> InstalledModel:
    from_code, to_code, version = _parse_metadata(_read_metadata(directory / METADATA))
    if not (directory / MODEL_DIR / MODEL_BIN).is_file():
        raise ModelInstallError(f"no {MODEL_DIR}/{MODEL_BIN} (CTranslate2 model) in package")
    if not (directory / MODEL_DIR / "config.json").is_file():
        raise ModelInstallError(f"no {MODEL_DIR}/config.json in package")
    if not (directory / SENTENCEPIECE).is_file():
        raise ModelInstallError(f"no {SENTENCEPIECE} in package (only SentencePiece-tokenised "
                                "packages are supported)")
    return InstalledModel(from_code, to_code, version, directory)


def _replace_dir(new: Path, final: Path) -> None:
    """Move `new` to `final`; an existing `final` is swapped out first, then deleted."""
    if final.exists():
        old = final.with_name(f".old-{final.name}")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        new.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(final)


def list_models(models_dir: Path) -> list[InstalledModel]:
    """Installed packages, sorted; directories that are not valid packages are skipped."""
    if not models_dir.is_dir():
        return []
    found = []
    for entry in sorted(models_dir.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        try:
            model = _check_package(entry)
        except ModelInstallError as exc:
            log.warning("ignoring %s: %s", entry, exc)
            continue
        found.append(model)
    return found


def remove_model(models_dir: Path, from_code: str, to_code: str, version: str | None = None
                 ) -> list[InstalledModel]:
    """Delete the installed packages of one pair (one version, or all); return them. The
    pair is given in Argos codes or in BCP 47 ("zt" or "zh-Hant")."""
    removed = []
    want = (argos_code_to_bcp47(from_code), argos_code_to_bcp47(to_code))
    for model in list_models(models_dir):
        if (model.from_code, model.to_code) != (from_code, to_code) and model.pair != want:
            continue
        if version is not None and model.version != version:
            continue
        if model.path.resolve().parent != models_dir.resolve():
            continue  # never delete outside models_dir
        trash = model.path.with_name(f".old-{model.path.name}")
        model.path.rename(trash)  # atomic: readers see it gone at once
        shutil.rmtree(trash, ignore_errors=True)
        removed.append(model)
    return removed
