"""Jupyter notebooks (`.ipynb`): the code cells, read as one Python file.

The code cells' sources are joined into a virtual Python text (IPython `%magic` and `!shell` lines
become comments of the same length; `%%` cell magics drop the cell), which the Python reader lints
like a `.py` file. Findings are mapped back: a position becomes (cell, line, column) and a fix
becomes an edit of the JSON string literals that hold the changed lines, re-encoded the way the
notebook wrote them. Every byte outside those literals (metadata, outputs, indentation, key order)
stays as it was; an edit that cannot be expressed that way (across cells, or in a literal whose
escaping v6lint cannot reproduce) drops the fix instead.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # CPython has it; typeshed omits it

from v6lint.diagnostics import Diagnostic, Edit, Fix
from v6lint.source import SourceFile
from v6lint.yaml_source import ParsedYaml, ParseProblem


class NotebookError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


# --- a small JSON reader that remembers where each value is written ------------------------------
@dataclass
class JValue:
    value: object  # dict[str, JValue] | list[JValue] | str | number | bool | None
    start: int
    end: int


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_MAX_DEPTH = 200


def _parse_json(text: str) -> JValue:
    def ws(i: int) -> int:
        blank = _WS.match(text, i)  # always matches (`*`)
        return blank.end() if blank else i

    def value(i: int, depth: int) -> tuple[JValue, int]:
        if depth > _MAX_DEPTH:
            raise NotebookError("JSON nested too deeply", i)
        i = ws(i)
        if i >= len(text):
            raise NotebookError("unexpected end of JSON", i)
        ch = text[i]
        if ch == '"':
            try:
                decoded, end = scanstring(text, i + 1, True)
            except ValueError as exc:
                raise NotebookError(f"invalid JSON string: {exc}", i) from None
            return JValue(decoded, i, end), end
        if ch in "{[":
            closing = "}" if ch == "{" else "]"
            members: dict[str, JValue] = {}
            elements: list[JValue] = []
            items = members if ch == "{" else elements
            j = ws(i + 1)
            if j < len(text) and text[j] == closing:
                return JValue(items, i, j + 1), j + 1
            while True:
                if ch == "{":
                    key, j = value(j, depth + 1)
                    if not isinstance(key.value, str):
                        raise NotebookError("JSON object key is not a string", key.start)
                    j = ws(j)
                    if j >= len(text) or text[j] != ":":
                        raise NotebookError("expected ':' in JSON object", j)
                    item, j = value(j + 1, depth + 1)
                    members[key.value] = item
                else:
                    item, j = value(j, depth + 1)
                    elements.append(item)
                j = ws(j)
                if j < len(text) and text[j] == ",":
                    j = ws(j + 1)
                    continue
                if j < len(text) and text[j] == closing:
                    return JValue(items, i, j + 1), j + 1
                raise NotebookError(f"expected ',' or '{closing}' in JSON", j)
        for word, result in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i):
                return JValue(result, i, i + len(word)), i + len(word)
        number = _NUMBER.match(text, i)
        if number and number.end() > i:
            return JValue(json.loads(number.group()), i, number.end()), number.end()
        raise NotebookError(f"unexpected {text[i]!r} in JSON", i)

    root, end = value(0, 0)
    if ws(end) != len(text):
        raise NotebookError("extra data after the JSON document", ws(end))
    return root


# --- the view -----------------------------------------------------------------------------------
@dataclass
class Segment:
    """One JSON string literal of a code cell's `source`, and where its text is in the virtual file."""

    cell: int  # 1-based, counting every cell as Jupyter shows them
    vstart: int
    vend: int
    literal: JValue
    in_list: bool  # `source` is a list of lines (nbformat's usual form), not one string

    @property
    def text(self) -> str:
        assert isinstance(self.literal.value, str)  # segments are made of string literals only
        return self.literal.value


@dataclass
class NotebookView:
    source: SourceFile
    python: SourceFile
    segments: list[Segment] = field(default_factory=list)
    cells: list[tuple[int, int, int]] = field(default_factory=list)  # (cell, vstart, vend)

    def cell_source(self, cell: int) -> SourceFile:
        """One code cell's text as written (for showing a finding's line)."""
        return SourceFile(self.source.path, "".join(s.text for s in self.segments if s.cell == cell))

    # positions -----------------------------------------------------------------------------------
    def _segment_at(self, offset: int, prefer_next: bool) -> Segment | None:
        best = None
        for seg in self.segments:
            if seg.vstart <= offset < seg.vend or (offset == seg.vend and not prefer_next):
                return seg
            if seg.vstart >= offset and best is None:
                best = seg
        return best if prefer_next else (self.segments[-1] if self.segments else None)

    def to_file(self, offset: int, prefer_next: bool = True) -> int:
        seg = self._segment_at(offset, prefer_next)
        if seg is None:
            return 0
        index = max(0, min(offset - seg.vstart, len(seg.text)))
        return _literal_offsets(self.source.text, seg.literal)[index]

    def cell_point(self, offset: int) -> tuple[int, int, int]:
        """(cell, 1-based line in the cell, 1-based column) of a virtual offset (each cell starts a line)."""
        line, column = self.python.point(offset)
        for cell, start, end in self.cells:
            if start <= offset <= end:
                return cell, line - self.python.position(start)[0], column
        return (self.cells[-1][0] if self.cells else 1), line, column

    # fixes -----------------------------------------------------------------------------------------
    def map_fix(self, fix: Fix | None) -> Fix | None:
        if fix is None:
            return None
        groups: list[tuple[int, int, list[Edit]]] = []  # (first segment, last segment, edits)
        for edit in sorted(fix.edits, key=lambda e: (e.start, e.end)):
            touched = self._touched(edit)
            if touched is None:
                return None
            first, last = touched
            if groups and first <= groups[-1][1]:
                g_first, g_last, edits = groups[-1]
                groups[-1] = (g_first, max(g_last, last), edits + [edit])
            else:
                groups.append((first, last, [edit]))
        out = []
        for first, last, edits in groups:
            mapped = self._rewrite(first, last, edits)
            if mapped is None:
                return None
            out.append(mapped)
        return Fix(fix.message, fix.applicability, tuple(out))

    def _touched(self, edit: Edit) -> tuple[int, int] | None:
        segs = self.segments
        if edit.start == edit.end:
            hits = [i for i, s in enumerate(segs) if s.vstart <= edit.start < s.vend]
            if not hits:
                hits = [i for i, s in enumerate(segs) if s.vend == edit.start]
        else:
            hits = [i for i, s in enumerate(segs) if s.vstart < edit.end and s.vend > edit.start]
            if hits and (edit.start < segs[hits[0]].vstart or edit.end > segs[hits[-1]].vend):
                return None  # reaches into text that is not in a literal (between cells)
        if not hits or segs[hits[0]].cell != segs[hits[-1]].cell:
            return None
        return hits[0], hits[-1]

    def _rewrite(self, first: int, last: int, edits: list[Edit]) -> Edit | None:
        segs = self.segments[first:last + 1]
        base = segs[0].vstart
        combined = "".join(s.text for s in segs)
        pieces, pos = [], 0
        for edit in edits:
            pieces += [combined[pos:edit.start - base], edit.content]
            pos = edit.end - base
        new = "".join(pieces) + combined[pos:]
        text = self.source.text
        encoders = [_encoder(text, s.literal) for s in segs]
        if any(e is None for e in encoders):
            return None
        encode = encoders[0]
        start, end = segs[0].literal.start, segs[-1].literal.end
        if not segs[0].in_list:
            return Edit(start, end, encode(new))
        lines = re.findall(r"[^\n]*\n|[^\n]+$", new)
        cell_segs = [s for s in self.segments if s.cell == segs[0].cell]
        at = cell_segs.index(segs[0])
        if len(cell_segs) > 1:
            a, b = cell_segs[0].literal, cell_segs[1].literal
            separator = text[a.end:b.start]
        else:
            line_start = text.rfind("\n", 0, start) + 1
            separator = ",\n" + text[line_start:start]
        if lines:
            return Edit(start, end, separator.join(encode(line) for line in lines))
        following = at + len(segs)
        if following < len(cell_segs):
            return Edit(start, cell_segs[following].literal.start, "")
        if at > 0:
            return Edit(cell_segs[at - 1].literal.end, end, "")
        return Edit(start, end, "")

    def map_diagnostic(self, diag: Diagnostic) -> Diagnostic:
        cell, line, column = self.cell_point(diag.start)
        _cell, end_line, end_column = self.cell_point(diag.end)
        start = self.to_file(diag.start, prefer_next=True)
        end = self.to_file(diag.end, prefer_next=False) if diag.end > diag.start else start
        return Diagnostic(diag.code, diag.name, diag.severity, diag.message, self.source.path, start, end,
                          self.map_fix(diag.fix), diag.url, diag.profile, line, column, end_line, end_column, cell)


def _literal_offsets(text: str, literal: JValue) -> list[int]:
    """For each character of the decoded string (and one past its end), its offset in the file."""
    offsets = []
    i = literal.start + 1
    end = literal.end - 1
    while i < end:
        offsets.append(i)
        if text[i] == "\\":
            if text[i + 1] == "u":
                code = int(text[i + 2:i + 6], 16)
                if 0xD800 <= code < 0xDC00 and text[i + 6:i + 8] == "\\u":
                    i += 12  # a surrogate pair is one character
                else:
                    i += 6
            else:
                i += 2
        else:
            i += 1
    offsets.append(end)
    return offsets


def _encoder(text: str, literal: JValue):
    """How this notebook writes strings (Jupyter: json.dumps with ensure_ascii=False), when that
    reproduces the literal exactly; None otherwise (then no fix touches it)."""
    raw = text[literal.start:literal.end]
    if not isinstance(literal.value, str):  # (segments are string literals: never the case)
        return None
    for ascii_only in (False, True):
        def encode(value: str, ascii_only=ascii_only) -> str:
            return json.dumps(value, ensure_ascii=ascii_only)
        if encode(literal.value) == raw:
            return encode
    return None


_MAGIC = re.compile(r"^([ \t]*)[%!]", re.MULTILINE)


def notebook_view(source: SourceFile) -> NotebookView:
    """Raises NotebookError when the file is not a notebook v6lint can read."""
    root = _parse_json(source.text)
    cells = root.value.get("cells") if isinstance(root.value, dict) else None
    if cells is None or not isinstance(cells.value, list):
        raise NotebookError("not a Jupyter notebook (no `cells` list)", root.start)
    parts: list[str] = []
    view = NotebookView(source, source)
    offset = 0
    for number, cell in enumerate(cells.value, start=1):
        if not isinstance(cell.value, dict):
            continue
        kind = cell.value.get("cell_type")
        src = cell.value.get("source")
        if kind is None or kind.value != "code" or src is None:
            continue
        literals = src.value if isinstance(src.value, list) else [src]
        if not all(isinstance(x.value, str) for x in literals) or not literals:
            continue
        cell_text = "".join(x.value for x in literals)
        if cell_text.lstrip().startswith("%%"):
            continue  # a cell magic (%%sql, %%bash...): not Python
        start = offset
        for literal in literals:
            view.segments.append(Segment(number, offset, offset + len(literal.value), literal,
                                         isinstance(src.value, list)))
            offset += len(literal.value)
        # magics and shell escapes become comments of the same length, so offsets still line up
        parts.append(_MAGIC.sub(lambda m: m.group(1) + "#", cell_text))
        view.cells.append((number, start, offset))
        if not cell_text.endswith("\n"):
            parts.append("\n")
            offset += 1
    view.python = SourceFile(source.path, "".join(parts), abspath=source.abspath, language="python")
    return view


def parse_notebook(source: SourceFile) -> ParsedYaml:
    """The Python documents of the notebook's code cells (their source is the virtual text)."""
    try:
        view = notebook_view(source)
    except NotebookError as exc:
        return ParsedYaml([], ParseProblem("V6L900", f"notebook could not be read: {exc}", exc.offset, exc.offset))
    from v6lint.python_source import parse_python

    return parse_python(view.python)
