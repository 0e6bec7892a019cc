"""Which files to lint: the paths given, recursively, minus what is excluded or git-ignored.

Ignore rules are read in-process (`.gitignore` files, `.git/info/exclude`, the user's global
`git/ignore`); git is never run, so nothing in a repository's `.git/config` (core.fsmonitor,
hooks...) can execute, and file names need not be valid UTF-8. Globs (ignore files and the
config's `exclude`/`per-file-ignores`) are matched by `Glob`, which takes time proportional to
pattern length times path length: no pattern can make matching backtrack exponentially.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

LINTED_SUFFIXES = (".yaml", ".yml", ".tf", ".tfvars", ".tfvars.json", ".py")
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".v6lint_cache", "site-packages",
})
MAX_IGNORE_FILE = 1024 * 1024  # bytes of one .gitignore that are read
MAX_PATTERN = 4096  # characters; longer ignore-file lines are skipped


def display_path(path: Path | str) -> str:
    """Paths in output are relative to the working directory when that reads better. Bytes of a
    name that are not UTF-8 are shown as `\\xNN` (output must stay valid text)."""
    try:
        rel = os.path.relpath(path)
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


# --- gitignore-syntax globs ---------------------------------------------------------------------
class GlobError(ValueError):
    pass


_STAR, _DSTAR = "*", "**"


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
            if p < n and compiled[p] is not _STAR and compiled[p](name[i]):
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
            return any(self.single(part) and (k < n - 1 or is_dir or not self.dir_only) for k, part in enumerate(parts))
        states = {0}
        last = len(self.parts) - 1
        for index, part in enumerate(self.parts):
            if part is _DSTAR:
                low = min(states) + (1 if index == last else 0)  # a trailing /** needs something inside
                states = set(range(low, n + 1))
            else:
                states = {j + 1 for j in states if j < n and part(parts[j])}
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


def ignored_by(globs: list[Glob], parts: list[str] | tuple[str, ...], is_dir: bool) -> bool | None:
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
        if os.path.lexists(folder / ".git"):
            return folder
    return None


class GitIgnores:
    """The ignore rules git would apply below its work tree `top`: the user's global ignore file,
    `.git/info/exclude`, then `.gitignore` files, deeper ones deciding over shallower ones."""

    def __init__(self, top: Path):
        self.top = top
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
                return verdict
        return False


# --- walking ------------------------------------------------------------------------------------
@dataclass
class Discovered:
    files: list[Path]
    missing: list[str]  # command-line paths that do not exist


class NotRegularFile(OSError):
    pass


def read_regular(path: Path | str, limit: int) -> tuple[int, bytes | None]:
    """(size, bytes) of a regular file; bytes is None when it is over `limit`. A FIFO, socket or device
    raises NotRegularFile instead of blocking (it is opened non-blocking and checked before reading)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile("not a regular file")
        if st.st_size > limit:
            return st.st_size, None
        return st.st_size, handle.read(st.st_size + 1 if st.st_size < limit else limit)


def discover(paths: list[str], exclude: list[str], root: Path, suffixes: tuple[str, ...] = LINTED_SUFFIXES) -> Discovered:
    globs = compile_globs(exclude) if exclude else []
    root = root.resolve()

    def excluded(path: Path, is_dir: bool) -> bool:
        if not globs:
            return False
        try:
            parts = path.resolve().relative_to(root).parts
        except ValueError:
            parts = tuple(p for p in path.as_posix().split("/") if p not in ("", "."))
        return bool(ignored_by(globs, parts, is_dir))

    explicit: list[Path] = []
    walked: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(path):
            missing.append(raw)
        elif not path.is_dir():
            if not excluded(path, False):
                explicit.append(path)  # a FIFO or device named here gets a notice when read
        else:
            base = os.path.realpath(path)
            top = _git_top(Path(base))
            git = GitIgnores(top) if top is not None else None
            for folder, dirs, names in os.walk(path):  # followlinks=False: no symlink loops
                real_folder = Path(os.path.realpath(folder))
                dirs[:] = sorted(
                    d for d in dirs
                    if d not in SKIP_DIRS
                    and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))  # a virtualenv
                    and not excluded(Path(folder, d), True)
                    and not (git is not None and git.ignored(real_folder / d, True))
                )
                for name in sorted(names):
                    if not name.endswith(suffixes):
                        continue
                    full = os.path.join(folder, name)
                    if os.path.islink(full) and os.path.exists(full):
                        # a link is followed only to a file inside the folder being linted, never out of it
                        target = os.path.realpath(full)
                        if os.path.commonpath([target, base]) != base:
                            continue
                    candidate = Path(full)
                    if excluded(candidate, False) or (git is not None and git.ignored(real_folder / name, False)):
                        continue
                    walked.append(candidate)
    # One file is linted once, whatever number of names (symlinks) it has here; a plain name wins.
    seen: dict[str, int] = {}
    files: list[Path] = []
    for path in explicit + walked:
        key = os.path.realpath(path)
        at = seen.get(key)
        if at is None:
            seen[key] = len(files)
            files.append(path)
        elif os.path.islink(files[at]) and not os.path.islink(path) and path not in explicit:
            files[at] = path
    return Discovered(files, missing)
