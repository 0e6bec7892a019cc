"""Terraform files (`.tf`, `.tfvars`) -> Documents, on tree-sitter's HCL grammar.

tree-sitter keeps exact byte ranges and recovers from errors, which a half-typed file in an
editor needs. Attributes become mapping entries of the document's root Node; literal values
become scalars tagged like YAML's (str, int, float, bool, null), tuples and objects become
flow sequences and mappings, and anything computed (`var.x`, `"${a}-b"`, function calls) becomes
a scalar tagged `hcl:expr` holding its source text. Blocks keep their type, labels and body.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import tree_sitter_hcl
from tree_sitter import Language, Parser

from v6lint.document import MAP, SCALAR, SEQ, Document, Node
from v6lint.source import SourceFile
from v6lint.yaml_source import ParsedYaml, ParseProblem

_LANGUAGE = Language(tree_sitter_hcl.language())
EXPR = "hcl:expr"
_TAGS = {"numeric_lit": "tag:yaml.org,2002:float", "bool_lit": "tag:yaml.org,2002:bool",
         "null_lit": "tag:yaml.org,2002:null"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_WRAPPERS = frozenset(("expression", "literal_value", "collection_value"))  # nodes around a single value
_ESCAPE = re.compile(r'\\([ntr"\\])')
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NOT_LINE_BREAK = re.compile(r"[^\r\n]+")


# Values and blocks nest at most this deep; deeper files become one notice. The tree is built (and
# later walked by rules) recursively, and 500 nested `[` or `jsonencode(` would exhaust the stack.
MAX_DEPTH = 100


class _TooDeep(Exception):
    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


@dataclass
class HclBlock:
    type: str
    labels: list[str]
    body: Node  # a mapping of the block's attributes
    blocks: list["HclBlock"] = field(default_factory=list)
    start: int = 0
    end: int = 0
    type_start: int = 0


def _unescape(raw: str) -> str:
    """A string literal's text with its escapes `\\n \\t \\r \\" \\\\` replaced (others kept as written)."""
    if "\\" not in raw:
        return raw
    return _ESCAPE.sub(lambda match: _ESCAPES[match.group(1)], raw)


class _Builder:
    def __init__(self, source: SourceFile, data: bytes):
        self.source = source
        self.data = data
        self.heredocs: list[tuple[int, int]] = []  # content spans, for embedded Kubernetes YAML
        # tree-sitter speaks bytes; v6lint's offsets are characters. Outside ASCII: where each
        # multi-byte character starts and ends in bytes, its offset, and the extra bytes up to its end.
        self.ascii = len(data) == len(source.text)
        self.wide_at: list[int] = []
        self.wide_end: list[int] = []
        self.wide_index: list[int] = []
        self.wide_extra: list[int] = []
        extra = 0
        for match in _NON_ASCII.finditer(source.text) if not self.ascii else ():
            index = match.start()
            width = len(match.group().encode("utf-8"))
            self.wide_at.append(index + extra)
            self.wide_end.append(index + extra + width)
            self.wide_index.append(index)
            extra += width - 1
            self.wide_extra.append(extra)

    def off(self, byte: int) -> int:
        """The character offset of a byte offset (of a byte inside a character: that character's)."""
        if self.ascii:
            return byte
        at = bisect.bisect_right(self.wide_at, byte) - 1
        if at < 0:
            return byte
        if byte < self.wide_end[at]:
            return self.wide_index[at]
        return byte - self.wide_extra[at]

    def span(self, ts) -> tuple[int, int]:
        """The node's (start, end) in characters."""
        if self.ascii:
            return ts.start_byte, ts.end_byte
        return self.off(ts.start_byte), self.off(ts.end_byte)

    def raw(self, ts) -> str:
        if self.ascii:
            return self.source.text[ts.start_byte:ts.end_byte]
        start, end = self.span(ts)
        return self.source.text[start:end]

    def scalar(self, ts, value: str, tag: str, style: str | None = None) -> Node:
        if self.ascii:
            return Node(SCALAR, value, tag, style, False, ts.start_byte, ts.end_byte)
        start, end = self.span(ts)
        return Node(SCALAR, value, tag, style, False, start, end)

    def value(self, ts, depth: int = 0) -> Node:
        """An `expression` (or its single child) -> Node."""
        if depth > MAX_DEPTH:
            raise _TooDeep(self.off(ts.start_byte))
        inner = ts
        kind = inner.type
        while kind in _WRAPPERS and inner.child_count == 1 and inner.named_child_count == 1:
            inner = inner.child(0)
            kind = inner.type
        if kind == "string_lit":
            literal = [c for c in inner.children if c.type == "template_literal"]
            text = _unescape(self.raw(literal[0])) if literal else ""
            return self.scalar(inner, text, "tag:yaml.org,2002:str", '"')
        if kind in _TAGS:
            text = self.raw(inner)
            tag = _TAGS[kind]
            if kind == "numeric_lit" and text.isdigit():
                tag = "tag:yaml.org,2002:int"
            return self.scalar(inner, text, tag)
        if kind == "tuple":
            items = [self.value(c, depth + 1) for c in inner.named_children if c.type == "expression"]
            return Node(SEQ, items, "tag:yaml.org,2002:seq", None, True, self.off(inner.start_byte),
                        self.off(inner.end_byte))
        if kind == "object":
            entries = []
            for elem in inner.named_children:
                if elem.type != "object_elem":
                    continue
                key_ts, val_ts = elem.child_by_field_name("key"), elem.child_by_field_name("val")
                if key_ts is None or val_ts is None:
                    continue
                key = self.value(key_ts, depth + 1)
                if key.tag == EXPR:  # a bare identifier key `j = 2`
                    key = self.scalar(key_ts, self.raw(key_ts), "tag:yaml.org,2002:str")
                entries.append((key, self.value(val_ts, depth + 1)))
            return Node(MAP, entries, "tag:yaml.org,2002:map", None, True, self.off(inner.start_byte),
                        self.off(inner.end_byte))
        if kind == "template_expr" and inner.named_children and inner.named_children[0].type == "heredoc_template":
            heredoc = inner.named_children[0]
            idents = [c for c in heredoc.named_children if c.type == "heredoc_identifier"]
            if len(idents) == 2:
                text = self.source.text
                start = text.find("\n", self.off(idents[0].end_byte)) + 1
                end = text.rfind("\n", 0, self.off(idents[1].start_byte)) + 1
                if 0 < start <= end:
                    self.heredocs.append((start, end))
        if kind == "function_call":
            # jsonencode({...}) is data written in HCL: read the object (EKS add-on configuration_values).
            name = inner.named_children[0] if inner.named_children else None
            args = next((c for c in inner.named_children if c.type == "function_arguments"), None)
            exprs = [c for c in args.named_children if c.type == "expression"] if args is not None else []
            if name is not None and self.raw(name) == "jsonencode" and len(exprs) == 1:
                return self.value(exprs[0], depth + 1)
        return self.scalar(ts, self.raw(ts), EXPR)

    def body(self, ts, start: int, end: int, depth: int = 0) -> tuple[Node, list[HclBlock]]:
        entries: list[tuple[Node, Node]] = []
        blocks: list[HclBlock] = []
        for child in ts.named_children if ts is not None else []:
            kind = child.type
            if kind == "attribute":
                kids = child.named_children
                ident = kids[0]
                value = next((c for c in kids[1:] if c.type == "expression"), None)
                if value is None:
                    continue
                key = self.scalar(ident, self.raw(ident), "tag:yaml.org,2002:str")
                entries.append((key, self.value(value, depth + 1)))
            elif kind == "block":
                blocks.append(self.block(child, depth + 1))
        node = Node(MAP, entries, "tag:yaml.org,2002:map", None, False, start, end)
        if entries:  # like YAML block maps: from the first key to the last value
            node.start, node.end = entries[0][0].start, entries[-1][1].end
        return node, blocks

    def block(self, ts, depth: int = 0) -> HclBlock:
        if depth > MAX_DEPTH:
            raise _TooDeep(self.off(ts.start_byte))
        kids = ts.named_children
        labels = []
        for kid in kids[1:]:
            if kid.type == "string_lit":
                labels.append(self.value(kid).value)
            elif kid.type == "identifier":
                labels.append(self.raw(kid))
        inner = next((k for k in kids if k.type == "body"), None)
        start_brace = next((k for k in kids if k.type == "block_start"), None)
        end_brace = next((k for k in kids if k.type == "block_end"), None)
        body_start = self.off(start_brace.end_byte) if start_brace else self.off(ts.end_byte)
        body_end = self.off(end_brace.start_byte) if end_brace else self.off(ts.end_byte)
        body, blocks = self.body(inner, body_start, body_end, depth)
        return HclBlock(self.raw(kids[0]), labels, body, blocks, self.off(ts.start_byte), self.off(ts.end_byte),
                        self.off(kids[0].start_byte))


def _first_error(ts):
    stack = [ts]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node
        if node.has_error:
            stack.extend(reversed(node.children))
    return None


def parse_hcl(source: SourceFile) -> ParsedYaml:
    data = source.text.encode("utf-8")
    tree = Parser(_LANGUAGE).parse(data)
    builder = _Builder(source, data)
    body_ts = next((c for c in tree.root_node.named_children if c.type == "body"), None)
    try:
        root, blocks = builder.body(body_ts, 0, len(source.text))
    except _TooDeep as deep:
        return ParsedYaml([], ParseProblem("V6L900", f"HCL nested more than {MAX_DEPTH} levels deep; not analysed",
                                           deep.offset, deep.offset))
    doc = Document(source, root, 0, 0, len(source.text), language="hcl", blocks=blocks)
    documents = [doc, *_embedded_manifests(source, builder.heredocs)]
    problem = None
    if tree.root_node.has_error:
        error = _first_error(tree.root_node)
        at = builder.off(error.start_byte) if error is not None else 0
        what = f"missing {error.type}" if error is not None and error.is_missing else "unexpected text"
        problem = ParseProblem("V6L900", f"HCL syntax error: {what}", at, at)
    # What parsed around an error is still linted (an editor sees half-typed files).
    return ParsedYaml(documents, problem)


def _blanked(text: str) -> str:
    """`text` with every character but line breaks made a space."""
    return _NOT_LINE_BREAK.sub(lambda run: " " * (run.end() - run.start()), text)


def _embedded_manifests(source: SourceFile, spans: list[tuple[int, int]]) -> list[Document]:
    """Kubernetes YAML in heredocs (`kubectl_manifest` `yaml_body = <<-YAML`): parsed from a copy of the
    file blanked outside the heredoc, so every offset is the file's own and fixes edit the .tf file."""
    from v6lint.yaml_source import parse_yaml

    out = []
    text = source.text
    for start, end in spans:
        body = text[start:end]
        if "apiVersion:" not in body or "kind:" not in body:
            continue
        blanked = _blanked(text[:start]) + body + _blanked(text[end:])
        view = SourceFile(source.path, blanked, source.encoding, source.bom, source.abspath)
        parsed = parse_yaml(view)
        if parsed.problem is None:
            for document in parsed.documents:
                document.source = source
                out.append(document)
    return out


def walk_blocks(blocks: list[HclBlock]):
    """Every block, nested ones after their parent (iteratively: no recursion on the file's depth)."""
    stack = list(reversed(blocks))
    while stack:
        block = stack.pop()
        yield block
        stack.extend(reversed(block.blocks))
