"""A warm run without the work: an unchanged `v6lint check` prints what it printed last time.

A plain `v6lint check` (no fixing, no output file, no colour, cache on) records a witness of
everything its output was made from, as it goes: the signature of every folder it listed (mtime,
ctime, inode, device: any name added, removed or renamed in a folder changes them), every file it
read or linted (size, mtime, ctime, inode, device, as git's index keeps them), and every name it
only looked for (a `.git`, a config, a `Chart.yaml` in a folder above: whether it is there, and
what it is). The witness is kept under the run's key: v6lint's version and code, the Python that
runs it, the working folder, the command line, and the environment and terminal the output depends
on. The next run with the same key stats what the witness lists, and when nothing differs, prints
the output that run printed and exits as it did: no walk, no profile, no rule, no import of the
linter. Anything that differs, and the run is made in full (and records a new witness).

Not recorded (the run is made in full every time): a run that followed a symlink, saw a file or
folder written in the last SETTLED_NS (a stat cannot vouch for it yet), printed a warning, built a
kustomization or a Helm chart (their inputs reach outside what the walk sees), shows a progress bar
or colour, or writes the report to a file.

Like the result cache, a witness is kept in the user cache directory, never in the work tree, and
read as hostile input: a private directory of this user, a regular file never read through a
symlink, a header of exactly the expected shape and entries of the expected form (anything else: the
run is made in full), and the output checked against its digest before a byte of it is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from typing import Any

FORMAT = 1
MAX_OUTPUT = 32 * 1024 * 1024  # characters of output kept for a replay (more: not kept)
KEPT = 32  # witnesses kept (the newest): one per command line and folder it was run in
# What else the output depends on: where colour and the global git ignore file come from.
_ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "TERM", "CI", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                "PYTHONIOENCODING")

# The libraries whose versions can change findings (parsers, schemas) or output (click).
_LIBRARIES = ("ruamel.yaml", "tree_sitter", "tree_sitter_hcl", "jsonschema", "click")

ARGV: list[str] | None = None  # the command line, when this process was started as `v6lint` (see main)
WITNESS: "Witness | None" = None  # the running check's witness, while it records one


_ABANDONED: list = []  # witnesses a forked process inherited: kept (never used, nor collected) there


def _forget_in_child() -> None:
    """A forked worker records nothing: the run's witness is its parent's (and its spill file too:
    never written, flushed nor closed here)."""
    global WITNESS
    if WITNESS is not None:
        _ABANDONED.append(WITNESS)
        WITNESS = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


# --- where (shared with the result cache) ------------------------------------------------------
def user_cache_home() -> str:
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "v6lint")


def private_dir(path: str, create: bool) -> bool:
    """True when `path` is a real directory owned by this user that nobody else may write."""
    try:
        if create:
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):  # a symlink or a file
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_private(path: str) -> bytes | None:
    """The bytes of a regular file (never through a symlink), or None."""
    handle = open_private(path)
    if handle is None:
        return None
    with handle:
        try:
            return handle.read()
        except OSError:
            return None


def open_private(path: str):
    """A regular file opened for reading in binary, never through a symlink; or None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    handle = open(fd, "rb")
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return handle
    except OSError:
        pass
    handle.close()
    return None


_CODE: list[str] = []


def code_digest() -> str:
    """A digest of v6lint's own source and data (linter and rules, sub-packages included): an editable
    install, or another branch's checkout, changes rules and facts without a version bump."""
    if not _CODE:
        import importlib.util

        digest = hashlib.blake2b(digest_size=12)
        rules = importlib.util.find_spec("v6lint.rules")  # (found, not imported)
        folders = [os.path.dirname(os.path.abspath(__file__))]
        if rules is not None and rules.origin:
            folders.append(os.path.dirname(rules.origin))
        for folder in folders:  # (with their sub-packages and data: rule views, tables, the config schema)
            for at, subfolders, names in os.walk(folder):
                subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
                for name in sorted(n for n in names if n.endswith((".py", ".json", ".csv"))):
                    with open(os.path.join(at, name), "rb") as handle:
                        digest.update(os.path.relpath(os.path.join(at, name), folder).encode() + b"\0" + handle.read())
        _CODE.append(digest.hexdigest())
    return _CODE[0]


# --- the run's key -------------------------------------------------------------------------------
def _key(argv: list[str]) -> str | None:
    from v6lint import __version__

    try:
        here = os.getcwd()
        streams = [sys.stdout.isatty(), sys.stderr.isatty(), sys.stdout.encoding, sys.stdout.errors]
    except (OSError, AttributeError, ValueError):
        return None
    parts = [FORMAT, __version__, code_digest(), sys.version, sys.executable, here, argv,
             [os.environ.get(name) for name in _ENVIRONMENT], streams]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=True).encode()).hexdigest()[:32]


def _folder(create: bool) -> str | None:
    from v6lint import __version__

    home = user_cache_home()
    if create:
        try:
            os.makedirs(os.path.dirname(home), mode=0o700, exist_ok=True)
        except OSError:
            return None
    folder = os.path.join(home, "runs")
    for level in (home, folder, os.path.join(folder, __version__)):
        if not private_dir(level, create):
            return None
    return os.path.join(folder, __version__)


# --- recording -----------------------------------------------------------------------------------
def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class Witness:
    """What one run's output was made from (see the module's docstring); `void` says why it cannot be
    replayed, once something made it so. Entries are kept as the bytes of the record, one per name
    looked at: `s` (a folder listed or a file read: its signature) or `k` (a name looked for: its
    type), the numbers, `|`, the path, NUL; no numbers: the name was not there. Entries and output
    are spilled to files as they come (a run of 100,000 files holds neither), and the names looked
    at are remembered by a 128-bit digest each."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.looked: set[int] = set()  # (digests of kind and path)
        self.void: str | None = None
        self.now = time.time_ns()
        self.size = 0
        try:
            self.cwd = os.getcwd()
        except OSError:  # (the working folder is gone)
            self.cwd, self.void = "", "no working folder"
        self._out: Any = None  # the output's spill file (a binary file), from the first piece
        self._spill = ""
        self._entries: Any = None  # the entries' spill file, from the first entry
        self._entries_spill = ""
        self._digest = hashlib.sha256()
        self._installed()

    def _installed(self) -> None:
        """The folders the parsers and other libraries findings depend on are installed in: a package
        installed, upgraded or removed there renames or removes a name in them."""
        import importlib.util

        for name in _LIBRARIES:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                spec = None
            if spec is None or not spec.origin:
                self.refuse(f"{name} is not found")
                return
            package = os.path.dirname(spec.origin)
            self.listed(os.path.dirname(package) if spec.submodule_search_locations else package)

    def _look(self, kind: str, path: str) -> None:
        if not os.path.isabs(path):  # (one entry for a file named relatively by the walk, absolutely by the profile)
            path = os.path.join(self.cwd, path)
        if self.void is not None:
            return
        name = os.fsencode(path)
        seen = int.from_bytes(hashlib.blake2b(kind.encode() + name, digest_size=16).digest(), "big")
        if seen in self.looked:
            return  # (the first look, before any read, is the one that vouches)
        self.looked.add(seen)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self._entry(kind.encode() + b"|" + name + b"\0")
            return
        except (OSError, ValueError):  # (not a folder on the way, no permission...): nothing a stat vouches for
            self.refuse(f"cannot stat {path}")
            return
        if stat.S_ISLNK(st.st_mode):
            self.refuse(f"{path} is a symlink")
            return
        if kind == "k":
            numbers: tuple[int, ...] = (stat.S_IFMT(st.st_mode),)
        else:
            from v6lint.discovery import SETTLED_NS

            if max(st.st_mtime_ns, st.st_ctime_ns) >= self.now - SETTLED_NS:
                self.refuse(f"{path} was written just now")
                return
            numbers = _signature(st)
        self._entry(kind.encode() + ",".join(map(str, numbers)).encode() + b"|" + name + b"\0")

    def _entry(self, data: bytes) -> None:
        try:
            if self._entries is None:
                self._entries, self._entries_spill = _spill_file()
            self._entries.write(data)
        except OSError as exc:
            self.refuse(f"the witness cannot be kept: {exc}")

    def listed(self, folder) -> None:
        """A folder about to be listed (its names are what the run sees)."""
        self._look("s", os.fspath(folder))

    def read(self, path) -> None:
        """A file about to be read, or stat'ed for what it holds (absent: it is not there)."""
        self._look("s", os.fspath(path))

    def looked_for(self, path) -> None:
        """A name only looked for: whether it is there, and as what."""
        self._look("k", os.fspath(path))

    def keep(self, text: str) -> None:
        """A piece of the output."""
        if self.void is not None:
            return
        try:
            data = text.encode("utf-8")
            if self._out is None:
                self._out, self._spill = _spill_file()
            self._out.write(data)
        except (OSError, UnicodeEncodeError) as exc:
            self.refuse(f"the output cannot be kept: {exc}")
            return
        self._digest.update(data)
        self.size += len(data)
        if self.size > MAX_OUTPUT:
            self.refuse("the output is large")

    def refuse(self, why: str) -> None:
        if self.void is None:
            self.void = why
            self.looked = set()
            _close(self._out, self._spill, None)
            _close(self._entries, self._entries_spill, None)
            self._out = self._entries = None

    def save(self, exit_code: int) -> None:
        """Keep the witness with the output written and the exit code, unless void."""
        key = _key(self.argv) if self.void is None else None
        folder = _folder(create=True) if key is not None else None
        if key is None or folder is None:
            self.refuse("not kept")
            return
        if self._out is None:
            self.keep("")  # (an empty output is a file too)
        header = json.dumps({"format": FORMAT, "exit": exit_code, "output": self._digest.hexdigest(),
                             "size": self.size}, separators=(",", ":"))
        self._entry(b"\n" + header.encode())  # (the last line: no entry ends with one, nor holds the header)
        if self.void is not None:
            return
        _close(self._out, self._spill, os.path.join(folder, f"{key}.out"))
        _close(self._entries, self._entries_spill, os.path.join(folder, f"{key}.run"))
        self._out = self._entries = None
        _keep_newest(folder, KEPT)


def _spill_file():
    """(a new binary file in the witnesses' folder, its path)."""
    import tempfile

    folder = _folder(create=True)
    if folder is None:
        raise OSError("no cache directory")
    fd, path = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    return os.fdopen(fd, "wb"), path


def _close(spill, path: str, keep: str | None) -> None:
    """A spill file closed, and renamed to `keep` or removed."""
    if spill is None:
        return
    try:
        spill.close()
        if keep is not None:
            os.replace(path, keep)
            return
    except OSError:
        pass
    try:
        os.unlink(path)
    except OSError:
        pass


def write_atomic(path: str, data: bytes) -> None:
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _keep_newest(folder: str, count: int) -> None:
    def written(name: str) -> int:
        try:
            return os.stat(os.path.join(folder, name)).st_mtime_ns
        except OSError:
            return 0

    try:
        records = sorted((n for n in os.listdir(folder) if n.endswith(".run")), key=written)
    except OSError:
        return
    for stale in records[:max(0, len(records) - count)]:
        for name in (stale, stale[:-len(".run")] + ".out"):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def clean() -> None:
    """Forget every witness (`v6lint clean`)."""
    folder = _folder(create=False)
    if folder is None:
        return
    for name in os.listdir(folder):
        if name.endswith((".run", ".out")) or name.startswith(".tmp-"):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


# --- replaying -----------------------------------------------------------------------------------
def _unchanged(entries: bytes) -> bool:
    """Whether every entry of a witness (see Witness) is as it was; an entry of another shape: no."""
    at, end = 0, len(entries)
    while at < end:
        stop = entries.find(b"\0", at)
        bar = entries.find(b"|", at, stop)
        if stop == -1 or bar == -1:
            return False
        kind, numbers, path = entries[at:at + 1], entries[at + 1:bar], os.fsdecode(entries[bar + 1:stop])
        at = stop + 1
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            if numbers:
                return False
            continue
        except (OSError, ValueError):
            return False
        if not numbers:
            return False
        try:
            expected = tuple(map(int, numbers.split(b",")))
        except ValueError:
            return False
        if kind == b"k":
            if expected != (stat.S_IFMT(st.st_mode),):
                return False
        elif kind != b"s" or expected != _signature(st):
            return False
    return True


CHUNK = 1 << 20


def replayed(argv: list[str]) -> int | None:
    """The exit code of the run, after its output was written again, when the witness of the same
    command says nothing it depends on changed; else None (nothing written)."""
    if not argv or argv[0] != "check" or "--no-cache" in argv:
        return None
    key = _key(argv)
    folder = _folder(create=False) if key is not None else None
    if key is None or folder is None:
        return None
    data = read_private(os.path.join(folder, f"{key}.run"))
    if data is None:
        return None
    entries, _, head = data.rpartition(b"\n")
    try:
        record = json.loads(head)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or set(record) != {"format", "exit", "output", "size"} \
            or record["format"] != FORMAT or record["exit"] not in (0, 1) or not isinstance(record["output"], str) \
            or type(record["size"]) is not int:
        return None
    if not _unchanged(entries):
        return None
    del data, entries
    out = open_private(os.path.join(folder, f"{key}.out"))
    if out is None:
        return None
    with out:
        digest = hashlib.sha256()  # checked whole before a byte is written
        size = 0
        while chunk := out.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        if digest.hexdigest() != record["output"] or size != record["size"]:
            return None
        out.seek(0)
        sys.stdout.flush()
        while chunk := out.read(CHUNK):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return record["exit"]


def main() -> None:
    """The `v6lint` command: an unchanged check is replayed; anything else runs (see v6lint.cli)."""
    global ARGV

    ARGV = sys.argv[1:]
    try:
        code = replayed(ARGV)
    except BrokenPipeError:  # (the reader went away: as the full run, quietly)
        sys.stdout = open(os.devnull, "w")
        code = 1
    if code is not None:
        sys.exit(code)
    from v6lint.cli import main as run

    run()
