"""Render results: text for people, JSON for machines, unified diffs for --diff."""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
import urllib.parse
from pathlib import Path
from typing import Callable

from v6lint import __version__
from v6lint.diagnostics import Diagnostic, ProfileRef
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
# What a report reads of a file's text beside its findings' places (see reads and excerpt).
SHOWS_LINES, SHOWS_FINGERPRINTS, SHOWS_TEXT = "lines", "fingerprints", "text"


def reads(output_format: str, *, statistics: bool, show_fixes: bool) -> frozenset[str]:
    """What the report of this format reads of each file's text: the source lines under each finding
    (SHOWS_LINES), the text each finding points at, for its fingerprint (SHOWS_FINGERPRINTS), or the
    whole text (SHOWS_TEXT: --show-fixes shows each fix as a diff); empty: nothing (the findings'
    places, lines and columns, are in the findings)."""
    if statistics:
        return frozenset()
    if show_fixes:
        return frozenset({SHOWS_TEXT})
    return frozenset({"full": {SHOWS_LINES}, "text": {SHOWS_LINES}, "sarif": {SHOWS_FINGERPRINTS},
                      "gitlab": {SHOWS_FINGERPRINTS}}.get(output_format, ()))


def excerpt(diagnostics: list[Diagnostic], source: SourceFile, shows: frozenset[str]) -> bool:
    """Keep in each finding what a report that `shows` this reads of `source` (see reads), and the
    places of its fix's edits, so that the text can be let go (a worker process sends back no text):
    False when it cannot be (the whole text is read, or a notebook's finding, shown in its cell)."""
    if SHOWS_TEXT in shows or any(d.cell is not None for d in diagnostics):
        return False
    for d in diagnostics:
        if d.fix is not None:
            d.edit_points = d.points_of_edits(source)
        if SHOWS_LINES in shows and d.start_line >= 1:
            d.shown_lines = {line: source.line_text(line) for line in snippet_lines(d) if line != -1}
        if SHOWS_FINGERPRINTS in shows:
            d.text_key = _fingerprint_text(d, source)
    return True
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def diagnostic_json(diag: Diagnostic, source: SourceFile | None) -> dict:
    """One finding as `--output-format json` prints it (see Diagnostic.to_json)."""
    return diag.to_json(source)


class Report:
    """A report written as the results come: `add` each file's result, in file order, then `finish`.
    Nothing of a file is kept once its part is written: the summaries are counts, and a format whose
    head needs the totals (SARIF, JUnit) spools its body to a temporary file."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.files = 0  # results added
        self.failing = False  # a finding that fails the run (see engine.counts_as_failure)
        self.crashed = False  # a rule crashed (V6L999)

    def add(self, result: FileResult) -> None:
        from v6lint.engine import counts_as_failure

        self.files += 1
        for d in result.diagnostics:
            self.failing = self.failing or counts_as_failure(d)
            self.crashed = self.crashed or d.code == "V6L999"
        self._add(result)

    def _add(self, result: FileResult) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class Spool:
    """Text kept on disk past a small size (the body of a report whose head comes last)."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8", newline="")
        self.empty = True

    def write(self, text: str) -> None:
        self.file.write(text)
        self.empty = False

    def copy_to(self, write: Callable[[str], object]) -> None:
        self.file.seek(0)
        while chunk := self.file.read(1 << 16):
            write(chunk)
        self.file.close()


class JsonReport(Report):
    """A JSON list, one diagnostic per line (the C encoder only runs without indent)."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__(write)
        self.any = False

    def _add(self, result: FileResult) -> None:
        source = result.fixed or result.source
        for d in result.diagnostics:
            self.write((",\n" if self.any else "[\n") + json.dumps(d.to_json(source), ensure_ascii=False))
            self.any = True

    def finish(self) -> None:
        self.write("\n]\n" if self.any else "[]\n")


# --- text: full (source line and caret) and concise ------------------------------------------------
_STYLES = {"path": "1", "error": "1;31", "warning": "1;33", "info": "1;36", "gutter": "34", "caret": "31",
           "minus": "31", "plus": "32", "fixable": "36", "note": "2"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color and text else text


def _location(diag: Diagnostic) -> str:
    cell = f"cell {diag.cell}:" if diag.cell is not None else ""
    return f"{diag.path}:{cell}{diag.start_line}:{diag.start_column}"


def text_line(diag: Diagnostic, unsafe: bool, color: bool = False) -> str:
    mark = ""
    if diag.fix is not None and (diag.fix.applicability == "safe" or unsafe):
        mark = " " + _paint("[*]", "fixable", color)
    return (f"{_paint(printable(_location(diag)), 'path', color)}: {_paint(diag.code, diag.severity, color)} "
            f"[{diag.name}]{mark} {printable(diag.message)}")


MAX_SNIPPET_LINES = 4


def _blank(prefix: str) -> str:
    """Spaces as wide as `prefix`, keeping its tabs so a caret lines up under the text."""
    return "".join("\t" if ch == "\t" else " " for ch in prefix)


def snippet_lines(diag: Diagnostic) -> list[int]:
    """The 0-based lines the finding's snippet shows, in order; -1 where lines are left out."""
    first, last = diag.start_line - 1, diag.end_line - 1
    if diag.end_column == 1 and last > first:
        last -= 1  # a range that ends at the start of a line does not show that line
    shown = list(range(first, last + 1))
    if len(shown) > MAX_SNIPPET_LINES:
        shown = shown[:MAX_SNIPPET_LINES - 1] + [-1, last]
    return shown


def _snippet(diag: Diagnostic, line_text: Callable[[int], str], color: bool) -> list[str]:
    """The finding's source line(s) with a caret under its range (ruff's `full` format);
    `line_text(n)`: the text of 0-based line n."""
    first = diag.start_line - 1
    shown = snippet_lines(diag)
    width = len(str(shown[-1] + 1))
    bar = _paint("|", "gutter", color)
    out = [f"{' ' * width} {bar}"]
    for line in shown:
        if line == -1:
            out.append(f"{'.' * width} {bar}")
            continue
        text = line_text(line)
        out.append(f"{_paint(str(line + 1).rjust(width), 'gutter', color)} {bar} {printable(text)}".rstrip())
        begin = diag.start_column - 1 if line == first else len(text) - len(text.lstrip())
        end = diag.end_column - 1 if line == diag.end_line - 1 else len(text)
        end = max(end, begin + 1)
        caret = max(len(printable(text[begin:end])), 1)
        out.append(f"{' ' * width} {bar} {_blank(printable(text[:begin]))}{_paint('^' * caret, 'caret', color)}")
    return out


def _fix_diff(diag: Diagnostic, source: SourceFile, color: bool, cells=None) -> list[str]:
    """The finding's own fix as changed lines, each with its line number; in a notebook (`cells`, its
    view), the lines of the finding's cell before and after the fix's JSON edits."""
    fix = diag.fix
    assert fix is not None  # (called for findings with a fix)
    from v6lint.engine import apply_edits

    before, after = source.text, apply_edits(source.text, list(fix.edits))
    if cells is not None:
        from v6lint.notebook import notebook_view

        assert diag.cell is not None  # (a notebook's findings are in a cell)
        fixed = SourceFile(source.path, after, source.encoding, source.bom, source.abspath)
        before, after = cells.cell_source(diag.cell).text, notebook_view(fixed).cell_source(diag.cell).text
    old, new = before.splitlines(), after.splitlines()
    width = len(str(len(old) + 1))
    label = "safe fix" if fix.applicability == "safe" else "unsafe fix (changes behaviour)"
    out = [f"{' ' * width} {_paint('=', 'gutter', color)} {label}: {printable(fix.message)}"]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        out += [f"{str(i + 1).rjust(width)} {_paint('- ' + printable(old[i]), 'minus', color)}" for i in range(i1, i2)]
        out += [f"{str(i1 + 1 + k).rjust(width)} {_paint('+ ' + printable(new[j]), 'plus', color)}"
                for k, j in enumerate(range(j1, j2))]
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class TextReport(Report):
    """full (each finding with its source lines) or concise, then a summary (unless quiet)."""

    def __init__(self, write: Callable[[str], None], *, unsafe: bool, concise: bool = False,
                 show_fixes: bool = False, color: bool = False, quiet: bool = False, fix_only: bool = False):
        super().__init__(write)
        self.unsafe, self.concise, self.show_fixes, self.color = unsafe, concise, show_fixes, color
        self.quiet, self.fix_only = quiet, fix_only
        self.by_severity = {"error": 0, "warning": 0, "info": 0}
        self.with_findings: set[str] = set()
        self.profiles: dict[tuple[str, str], int] = {}
        self.safe = self.unsafe_only = 0

    def _add(self, result: FileResult) -> None:
        lines = []
        source = result.fixed or result.source
        cells = None
        for d in result.diagnostics:
            lines.append(text_line(d, self.unsafe, self.color))
            self.by_severity[d.severity] += 1
            if d.profile is not None:
                key = (d.profile.ip_family, d.profile.source)
                self.profiles[key] = self.profiles.get(key, 0) + 1
            if d.fix is not None:
                if d.fix.applicability == "safe":
                    self.safe += 1
                elif d.fix.applicability == "unsafe":
                    self.unsafe_only += 1
            if self.concise or d.start_line < 1:
                continue
            if source is None:  # the text was let go: the lines kept in the finding (see excerpt)
                if d.shown_lines is None or d.cell is not None:
                    continue
                lines += _snippet(d, d.shown_lines.__getitem__, self.color)
            elif d.cell is not None:  # a notebook: the lines of its cell (positions are in the cell)
                if cells is None:
                    from v6lint.notebook import notebook_view

                    cells = notebook_view(source)
                lines += _snippet(d, cells.cell_source(d.cell).line_text, self.color)
            else:
                lines += _snippet(d, source.line_text, self.color)
            if self.show_fixes and d.fix is not None and source is not None:
                lines += _fix_diff(d, source, self.color, cells if d.cell is not None else None)
            lines.append("")
        if result.diagnostics:
            self.with_findings.add(result.path)
        if lines:
            self.write("".join(line + "\n" for line in lines))

    def finish(self, fixed_count: int = 0) -> None:
        if self.quiet:
            return
        lines = []
        found = sum(self.by_severity.values())
        if fixed_count:
            lines.append(f"Fixed {_plural(fixed_count, 'problem')}.")
        if self.fix_only:
            if not fixed_count and not found:
                lines.append("Nothing to fix.")
        elif not found:
            lines.append(f"No problems found in {_plural(self.files, 'file')}." if not fixed_count else
                         f"No problems remain in {_plural(self.files, 'file')}.")
        else:
            lines += self._summary(found)
        self.write("".join(line + "\n" for line in lines))

    def _summary(self, found: int) -> list[str]:
        detail = ", ".join(_plural(n, s) for s, n in self.by_severity.items() if n)
        with_findings = len(self.with_findings)
        checked = max(self.files, with_findings)
        lines = [f"Found {_plural(found, 'problem')} ({detail}) in {with_findings} of {_plural(checked, 'file')}."]
        for (family, where), n in self.profiles.items():
            article = "a" if family == "dual" else "an"
            lines.append(printable(f"Judged against {article} {ProfileRef(family, where).phrase} "
                                   f"({_plural(n, 'finding')} depend{'s' if n == 1 else ''} on it; `v6lint profile` "
                                   f"shows every source)."))
        safe, unsafe_only, unsafe = self.safe, self.unsafe_only, self.unsafe
        if safe or (unsafe and unsafe_only):
            n = safe + (unsafe_only if unsafe else 0)
            lines.append(f"[*] {n} fixable with `v6lint check --fix{' --unsafe-fixes' if unsafe else ''}`.")
        if unsafe_only and not unsafe:
            lines.append(f"{unsafe_only} more fixable with `--fix --unsafe-fixes` (review them: they change "
                         f"behaviour).")
        return lines


def no_changes_note(results: list[FileResult], unsafe: bool) -> str:
    """What --diff says when it has no diff to print."""
    unsafe_only = sum(1 for r in results for d in r.diagnostics if d.fix and d.fix.applicability == "unsafe")
    if unsafe_only and not unsafe:
        fixes = "1 unsafe fix" if unsafe_only == 1 else f"{unsafe_only} unsafe fixes"
        return (f"No safe fixes to show; {fixes} would change behaviour: "
                f"add --unsafe-fixes to see {'it' if unsafe_only == 1 else 'them'}.")
    return "No fixes to show: --fix would change nothing."


def render_ignored(results: list[FileResult], applied: list[tuple[str, list[Diagnostic]]], *, quiet: bool) -> str:
    """What --add-ignore did: suppressions added, and findings that could not get one."""
    added = sum(len(diags) for _path, diags in applied)
    left = [d for r in results for d in r.diagnostics]
    lines = [text_line(d, False) + " (no suppression could be added)" for d in left if not d.code.startswith("V6L")]
    lines += [text_line(d, False) for d in left if d.code.startswith("V6L")]
    if not quiet:
        lines.append(f"Added suppressions for {_plural(added, 'finding')} in {_plural(len(applied), 'file')}."
                     if added else "No findings to suppress.")
    return "".join(line + "\n" for line in lines)


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
def _region(json_range: dict) -> dict:
    """A SARIF region from a JSON range (both 1-based, columns in characters)."""
    start, end = json_range["start"], json_range["end"]
    return {"startLine": start["line"], "startColumn": start["column"], "endLine": end["line"],
            "endColumn": end["column"]}


def _fingerprint_text(diag: Diagnostic, source: SourceFile | None) -> str:
    """What a finding's fingerprint reads of its file: its line (stripped) and the text it points at."""
    if source is None or diag.cell is not None:
        return diag.text_key or ""
    line = source.position(diag.start)[0]
    return source.line_text(line).strip() + "\0" + source.text[diag.start:diag.end]


def fingerprints(result: FileResult) -> dict[int, str]:
    """A fingerprint per finding of a file that survives lines moving: the rule, the file, the message
    and the text the finding points at (not its line number); equal findings are told apart by
    occurrence (the file is in the key: a file's findings are all its equals)."""
    out: dict[int, str] = {}
    seen: dict[str, int] = {}
    source = result.fixed or result.source
    for d in result.diagnostics:
        text = _fingerprint_text(d, source)
        digest = hashlib.sha256("\0".join((d.code, d.path.replace("\\", "/"), d.message, text)).encode())
        key = digest.hexdigest()[:32]
        seen[key] = seen.get(key, 0) + 1
        out[id(d)] = f"{key}:{seen[key]}"
    return out


def _artifact(path: str) -> dict:
    """Relative paths are relative to %SRCROOT% (the working directory); others are file URIs."""
    posix = path.replace("\\", "/")
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": urllib.parse.quote(posix), "uriBaseId": "%SRCROOT%"}


def _nested(item, level: int) -> str:
    """`item` as json.dumps(..., indent=2) writes it at that depth of a larger document."""
    return "  " * level + json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


class SarifReport(Report):
    """SARIF 2.1.0; its head (whether the run succeeded) comes last, so the results are spooled."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__(write)
        self.used = sorted(r.code for r in ALL_RULES)  # every rule, so each finding's index is known now
        self.index = {code: i for i, code in enumerate(self.used)}
        self.body = Spool()

    def _add(self, result: FileResult) -> None:
        prints = fingerprints(result)
        source = result.fixed or result.source
        for d in result.diagnostics:
            found = d.to_json(source)
            location: dict[str, object] = {
                "artifactLocation": _artifact(d.path),
                "region": _region(found["range"]),
            }
            item: dict[str, object] = {
                "ruleId": d.code,
                "ruleIndex": self.index[d.code],
                "level": SARIF_LEVEL[d.severity],
                "message": {"text": d.message + d.profile_note},
                "locations": [{"physicalLocation": location}],
                "partialFingerprints": {"v6lint/v1": prints[id(d)]},
            }
            if d.cell is not None:
                item["properties"] = {"cell": d.cell}
                location.pop("region")
                location["region"] = {"charOffset": d.start,
                                      "charLength": max(d.end - d.start, 0)}
            if d.fix is not None and d.cell is None:
                item["fixes"] = [{
                    "description": {"text": f"{d.fix.message} ({d.fix.applicability})"},
                    "artifactChanges": [{
                        "artifactLocation": _artifact(d.path),
                        "replacements": [{"deletedRegion": _region(e["range"]),
                                          "insertedContent": {"text": e["content"]}} for e in found["fix"]["edits"]],
                    }],
                }]
            self.body.write(("[\n" if self.body.empty else ",\n") + _nested(item, 4))

    def finish(self) -> None:
        rules = []
        for code in self.used:
            rule = BY_CODE[code]
            rules.append({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.why.strip()},
                "helpUri": rule.url,
                "help": {"text": rule.explain()},
                "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
                "properties": {"fix": rule.fix, "profiles": list(rule.profiles) or ["any"], "maturity": rule.maturity},
            })
        cwd = Path.cwd().as_uri().rstrip("/") + "/"
        mark = "\0results"
        sarif = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "v6lint", "version": __version__, "informationUri": RULES_URL,
                                    "rules": rules}},
                "invocations": [{
                    "executionSuccessful": not self.crashed,
                    "workingDirectory": {"uri": cwd},
                }],
                "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd}},
                "columnKind": "unicodeCodePoints",
                "results": mark,
            }],
        }
        head, tail = json.dumps(sarif, indent=2, ensure_ascii=False).split(json.dumps(mark))
        self.write(head)
        if self.body.empty:
            self.write("[]")
        else:
            self.body.copy_to(self.write)
            self.write("\n" + "  " * 3 + "]")
        self.write(tail + "\n")


# --- JUnit XML and GitLab code quality ---------------------------------------------------------------
def _element_text(element, level: int) -> str:
    """An element as ElementTree writes it indented at that depth of a larger document (no tail)."""
    from xml.etree import ElementTree as ET

    ET.indent(element, level=level)
    element.tail = None
    return ET.tostring(element, encoding="unicode")


class JunitReport(Report):
    """One test suite per file with findings, one failed test case per finding (like ruff's junit);
    the totals head the document, so the suites are spooled."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__(write)
        self.count = 0
        self.body = Spool()

    def _add(self, result: FileResult) -> None:
        from xml.etree import ElementTree as ET

        if not result.diagnostics:
            return
        self.count += len(result.diagnostics)
        suite = ET.Element("testsuite", name=printable(result.path), tests=str(len(result.diagnostics)),
                           failures=str(len(result.diagnostics)), errors="0")
        for d in result.diagnostics:
            case = ET.SubElement(suite, "testcase", name=f"v6lint.{d.code}", classname=printable(result.path),
                                 line=str(d.start_line), column=str(d.start_column))
            failure = ET.SubElement(case, "failure", message=printable(d.message + d.profile_note), type=d.code)
            failure.text = printable(f"{_location(d)}: {d.code} [{d.name}] {d.message}{d.profile_note}") + f"\n{d.url}"
        self.body.write("\n  " + _element_text(suite, 1))

    def finish(self) -> None:
        from xml.etree import ElementTree as ET

        if not self.count:
            suite = ET.Element("testsuite", name="v6lint", tests="1", failures="0", errors="0")
            ET.SubElement(suite, "testcase", name="No problems found", classname="v6lint")
            self.body.write("\n  " + _element_text(suite, 1))
        head = ET.tostring(ET.Element("testsuites", name="v6lint", tests=str(max(self.count, 1)),
                                      failures=str(self.count), errors="0"), encoding="unicode")
        assert head.endswith(" />")
        self.write('<?xml version="1.0" encoding="UTF-8"?>\n' + head[:-3] + ">")
        self.body.copy_to(self.write)
        self.write("\n</testsuites>\n")


GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


class GitlabReport(Report):
    """GitLab's code quality report (a subset of the Code Climate format)."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__(write)
        self.any = False

    def _add(self, result: FileResult) -> None:
        prints = fingerprints(result)
        for d in result.diagnostics:
            item = {
                "description": f"{d.code} [{d.name}] {d.message}{d.profile_note}",
                "check_name": d.code,
                "fingerprint": hashlib.sha256(prints[id(d)].encode()).hexdigest()[:32],
                "severity": GITLAB_SEVERITY[d.severity],
                "location": {"path": d.path.replace("\\", "/"), "lines": {"begin": d.start_line, "end": d.end_line}},
            }
            self.write((",\n" if self.any else "[\n") + _nested(item, 1))
            self.any = True

    def finish(self) -> None:
        self.write("\n]\n" if self.any else "[]\n")


# --- GitHub Actions workflow commands ---------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReport(Report):
    """GitHub Actions workflow commands, one per finding."""

    def _add(self, result: FileResult) -> None:
        lines = []
        for d in result.diagnostics:
            props = ",".join(f"{k}={_escape_property(printable(str(v)))}" for k, v in (
                ("file", d.path), ("line", d.start_line), ("col", d.start_column), ("endLine", d.end_line),
                ("endColumn", d.end_column), ("title", f"{d.code} {d.name}")))
            lines.append(f"::{GITHUB_LEVEL[d.severity]} {props}::{_escape_data(printable(d.message + d.profile_note))}\n")
        if lines:
            self.write("".join(lines))


# --- --statistics and --show-fixes -----------------------------------------------------------------
class StatisticsReport(Report):
    """A count per rule (and how many are fixable), most frequent first."""

    def __init__(self, write: Callable[[str], None], *, unsafe: bool, as_json: bool):
        super().__init__(write)
        self.unsafe, self.as_json = unsafe, as_json
        self.counts: dict[str, list[int]] = {}

    def _add(self, result: FileResult) -> None:
        for d in result.diagnostics:
            entry = self.counts.setdefault(d.code, [0, 0])
            entry[0] += 1
            if d.fix is not None and (d.fix.applicability == "safe" or self.unsafe):
                entry[1] += 1

    def finish(self) -> None:
        ordered = sorted(self.counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
        if self.as_json:
            self.write(json.dumps([{"code": code, "name": BY_CODE[code].name, "count": n, "fixable": fixable}
                                   for code, (n, fixable) in ordered], indent=2) + "\n")
            return
        width = max((len(str(n)) for _c, (n, _f) in ordered), default=1)
        self.write("".join(f"{n:>{width}}\t{code}\t{'[*]' if fixable else '   '} {BY_CODE[code].name}\n"
                           for code, (n, fixable) in ordered))


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
