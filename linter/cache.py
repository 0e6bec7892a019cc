"""The result cache: outside the work tree, JSON only, every entry validated when read.

Where: `$XDG_CACHE_HOME/v6lint/<hash of the checkout's real path>/` (default `~/.cache`), like
black's. Nothing the repository ships is ever read as cache: a committed `.v6lint_cache/` is just a
skipped folder. Each directory v6lint uses below the user cache dir must be a real directory (not a
symlink) owned by this user and writable by nobody else; it is created with mode 0700. Anything else,
or an unwritable location, means no cache for this run, never an error.

A file's findings are reused when its bytes, the v6lint version, the effective settings and the
cluster profile (with the cross-file facts rules read) are all unchanged; the profile itself while
no candidate source file changed (path, size and mtime). Entries are plain JSON: an entry of the
wrong shape, or naming a rule this version does not have, is a miss. Writes are atomic.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import weakref
from pathlib import Path
from typing import Any, NamedTuple

from v6lint import __version__, replay
from v6lint.diagnostics import Diagnostic
from v6lint.discovery import settled_signature
from v6lint.document import Node
from v6lint.source import SourceFile



_PLAIN = frozenset((str, int, float, bool, type(None)))


def _stable(value) -> str:
    """A deterministic text form of settings and facts (sets sorted) to hash."""
    kind = type(value)
    if kind in _PLAIN:
        return repr(value)
    if (kind is tuple or kind is list) and all(type(v) in _PLAIN for v in value):
        return "[" + ",".join(map(repr, value)) + "]"  # (the same text as below, without a call per item)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_stable(k)}:{_stable(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_stable(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_stable(v) for v in value) + "]"
    if hasattr(value, "__dataclass_fields__"):
        return type(value).__name__ + _stable({k: getattr(value, k) for k in value.__dataclass_fields__})
    return repr(value)


def _code() -> str:
    """A digest of v6lint's own source (see replay.code_digest): an editable install (or another
    branch's checkout sharing a project) changes rules and facts without a version bump, and must not
    reuse their cache."""
    return replay.code_digest()


def fingerprint(*parts) -> str:
    return hashlib.sha256((_code() + _stable(parts)).encode()).hexdigest()[:24]


def fingerprint_of(items, *parts) -> str:
    """fingerprint(parts) with each of `items` (plain values) hashed as it comes: no list of them,
    nor one text of them all, is held."""
    digest = hashlib.sha256((_code() + _stable(parts)).encode())
    for item in items:
        digest.update(b"\0" + _stable(item).encode())
    return digest.hexdigest()[:24]


_FACTS: dict[int, tuple[object, str]] = {}  # id -> (project facts of a loaded profile, their digest)


def facts_digest(facts) -> str:
    """A digest of a profile's project facts, for keys (they can be large: a loaded profile's comes
    from its file, computed when it was saved, not recomputed every run)."""
    known = _FACTS.get(id(facts))
    if known is not None and known[0] is facts:
        return known[1]
    return hashlib.sha256(_stable(facts).encode()).hexdigest()


# --- where -------------------------------------------------------------------------------------
def user_cache_home() -> Path:
    return Path(replay.user_cache_home())


def location(root: Path) -> Path:
    """This checkout's cache directory (it may not exist)."""
    real = os.path.realpath(root)
    key = hashlib.sha256(os.fsencode(real)).hexdigest()[:20]
    return user_cache_home() / key


def _private_dir(path: Path, create: bool) -> bool:
    """True when `path` is a real directory owned by this user that nobody else may write."""
    return replay.private_dir(os.fspath(path), create)


def _prepare(root: Path, create: bool = True) -> Path | None:
    """The versioned cache directory of this checkout, checked (and created) level by level."""
    home = user_cache_home()
    try:
        if create:
            home.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    directory = location(root)
    for level in (home, directory, directory / __version__):
        if not _private_dir(level, create):
            return None
    if create:
        tag = home / "CACHEDIR.TAG"
        if not os.path.lexists(tag):
            _write_atomic(tag, b"Signature: 8a477f597d28d172789f06886806bc55\n"
                               b"# v6lint result cache: safe to delete (`v6lint clean`)\n")
    return directory / __version__


def _write_atomic(path: Path, data: bytes) -> None:
    replay.write_atomic(os.fspath(path), data)


def _read_json(path: Path):
    """The JSON in a regular file (never through a symlink), or None."""
    data = replay.read_private(os.fspath(path))
    try:
        return json.loads(data) if data is not None else None
    except (ValueError, RecursionError):
        return None


# --- results -----------------------------------------------------------------------------------
def _diagnostic(path: str, item) -> Diagnostic:
    """A cached finding (Diagnostic.to_json with offsets), shown under `path`; ValueError unless it
    is of that shape and names a rule this version has, under its own name and URL."""
    from v6lint.rules import BY_CODE

    diag = Diagnostic.from_json(item, path)
    rule = BY_CODE.get(diag.code)
    if rule is None or diag.name != rule.name or diag.url not in ("", rule.url):
        raise ValueError("not a rule of this version")
    return diag


class Entry(NamedTuple):
    """A file's row in the result cache: the digest of the bytes its findings are of, the findings as
    one JSON string (decoded only when shown), and its settled stat (see stat_key) or None."""
    digest: str
    findings: str
    stat: str | None

    def fresh(self, stat: str | None) -> bool:
        """Whether the file is, by its stat alone, the one whose findings this row holds."""
        return stat is not None and self.stat == stat


NO_FINDINGS = "[]"
_TABLE = "CREATE TABLE results (path BLOB PRIMARY KEY NOT NULL, digest TEXT NOT NULL, findings TEXT NOT NULL, " \
         "stat TEXT) WITHOUT ROWID"
_BESIDE = ("-journal", "-wal", "-shm")  # the files SQLite keeps beside a database
_ABANDONED: list = []  # connections a forked process inherited: never used (nor closed) there
_OPEN: "weakref.WeakSet[ResultCache]" = weakref.WeakSet()  # result caches with a connection in this process


def _forget_connections() -> None:
    """In a forked child: the parent's connections are kept aside, never used or closed here (SQLite
    forbids carrying a connection across fork: https://www.sqlite.org/howtocorrupt.html, 2.6)."""
    for results in list(_OPEN):
        if results._db is not None:
            _ABANDONED.append(results._db)
            results._db, results._writable = None, False
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections)


class ResultCache:
    """One project's findings per file, keyed by everything they depend on (`key`): an SQLite file
    in the cache directory, one row per file, looked up file by file (a run never loads the whole
    cache) and written in batches as results come in (a run never holds it either).

    The file is trusted no more than the JSON it replaced: it must be a regular file of this user in
    the private cache directory, hold exactly the one table this version creates (no trigger, view or
    index: nothing of it runs), and every row is validated when read. A file that is not so, or that
    SQLite finds corrupt, is removed and the run goes on without it. Writes are transactions (a
    killed run leaves the rows of its last whole batch); concurrent runs wait for each other's
    batches a moment, then a run that cannot write just stores nothing. Forked workers open their
    own connection (read only)."""

    BATCH = 1000  # rows per write
    READS = 1000  # look-ups per read transaction

    def __init__(self, root: Path, key: str):
        self.directory = _prepare(root)
        self.file = self.directory / f"results-{key}.sqlite" if self.directory else None
        self._db: Any = None  # (a sqlite3.Connection: sqlite3 is imported on first need)
        self._pid = 0
        self._pending: list[tuple[bytes, str, str, str | None]] = []
        self._reads = 0
        self._writable = self.file is not None
        self.has_entries = self._connect(create=False) is not None and self._first_row()

    # -- the database ---------------------------------------------------------------------------
    def _connect(self, create: bool):
        """This process's connection, opened (or with `create`, the file created) on first need; None
        when there is no usable cache file."""
        if self._pid == os.getpid():
            if self._db is not None or not create or not self._writable:
                return self._db
        elif self._db is not None:  # inherited across fork: SQLite forbids using it here
            _ABANDONED.append(self._db)
            self._db, self._writable = None, False  # (a worker only reads)
        self._pid = os.getpid()
        if self.file is None:
            return None
        try:
            import sqlite3
        except ImportError:  # a Python built without it: no result cache
            self._writable = False
            return None
        try:
            st = os.lstat(self.file)
        except FileNotFoundError:
            if not create:
                return None
            st = None
        except OSError:
            return None
        if st is not None and (not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid())):
            self._writable = False
            return None  # never through a symlink, never another user's file
        try:
            db = sqlite3.connect(self.file, timeout=2.0, isolation_level=None, check_same_thread=False)
            try:
                tables = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
                if not tables and create:
                    db.execute(_TABLE)
                    db.execute("PRAGMA journal_mode=WAL")  # (kept in the file) readers never block a writer
                    os.chmod(self.file, 0o600)
                elif tables != [("table", "results", _TABLE)]:
                    raise sqlite3.DatabaseError("not a v6lint result cache")
            except sqlite3.Error:
                db.close()
                raise
        except sqlite3.OperationalError:  # locked, read only, ...: this run goes without
            self._writable = False
            return None
        except (sqlite3.Error, OSError):  # corrupt, or not ours: removed (this run's results make a new one)
            self._remove()
            return None
        self._db = db
        _OPEN.add(self)
        return db

    def _remove(self) -> None:
        if self.file is not None and _private_dir(self.file.parent, False):
            for path in (self.file, *(self.file.with_name(self.file.name + suffix) for suffix in _BESIDE)):
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _failed(self, error: Exception) -> None:
        """A database error while reading or writing: no more cache this run; a corrupt file is removed."""
        import sqlite3

        if self._db is not None and self._pid == os.getpid():
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db, self._writable = None, False
        if not isinstance(error, sqlite3.OperationalError):
            self._remove()
        self.file = None

    def _first_row(self) -> bool:
        import sqlite3

        try:
            return self._db.execute("SELECT 1 FROM results LIMIT 1").fetchone() is not None
        except sqlite3.Error as exc:
            self._failed(exc)
            return False

    # -- reading --------------------------------------------------------------------------------
    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=16).hexdigest()

    @staticmethod
    def stat_key(path) -> str | None:
        """The file's settled stat signature (discovery.settled_signature) as stored in an entry."""
        return ResultCache.stat_text(settled_signature(path))

    @staticmethod
    def stat_text(signature: tuple[int, ...] | None) -> str | None:
        return ",".join(map(str, signature)) if signature is not None else None

    def entry(self, real_path: str) -> Entry | None:
        """The file's row (one look-up), or None: none, or not of the shape this version writes."""
        db = self._connect(create=False)
        if db is None:
            return None
        import sqlite3

        try:
            # Look-ups share a read transaction (a look-up alone costs about four times as much); it
            # ends every READS look-ups (a reader holds the log of another run's writes back).
            if not db.in_transaction:
                db.execute("BEGIN")
                self._reads = 0
            row = db.execute("SELECT digest, findings, stat FROM results WHERE path = ?",
                             (os.fsencode(real_path),)).fetchone()  # (a name need not be UTF-8)
            self._reads += 1
            if self._reads >= self.READS:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if row is None or type(row[0]) is not str or type(row[1]) is not str or not (
                row[2] is None or type(row[2]) is str):
            return None
        return Entry(*row)

    @staticmethod
    def findings(entry: Entry, shown: str) -> list[Diagnostic] | None:
        """The findings a row holds, shown under `shown`; None when they are not what this version writes."""
        if entry.findings == NO_FINDINGS:
            return []
        try:
            items = json.loads(entry.findings)
            if not isinstance(items, list):
                return None
            return [_diagnostic(shown, item) for item in items]
        except (ValueError, RecursionError):
            return None

    # -- writing --------------------------------------------------------------------------------
    def put(self, real_path: str, digest: str, stat: str | None, source: SourceFile | None,
            diagnostics: list[Diagnostic]) -> None:
        """Store a file's findings (`source`: the file their offsets are in) by its digest and (see
        stat_key) its stat, taken before it was read."""
        if not self._writable:
            return
        findings = json.dumps([d.to_json(source, offsets=True) for d in diagnostics], separators=(",", ":"))
        self._pending.append((os.fsencode(real_path), digest, findings, stat))
        if len(self._pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows or not self._writable:
            return
        db = self._connect(create=True)
        if db is None:
            return
        import sqlite3

        try:
            if db.in_transaction:  # (a read transaction)
                db.execute("COMMIT")
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._failed(exc)
            return
        self.has_entries = True

    def save(self) -> None:
        """Write what is left, and keep only the newest caches of other settings and versions."""
        if not self._pending:
            if self._db is not None and self._pid == os.getpid() and self._db.in_transaction:
                import sqlite3

                try:
                    self._db.execute("COMMIT")  # (a read transaction)
                except sqlite3.Error:
                    pass
            return
        self._flush()
        if self.file is not None and _private_dir(self.file.parent, False):
            _keep_newest(self.file.parent, "results-*.sqlite", MAX_PROFILES, also=_BESIDE)
            _keep_newest(self.file.parent, "results-*.json", 0)  # (the format of earlier versions)


# --- the profile: dataclasses as tagged JSON, only of the known classes --------------------------
# The profile is plain data: dataclasses of these modules (and Node), never any other type.
_PROFILE_MODULES = ("v6lint.rule", "v6lint.project", "v6lint.document", "v6lint.diagnostics")


class _Classes:
    """Names <-> the classes a cached profile may hold: dataclasses defined in _PROFILE_MODULES, and Node."""

    def get(self, name: object) -> type | None:
        import importlib

        module, _, attr = name.partition(":") if isinstance(name, str) else ("", "", "")
        if module not in _PROFILE_MODULES:
            return None
        cls = getattr(importlib.import_module(module), attr, None)
        return cls if isinstance(cls, type) and (dataclasses.is_dataclass(cls) or attr == "Node") else None

    def name_of(self, cls) -> str | None:
        name = f"{cls.__module__}:{cls.__name__}"
        return name if self.get(name) is cls else None


def _profile_classes() -> _Classes:
    return _Classes()


def _encode(value, classes: _Classes):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_encode(v, classes) for v in value]
    if isinstance(value, tuple):
        return {"t": [_encode(v, classes) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"s": sorted((_encode(v, classes) for v in value), key=repr)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict keys must be strings")
        return {"d": {k: _encode(v, classes) for k, v in value.items()}}
    name = classes.name_of(type(value))
    if name is not None:
        if dataclasses.is_dataclass(value):
            fields = [f.name for f in dataclasses.fields(value)]
        else:  # Node: a slotted class
            fields = list(value.__slots__)
        return {"c": name, "f": {k: _encode(getattr(value, k), classes) for k in fields}}
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decode(value, classes: _Classes):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(v, classes) for v in value]
    if not isinstance(value, dict) or len(value) not in (1, 2):
        raise ValueError("malformed")
    if "t" in value and len(value) == 1 and isinstance(value["t"], list):
        return tuple(_decode(v, classes) for v in value["t"])
    if "s" in value and len(value) == 1 and isinstance(value["s"], list):
        return {_decode(v, classes) for v in value["s"]}
    if "d" in value and len(value) == 1 and isinstance(value["d"], dict):
        return {k: _decode(v, classes) for k, v in value["d"].items()}
    cls = classes.get(value.get("c")) if isinstance(value.get("c"), str) else None
    fields = value.get("f")
    if cls is None or not isinstance(fields, dict):
        raise ValueError("malformed")
    if dataclasses.is_dataclass(cls):
        if set(fields) != {f.name for f in dataclasses.fields(cls)}:
            raise ValueError("fields differ")
        decoded = {k: _decode(v, classes) for k, v in fields.items()}
        obj = cls(**{k: v for k, v in decoded.items() if cls.__dataclass_fields__[k].init})
        for k, v in decoded.items():
            if not cls.__dataclass_fields__[k].init:
                object.__setattr__(obj, k, v)
        return obj
    if cls is not Node:  # (the one slotted class _Classes gives)
        raise ValueError("malformed")
    if list(fields) != list(Node.__slots__):
        raise ValueError("fields differ")
    node = Node.__new__(Node)
    for k, v in fields.items():
        setattr(node, k, _decode(v, classes))
    return node


def load_profile(root: Path, key: str):
    directory = _prepare(root, create=False)
    data = _read_json(directory / f"profile-{key}.json") if directory is not None else None
    if not isinstance(data, dict) or set(data) != {"profile", "facts"} or not isinstance(data["facts"], str):
        return None
    from v6lint.rule import Profile

    try:
        profile = _decode(data["profile"], _profile_classes())
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    if not isinstance(profile, Profile):
        return None
    _FACTS[id(profile.facts)] = (profile.facts, data["facts"])
    return profile


def save_profile(root: Path, key: str, profile) -> None:
    directory = _prepare(root)
    if directory is None:
        return
    try:
        data = json.dumps({"profile": _encode(profile, _profile_classes()), "facts": facts_digest(profile.facts)},
                          separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return  # something not plain data: simply not cached
    _write_atomic(directory / f"profile-{key}.json", data.encode())
    _keep_newest(directory, "profile-*.json", MAX_PROFILES)


def _keep_newest(directory: Path, pattern: str, count: int, also: tuple[str, ...] = ()) -> None:
    """Delete all but the `count` newest files of `pattern` in the cache directory (and, for each
    deleted file, the files named like it with a suffix of `also`)."""
    def written(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    found = sorted(directory.glob(pattern), key=written)
    for stale in found[:max(0, len(found) - count)]:
        for path in (stale, *(stale.with_name(stale.name + suffix) for suffix in also)):
            try:
                path.unlink()
            except OSError:
                pass


# Profiles kept per checkout (the newest): two checkouts of different versions, or two sets of options,
# sharing a project each keep theirs instead of rebuilding it every time the other ran.
MAX_PROFILES = 4


MAX_RENDERS = 64  # chart renders kept per checkout (the newest)


def load_render(root: Path, key: str) -> dict[str, str] | None:
    """A chart's rendered manifests ({template: text}) by the hash of its files and values, or None."""
    directory = _prepare(root, create=False)
    data = _read_json(directory / f"render-{key}.json") if directory is not None else None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    return data


def save_render(root: Path, key: str, manifests: dict[str, str]) -> None:
    directory = _prepare(root)
    if directory is None:
        return
    _write_atomic(directory / f"render-{key}.json", json.dumps(manifests, separators=(",", ":")).encode())
    _keep_newest(directory, "render-*.json", MAX_RENDERS)


def clean(root: Path) -> Path | None:
    """Delete this checkout's cache; the directory removed, or None when there was none."""
    import shutil

    directory = location(root)
    if not _private_dir(user_cache_home(), False) or not _private_dir(directory, False):
        return None
    shutil.rmtree(directory, ignore_errors=True)
    return directory
