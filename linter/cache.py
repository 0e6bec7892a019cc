"""The result cache (`.v6lint_cache/` in the project root, ignored by git by itself, like ruff's).

A file's findings are reused when its bytes, the v6lint version, the effective settings and the
cluster profile (with the cross-file facts rules read) are all unchanged. The profile itself is
reused while no candidate source file changed (path, size and mtime). Writes are atomic, so two
runs at once cannot corrupt it; the last writer wins.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

from v6lint import __version__
from v6lint.diagnostics import Diagnostic, Edit, Fix, ProfileRef

CACHE_DIR = ".v6lint_cache"


def _stable(value) -> str:
    """A deterministic text form of settings and facts (sets sorted) to hash."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_stable(k)}:{_stable(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_stable(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_stable(v) for v in value) + "]"
    if hasattr(value, "__dataclass_fields__"):
        return type(value).__name__ + _stable({k: getattr(value, k) for k in value.__dataclass_fields__})
    return repr(value)


_CODE: list[str] = []


def _code() -> str:
    """A digest of v6lint's own source: an editable install (or another branch's checkout sharing a
    project) changes rules and facts without a version bump, and must not reuse their cache."""
    if not _CODE:
        import v6lint.rules

        digest = hashlib.blake2b(digest_size=12)
        for package in (Path(__file__).parent, Path(v6lint.rules.__file__).parent):
            for path in sorted(package.glob("*.py")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _CODE.append(digest.hexdigest())
    return _CODE[0]


def fingerprint(*parts) -> str:
    return hashlib.sha256((_code() + _stable(parts)).encode()).hexdigest()[:24]


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _prepare(root: Path) -> Path | None:
    directory = root / CACHE_DIR
    try:
        directory.mkdir(exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by v6lint\n*\n")
            (directory / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                                                     "# v6lint result cache: safe to delete (`v6lint clean`)\n")
    except OSError:
        return None
    return directory


def diag_to_json(d: Diagnostic) -> list:
    fix = [d.fix.message, d.fix.applicability, [[e.start, e.end, e.content] for e in d.fix.edits]] if d.fix else None
    profile = [d.profile.ip_family, d.profile.source] if d.profile else None
    return [d.code, d.name, d.severity, d.message, d.start, d.end, fix, d.url, profile,
            d.start_line, d.start_column, d.end_line, d.end_column, d.cell]


def diag_from_json(path: str, row: list) -> Diagnostic:
    code, name, severity, message, start, end, fix, url, profile, sl, sc, el, ec, *rest = row
    cell = rest[0] if rest else None
    fix_obj = Fix(fix[0], fix[1], tuple(Edit(*e) for e in fix[2])) if fix else None
    return Diagnostic(code, name, severity, message, path, start, end, fix_obj, url,
                      ProfileRef(*profile) if profile else None, sl, sc, el, ec, cell)


class ResultCache:
    def __init__(self, root: Path, key: str):
        self.directory = _prepare(root)
        self.file = self.directory / __version__ / f"results-{key}.json" if self.directory else None
        self.entries: dict[str, list] = {}
        self.dirty = False
        if self.file is not None and self.file.exists():
            try:
                self.entries = json.loads(self.file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    def get(self, real_path: str, digest: str, shown: str) -> list[Diagnostic] | None:
        entry = self.entries.get(real_path)
        if entry is None or entry[0] != digest:
            return None
        return [diag_from_json(shown, row) for row in entry[1]]

    def put(self, real_path: str, digest: str, diagnostics: list[Diagnostic]) -> None:
        self.entries[real_path] = [digest, [diag_to_json(d) for d in diagnostics]]
        self.dirty = True

    def save(self) -> None:
        if self.dirty and self.file is not None:
            _write_atomic(self.file, json.dumps(self.entries, separators=(",", ":")).encode())


def load_profile(root: Path, key: str):
    path = root / CACHE_DIR / __version__ / f"profile-{key}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
        return None


def save_profile(root: Path, key: str, profile) -> None:
    directory = _prepare(root)
    if directory is None:
        return
    target = directory / __version__ / f"profile-{key}.pickle"
    _write_atomic(target, pickle.dumps(profile))
    for stale in target.parent.glob("profile-*.pickle"):  # only the latest state is worth keeping
        if stale != target:
            try:
                stale.unlink()
            except OSError:
                pass


def clean(root: Path) -> bool:
    import shutil

    directory = root / CACHE_DIR
    if directory.is_dir():
        shutil.rmtree(directory, ignore_errors=True)
        return True
    return False
