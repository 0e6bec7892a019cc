"""Settings from `[tool.v6lint]` in pyproject.toml or `.v6lint.toml`, validated by a JSON schema."""
from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence, cast


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from v6lint import replay
from v6lint.diagnostics import Severity
from v6lint.discovery import Judge, Judges, display_path
from v6lint.rule import Profile, Rule

CONFIG_FILES = (".v6lint.toml", "pyproject.toml")
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


class ConfigError(Exception):
    """A configuration problem the user must fix; the CLI prints it and exits 2."""


@dataclass
class Settings:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    force_exclude: bool = False  # apply exclude to files named on the command line too
    spark_conf: list[str] = field(default_factory=list)  # globs of more files to read as Spark properties
    severity: dict[str, Severity] = field(default_factory=dict)  # (the schema admits these values only)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    unsafe_fixes: bool = False
    preview: bool = False
    profile: Profile = field(default_factory=Profile)
    config_path: Path | None = None
    root: Path = field(default_factory=Path.cwd)  # per-file-ignores and exclude are relative to it
    warnings: list[str] = field(default_factory=list)  # problems that do not stop a run (printed on stderr)
    extends: list[Path] = field(default_factory=list)  # the configs `extend` pulled in, nearest first
    # [helm.charts."PATH"]: chart folder (relative to the config's folder) -> {"values": [files relative
    # to the chart], "set": ["a.b=c", ...], "sets": {NAME: {"values": [...], "set": [...]}}} (see helm.values_sets)
    helm: dict[str, dict] = field(default_factory=dict)


def _schema() -> dict:
    return json.loads(resources.files("v6lint").joinpath("config_schema.json").read_text(encoding="utf-8"))


# `[tool.v6lint]` / `[[tool.v6lint...` at a line start. Only spaces and tabs around it, never `\s`:
# `^\s*` restarts on every line of a run of blank lines and takes quadratic time.
_V6LINT_TABLE = re.compile(r'^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*"?v6lint\b', re.MULTILINE)


def config_in(folder: Path | str, memo: dict[str, Path | None] | None = None) -> Path | None:
    """The v6lint config in `folder` itself: `.v6lint.toml`, or pyproject.toml with a [tool.v6lint] table.
    `memo` (one run's: folder -> its config) spares the look for a folder another step of the run
    (the walk, project roots, the profile) already looked at."""
    if memo is None:
        return _config_in(Path(folder))
    key = os.fspath(folder)
    if key not in memo:
        memo[key] = _config_in(Path(folder))
    return memo[key]


def _config_in(folder: Path) -> Path | None:
    for name in CONFIG_FILES:
        candidate = folder / name
        if replay.WITNESS is not None:
            replay.WITNESS.read(candidate)
        if not candidate.is_file():
            continue
        if name == "pyproject.toml":
            try:
                text = candidate.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            if not _V6LINT_TABLE.search(text):
                continue  # (one that is not UTF-8 is still found, and load_settings says so)
        return candidate
    return None


def find_config(start: Path, memo: dict[str, Path | None] | None = None) -> Path | None:
    """The nearest `.v6lint.toml`, or pyproject.toml with a [tool.v6lint] table, from start upward
    (`memo`: see config_in)."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        found = config_in(folder, memo)
        if found is not None:
            return found
    return None


_UNKNOWN = object()


class NearestConfigs(Judges):
    """Each folder judged by the config nearest to it (ruff's "closest config file"): its `exclude`,
    `spark-conf` and `force-exclude` decide for the files in it, so a nested project's own config
    holds inside it and the outer config's does not (unless the nested one `extend`s it). `load(path)`
    gives the settings of a config file (None: no config), as the run applies them; each config is
    loaded once. With `fixed` (--config), that config judges every folder."""

    def __init__(self, load: Callable[[Path | None], Settings], fixed: Path | None = None,
                 configs: dict[str, Path | None] | None = None):
        self._load = load
        self._configs = configs  # see config_in
        self._fixed = fixed
        self.nested = fixed is None
        self._nearest: dict[str, Path | None] = {}  # folder -> its nearest config (str keys: a Path each took ~5x)
        self._judges: dict[Path | None, Judge] = {}
        self.loaded: dict[Path | None, Settings] = {}  # each config read, by path

    def config_of(self, folder: Path) -> Path | None:
        if self._fixed is not None:
            return self._fixed
        chain = []
        at = folder
        while True:  # upward one folder at a time (not all parents made for each): one is usually known
            key = os.fspath(at)
            known = self._nearest.get(key, _UNKNOWN)
            if known is not _UNKNOWN:
                found = cast("Path | None", known)
                break
            chain.append(key)
            found = config_in(at, self._configs)
            if found is not None or at.parent == at:
                break
            at = at.parent
        for key in chain:
            self._nearest[key] = found
        return found

    def at(self, folder: Path) -> Judge:
        config = self.config_of(folder)
        judge = self._judges.get(config)
        if judge is None:
            settings = self.loaded[config] = self._load(config)
            judge = self._judges[config] = Judge.of(settings.exclude, settings.root, settings.spark_conf,
                                                    settings.force_exclude)
        return judge


def _key_line(text: str, path: list) -> int | None:
    """1-based line where the innermost key of `path` is written (best effort)."""
    for key in reversed([p for p in path if isinstance(p, str)]):
        pattern = re.compile(rf'^[ \t]*(?:"{re.escape(key)}"|{re.escape(key)})[ \t]*=|'
                             rf'^[ \t]*\[[^\]\n]*\b{re.escape(key)}[ \t]*\]', re.MULTILINE)
        found = pattern.search(text)
        if found:
            return text.count("\n", 0, found.start()) + 1
    return None


def _describe(error, schema: dict) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = re.findall(r"'([^']+)'", error.message)
        name = f"{where}.{extra[0]}" if where and extra else (extra[0] if extra else where)
        close = difflib.get_close_matches(extra[0], allowed, n=1) if extra else []
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key '{name}'{hint} (allowed: {', '.join(allowed)})"
    if error.validator == "enum":
        return f"'{where}' must be one of {', '.join(map(repr, error.validator_value))}, not {error.instance!r}"
    return f"'{where}': {error.message}"


def selector_matches(selector: str, rule: Rule) -> bool:
    sel = selector.strip()
    return sel.upper() == "ALL" or rule.code.startswith(sel.upper()) or sel.lower() == rule.name


def check_selectors(selectors: list[str], rules: list[Rule], where: str, warnings: list[str] | None = None) -> None:
    """Selectors that match no rule are errors; with `warnings`, they are collected there instead
    (ignore lists: a rule renamed or removed on upgrade must not break every config)."""
    for sel in selectors:
        if not sel.strip():  # "" is a prefix of every code: it would select or ignore everything
            raise ConfigError(f"{where}: an empty rule code is not allowed")
        if not any(selector_matches(sel, r) for r in rules):
            message = (f"{where}: {sel!r} matches no rule (use a code like SVC004, a prefix like SVC, "
                       f"a rule name, or ALL; `v6lint rule --all` lists them)")
            if warnings is None:
                raise ConfigError(message)
            warnings.append(message + "; ignored")


def _rebase(pattern: str, base: Path, here: Path) -> str | None:
    """A gitignore pattern written relative to `base`, as seen from `here` (a folder at or below it,
    where the extending config is): unanchored patterns match at any depth and stay; anchored ones
    lose the leading folders that lead to `here`, become `**` (everything) when they name `here` or a
    folder above it, and are dropped when they point elsewhere."""
    negated, body = (pattern.startswith("!"), pattern[1:] if pattern.startswith("!") else pattern)
    stripped = body.lstrip("/")
    if base == here or ("/" not in body.rstrip("/") and not body.startswith("/")) or stripped.startswith("**/"):
        return pattern
    try:
        rel = here.relative_to(base).parts
    except ValueError:
        return None  # the base is not above this config: its anchored patterns cannot reach these files
    parts = stripped.split("/")
    sign = "!" if negated else ""
    for index, folder in enumerate(rel):
        if index >= len(parts) or not parts[index]:
            return sign + "**"  # it names a folder above `here`: everything here
        if parts[index] == "**":
            return sign + "/".join(parts[index:])
        if not fnmatch.fnmatchcase(folder, parts[index]):
            return None
    rest = "/".join(parts[len(rel):])
    return sign + ("/" + rest if rest.strip("/") else "**")  # `here` itself: everything in it


def load_settings(config_path: Path | None, rules: list[Rule], _chain: tuple[Path, ...] = ()) -> Settings:
    """Read and validate a config file (None: defaults). `extend = "../base.toml"` loads that config
    first; every key this one sets replaces the base's (tables such as `severity` or `cluster` merge
    key by key), and the base's path patterns keep meaning what they meant next to the base."""
    settings = Settings()
    if config_path is None:
        return settings
    shown = display_path(config_path)
    if replay.WITNESS is not None:
        replay.WITNESS.read(config_path)
    try:
        text = config_path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: not valid TOML: {exc}") from None
    if config_path.name == "pyproject.toml":
        table = data.get("tool", {}).get("v6lint", {})
        prefix = ["tool", "v6lint"]
    else:
        table, prefix = data, []
        if isinstance(data.get("tool"), dict) and "v6lint" in data["tool"]:
            line = _key_line(text, ["tool.v6lint"]) or _key_line(text, ["v6lint"])
            raise ConfigError(f"{shown}:{line or 1}: invalid v6lint configuration: `[tool.v6lint]` tables belong "
                              f"in pyproject.toml; in {config_path.name} the settings sit at the top level: drop "
                              f"the `tool.v6lint` header (`[tool.v6lint]` -> nothing, `[tool.v6lint.cluster]` "
                              f"-> `[cluster]`)")
    import jsonschema  # only when there is a config to validate

    schema = _schema()
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(table), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        line = _key_line(text, prefix + list(error.absolute_path) + re.findall(r"'([^']+)'", error.message)[:1]
                         if error.validator == "additionalProperties" else prefix + list(error.absolute_path))
        location = f"{shown}:{line}" if line else shown
        raise ConfigError(f"{location}: invalid v6lint configuration: {_describe(error, schema)}")

    def where(key: str, within: Sequence[str] = ()) -> str:
        line = _key_line(text, prefix + [*within, key])
        return f"{shown}:{line}" if line else shown

    here = config_path.parent.resolve()
    if "extend" in table:
        base = (config_path.parent / os.path.expanduser(table["extend"])).resolve()
        chain = (*_chain, config_path.resolve())
        if base in chain:
            raise ConfigError(f"{where('extend')}: extend: {table['extend']!r} leads back to "
                              f"{display_path(base)} (a cycle)")
        if not base.is_file():
            raise ConfigError(f"{where('extend')}: extend: {table['extend']!r}: no such config file")
        settings = load_settings(base, rules, chain)
        settings.extends = [base, *settings.extends]
        settings.exclude = [p for p in (_rebase(x, settings.root.resolve(), here) for x in settings.exclude) if p]
        settings.per_file_ignores = {rebased: codes for pattern, codes in settings.per_file_ignores.items()
                                     if (rebased := _rebase(pattern, settings.root.resolve(), here))}
    settings.config_path = config_path
    settings.root = config_path.parent
    for key, attr in (("select", "select"), ("extend-select", "extend_select"), ("ignore", "ignore"),
                      ("exclude", "exclude"), ("max-file-size", "max_file_size"), ("preview", "preview")):
        if key in table:
            setattr(settings, attr, table[key])
    settings.per_file_ignores = {**settings.per_file_ignores, **table.get("per-file-ignores", {})}
    settings.severity = {**settings.severity, **table.get("severity", {})}
    settings.exclude = settings.exclude + table.get("extend-exclude", [])
    for key, attr in (("force-exclude", "force_exclude"), ("spark-conf", "spark_conf")):
        if key in table:
            setattr(settings, attr, table[key])
    settings.helm = {**settings.helm, **table.get("helm", {}).get("charts", {})}
    if "unsafe" in table.get("fix", {}):
        settings.unsafe_fixes = table["fix"]["unsafe"]
    family = table.get("cluster", {}).get("ip-family")
    platform = table.get("cluster", {}).get("platform")
    if family:
        settings.profile = replace(settings.profile, ip_family=family, source=where("ip-family", ["cluster"]))
    if platform:
        settings.profile = replace(settings.profile, platform=platform,
                                   platform_source=where("platform", ["cluster"]))
    for key in ("select", "extend-select"):
        check_selectors(table.get(key, []), rules, f"{shown}: {key}")
    check_selectors(table.get("ignore", []), rules, f"{shown}: ignore", settings.warnings)
    from v6lint.discovery import GlobError, compile_globs

    for key, patterns in (("exclude", settings.exclude), ("per-file-ignores", list(settings.per_file_ignores))):
        for pattern in patterns:
            try:
                compile_globs([pattern])
            except GlobError as exc:
                raise ConfigError(f"{shown}: {key}: {exc}") from None
    for pattern, selectors in settings.per_file_ignores.items():
        check_selectors(selectors, rules, f"{shown}: per-file-ignores[{pattern!r}]", settings.warnings)
    for code in settings.severity:
        if not any(code.upper() == r.code or code.lower() == r.name for r in rules):
            raise ConfigError(f"{shown}: severity: {code!r} is not a rule code or name")
    return settings


def _exact(selector: str, rule: Rule) -> bool:
    sel = selector.strip()
    return sel.upper() == rule.code or sel.lower() == rule.name


def enabled_codes(rules: list[Rule], select: list[str], extend: list[str], ignore: list[str],
                  preview: bool = False) -> set[str]:
    """Codes the selectors enable. A preview rule needs `preview`, or a selector naming it exactly."""
    chosen = [*select, *extend]
    return {
        r.code for r in rules
        if any(selector_matches(s, r) for s in chosen) and not any(selector_matches(s, r) for s in ignore)
        and (r.maturity == "stable" or preview or any(_exact(s, r) for s in chosen))
    }
