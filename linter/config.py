"""Settings from `[tool.v6lint]` in pyproject.toml or `.v6lint.toml`, validated by a JSON schema."""
from __future__ import annotations

import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from v6lint.discovery import display_path
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
    severity: dict[str, str] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    unsafe_fixes: bool = False
    preview: bool = False
    profile: Profile = field(default_factory=Profile)
    config_path: Path | None = None
    root: Path = field(default_factory=Path.cwd)  # per-file-ignores and exclude are relative to it
    warnings: list[str] = field(default_factory=list)  # problems that do not stop a run (printed on stderr)


def _schema() -> dict:
    return json.loads(resources.files("v6lint").joinpath("config_schema.json").read_text(encoding="utf-8"))


def find_config(start: Path) -> Path | None:
    """The nearest `.v6lint.toml`, or pyproject.toml with a [tool.v6lint] table, from start upward."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name == "pyproject.toml":
                try:
                    text = candidate.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                if not re.search(r"^\s*\[\s*tool\.v6lint\b", text, re.MULTILINE):
                    continue
            return candidate
    return None


def _key_line(text: str, path: list) -> int | None:
    """1-based line where the innermost key of `path` is written (best effort)."""
    for key in reversed([p for p in path if isinstance(p, str)]):
        pattern = re.compile(rf'^\s*(?:"{re.escape(key)}"|{re.escape(key)})\s*=|^\s*\[[^\]]*\b{re.escape(key)}\s*\]',
                             re.MULTILINE)
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
        if not any(selector_matches(sel, r) for r in rules):
            message = (f"{where}: {sel!r} matches no rule (use a code like SVC004, a prefix like SVC, "
                       f"a rule name, or ALL; `v6lint rule --all` lists them)")
            if warnings is None:
                raise ConfigError(message)
            warnings.append(message + "; ignored")


def load_settings(config_path: Path | None, rules: list[Rule]) -> Settings:
    """Read and validate a config file (None: defaults)."""
    settings = Settings()
    if config_path is None:
        return settings
    shown = display_path(config_path)
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

    settings.config_path = config_path
    settings.root = config_path.parent
    settings.select = table.get("select", settings.select)
    settings.extend_select = table.get("extend-select", [])
    settings.ignore = table.get("ignore", [])
    settings.per_file_ignores = table.get("per-file-ignores", {})
    settings.exclude = table.get("exclude", []) + table.get("extend-exclude", [])
    settings.force_exclude = table.get("force-exclude", False)
    settings.spark_conf = table.get("spark-conf", [])
    settings.severity = table.get("severity", {})
    settings.max_file_size = table.get("max-file-size", DEFAULT_MAX_FILE_SIZE)
    settings.unsafe_fixes = table.get("fix", {}).get("unsafe", False)
    settings.preview = table.get("preview", False)
    family = table.get("cluster", {}).get("ip-family")
    platform = table.get("cluster", {}).get("platform")
    if family or platform:
        def where(key: str) -> str:
            line = _key_line(text, prefix + ["cluster", key])
            return f"{shown}:{line}" if line else shown
        settings.profile = Profile(family, where("ip-family") if family else None,
                                   platform=platform, platform_source=where("platform") if platform else None)
    for key in ("select", "extend-select"):
        check_selectors(table.get(key, []), rules, f"{shown}: {key}")
    check_selectors(settings.ignore, rules, f"{shown}: ignore", settings.warnings)
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
