"""Text edits on YAML that keep everything else byte for byte.

Every helper returns `Edit`s against the original text. Inserted fragments copy the style
of their neighbours: indentation, block or flow collections, quoting and line endings.
"""
from __future__ import annotations

import json
import re
from typing import Callable

from v6lint.diagnostics import Edit
from v6lint.document import MAP, SEQ, Node, walk
from v6lint.source import SourceFile

# Plain scalars that YAML would read as something other than the same string.
_NEEDS_QUOTES = re.compile(
    r"""^(?:$|[-?:](?:\s|$)|[\s,\[\]{}#&*!|>'"%@`]|.*(?::\s|\s\#|:$|\s$))"""
    r"""|^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$""",
    re.IGNORECASE,
)


class Styled(str):
    """A string value to render with a given quote style (`Styled("-Dx", '"')`)."""

    style: str | None

    def __new__(cls, text: str, style: str | None):
        obj = super().__new__(cls, text)
        obj.style = style
        return obj


class Literal(str):
    """A value written as is: a YAML boolean or number (`Literal("true")`), never quoted."""


def quote(value: str, style: str | None) -> str:
    """Render a string scalar; `style` is the quoting to copy (None for plain where possible)."""
    if isinstance(value, Literal):
        return str(value)
    style = getattr(value, "style", None) or style
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or _NEEDS_QUOTES.match(value):
        return json.dumps(value, ensure_ascii=False)
    return value


def replace_scalar(node: Node, value: str) -> Edit:
    """Replace a scalar's value, keeping its quote style."""
    return Edit(node.start, node.end, quote(value, node.style))


def _col(source: SourceFile, offset: int) -> int:
    return source.position(offset)[1]


def _line(source: SourceFile, offset: int) -> int:
    return source.position(offset)[0]


def _own_line(source: SourceFile, start: int, end: int, *, dash: bool = False) -> bool:
    """True when [start, end) is alone on its lines (a `- ` may precede it when dash)."""
    line = _line(source, start)
    before = source.text[source.line_start(line):start].strip()
    if before and not (dash and before == "-"):
        return False
    end_line = _line(source, end)
    after = source.text[end:source.line_end(end_line)].strip()
    return not after or after.startswith("#")


def _whole_lines(source: SourceFile, start: int, end: int) -> Edit:
    first = _line(source, start)
    last = _line(source, max(start, end - 1) if end > start else end)
    return Edit(source.line_start(first), source.line_end(last, with_newline=True), "")


def _remove_from_collection(source: SourceFile, coll: Node, spans: list[tuple[int, int]], index: int) -> Edit:
    """Remove element `index` (spans are each element's [start, end)) from a map or seq."""
    start, end = spans[index]
    if not coll.flow and _own_line(source, start, end, dash=coll.kind == SEQ):
        return _whole_lines(source, start, end)
    if index + 1 < len(spans):  # up to the next element: takes the separator with it
        return Edit(start, spans[index + 1][0], "")
    if index > 0:  # last element: from the end of the previous one
        return Edit(spans[index - 1][1], end, "")
    return Edit(start, end, "{}" if coll.kind == MAP and not coll.flow else "")


def delete_entry(source: SourceFile, mapping: Node, key: str) -> Edit | None:
    entries = mapping.entries()
    spans = [(k.start, v.end) for k, v in entries]
    for i, (k, _v) in enumerate(entries):
        if k.value == key:
            return _remove_from_collection(source, mapping, spans, i)
    return None


def delete_entries(source: SourceFile, mapping: Node, keys: tuple[str, ...] | list[str]) -> list[Edit]:
    """Remove every entry whose key is in `keys`, in one set of non-overlapping edits."""
    entries = mapping.entries()
    spans = [(k.start, v.end) for k, v in entries]
    drop = [i for i, (k, _v) in enumerate(entries) if k.value in keys]
    if len(drop) <= 1:
        return [edit for i in drop if (edit := delete_entry(source, mapping, entries[i][0].value)) is not None]
    if len(drop) == len(entries):
        return [Edit(spans[0][0], spans[-1][1], "" if mapping.flow else "{}")]
    edits = []
    for i in drop:
        if not mapping.flow and _own_line(source, *spans[i]):
            edits.append(_whole_lines(source, *spans[i]))
        elif any(j not in drop for j in range(i + 1, len(spans))):
            edits.append(Edit(spans[i][0], spans[i + 1][0], ""))  # up to the next element, separator included
        else:  # a trailing run: from the end of the element before
            edits.append(Edit(spans[i - 1][1], spans[i][1], ""))
    return edits


def delete_item(source: SourceFile, seq: Node, index: int) -> Edit:
    spans = [(n.start, n.end) for n in seq.items()]
    return _remove_from_collection(source, seq, spans, index)


def sequence_style(root: Node | None, source: SourceFile) -> tuple[bool, int]:
    """(flow, dash offset) of the first sequence in the document, to copy for new ones.

    The dash offset is the dash's column minus its parent key's column (0 or 2 in practice).
    Without any sequence to copy, block style indented by two.
    """
    for node in walk(root):
        if node.kind != MAP:
            continue
        for k, v in node.entries():
            if v.kind == SEQ and v.value:
                if v.flow:
                    return True, 2
                dash = source.text.rfind("-", 0, v.value[0].start)
                return False, max(0, _col(source, dash) - _col(source, k.start))
    return False, 2


def mapping_step(root: Node | None, source: SourceFile) -> int:
    """How far the file indents a nested block mapping under its key (2 when nothing tells)."""
    for node in walk(root):
        if node.kind != MAP or node.flow:
            continue
        for k, v in node.entries():
            if v.kind == MAP and not v.flow and v.value:
                step = _col(source, v.value[0][0].start) - _col(source, k.start)
                if step > 0:
                    return step
    return 2


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{quote(k, None)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return quote(value, None)


def render_value(value, *, flow: bool, indent: int, dash_offset: int, nl: str, step: int = 2) -> str:
    """The text after `key:` for a str, a list, a dict, or a list of dicts (block or flow style)."""
    if isinstance(value, str):
        return " " + quote(value, None)
    if flow or not value:
        return " " + _flow(value)
    if isinstance(value, dict):
        pad = " " * (indent + step)
        return "".join(f"{nl}{pad}{quote(k, None)}:{render_value(v, flow=flow, indent=indent + step, dash_offset=dash_offset, nl=nl, step=step)}"
                       for k, v in value.items())
    pad = " " * (indent + dash_offset)
    out = []
    for item in value:
        if isinstance(item, dict):
            lines = [f"{quote(k, None)}: {_flow(v)}" for k, v in item.items()]
            out.append(f"{nl}{pad}- " + f"{nl}{pad}  ".join(lines))
        else:
            out.append(f"{nl}{pad}- {quote(item, None)}")
    return "".join(out)


def _entry_text(key: str, value, *, flow: bool, indent: int, root: Node | None, source: SourceFile) -> str:
    seq_flow, dash = sequence_style(root, source)
    return key + ":" + render_value(value, flow=flow or (seq_flow and isinstance(value, list)), indent=indent,
                                    dash_offset=dash, nl=source.newline, step=mapping_step(root, source))


def insert_entries(source: SourceFile, mapping: Node, pairs: list[tuple[str, object]],
                   root: Node | None = None, at: int | None = None) -> Edit:
    """Add `key: value` entries to a mapping, after its last entry (or at entry index `at`)."""
    nl = source.newline
    entries = mapping.entries()
    if mapping.flow or not entries:
        if not entries:
            # `{}` (block maps are never empty): fill the braces.
            body = ", ".join(_entry_text(k, v, flow=True, indent=0, root=root, source=source) for k, v in pairs)
            return Edit(mapping.start + 1, mapping.end - 1, body)
        last_key, last_value = entries[-1]
        multiline = _line(source, mapping.start) != _line(source, last_key.start)
        if multiline:
            indent = " " * _col(source, last_key.start)
            after = source.text[last_value.end:source.line_end(_line(source, last_value.end))]
            trailing_comma = after.lstrip().startswith(",")
            pos = last_value.end + after.index(",") + 1 if trailing_comma else last_value.end
            lines = [_entry_text(k, v, flow=True, indent=0, root=root, source=source) for k, v in pairs]
            if trailing_comma:
                return Edit(pos, pos, "".join(f"{nl}{indent}{line}," for line in lines))
            return Edit(pos, pos, "".join(f",{nl}{indent}{line}" for line in lines))
        body = "".join(", " + _entry_text(k, v, flow=True, indent=0, root=root, source=source) for k, v in pairs)
        return Edit(last_value.end, last_value.end, body)
    col = _col(source, entries[0][0].start)
    text = "".join(
        " " * col + _entry_text(k, v, flow=False, indent=col, root=root, source=source) + nl for k, v in pairs
    )
    if at is not None and at < len(entries):
        anchor = entries[at][0].start
        pos = source.line_start(_line(source, anchor))
        if not source.text[pos:anchor].strip():  # the key starts its line: insert above it
            return Edit(pos, pos, text)
    last_line = _line(source, entries[-1][1].end)
    pos = source.line_end(last_line, with_newline=True)
    if pos == len(source.text) and not source.text.endswith("\n"):
        text = nl + text[:-len(nl)]
    return Edit(pos, pos, text)


def entry_index(mapping: Node, key: str) -> int | None:
    for i, (k, _v) in enumerate(mapping.entries()):
        if k.value == key:
            return i
    return None


def append_item(source: SourceFile, seq: Node, item: dict) -> Edit | None:
    """Append a mapping to a sequence, in its style: `, {k: v}` in flow, or `- k: v` lines under
    the last item in block style (same dash column)."""
    items = seq.items()
    if seq.flow:
        text = _flow(item)
        return Edit(items[-1].end, items[-1].end, f", {text}") if items else Edit(seq.start + 1, seq.end - 1, text)
    if not items:
        return None
    last = items[-1]
    line, col = source.position(last.start)
    prefix = source.line_text(line)[:col]
    if prefix.strip() != "-":
        return None
    nl = source.newline
    lines = [f"{quote(k, None)}: {_flow(v)}" for k, v in item.items()]
    text = prefix + (nl + " " * len(prefix)).join(lines) + nl
    pos = source.line_end(source.position(last.end)[0], with_newline=True)
    if pos == len(source.text) and not source.text.endswith("\n"):
        text = nl + text[:-len(nl)]
    return Edit(pos, pos, text)


# --- commented-out settings ---------------------------------------------------------------------
def _region_lines(source: SourceFile, mapping: Node) -> range:
    """Lines that belong to a block mapping, trailing comments included: up to the next line that
    is indented less than the mapping's keys."""
    first_line, col = source.position(mapping.start)
    line = first_line
    while line + 1 < source.line_count:
        text = source.line_text(line + 1)
        stripped = text.strip()
        if stripped and len(text) - len(text.lstrip()) < col:
            break
        line += 1
    return range(first_line, line + 1)


def uncomment_edits(source: SourceFile, mapping: Node, wanted: Callable[[str], bool],
                    lines: range | None = None) -> list[Edit]:
    """Edits that uncomment `# ...` lines at the mapping's indentation for which `wanted(text)`."""
    col = source.position(mapping.start)[1]
    edits = []
    for line in lines if lines is not None else _region_lines(source, mapping):
        text = source.line_text(line)
        indent = len(text) - len(text.lstrip())
        body = text.lstrip()
        if indent != col or not body.startswith("#"):
            continue
        uncommented = body[1:].lstrip() if body[1:2] == " " else body[1:]
        if wanted(uncommented):
            start = source.line_start(line) + indent
            edits.append(Edit(start, start + len(body) - len(uncommented), ""))
    return edits


def commented_block(source: SourceFile, mapping: Node, key: str) -> tuple[list[Edit], str] | None:
    """A commented-out `# key:` entry of `mapping` with its commented children: (edits, text)."""
    col = source.position(mapping.start)[1]
    lines = list(_region_lines(source, mapping))
    for i, line in enumerate(lines):
        text = source.line_text(line)
        body = text.lstrip()
        if len(text) - len(body) != col or not re.match(rf"#\s?{re.escape(key)}:\s*$", body):
            continue
        block = [line]
        for nxt in lines[i + 1:]:
            t = source.line_text(nxt)
            b = t.lstrip()
            if len(t) - len(b) != col or not b.startswith("#") or len(b) < 2 or b[1:2] != " " \
                    or not b[2:3].isspace():
                break
            block.append(nxt)
        if len(block) < 2:
            return None
        edits, texts = [], []
        for ln in block:
            start = source.line_start(ln) + col
            edits.append(Edit(start, start + 2, ""))  # drop "# "
            texts.append(source.line_text(ln)[col + 2:])
        return edits, "\n".join(texts)
    return None
