"""`# v6lint: ignore[...]`, `# v6lint: file-ignore[...]` and the `v6lint.io/ignore` annotation: the
one grammar of suppressions, read here (for the engine) and written here (for `--add-ignore` and the
editor's "Ignore CODE on this line")."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from v6lint.diagnostics import Edit, Fix
from v6lint.document import MAP, SCALAR, Document
from v6lint.hcl_source import walk_blocks
from v6lint.source import SourceFile

_COMMENT = re.compile(r"(?:^|(?<=\s))#\s*v6lint:\s*(ignore|file-ignore)\[([^\]]*)\]")
ANNOTATION = "v6lint.io/ignore"


def codes_of(listed: str) -> list[str]:
    """The codes of a comment's brackets or of the annotation's value: comma-separated."""
    return [c.strip() for c in listed.split(",") if c.strip()]


def comment(codes: list[str], reason: str = "") -> str:
    """`# v6lint: ignore[A, B] reason`, as `parse_comments` reads it."""
    return f"# v6lint: ignore[{', '.join(codes)}]" + (f" {reason}" if reason else "")


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


def data_spans(source: SourceFile, documents=None) -> list[tuple[int, int]]:
    """Sorted (start, end) spans of the file that are data, not syntax: YAML/HCL scalars (keys and
    values, block scalars, heredocs) and Python string literals. A `#` inside one is not a comment."""
    if _language(source) == "python":
        return _python_strings(source)
    if documents is None:
        from v6lint.sources import parse_source

        documents = parse_source(source).documents
    spans = []
    seen: set[int] = set()
    stack = [d.root for d in documents if d.root is not None]
    while stack:  # iterative: the parsers bound depth, but aliases may share nodes
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.kind == SCALAR:
            if node.end > node.start:
                spans.append((node.start, node.end))
        elif node.kind == MAP:
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        else:
            stack.extend(node.value)
    for doc in documents:
        for block in walk_blocks(doc.blocks):
            stack = [block.body]
            while stack:
                node = stack.pop()
                if node.kind == SCALAR:
                    spans.append((node.start, node.end))
                elif node.kind == MAP:
                    stack.extend(n for kv in node.value for n in kv)
                else:
                    stack.extend(node.value)
    spans.sort()
    return spans


def _python_strings(source: SourceFile) -> list[tuple[int, int]]:
    import io
    import tokenize

    spans = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source.text).readline):
            if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                spans.append((source.offset(token.start[0] - 1, token.start[1]),
                              source.offset(token.end[0] - 1, token.end[1])))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # an unparsable file is reported as such; its comments are read textually
    return spans


class Spans:
    """Sorted spans, asked which one (if any) holds an offset strictly inside it (binary search)."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.starts = [start for start, _end in spans]
        self.reach: list[tuple[int, int]] = []  # (furthest end, its start) among spans up to each index
        furthest = (-1, -1)
        for start, end in spans:
            furthest = max(furthest, (end, -start))
            self.reach.append(furthest)

    def start_of(self, offset: int) -> int | None:
        """Start of the data span holding `offset`, or None."""
        at = bisect.bisect_left(self.starts, offset) - 1  # spans starting before offset
        if at >= 0 and self.reach[at][0] > offset:
            return -self.reach[at][1]
        return None

    def __contains__(self, offset: int) -> bool:
        return self.start_of(offset) is not None


def suppression_line(source: SourceFile, spans: Spans, offset: int) -> int:
    """The line whose suppression comments cover a finding at `offset`: its own line, or for a finding
    inside a value that spans lines (block scalar, multi-line string), the line where the value starts,
    since no comment can be written inside the value."""
    start = spans.start_of(offset)
    return source.position(offset if start is None else start)[0]


def parse_comments(source: SourceFile, documents=None) -> list[Suppression]:
    """Suppression comments, only where they are real comments (never inside a string or scalar)."""
    if "v6lint:" not in source.text:
        return []
    spans = None
    found = []
    for line_no in range(source.line_count):
        text = source.line_text(line_no)
        if "v6lint:" not in text:
            continue
        base = source.line_start(line_no)
        for match in _COMMENT.finditer(text):
            if spans is None:
                spans = Spans(data_spans(source, documents))
            if base + match.start() in spans:
                continue
            found.append(Suppression(match.group(1), codes_of(match.group(2)), line_no, base + match.start(), base + len(text),
                                     own_line=not text[:match.start()].strip()))
            break
    return found


def parse_annotations(source: SourceFile, documents: list[Document]) -> list[Suppression]:
    """The `v6lint.io/ignore` annotations, each covering its own Kubernetes object."""
    found = []
    for doc in documents:
        node = doc.annotations.get(ANNOTATION)
        if node is not None and node.text:
            found.append(Suppression("annotation", codes_of(node.text), source.position(node.start)[0], node.start,
                                     node.end, scope=(doc.start, doc.end)))
    return found


def _language(source: SourceFile) -> str:
    from v6lint.sources import language_of

    return source.language or language_of(source.abspath or source.path)


# --- writing ------------------------------------------------------------------------------------
def comment_edit(source: SourceFile, line: int, codes: list[str], reason: str = "",
                 sups: list[Suppression] | None = None) -> Edit | None:
    """`# v6lint: ignore[CODES] reason` at the end of `line`, or the codes added to the ignore comment
    already ending it (`sups`: the file's parsed comments, when the caller has them). None when
    every code is listed there already."""
    for sup in parse_comments(source) if sups is None else sups:
        if sup.line == line and sup.kind == "ignore" and not sup.own_line:
            new = [c for c in codes if c not in sup.codes]
            if not new:
                return None
            close = source.text.index("]", sup.start)
            return Edit(close, close, (", " if sup.codes else "") + ", ".join(new))
    end = source.line_end(line)
    return Edit(end, end, "  " + comment(codes, reason))


def comment_above_edit(source: SourceFile, line: int, codes: list[str], reason: str = "",
                       indent: bool = True) -> Edit:
    """The comment on a line of its own above `line` (it covers the line below it), indented like
    `line` unless not `indent`."""
    at = source.line_start(line)
    text = source.line_text(line)
    lead = text[:len(text) - len(text.lstrip(" \t"))] if indent else ""
    return Edit(at, at, lead + comment(codes, reason) + source.newline)


def ignore_edit(source: SourceFile, code: str, offset: int) -> Edit | None:
    """A comment that suppresses `code` for a finding at `offset`: at the end of the finding's line
    (or the code added to the ignore comment there), or, when that line ends inside a value spanning
    lines (block scalar, multi-line string), on its own line above the line where the value starts;
    never inside a value. Spark properties take comments only at the start of a line (above it);
    JSON (.tfvars.json, a notebook's file) takes none: None."""
    language = _language(source)
    if language in ("tfvars-json", "notebook"):
        return None
    if language == "spark-conf":
        return comment_above_edit(source, source.position(offset)[0], [code], indent=False)
    from v6lint.sources import parse_source

    documents = parse_source(source).documents
    spans = Spans(data_spans(source, documents))
    line = suppression_line(source, spans, offset)
    if source.line_end(line) in spans:  # the value goes on past this line: comment above it
        return comment_above_edit(source, line, [code])
    return comment_edit(source, line, [code], sups=parse_comments(source, documents))


def annotation_edit(source: SourceFile, doc: Document, codes: list[str]) -> Edit | None:
    """The codes added to the object's `v6lint.io/ignore` annotation (which is added when missing);
    None when they are all there, or the annotation is not a one-line string this can extend."""
    from v6lint.yaml_edit import insert_entries

    node = doc.annotations.get(ANNOTATION)
    if node is not None:
        present = codes_of(node.text or "")
        new = [c for c in codes if c not in present]
        if not new:
            return None
        if node.style not in (None, '"', "'") or source.position(node.start)[0] != source.position(node.end)[0]:
            return None
        at = node.end - (1 if node.style in ('"', "'") else 0)
        return Edit(at, at, ("," if present else "") + ",".join(new))
    metadata = doc.root.get("metadata") if doc.root is not None else None
    if metadata is None or metadata.kind != MAP:
        return None
    value = ",".join(codes)
    annotations = metadata.get("annotations")
    if annotations is None:
        return insert_entries(source, metadata, [("annotations", {ANNOTATION: value})], doc.root)
    if annotations.kind != MAP:
        return None
    return insert_entries(source, annotations, [(ANNOTATION, value)], doc.root)


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


def comment_suppresses(source: SourceFile, code: str, offset: int) -> bool:
    """Whether a `# v6lint: ignore[...]` comment (or file-ignore) in `source` covers a finding of `code`
    at `offset`: for findings placed in a file after being found on a build or render (Kustomize,
    Helm), whose comments the built objects no longer carry."""
    from v6lint.rules import lookup

    sups = [s for s in parse_comments(source) if s.kind != "annotation"]
    if not sups:
        return False
    line = suppression_line(source, Spans(data_spans(source)), offset)
    return any(sup.covers(line, None) and any((rule := lookup(c)) is not None and rule.code == code
                                              for c in sup.codes) for sup in sups)
