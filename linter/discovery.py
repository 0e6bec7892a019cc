"""Which files to lint: the paths given, recursively, minus what is excluded or git-ignored."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

LINTED_SUFFIXES = (".yaml", ".yml", ".tf", ".tfvars", ".tfvars.json", ".py", ".ipynb")
LINTED_NAMES = frozenset({"spark-defaults.conf"})  # found by name when walking folders
# Understood when named on the command line (any *.conf is read as Spark properties).
EXPLICIT_SUFFIXES = LINTED_SUFFIXES + (".conf",)
# Template extensions: `values.yaml.j2` or `main.tf.tpl` is linted as the YAML or HCL it holds
# when it parses; when it does not, it is an unrendered-template notice, never a silent skip.
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".tftpl", ".tmpl", ".template")
_TEMPLATED = (".yaml", ".yml", ".tf", ".tfvars", ".tfvars.json")


def untemplated(name: str) -> str:
    """The name without a template extension when it wraps YAML or HCL (`a.yaml.j2` -> `a.yaml`)."""
    for suffix in TEMPLATE_SUFFIXES:
        if name.endswith(suffix) and name[:-len(suffix)].endswith(_TEMPLATED):
            return name[:-len(suffix)]
    return name


def is_template_file(name: str) -> bool:
    return untemplated(name) != name


SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".v6lint_cache", "site-packages",
})


def display_path(path: Path | str) -> str:
    """Paths in output are relative to the working directory when that reads better."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return rel if not rel.startswith(".." + os.sep + "..") else str(path)


@dataclass
class Discovered:
    files: list[Path]
    missing: list[str]  # command-line paths that do not exist
    unsupported: list[Path] = field(default_factory=list)  # files named on the command line v6lint cannot read
    empty: list[str] = field(default_factory=list)  # command-line folders with nothing to check below them
    excluded: list[Path] = field(default_factory=list)  # files named on the command line but excluded


def _git_toplevel(directory: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _git_ignored(top: str, paths: list[Path]) -> set[Path]:
    """Ask git which of `paths` its ignore rules exclude (nested .gitignore, global excludes...).

    Tracked files are never reported by check-ignore, so a tracked file stays linted."""
    try:
        out = subprocess.run(["git", "-C", top, "check-ignore", "-z", "--stdin"],
                             input="\0".join(str(p) for p in paths) + "\0",
                             capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {Path(p) for p in out.stdout.split("\0") if p}


def is_excluded(path: Path, exclude: list[str], root: Path) -> bool:
    """Whether a config's `exclude` patterns (relative to `root`, its folder) match `path`."""
    if not exclude:
        return False
    spec = pathspec.GitIgnoreSpec.from_lines(exclude)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False  # outside the config's folder: not its to exclude
    return any(spec.match_file(part) or spec.match_file(part + "/")
               for part in ["/".join(rel.split("/")[:i]) for i in range(1, rel.count("/") + 1)]) \
        or spec.match_file(rel)


def discover(paths: list[str], exclude: list[str], root: Path, suffixes: tuple[str, ...] = LINTED_SUFFIXES,
             templates: bool = True, *, force_exclude: bool = True, extra: list[str] = (),
             names: frozenset[str] | None = None) -> Discovered:
    """Files below `paths` ending in `suffixes` (or named `names`, or matching the `extra` globs,
    relative to root, such as Spark properties files), and (with `templates`) template files wrapping
    YAML/HCL. Walked folders skip `exclude` and git-ignored files; a file named on the command line
    is linted unless excluded with `force_exclude` (what pre-commit needs)."""
    if names is None:
        names = LINTED_NAMES if suffixes == LINTED_SUFFIXES else frozenset()
    spec = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
    extra_spec = pathspec.GitIgnoreSpec.from_lines(extra) if extra else None
    root = root.resolve()

    def relative(path: Path) -> str:
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    def wanted(folder: str, name: str) -> bool:
        if name.endswith(suffixes) or name in names or (templates and is_template_file(name)):
            return True
        return extra_spec is not None and extra_spec.match_file(relative(Path(folder, name)))

    def excluded(path: Path) -> bool:
        if spec is None:
            return False
        try:
            rel = path.resolve().relative_to(root).as_posix()
        except ValueError:
            rel = path.as_posix()
        return spec.match_file(rel) or (path.is_dir() and spec.match_file(rel + "/"))

    explicit: list[Path] = []
    walked: list[Path] = []
    missing: list[str] = []
    unsupported: list[Path] = []
    empty: list[str] = []
    dropped: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            missing.append(raw)
        elif path.is_file() or not path.is_dir():
            if force_exclude and excluded(path):
                dropped.append(path)
            elif path.name.endswith(EXPLICIT_SUFFIXES) or wanted(str(path.parent), path.name):
                explicit.append(path)
            else:
                unsupported.append(path)
        else:
            walked_here: list[Path] = []
            for folder, dirs, files in os.walk(path):  # followlinks=False: no symlink loops
                dirs[:] = sorted(
                    d for d in dirs
                    if d not in SKIP_DIRS
                    and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))  # a virtualenv
                    and not excluded(Path(folder, d))
                )
                found = [Path(folder, n) for n in sorted(files) if wanted(folder, n)]
                walked_here.extend(p for p in found if not excluded(p))
            top = _git_toplevel(path) if walked_here else None
            if top:
                ignored = _git_ignored(top, [p.resolve() for p in walked_here])
                walked_here = [p for p in walked_here if p.resolve() not in ignored]
            walked.extend(walked_here)
            if not walked_here:
                empty.append(raw)
    seen: set[str] = set()
    files = []
    for path in explicit + walked:
        # os.walk never yields a file twice; only explicit paths (maybe symlinks) need resolving.
        key = os.path.realpath(path) if path in explicit else os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)
    return Discovered(files, missing, unsupported, empty, dropped)
