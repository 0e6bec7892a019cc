"""Render results: text for people, JSON for machines, unified diffs for --diff."""
from __future__ import annotations

import difflib
import json

from v6lint import __version__
from v6lint.diagnostics import Diagnostic, Fix
from v6lint.engine import FileResult
from v6lint.rule import RULES_URL
from v6lint.rules import ALL_RULES, BY_CODE
from v6lint.source import SourceFile

# Control characters (C0 but tab, DEL, C1), bidirectional overrides and lone surrogates (undecodable
# file-name bytes) that reach a terminal or a CI log from a file. Shown escaped, so a crafted name or
# value cannot retitle the terminal, move the cursor or print a fake finding line (the class of
# kubectl's CVE-2021-25743). JSON and SARIF escape them by themselves.
_UNPRINTABLE = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c != 0x09}
_UNPRINTABLE.update({c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                                 *range(0x2066, 0x206A), 0x2028, 0x2029)})
_UNPRINTABLE.update({c: f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"
                     for c in range(0xD800, 0xE000)})


def printable(text: str) -> str:
    """`text` with every character that could drive a terminal escaped (`\\x1b`, `\\n`...)."""
    return text if text.isprintable() else text.translate(_UNPRINTABLE)


SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _point(source: SourceFile | None, offset: int) -> dict:
    if source is None:
        return {"line": 1, "column": 1}
    line, col = source.position(offset)
    return {"line": line + 1, "column": col + 1}


def _fix_json(fix: Fix | None, source: SourceFile | None) -> dict | None:
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [{"range": {"start": _point(source, e.start), "end": _point(source, e.end)}, "content": e.content}
                  for e in fix.edits],
    }


def diagnostic_json(diag: Diagnostic, source: SourceFile | None) -> dict:
    return {
        "code": diag.code,
        "name": diag.name,
        "severity": diag.severity,
        "message": diag.message,
        "path": diag.path,
        "range": {
            "start": {"line": diag.start_line, "column": diag.start_column},
            "end": {"line": diag.end_line, "column": diag.end_column},
        },
        "fix": _fix_json(diag.fix, source),
        "url": diag.url,
        "profile": {"ip_family": diag.profile.ip_family, "source": diag.profile.source} if diag.profile else None,
    }


def render_json(results: list[FileResult]) -> str:
    """A JSON list, one diagnostic per line (the C encoder only runs without indent)."""
    items = [json.dumps(diagnostic_json(d, r.fixed or r.source), ensure_ascii=False)
             for r in results for d in r.diagnostics]
    return "[\n" + ",\n".join(items) + "\n]\n" if items else "[]\n"


_FAMILY_LABEL = {"ipv4": "IPv4", "ipv6": "IPv6", "dual": "dual-stack"}


def _profile_note(diag: Diagnostic) -> str:
    """Where the profile a finding depends on came from: ` (IPv6 cluster per x.tfvars:4)`."""
    if diag.profile is None:
        return ""
    return f" ({_FAMILY_LABEL[diag.profile.ip_family]} cluster per {diag.profile.source})"


def text_line(diag: Diagnostic, unsafe: bool) -> str:
    mark = ""
    if diag.fix is not None and (diag.fix.applicability == "safe" or unsafe):
        mark = " [*]"
    return printable(f"{diag.path}:{diag.start_line}:{diag.start_column}: {diag.code} [{diag.name}]{mark} "
                     f"{diag.message}{_profile_note(diag)}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(results: list[FileResult], *, unsafe: bool, fixed_count: int, files: int) -> str:
    diags = [d for r in results for d in r.diagnostics]
    lines = [text_line(d, unsafe) for d in diags]
    if fixed_count:
        lines.append(f"Fixed {_plural(fixed_count, 'problem')}.")
    if not diags:
        lines.append(f"No problems found in {_plural(files, 'file')}." if not fixed_count else
                     f"No problems remain in {_plural(files, 'file')}.")
        return "\n".join(lines) + "\n"
    by_severity = {s: sum(d.severity == s for d in diags) for s in ("error", "warning", "info")}
    detail = ", ".join(_plural(n, s) for s, n in by_severity.items() if n)
    lines.append(f"Found {_plural(len(diags), 'problem')} ({detail}) in {_plural(files, 'file')}.")
    safe = sum(1 for d in diags if d.fix and d.fix.applicability == "safe")
    unsafe_only = sum(1 for d in diags if d.fix and d.fix.applicability == "unsafe")
    if safe or (unsafe and unsafe_only):
        n = safe + (unsafe_only if unsafe else 0)
        lines.append(f"[*] {n} fixable with `v6lint check --fix{' --unsafe-fixes' if unsafe else ''}`.")
    if unsafe_only and not unsafe:
        lines.append(f"{unsafe_only} more fixable with `--fix --unsafe-fixes` (review them: they change behaviour).")
    return "\n".join(lines) + "\n"


def render_diff(result: FileResult) -> str:
    if result.fixed is None or result.source is None:
        return ""
    before = result.source.text.splitlines(keepends=True)
    after = result.fixed.text.splitlines(keepends=True)
    diff = difflib.unified_diff(before, after, f"a/{result.path}", f"b/{result.path}")
    out = []
    for line in diff:
        body = line[:-1] if line.endswith("\n") else line
        out.append(printable(body) + ("\n" if line.endswith("\n") else "\n\\ No newline at end of file\n"))
    return "".join(out)


# --- SARIF 2.1.0 -----------------------------------------------------------------------------------
def _region(source: SourceFile | None, start: int, end: int) -> dict:
    a, b = _point(source, start), _point(source, end)
    return {"startLine": a["line"], "startColumn": a["column"], "endLine": b["line"], "endColumn": b["column"]}


def render_sarif(results: list[FileResult]) -> str:
    used = sorted({d.code for r in results for d in r.diagnostics} | {r.code for r in ALL_RULES})
    index = {code: i for i, code in enumerate(used)}
    rules = []
    for code in used:
        rule = BY_CODE[code]
        rules.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.why.strip()},
            "helpUri": rule.url,
            "help": {"text": rule.explain()},
            "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
            "properties": {"fix": rule.fix, "profiles": list(rule.profiles) or ["any"]},
        })
    out = []
    for result in results:
        source = result.fixed or result.source
        for d in result.diagnostics:
            item = {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": SARIF_LEVEL[d.severity],
                "message": {"text": d.message + _profile_note(d)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": d.path.replace("\\", "/")},
                    "region": {"startLine": d.start_line, "startColumn": d.start_column,
                               "endLine": d.end_line, "endColumn": d.end_column},
                }}],
            }
            if d.fix is not None:
                item["fixes"] = [{
                    "description": {"text": f"{d.fix.message} ({d.fix.applicability})"},
                    "artifactChanges": [{
                        "artifactLocation": {"uri": d.path.replace("\\", "/")},
                        "replacements": [{"deletedRegion": _region(source, e.start, e.end),
                                          "insertedContent": {"text": e.content}} for e in d.fix.edits],
                    }],
                }]
            out.append(item)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "v6lint", "version": __version__, "informationUri": RULES_URL,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": out,
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


# --- GitHub Actions workflow commands ---------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(results: list[FileResult]) -> str:
    lines = []
    for result in results:
        for d in result.diagnostics:
            props = ",".join(f"{k}={_escape_property(printable(str(v)))}" for k, v in (
                ("file", d.path), ("line", d.start_line), ("col", d.start_column), ("endLine", d.end_line),
                ("endColumn", d.end_column), ("title", f"{d.code} {d.name}")))
            lines.append(f"::{GITHUB_LEVEL[d.severity]} {props}::{_escape_data(printable(d.message + _profile_note(d)))}")
    return "".join(line + "\n" for line in lines)


# --- --statistics and --show-fixes -----------------------------------------------------------------
def render_statistics(results: list[FileResult], *, unsafe: bool, as_json: bool) -> str:
    counts: dict[str, list] = {}
    for d in (d for r in results for d in r.diagnostics):
        entry = counts.setdefault(d.code, [0, 0])
        entry[0] += 1
        if d.fix is not None and (d.fix.applicability == "safe" or unsafe):
            entry[1] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
    if as_json:
        return json.dumps([{"code": code, "name": BY_CODE[code].name, "count": n, "fixable": fixable}
                           for code, (n, fixable) in ordered], indent=2) + "\n"
    width = max((len(str(n)) for _c, (n, _f) in ordered), default=1)
    return "".join(f"{n:>{width}}\t{code}\t{'[*]' if fixable else '   '} {BY_CODE[code].name}\n"
                   for code, (n, fixable) in ordered)


def render_fixes(applied: list[tuple[str, list[Diagnostic]]]) -> str:
    """What --fix changed, per file: `path:` then `  2 x SVC001 (invalid-ip-family)`."""
    lines = []
    for path, diags in applied:
        if not diags:
            continue
        lines.append(f"{printable(path)}:")
        per_code: dict[str, int] = {}
        for d in diags:
            per_code[d.code] = per_code.get(d.code, 0) + 1
        for code, n in sorted(per_code.items()):
            lines.append(f"    {n} \u00d7 {code} ({BY_CODE[code].name})")
    return "".join(line + "\n" for line in lines)
