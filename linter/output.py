"""Render results: text for people, JSON for machines, unified diffs for --diff."""
from __future__ import annotations

import difflib
import json

from v6lint.diagnostics import Diagnostic, Fix
from v6lint.engine import FileResult
from v6lint.source import SourceFile


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
    items = [diagnostic_json(d, r.fixed or r.source) for r in results for d in r.diagnostics]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


_FAMILY_LABEL = {"ipv4": "IPv4", "ipv6": "IPv6", "dual": "dual-stack"}


def text_line(diag: Diagnostic, unsafe: bool) -> str:
    mark = ""
    if diag.fix is not None and (diag.fix.applicability == "safe" or unsafe):
        mark = " [*]"
    profile = ""
    if diag.profile is not None:
        profile = f" ({_FAMILY_LABEL[diag.profile.ip_family]} cluster per {diag.profile.source})"
    return f"{diag.path}:{diag.start_line}:{diag.start_column}: {diag.code} [{diag.name}]{mark} {diag.message}{profile}"


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
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
