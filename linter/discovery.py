"""Which files to lint: the paths given, recursively, minus what is excluded or git-ignored.

Ignore rules are read in-process (`.gitignore` files, `.git/info/exclude`, the user's global
`git/ignore`); git is never run, so nothing in a repository's `.git/config` (core.fsmonitor,
hooks...) can execute, and file names need not be valid UTF-8. Globs (ignore files and the
config's `exclude`/`per-file-ignores`) are matched by `Glob`, which takes time proportional to
pattern length times path length: no pattern can make matching backtrack exponentially.
"""
from __future__ import annotations

import functools
import os
import re
import stat
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, cast, overload

from v6lint import replay

# The files v6lint reads, by the language they are parsed as (sources.language_of): the one list
# behind walking folders, choosing a parser, finding the profile and telling what is not read.
SUFFIXES = {
    "yaml": (".yaml", ".yml"),
    "hcl": (".tf", ".tfvars"),
    "tfvars-json": (".tfvars.json",),
    "python": (".py",),
    "notebook": (".ipynb",),
    "spark-conf": (".conf",),  # only spark-defaults.conf when walking folders; any *.conf named explicitly
}
# Configuration: what templates wrap and what can hold the cluster profile or a project fact.
CONFIG_SUFFIXES = SUFFIXES["yaml"] + SUFFIXES["hcl"] + SUFFIXES["tfvars-json"]
LINTED_SUFFIXES = CONFIG_SUFFIXES + SUFFIXES["python"] + SUFFIXES["notebook"]  # found when walking folders
LINTED_NAMES = frozenset({"spark-defaults.conf"})  # found by name when walking folders
EXPLICIT_SUFFIXES = LINTED_SUFFIXES + SUFFIXES["spark-conf"]  # read when named on the command line
# What a file named on the command line that v6lint does not read is told.
READ_FILES = ", ".join(f"*{s}" for s in LINTED_SUFFIXES) + " and Spark " + ", ".join(
    f"*{s}" for s in SUFFIXES["spark-conf"])
# Template extensions: `values.yaml.j2` or `main.tf.tpl` is linted as the YAML or HCL it holds
# when it parses; when it does not, it is an unrendered-template notice, never a silent skip.
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".tftpl", ".tmpl", ".template")


def untemplated(name: str) -> str:
    """The name without a template extension when it wraps YAML or HCL (`a.yaml.j2` -> `a.yaml`)."""
    for suffix in TEMPLATE_SUFFIXES:
        if name.endswith(suffix) and name[:-len(suffix)].endswith(CONFIG_SUFFIXES):
            return name[:-len(suffix)]
    return name


def is_template_file(name: str) -> bool:
    return untemplated(name) != name


MAX_IGNORE_FILE = 1024 * 1024  # bytes of one .gitignore that are read
MAX_PATTERN = 4096  # characters; longer ignore-file lines are skipped
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".v6lint_cache", "site-packages",
})


def display_path(path: Path | str) -> str:
    """Paths in output are relative to the working directory when that reads better. Bytes of a
    name that are not UTF-8 are shown as `\\xNN` (output must stay valid text)."""
    rel = os.path.normpath(path) if not os.path.isabs(path) else ""
    if not rel or rel == os.curdir or rel.startswith(os.pardir):  # else relpath gives the same, only slower
        folder, name = os.path.split(path)
        try:
            if name in ("", os.curdir, os.pardir):
                rel = os.path.relpath(path)
            else:  # relpath(folder/name) is relpath(folder)/name: the folder's is worked out once
                inside = _relative_folder(os.getcwd(), folder)
                if inside == os.curdir:
                    rel = name
                elif set(inside.split(os.sep)) == {os.pardir}:  # a folder above this one: so may `path` be
                    rel = os.path.relpath(path)
                else:
                    rel = os.path.join(inside, name)
        except ValueError:  # another drive on Windows
            rel = str(path)
        else:
            if rel.startswith(".." + os.sep + ".."):
                rel = str(path)
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        rel = os.fsencode(rel).decode("utf-8", "backslashreplace")
    return rel


@functools.lru_cache(maxsize=4096)
def _relative_folder(cwd: str, folder: str) -> str:
    """os.path.relpath(folder) from `cwd` (the files of one folder are shown one after another)."""
    return os.path.relpath(folder or os.curdir, cwd)


# --- gitignore-syntax globs ---------------------------------------------------------------------
class GlobError(ValueError):
    pass


_STAR, _DSTAR = "*", "**"
# A compiled name segment: a string -> whether it matches. Token lists mix these with the wildcard
# strings above; a token that `is not` a wildcard is a Segment (mypy cannot narrow by identity).
Segment = Callable[[str], object]


def _segment(pattern: str):
    """One path segment of a glob -> a predicate on one name. A segment with at most one `*`
    becomes a regex (it cannot backtrack more than linearly); more stars use the two-pointer
    wildcard match, O(len(segment) * len(name))."""
    tokens: list = []  # one-character regex strings, or _STAR
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            tokens.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
            continue
        if ch == "?":
            tokens.append(".")
        elif ch == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] in "!^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            close = pattern.find("]", j)
            if close == -1:
                tokens.append(re.escape("["))
            else:
                body = pattern[i + 1:close]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                parts = []
                k = 0
                while k < len(body):
                    if k + 2 < len(body) and body[k + 1] == "-":
                        if body[k] <= body[k + 2]:
                            parts.append(f"{re.escape(body[k])}-{re.escape(body[k + 2])}")
                        k += 3
                    else:
                        parts.append(re.escape(body[k]))
                        k += 1
                tokens.append(f"[{'^' if negate else ''}{''.join(parts)}]" if parts else ("[^/]" if negate else "(?!)"))
                i = close + 1
                continue
        else:
            tokens.append(re.escape(ch))
        i += 1
    if sum(t is _STAR for t in tokens) <= 1:
        return re.compile("".join(".*" if t is _STAR else t for t in tokens), re.DOTALL).fullmatch
    compiled = [t if t is _STAR else re.compile(t, re.DOTALL).fullmatch for t in tokens]

    def match(name: str) -> bool:
        p = i = 0
        star, mark = -1, 0
        n = len(compiled)
        while i < len(name):
            if p < n and compiled[p] is not _STAR and cast(Segment, compiled[p])(name[i]):
                p += 1
                i += 1
            elif p < n and compiled[p] is _STAR:
                star, mark = p, i
                p += 1
            elif star != -1:
                p = star + 1
                mark += 1
                i = mark
            else:
                return False
        while p < n and compiled[p] is _STAR:
            p += 1
        return p == n

    return match


class Glob:
    """One gitignore-syntax pattern: `!` negates, a trailing `/` matches only directories, a slash
    elsewhere anchors it to its base folder, `**` spans folders. It matches a path when it matches
    the path itself or one of its parent folders (everything in an ignored folder is ignored)."""

    def __init__(self, text: str):
        self.text = text
        line = text
        self.negated = line.startswith("!")
        if self.negated:
            line = line[1:]
        elif line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        self.dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            raise GlobError(f"{text!r} is not a pattern")
        self.anchored = "/" in line
        parts = [p for p in line.strip("/").split("/") if p]
        if not parts:
            raise GlobError(f"{text!r} is not a pattern")
        self.parts = [_DSTAR if p == "**" else _segment(p) for p in parts]
        if not self.anchored:
            self.single = self.parts[0]

    def matches(self, parts: list[str] | tuple[str, ...], is_dir: bool) -> bool:
        """`parts`: the path's folders and name relative to the pattern's base."""
        n = len(parts)
        if not n:
            return False
        if not self.anchored:
            if self.single is _DSTAR:
                return True
            return any(cast(Segment, self.single)(part) and (k < n - 1 or is_dir or not self.dir_only) for k, part in enumerate(parts))
        states = {0}
        last = len(self.parts) - 1
        for index, part in enumerate(self.parts):
            if part is _DSTAR:
                low = min(states) + (1 if index == last else 0)  # a trailing /** needs something inside
                states = set(range(low, n + 1))
            else:
                states = {j + 1 for j in states if j < n and cast(Segment, part)(parts[j])}
            if not states:
                return False
        return any(0 < k < n or (k == n and (is_dir or not self.dir_only)) for k in states)


def parse_patterns(lines, strict: bool = False) -> list[Glob]:
    """Gitignore lines -> Globs. strict (a user's config): a bad pattern raises GlobError;
    otherwise (a repository's ignore file) it is skipped."""
    out = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#") or len(line) > MAX_PATTERN:
            if strict and (not line.strip() or len(line) > MAX_PATTERN):
                raise GlobError(f"{raw!r} is not a pattern" if not line.strip() else "pattern is too long")
            continue
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        try:
            out.append(Glob(stripped))
        except GlobError:
            if strict:
                raise
    return out


def ignored_by(globs: Sequence[Glob], parts: list[str] | tuple[str, ...], is_dir: bool) -> bool | None:
    """True (ignored), False (re-included by a `!` pattern) or None: the last matching pattern decides."""
    for glob in reversed(globs):
        if glob.matches(parts, is_dir):
            return not glob.negated
    return None


def compile_globs(patterns: list[str]) -> list[Glob]:
    return parse_patterns(patterns, strict=True)


# --- git ignore files, read in-process ------------------------------------------------------------
def _read_ignore_file(path: Path) -> list[Glob]:
    """Patterns of a regular ignore file (never a symlink, FIFO or device: git does not follow them either)."""
    if replay.WITNESS is not None:
        replay.WITNESS.read(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return []
    try:
        with open(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return []
            data = handle.read(MAX_IGNORE_FILE)
    except OSError:
        return []
    return parse_patterns(data.decode("utf-8", "replace").splitlines())


def _git_top(directory: Path) -> Path | None:
    for folder in (directory, *directory.parents):
        if replay.WITNESS is not None:
            replay.WITNESS.looked_for(folder / ".git")
        if os.path.lexists(folder / ".git"):
            return folder
    return None


MAX_INDEX = 256 * 1024 * 1024  # bytes of .git/index that are read


def tracked_paths(top: Path) -> set[bytes]:
    """Paths (bytes, relative, `/`-separated) that the work tree's index tracks, read from
    `.git/index` (format versions 2-4, SHA-1 or SHA-256 object names). Unreadable or unknown: empty."""
    git = top / ".git"
    witness = replay.WITNESS
    try:
        if witness is not None:
            witness.looked_for(git)
        if git.is_file():  # a linked worktree or submodule: `gitdir: <path>`
            if witness is not None:
                witness.read(git)
            line = git.read_text(encoding="utf-8", errors="replace").strip()
            if not line.startswith("gitdir:"):
                return set()
            git = (top / line[len("gitdir:"):].strip()).resolve()
        if witness is not None:
            witness.read(git / "index")
        size, data = read_regular(git / "index", MAX_INDEX)
    except OSError:
        return set()
    if data is None or len(data) < 12 or data[:4] != b"DIRC":
        return set()
    version, count = int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big")
    if version not in (2, 3, 4):
        return set()
    for hash_size in (20, 32):
        paths = _index_entries(data, version, count, hash_size)
        if paths is not None:
            return paths
    return set()


def _index_entries(data: bytes, version: int, count: int, hash_size: int) -> set[bytes] | None:
    paths: set[bytes] = set()
    at, previous = 12, b""
    for _ in range(count):
        start = at
        at += 40 + hash_size
        if at + 2 > len(data):
            return None
        flags = int.from_bytes(data[at:at + 2], "big")
        at += 2
        if flags & 0x4000:
            if version < 3:
                return None
            at += 2
        if version == 4:
            strip, byte = 0, 0x80
            first = True
            while byte & 0x80:
                if at >= len(data):
                    return None
                byte = data[at]
                at += 1
                strip = (byte & 0x7F) if first else ((strip + 1) << 7) | (byte & 0x7F)
                first = False
            end = data.find(b"\0", at)
            if end == -1 or strip > len(previous):
                return None
            path = previous[:len(previous) - strip] + data[at:end]
            at = end + 1
        else:
            end = data.find(b"\0", at)
            if end == -1:
                return None
            path = data[at:end]
            at = start + ((end - start + 8) // 8) * 8  # NUL-padded to a multiple of 8
        if not path or path.startswith(b"/") or (flags & 0xFFF) not in (min(len(path), 0xFFF),):
            return None
        paths.add(path)
        previous = path
    return paths


class GitIgnores:
    """The ignore rules git would apply below its work tree `top`: the user's global ignore file,
    `.git/info/exclude`, then `.gitignore` files, deeper ones deciding over shallower ones. As for
    git, a tracked file is never ignored (nor a folder holding one); the index is read on first need."""

    def __init__(self, top: Path):
        self.top = top
        self._tracked: tuple[set[bytes], set[bytes]] | None = None
        config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        base = _read_ignore_file(Path(config) / "git" / "ignore") + _read_ignore_file(top / ".git" / "info" / "exclude")
        self.levels: dict[tuple[str, ...], list[Glob]] = {(): base + _read_ignore_file(top / ".gitignore")}

    def _level(self, folder: tuple[str, ...]) -> list[Glob]:
        found = self.levels.get(folder)
        if found is None:
            found = self.levels[folder] = _read_ignore_file(self.top.joinpath(*folder, ".gitignore"))
        return found

    def ignored(self, path: Path, is_dir: bool) -> bool:
        try:
            parts = path.relative_to(self.top).parts
        except ValueError:
            return False
        for depth in range(len(parts) - 1, -1, -1):  # the deepest ignore file with a matching pattern decides
            verdict = ignored_by(self._level(parts[:depth]), parts[depth:], is_dir)
            if verdict is not None:
                return verdict and not self._is_tracked(parts, is_dir)
        return False

    def _is_tracked(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if self._tracked is None:
            files = tracked_paths(self.top)
            folders = {b"/".join(f.split(b"/")[:i]) for f in files for i in range(1, f.count(b"/") + 1)}
            self._tracked = (files, folders)
        key = os.fsencode("/".join(parts))
        return key in self._tracked[1 if is_dir else 0]


class Files(Sequence[str]):
    """The files of a run, in order: each a path string, spelled as str(Path) spells it. Held per
    folder (each folder's string once, every name in one string, two arrays of numbers): ~30 bytes a
    file, where a list of Paths took ~340. A large run holds two such lists at once (its own and the
    profile scan's) when it forks its workers, and each worker inherits them."""

    __slots__ = ("_folders", "_names", "_starts", "_at")
    _folders: list[str]  # each folder's part of its files' paths
    _names: str  # the names of the files, NUL-separated
    _starts: array  # where each file's name starts in _names, and one more
    _at: array  # each file's folder (its number in _folders)

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        """`entries`: (folder, name) of each file in order; folder + name is the path (the folder
        ends with a separator, or is "" for the working folder)."""
        add = _FilesBuilder()
        folder = ""
        names: list[str] = []
        for entry in entries:
            if entry[0] != folder and names:
                add(folder, names)
                names = []
            folder = entry[0]
            names.append(entry[1])
        if names:
            add(folder, names)
        add.into(self)

    @classmethod
    def of(cls, paths: Iterable[Path | str]) -> "Files":
        return cls(split_path(path) for path in paths)

    def __len__(self) -> int:
        return len(self._at)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("Files index out of range")
        starts = self._starts
        return self._folders[self._at[index]] + self._names[starts[index]:starts[index + 1] - 1]

    def __iter__(self) -> Iterator[str]:
        folders, names, starts = self._folders, self._names, self._starts
        for index, (folder, start) in enumerate(zip(self._at, starts)):
            yield folders[folder] + names[start:starts[index + 1] - 1]

    def entries(self) -> Iterator[tuple[str, str]]:
        """(folder, name) of each file, in order (see __init__)."""
        folders, names, starts = self._folders, self._names, self._starts
        for index, (folder, start) in enumerate(zip(self._at, starts)):
            yield folders[folder], names[start:starts[index + 1] - 1]

    def __repr__(self) -> str:
        return f"Files({list(self)!r})"


class _FilesBuilder:
    """A Files made folder by folder (`add(folder, names)`, then `into(files)`): each folder's names
    are joined as they come, so a walk never holds a string per file (the many small strings a
    large walk left behind kept the heap it had grown to)."""

    def __init__(self) -> None:
        self.folders: list[str] = []
        self.number: dict[str, int] = {}
        self.at = array("I")
        self.starts = array("I", [0])
        self.chunks: list[str] = []

    def __call__(self, folder: str, names: list[str]) -> None:
        index = self.number.get(folder)
        if index is None:
            index = self.number[folder] = len(self.folders)
            self.folders.append(folder)
        starts = self.starts
        for name in names:
            self.at.append(index)
            starts.append(starts[-1] + len(name) + 1)
        self.chunks.append("\0".join(names))  # (no file name holds a NUL)

    def into(self, files: Files) -> Files:
        files._folders, files._at, files._starts = self.folders, self.at, self.starts
        files._names = "\0".join(self.chunks)
        return files


def split_path(path: Path | str) -> tuple[str, str]:
    """(folder, name) of a file's path: folder + name is str(Path(path))."""
    path = Path(path)
    text = str(path)
    return text[:len(text) - len(path.name)], path.name


@dataclass
class Discovered:
    files: Files
    missing: list[str]  # command-line paths that do not exist
    unsupported: list[Path] = field(default_factory=list)  # files named on the command line v6lint cannot read
    empty: list[str] = field(default_factory=list)  # command-line folders with nothing to check below them
    excluded: list[Path] = field(default_factory=list)  # files named on the command line but excluded
    # (the one folder walked, as given, and the judge of the files directly in it) when every file
    # found is that walk's: no file named, no symlinked file (see project.build_profile); else None
    walked: tuple[str, Judge] | None = None


class NotRegularFile(OSError):
    pass


# A file's stat vouches for its content once it was last written this long ago (a second write within
# the file system's clock tick could leave size and times as they were).
SETTLED_NS = 2_000_000_000


def stat_signature(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What tells, without reading it, that a file is unchanged, as git's index does: size, mtime, ctime,
    inode and device (no write leaves ctime as it was)."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def settled_signature(path: str | Path) -> tuple[int, int, int, int, int] | None:
    """The stat signature of a file last written long enough ago for it to vouch for the content;
    None when it cannot be stat'ed or was written too recently (then judge it by its bytes)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _settled(st)


def _settled(st: os.stat_result) -> tuple[int, int, int, int, int] | None:
    if max(st.st_mtime_ns, st.st_ctime_ns) >= time.time_ns() - SETTLED_NS:
        return None
    return stat_signature(st)


def settled_and_real(path: Path | str, real_dirs: dict[str, str]) -> tuple[tuple[int, int, int, int, int] | None, str]:
    """(settled_signature(path), real_path(path, real_dirs)): one lstat for a file that is not a symlink."""
    full = _in_real_folder(os.fspath(path), real_dirs)
    if full is None:
        return settled_signature(path), real_path(path, real_dirs)
    try:
        st = os.lstat(full)
    except OSError:
        return None, full
    if stat.S_ISLNK(st.st_mode):
        return settled_signature(path), os.path.realpath(full)
    return _settled(st), full


def read_regular(path: Path | str, limit: int) -> tuple[int, bytes | None]:
    """(size, bytes) of a regular file; bytes is None when it is over `limit`. A FIFO, socket or device
    raises NotRegularFile instead of blocking (it is opened non-blocking and checked before reading)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:  # os.read on the descriptor: no file object per file
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile("not a regular file")
        if st.st_size > limit:
            return st.st_size, None
        want = st.st_size + 1 if st.st_size < limit else limit
        chunks = []
        while want > 0 and (chunk := os.read(fd, want)):
            chunks.append(chunk)
            want -= len(chunk)
        return st.st_size, chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Judge:
    """What one config says about the paths it governs: `exclude` and `spark-conf` globs, relative
    to `base` (the config's folder), and whether excludes hold for files named on the command line."""
    exclude: tuple[Glob, ...] = ()
    extra: tuple[Glob, ...] = ()
    base: Path = Path("/")
    force_exclude: bool = False

    @classmethod
    def of(cls, exclude: list[str], base: Path, extra: Sequence[str] = (), force_exclude: bool = False) -> "Judge":
        return cls(tuple(compile_globs(list(exclude))) if exclude else (),
                   tuple(compile_globs(list(extra))) if extra else (), Path(os.path.realpath(base)), force_exclude)

    def parts(self, path: Path | str, real: str | None = None) -> tuple[str, ...]:
        """`real`: the path's real path when the caller knows it."""
        try:
            return Path(real or os.path.realpath(path)).relative_to(self.base).parts
        except ValueError:  # outside the config's folder: the path as given
            return tuple(p for p in Path(path).as_posix().split("/") if p not in ("", "."))

    def excludes(self, path: Path | str, is_dir: bool, real: str | None = None) -> bool:
        return bool(self.exclude) and bool(ignored_by(self.exclude, self.parts(path, real), is_dir))

    def extra_match(self, path: Path) -> bool:
        return bool(self.extra) and bool(ignored_by(self.extra, self.parts(path), False))


class Judges:
    """Which config judges a path: here one config for every path. config.NearestConfigs gives each
    folder its nearest config instead (ruff's "closest config file"), so a nested project's own
    `exclude` holds inside it and the outer config's does not."""

    nested = False  # whether a folder below another may be judged by another config

    def __init__(self, judge: Judge):
        self.judge = judge

    def at(self, folder: Path) -> Judge:
        """The judge of `folder` itself and of the files directly in it."""
        return self.judge


def real_folder(folder: str, memo: dict[str, str]) -> str:
    """os.path.realpath of an absolute, normalised folder (as os.path.abspath gives), each folder
    above it resolved once per `memo` (one run's: folder -> its real path): a new folder costs one
    lstat, not one per folder above it."""
    chain: list[tuple[str, str]] = []
    at = folder
    while at not in memo:
        parent, name = os.path.split(at)
        if not name or parent == at:  # the file system's root
            memo[at] = os.path.realpath(at)
            break
        chain.append((at, name))
        at = parent
    real = memo[at]
    for at, name in reversed(chain):
        joined = os.path.join(real, name)
        real = memo[at] = os.path.realpath(joined) if os.path.islink(joined) else joined
    return real


def real_path(path: Path | str, real_dirs: dict[str, str]) -> str:
    """os.path.realpath(path), with each folder resolved once per `real_dirs` (one run's memo, folder ->
    its real path, see real_folder): a file then costs one lstat, not one per folder above it."""
    path = os.fspath(path)
    full = _in_real_folder(path, real_dirs)
    if full is None:
        return os.path.realpath(path)  # realpath resolves links before `..`, as a split folder would not
    return os.path.realpath(full) if os.path.islink(full) else full


def _in_real_folder(path: str, real_dirs: dict[str, str]) -> str | None:
    """The path's name in its folder's real path (see real_path), or None when it cannot be split so."""
    folder, name = os.path.split(path)
    if not name or name in (".", "..") or ".." in folder.replace(os.sep, "/").split("/"):
        return None
    real = real_dirs.get(folder)
    if real is None:
        real = real_dirs[folder] = real_folder(os.path.abspath(folder or os.curdir), real_dirs)
    return os.path.join(real, name)


def is_excluded(path: Path, exclude: list[str], root: Path) -> bool:
    """Whether a config's `exclude` patterns (relative to `root`, its folder) match `path`."""
    if not exclude:
        return False
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False  # outside the config's folder: not its to exclude
    return Judge.of(exclude, root).excludes(path, path.is_dir())


def _walk(top: str):
    """os.walk(top) (top-down, in the order of each `dirs` list as the caller leaves it, no linked
    folder entered, a folder that cannot be listed skipped), also giving the names in each folder
    that are symlinks: known from the listing, so a file costs no lstat."""
    stack = [top]
    while stack:
        folder = stack.pop()
        dirs: list[str] = []
        names: list[str] = []
        links: set[str] = set()
        if replay.WITNESS is not None:
            replay.WITNESS.listed(folder)  # (before the listing: its stat vouches for the names)
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else names).append(entry.name)
                    try:
                        if entry.is_symlink():
                            links.add(entry.name)
                    except OSError:
                        pass
        except OSError:
            continue
        yield folder, dirs, names, links
        stack.extend(os.path.join(folder, d) for d in reversed(dirs) if d not in links)


def discover(paths: list[str], exclude: list[str], root: Path, suffixes: tuple[str, ...] = LINTED_SUFFIXES,
             templates: bool = True, *, force_exclude: bool | None = None, extra: Sequence[str] = (),
             names: frozenset[str] | None = None, judges: Judges | None = None) -> Discovered:
    """Files below `paths` ending in `suffixes` (or named `names`, or matching the `extra` globs,
    relative to root, such as Spark properties files), and (with `templates`) template files wrapping
    YAML/HCL. Walked folders skip excluded and git-ignored files; a file named on the command line
    is linted unless excluded with `force_exclude` (what pre-commit needs; None: as its config says,
    or yes without `judges`).
    `judges` says which config's `exclude`/`spark-conf` judge each folder (default: `exclude`,
    `extra` and `root` for all). A folder its config excludes is skipped whole, except a project
    with a config of its own below it, which only its own config judges."""
    if names is None:
        names = LINTED_NAMES if suffixes == LINTED_SUFFIXES else frozenset()
    if judges is None:
        judges = Judges(Judge.of(exclude, root, extra, force_exclude is not False))

    def judge_of(path: Path, is_dir: bool) -> Judge:
        return judges.at(Path(os.path.realpath(path if is_dir else path.parent)))

    def wanted(folder: str, name: str, judge: Judge) -> bool:
        if name.endswith(suffixes) or name in names or (templates and is_template_file(name)):
            return True
        return bool(judge.extra) and judge.extra_match(Path(folder, name))

    def excluded(path: Path, is_dir: bool) -> bool:
        return judge_of(path, is_dir).excludes(path, is_dir)

    explicit: list[Path] = []
    walk = _FilesBuilder()  # the files walked, folder by folder
    # Each walked folder with files kept: (its real path, how many, the real path of each that is a symlink)
    walked: list[tuple[str, int, dict[str, str] | None]] = []
    roots = 0  # folders given (walked)
    missing: list[str] = []
    unsupported: list[Path] = []
    empty: list[str] = []
    dropped: list[Path] = []
    witness = replay.WITNESS
    walked_root: tuple[str, Judge] | None = None
    for raw in paths:
        path = Path(raw)
        if witness is not None:
            witness.looked_for(raw)
        if not path.exists():
            missing.append(raw)
        elif path.is_file() or not path.is_dir():
            judge = judge_of(path, False)
            if (judge.force_exclude if force_exclude is None else force_exclude) and judge.excludes(path, False):
                dropped.append(path)
            elif path.name.endswith(EXPLICIT_SUFFIXES) or wanted(str(path.parent), path.name, judge):
                explicit.append(path)
            else:
                unsupported.append(path)
        else:
            roots += 1
            before = len(walked)
            base = os.path.realpath(path)
            top = _git_top(Path(base))
            git = GitIgnores(top) if top is not None else None
            # Folders their config excludes: nothing in them is linted, but with nested configs the
            # walk goes on below them to find projects with a config of their own.
            hidden = {path: judge_of(path, True)} if excluded(path, True) else {}
            # os.walk enters no linked folder, so a folder's real path is its parent's and its name
            real_dirs = {os.fspath(path): Path(base)}
            walked_root = (raw, judges.at(Path(base)))
            for folder, dirs, names_here, links in _walk(os.fspath(path)):  # no linked folder entered: no loops
                real_folder = real_dirs.pop(folder, None) or Path(os.path.realpath(folder))
                here = Path(folder)
                outer = hidden.get(here)
                kept = []
                for d in sorted(dirs):
                    if d in SKIP_DIRS:
                        continue
                    if os.path.exists(os.path.join(folder, d, "pyvenv.cfg")):  # a virtualenv
                        if witness is not None:
                            witness.listed(os.path.join(folder, d))  # (it stays one while its names do)
                        continue
                    if git is not None and git.ignored(real_folder / d, True):
                        continue
                    sub = here / d
                    judge = judges.at(real_folder / d)
                    if (outer is not None and judge is outer) or judge.excludes(sub, True):
                        if not judges.nested:
                            continue
                        hidden[sub] = judge
                    kept.append(d)
                    real_dirs[os.path.join(folder, d)] = real_folder / d
                dirs[:] = kept
                if outer is not None:
                    continue
                judge = judges.at(real_folder)
                kept_names: list[str] = []
                linked: dict[str, str] = {}
                for name in sorted(names_here):
                    if not wanted(folder, name, judge):
                        continue
                    full = os.path.join(folder, name)
                    real = os.path.join(real_folder, name)
                    if name in links:
                        if witness is not None:
                            witness.refuse(f"{full} is a symlink")
                        real = os.path.realpath(full)
                        # a link is followed only to a file inside the folder being linted, never out of it
                        if os.path.exists(full) and os.path.commonpath([real, base]) != base:
                            continue
                    if judge.excludes(full, False, real) or (
                            git is not None and git.ignored(real_folder / name, False)):
                        continue
                    kept_names.append(name)
                    if name in links:
                        linked[name] = real
                if kept_names:  # (str(here / name) is this folder's part and the name)
                    walk(str(here / "_")[:-1], kept_names)
                    walked.append((os.fspath(real_folder), len(kept_names), linked or None))
            if len(walked) == before:
                empty.append(raw)
    one = walked_root if not explicit and roots == 1 and not any(linked for *_, linked in walked) else None
    return Discovered(_once(explicit, walk.into(Files()), walked, roots), missing, unsupported, empty, dropped, one)


def _once(explicit: list[Path], files: Files, walked: list[tuple[str, int, dict[str, str] | None]],
          roots: int) -> Files:
    """The files found, named on the command line then walked (`files`, and what `walked` says of
    each folder of theirs): one file is linted once, whatever number of names (symlinks) it has
    here; a plain name wins. One folder walked with no symlinked file in it holds each real path
    once (no linked folder is entered): nothing to look up then."""
    if len(explicit) + roots <= 1 and not any(linked for *_, linked in walked):
        return Files.of(explicit) if explicit else files

    def found():
        for path in explicit:
            yield split_path(path), os.path.realpath(path)
        entries = files.entries()
        for real, count, linked in walked:
            for _ in range(count):
                entry = next(entries)
                yield entry, (linked.get(entry[1]) if linked else None) or os.path.join(real, entry[1])

    named = {str(path) for path in explicit}
    seen: dict[str, int] = {}
    kept: list[tuple[str, str]] = []
    for entry, key in found():
        at = seen.get(key)
        if at is None:
            seen[key] = len(kept)
            kept.append(entry)
        elif os.path.islink("".join(kept[at])) and not os.path.islink(path := "".join(entry)) and path not in named:
            kept[at] = entry
    return Files(kept)
