"""Re-parse only the edited documents of a multi-document YAML file (the language server's keystroke
path). A 10,000-line manifest is a few hundred documents; a keystroke changes one of them.

The file is cut before every line starting with `---` (a document start marker at column 0; YAML
allows no such line inside a block scalar or flow collection), each piece is parsed on its own by the
engine's YAML parser, and a piece whose text is unchanged since the last edit reuses its nodes with
their offsets moved to where the piece now starts. Whatever the whole-file parse would judge from the
whole text is left to it: a file with directives (`%`), document end markers (`...`), template
markers, deep nesting, or any piece that does not parse cleanly is parsed whole, as on the command
line. The result equals the whole-file parse (tests/test_lsp_reparse.py compares them on the corpus).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from v6lint.discovery import untemplated
from v6lint.document import Node, walk
from v6lint.source import SourceFile
from v6lint.sources import language_of
from v6lint.yaml_source import MAX_DEPTH, ParsedYaml, _documents_of, _parse_yaml, find_template_marker, nesting_bound

_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)
_WHOLE_ONLY = re.compile(r"^(?:%|\.\.\.(?:[ \t\r\n]|$))", re.MULTILINE)
_CONTENT = re.compile(r"^[ \t]*[^ \t\r\n#]", re.MULTILINE)
_LIST = re.compile(r"\bList\b")  # `kind: List` documents are expanded into their items: parsed whole


@dataclass
class _Piece:
    offset: int  # where the piece's nodes now start in the file
    roots: list[Node]  # its document's root (none for an empty document)
    nodes: list[Node]  # every node, to move them all when the piece moves


class Reparser:
    """One open document's pieces, kept between edits (owned by one thread at a time)."""

    def __init__(self) -> None:
        self.pieces: dict[str, _Piece] = {}
        self.reused = 0  # pieces reused by the last parse (for the tests and traces)

    def parse(self, source: SourceFile) -> ParsedYaml | None:
        """The file's parse, reusing unchanged pieces; None when it must be parsed whole."""
        name = source.abspath or source.path
        text = source.text
        if source.language not in (None, "yaml") or language_of(name) != "yaml" or untemplated(name) != name:
            return None
        if _WHOLE_ONLY.search(text) or _LIST.search(text) or nesting_bound(text) > MAX_DEPTH or find_template_marker(source) != -1:
            return None
        cuts = [m.start() for m in _DOCUMENT_START.finditer(text)]
        if not cuts or cuts[0] != 0:
            cuts.insert(0, 0)
        cuts.append(len(text))
        kept: dict[str, _Piece] = {}
        documents = []
        index = 0
        self.reused = 0
        for number, (start, end) in enumerate(zip(cuts, cuts[1:])):
            chunk = text[start:end]
            if number == 0 and not chunk.startswith("---") and not _CONTENT.search(chunk):
                continue  # blank lines and comments before the first `---`: no document
            piece = self.pieces.pop(chunk, None) if chunk not in kept else None
            if piece is None:
                parsed = _parse_yaml(SourceFile(source.path, chunk, abspath=source.abspath))
                roots = [d.root for d in parsed.documents if d.root is not None]
                if parsed.problem is not None or len(roots) > 1 or (number == 0 and not roots):
                    return None  # the whole-file parse says what is wrong, and where
                nodes = [node for root in roots for node in walk(root)]
                piece = _Piece(0, roots, nodes)
            else:
                self.reused += 1
            delta = start - piece.offset
            if delta:
                for node in piece.nodes:
                    node.start += delta
                    node.end += delta
                piece.offset = start
            kept[chunk] = piece
            for root in piece.roots:
                documents.extend(_documents_of(source, root, index))
            index += 1
        self.pieces = kept
        return ParsedYaml(documents)
