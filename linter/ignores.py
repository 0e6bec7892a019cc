"""`--add-ignore`: a suppression for every current finding, so a team can turn v6lint on today.

Each finding gets `# v6lint: ignore[CODE] REASON` at the end of its line (codes are added to a
v6lint comment already there). Where a comment would change data or break the syntax (inside a
YAML block or multi-line scalar, a Terraform heredoc, a Python string or after a `\\` line
continuation), a Kubernetes object gets the `v6lint.io/ignore` annotation instead. Spark
properties files take `#` comments only at the start of a line (java.util.Properties), so they get
the comment on its own line above. JSON has no comments: such findings are left and counted.
"""
from __future__ import annotations

import io
import re
import tokenize

from v6lint.diagnostics import Diagnostic, Edit
from v6lint.document import SCALAR, walk
from v6lint.source import SourceFile
from v6lint.suppressions import annotation_edit, comment_above_edit, comment_edit, parse_comments
from v6lint.yaml_source import ParsedYaml


# --- lines where an end-of-line comment cannot go -------------------------------------------------
def _yaml_blocked(source: SourceFile, parsed: ParsedYaml) -> set[int]:
    blocked: set[int] = set()
    for doc in parsed.documents:
        for node in walk(doc.root):
            if node.kind != SCALAR:
                continue
            first, last = source.position(node.start)[0], source.position(node.end)[0]
            if last > first or node.style in ("|", ">"):
                blocked.update(range(first, last + (1 if node.style in ("|", ">") else 0)))
    return blocked


_HEREDOC = re.compile(r"<<-?\s*\"?([A-Za-z_][A-Za-z0-9_]*)\"?\s*$")


def _hcl_blocked(source: SourceFile) -> set[int]:
    blocked: set[int] = set()
    line = 0
    while line < source.line_count:
        match = _HEREDOC.search(source.line_text(line))
        if match:
            end = line + 1
            while end < source.line_count and source.line_text(end).strip() != match.group(1):
                end += 1
            blocked.update(range(line, end + 1))
            line = end
        line += 1
    return blocked


def _python_blocked(source: SourceFile) -> set[int] | None:
    blocked: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source.text).readline):
            if token.end[0] > token.start[0]:
                blocked.update(range(token.start[0] - 1, token.end[0] - 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    for line in range(source.line_count):
        if source.line_text(line).endswith("\\"):
            blocked.add(line)
    return blocked


# --- the edits ------------------------------------------------------------------------------------
def ignore_edits(source: SourceFile, parsed: ParsedYaml, language: str, diagnostics: list[Diagnostic],
                 reason: str = "") -> tuple[list[Edit], list[Diagnostic]]:
    """Edits that suppress `diagnostics` (offsets into `source`), and the findings that could not be."""
    reason = " ".join(reason.split())  # one line
    left: list[Diagnostic] = []
    by_line: dict[int, list[str]] = {}
    by_doc: dict[int, list[str]] = {}
    blocked: set[int] | None  # lines no comment can go on; None: unknown (the code does not tokenize)
    if language == "yaml":
        blocked = _yaml_blocked(source, parsed)
    elif language == "hcl":
        blocked = _hcl_blocked(source)
    elif language == "python":
        blocked = _python_blocked(source)
    elif language == "spark-conf":
        blocked = {line for line in range(source.line_count)
                   if line and source.line_text(line - 1).rstrip().endswith("\\")}
    else:  # JSON (tfvars.json): no comments
        return [], list(diagnostics)
    for diag in diagnostics:
        line = source.position(diag.start)[0]
        if blocked is not None and line not in blocked:
            codes = by_line.setdefault(line, [])
            if diag.code not in codes:
                codes.append(diag.code)
            continue
        doc = next((i for i, d in enumerate(parsed.documents)
                    if language == "yaml" and d.is_kubernetes and d.start <= diag.start <= d.end), None)
        if doc is None:
            left.append(diag)
            continue
        codes = by_doc.setdefault(doc, [])
        if diag.code not in codes:
            codes.append(diag.code)
    edits: list[Edit] = []
    edit: Edit | None
    sups = parse_comments(source, parsed.documents) if by_line else []
    for line, codes in sorted(by_line.items()):
        codes = sorted(codes)
        if language == "spark-conf":
            edit = comment_above_edit(source, line, codes, reason, indent=False)
        else:
            edit = comment_edit(source, line, codes, reason, sups)
        if edit is not None:
            edits.append(edit)
    for index, codes in sorted(by_doc.items()):
        codes = sorted(codes)
        edit = annotation_edit(source, parsed.documents[index], codes)
        if edit is None:
            left += [d for d in diagnostics if parsed.documents[index].start <= d.start <= parsed.documents[index].end
                     and d.code in codes]
        else:
            edits.append(edit)
    return edits, left
