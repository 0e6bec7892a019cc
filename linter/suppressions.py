"""`# v6lint: ignore[...]`, `# v6lint: file-ignore[...]` and the `v6lint.io/ignore` annotation."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from v6lint.diagnostics import Edit, Fix
from v6lint.source import SourceFile

_COMMENT = re.compile(r"(?:^|(?<=\s))#\s*v6lint:\s*(ignore|file-ignore)\[([^\]]*)\]")
ANNOTATION = "v6lint.io/ignore"


@dataclass
class Suppression:
    kind: str  # "ignore" | "file-ignore" | "annotation"
    codes: list[str]  # as written
    line: int  # 0-based line of the comment (annotation: of its value)
    start: int  # offsets of the comment `#...` to its end of line (annotation: the value)
    end: int
    own_line: bool = False
    scope: tuple[int, int] | None = None  # annotation: the document it covers
    used: set[str] = field(default_factory=set)

    def covers(self, line: int, doc_span: tuple[int, int] | None) -> bool:
        if self.kind == "file-ignore":
            return True
        if self.kind == "annotation":
            return doc_span == self.scope
        return line == self.line or (self.own_line and line == self.line + 1)


def parse_comments(source: SourceFile) -> list[Suppression]:
    if "v6lint:" not in source.text:
        return []
    found = []
    for line_no in range(source.line_count):
        text = source.line_text(line_no)
        if "v6lint:" not in text:
            continue
        match = _COMMENT.search(text)
        if not match:
            continue
        base = source.line_start(line_no)
        codes = [c.strip() for c in match.group(2).split(",") if c.strip()]
        found.append(Suppression(match.group(1), codes, line_no, base + match.start(), base + len(text),
                                 own_line=not text[:match.start()].strip()))
    return found


def removal_fix(source: SourceFile, sup: Suppression, unused: list[str]) -> Fix | None:
    """Remove a comment that suppresses nothing, or just its unused codes."""
    if sup.kind == "annotation":
        return None
    keep = [c for c in sup.codes if c not in unused]
    text = source.text
    if keep:
        line = text[sup.start:sup.end]
        bracket = line.index("[")
        close = line.index("]", bracket)
        return Fix("Remove unused codes from the suppression", "safe",
                   (Edit(sup.start + bracket + 1, sup.start + close, ", ".join(keep)),))
    if sup.own_line:
        end = source.line_end(sup.line, with_newline=True)
        return Fix("Remove the unused suppression comment", "safe", (Edit(source.line_start(sup.line), end, ""),))
    start = sup.start
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return Fix("Remove the unused suppression comment", "safe", (Edit(start, sup.end, ""),))
