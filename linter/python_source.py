"""PySpark code -> a Document whose payload lists the literal Spark settings in it (stdlib `ast`).

Found: `SparkSession.builder....config(k, v)` (also `config(key=, value=)` and `config(map={...})`),
`SparkConf().set(k, v)` / `.setAll([(k, v), ...])`, `spark.conf.set(k, v)`, `.master(...)`, and
`--conf k=v` in spark-submit argument lists or strings. Also IPv4-only name resolution
(`socket.gethostbyname`, `hostname -i/-I`). Files that mention none of these are not parsed at all.
Where `ast` has no position (a string's quotes and prefix, the parts of an implicit concatenation,
the dot of `.config`), the text says it.
"""
from __future__ import annotations

import ast
import bisect
import re
import tokenize
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from v6lint.document import Document
from v6lint.source import SourceFile
from v6lint.yaml_source import ParsedYaml, ParseProblem

TRIGGERS = ("pyspark", "SparkSession", "SparkConf", "spark-submit", "--conf", "gethostbyname", "hostname -")
_SUBMIT_CONF = re.compile(r"--conf[=\s]+['\"]?([A-Za-z0-9_.\-*]+)=([^\s'\"]*)")
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12+: f-strings are tokens of their own
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


@dataclass
class PySetting:
    key: str
    value: str | None
    value_start: int  # the value's text (inside the quotes) in the file
    value_end: int
    call_start: int  # the whole call / argument, for messages and insertion
    call_end: int
    via: str  # "builder", "conf", "submit"


@dataclass
class PythonFacts:
    settings: list[PySetting] = field(default_factory=list)
    masters: list[tuple[str, int, int]] = field(default_factory=list)
    # where a `.config(k, v)` can be added to a builder chain: (offset, indentation before it or "")
    builder_inserts: list[tuple[int, str]] = field(default_factory=list)
    resolution_calls: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def on_kubernetes(self) -> bool:
        return any(m.startswith("k8s://") for m, _s, _e in self.masters)


_CALLS = frozenset(("gethostbyname", "config", "set", "setAll", "master"))
# one string literal (prefix, quotes, body) and what may stand between the parts of a concatenation
_LITERAL = re.compile(r"[A-Za-z]{0,2}(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\""  # triple-quoted
                      r"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""", re.DOTALL)
_GAP = re.compile(r"(?:[ \t\f\r\n]|\\\r?\n|\\\r|#[^\r\n]*)*")
_BEFORE_DOT = re.compile(r"(?:[ \t\f\r\n)]|\\\r?\n|\\\r|#[^\r\n]*)*")
_LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass
class _Literal:
    """One string literal token: [start, end) in the text (true character offsets), its value."""
    start: int
    end: int
    opening: int  # prefix + opening quote
    closing: int  # closing quote
    value: str | bytes | None = None


class _Extractor:
    """Spark facts from a stdlib `ast` tree. Positions: `ast` gives lines and UTF-8 byte columns; the
    facts hold character offsets into the text. `ast` counts a lone CR as a line break where
    SourceFile counts only LF, so lines are counted as the parser counts them (`starts`)."""

    def __init__(self, source: SourceFile):
        self.source = source
        text = self.text = source.text
        self.ascii = text.isascii()
        lone_cr = "\r" in text and text.count("\r") != text.count("\r\n")
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))] if lone_cr else None
        self.lines: dict[int, bytes] = {}
        self.literals: dict[int, list[_Literal]] = {}
        self.in_fstring: set[int] = set()  # the literal text of f-strings (not string literals of their own)
        self.specs: set[int] = set()  # f-string format specs (part of the f-string around them)
        self.slices: set[int] = set()  # tuples written as a subscript's bare `a, b` (not a tuple literal)
        self.events: list[tuple[int, int, int, str, object]] = []
        self.inserts: list[tuple[int, str]] = []

    # --- positions ------------------------------------------------------------------------------
    def _line(self, line: int) -> tuple[int, int]:
        """Where a line as the parser counts them starts and ends (with its line break)."""
        if self.starts is not None:
            starts = self.starts
            return starts[line], starts[line + 1] if line + 1 < len(starts) else len(self.text)
        source = self.source
        return source.line_start(line), source.line_start(line + 1) if line + 1 < source.line_count else len(self.text)

    def true(self, lineno: int, col: int) -> int:
        """Character offset in the text of an `ast` position (1-based line, UTF-8 byte column)."""
        start, end = self._line(lineno - 1)
        if self.ascii or col == 0:
            return start + col
        data = self.lines.get(lineno)
        if data is None:
            data = self.lines[lineno] = self.text[start:end].encode("utf-8")
        return start + len(data[:col].decode("utf-8"))

    def bounds(self, node) -> tuple[int, int]:
        return self.true(node.lineno, node.col_offset), self.true(node.end_lineno, node.end_col_offset)

    def spelled(self, name: str, node) -> bool:
        """Whether the identifier `name` that ends `node` is written so in the text: `ast` normalises
        identifiers (NFKC), so `ｃｏｎｆｉｇ` is `config` to it, not to libcst, people or Spark."""
        return self.text.startswith(name, self.bounds(node)[1] - len(name))

    # --- string literals ------------------------------------------------------------------------
    def parts(self, node: ast.Constant) -> list[_Literal]:
        """The literal tokens of a string constant (several when implicitly concatenated)."""
        found = self.literals.get(id(node))
        if found is None:
            found = self.literals[id(node)] = self._scan(*self.bounds(node))
            if len(found) == 1 and isinstance(node.value, (str, bytes)):
                found[0].value = node.value
        return found

    def _scan(self, start: int, end: int) -> list[_Literal]:
        """The string literals in text[start:end], which the parser read as string literals only."""
        text, out = self.text, []
        i = start
        while i < end:
            token = _LITERAL.match(text, i, end)
            if token is None:  # (cannot happen)
                return []
            raw = token.group()
            body = raw.lstrip("rRbBuU")
            quote = 3 if body[:3] in ('"""', "'''") else 1
            out.append(_Literal(i, token.end(), len(raw) - len(body) + quote, quote))
            i = _GAP.match(text, token.end(), end).end()  # type: ignore[union-attr]  # (`*` always matches)
        if len(out) > 1:
            for part in out:
                part.value = ast.literal_eval(text[part.start:part.end])
        return out

    def string(self, node) -> tuple[str, _Literal] | None:
        """(value, token) of one plain string literal (not bytes, not an f-string, not concatenated)."""
        if type(node) is not ast.Constant or type(node.value) is not str:
            return None
        found = self.parts(node)
        return (node.value, found[0]) if len(found) == 1 else None

    def fstring_parts(self, node: ast.JoinedStr) -> list[_Literal]:
        """The plain string literals concatenated with f-strings (`"a" f"{b}"`)."""
        start, end = self.bounds(node)
        token = _LITERAL.match(self.text, start, end)
        if token is not None and token.end() == end:
            return []  # one f-string
        # (Python 3.12 lets an f-string's expressions hold its own quotes: the tokenizer knows)
        out, depth = [], 0
        for kind, string, at in self._tokens(start, end):
            if kind == _FSTRING_START:
                depth += 1
            elif kind == _FSTRING_END:
                depth -= 1
            elif kind == tokenize.STRING and depth == 0 and "f" not in string[:2].lower().lstrip("rbu")[:1]:
                out.extend(self._scan(at, at + len(string)))  # (a plain literal, not an f-string)
        for part in out:
            part.value = ast.literal_eval(self.text[part.start:part.end])
        return out

    def _tokens(self, start: int, end: int) -> Iterator[tuple[int, str, int]]:
        """(type, string, offset in the text) of the tokens of text[start:end], read in parentheses
        (so that line breaks in it are only whitespace)."""
        segment = "(" + self.text[start:end] + ")"
        starts = [0, *(m.end() for m in _LINE_BREAK.finditer(segment))]
        lines = iter([segment[a:b] for a, b in zip(starts, [*starts[1:], len(segment)])])
        for tok in tokenize.generate_tokens(lambda: next(lines, "")):
            row, col = tok.start
            if row <= len(starts):
                yield tok.type, tok.string, start - 1 + starts[row - 1] + col

    # --- facts ----------------------------------------------------------------------------------
    def emit(self, at: tuple[int, int], kind: str, fact: object) -> None:
        """A fact, ordered as a walk of the tree in the order of the text meets it."""
        self.events.append((at[0], -at[1], len(self.events), kind, fact))

    def setting(self, at, key_node, value_node, call, via: str) -> None:
        key = self.string(key_node)
        if key is None:
            return
        call_start, call_end = self.bounds(call)
        value = self.string(value_node) if value_node is not None else None
        if value is not None:
            assert value_node is not None
            start, end = self.bounds(value_node)
            token = value[1]
            self.emit(at, "setting", PySetting(key[0], value[0], start + token.opening, end - token.closing,
                                               call_start, call_end, via))
        else:
            self.emit(at, "setting", PySetting(key[0], None, call_start, call_end, call_start, call_end, via))

    def call(self, node: ast.Call) -> None:
        func = node.func
        attribute = func if isinstance(func, ast.Attribute) else None
        name = attribute.attr if attribute is not None else func.id if isinstance(func, ast.Name) else ""
        if name not in _CALLS or not self.spelled(name, func):
            return
        at = self.bounds(node)
        positional = [a.value if type(a) is ast.Starred else a for a in node.args]
        positional += [k.value for k in node.keywords if k.arg is None]  # `**x` (after every `*y`)
        keywords = {k.arg: k.value for k in node.keywords
                    if k.arg is not None and self.text.startswith(k.arg, self.true(k.lineno, k.col_offset))}
        if name == "gethostbyname":
            start, end = self.bounds(node)
            self.emit(at, "resolution", (start, end, "socket.gethostbyname"))
        elif name == "config" and attribute is not None:
            key = positional[0] if positional else keywords.get("key")
            value = positional[1] if len(positional) > 1 else keywords.get("value")
            if key is not None:
                self.setting(at, key, value, node, "builder")
                self.builder(attribute, node)
            mapping = keywords.get("map")
            if type(mapping) is ast.Dict:
                for k, v in zip(mapping.keys, mapping.values):
                    if k is not None:  # (`**x` in the dict)
                        self.setting(at, k, v, node, "builder")
        elif name == "set" and attribute is not None and len(positional) == 2:
            self.setting(at, positional[0], positional[1], node, "conf")
        elif name == "setAll" and positional and type(positional[0]) in (ast.List, ast.Tuple):
            for item in positional[0].elts:  # type: ignore[attr-defined]  # (a List or a Tuple)
                pair = item.value if type(item) is ast.Starred else item
                if type(pair) is ast.Tuple and len(pair.elts) == 2:
                    first, second = (e.value if type(e) is ast.Starred else e for e in pair.elts)
                    self.setting(at, first, second, node, "conf")
        elif name == "master" and positional:
            master = self.string(positional[0])
            if master is not None:
                start, end = self.bounds(positional[0])
                self.emit(at, "master", (master[0], start, end))

    def builder(self, func: ast.Attribute, call: ast.Call) -> None:
        """Where another `.config(...)` can go: before this one when it starts a line, else after it."""
        value_end = self.true(func.value.end_lineno, func.value.end_col_offset)  # type: ignore[arg-type]
        dot_start = _BEFORE_DOT.match(self.text, value_end).end()  # type: ignore[union-attr]
        _start, end = self.bounds(call)
        if self.starts is None:
            line_start = self.source.line_start(self.source.position(dot_start)[0])
        else:  # (the line as the parser counts it)
            line_start = self.starts[bisect.bisect_right(self.starts, dot_start) - 1]
        before = self.text[line_start:dot_start]
        self.inserts.append((dot_start, before) if not before.strip() else (end, ""))

    def literal(self, part: _Literal) -> None:
        if not isinstance(part.value, str):
            return
        start, end = part.start, part.end
        raw = self.text[start:end]
        at = (part.start, part.end)
        if "hostname -i" in part.value or "hostname -I" in part.value:
            self.emit(at, "resolution", (start, end, "hostname -i/-I"))
        for match in _SUBMIT_CONF.finditer(raw):
            self.emit(at, "setting", PySetting(match.group(1), match.group(2), start + match.start(2),
                                               start + match.end(2), start + match.start(), start + match.end(),
                                               "submit"))

    def sequence(self, node: ast.List | ast.Tuple) -> None:
        """["--conf", "k=v"] pairs in an argument list."""
        values = [e.value if type(e) is ast.Starred else e for e in node.elts]
        at = self.bounds(node)
        mark = len(self.events)
        for flag, arg in zip(values, values[1:]):
            if type(flag) is not ast.Constant or flag.value not in ("--conf", "--master"):
                continue
            flag_text = (self.string(flag) or ("",))[0]
            if flag_text == "--conf":
                parsed = self.string(arg)
                if parsed and "=" in parsed[0]:
                    key, _, value = parsed[0].partition("=")
                    start, end = self.bounds(arg)
                    value_start = start + parsed[1].opening + len(key) + 1
                    self.emit(at, "setting", PySetting(key, value, value_start, end - parsed[1].closing, start, end,
                                                       "submit"))
            elif flag_text == "--master":
                master = self.string(arg)
                if master:
                    start, end = self.bounds(arg)
                    self.emit(at, "master", (master[0], start, end))
        if len(self.events) > mark and id(node) in self.slices and not self._parenthesized(*at):
            del self.events[mark:]  # `x["--conf", "k=v"]`: a subscript's elements, not a tuple

    def _parenthesized(self, start: int, end: int) -> bool:
        """Whether text[start:end] is one parenthesised expression (`(a, b)`, not `(a), (b)`)."""
        depth = 0
        for kind, string, at in self._tokens(start, end):
            if kind == tokenize.OP and string in "([{":
                depth += 1
            elif kind == tokenize.OP and string in ")]}":
                depth -= 1
                if depth == 1:  # (the tokens are read inside one more pair of parentheses)
                    return self.text[start] == "(" and at == end - 1
        return False

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        if kind is ast.Call:
            self.call(node)  # type: ignore[arg-type]
        elif kind is ast.Constant:
            if id(node) not in self.in_fstring and isinstance(node.value, str):  # type: ignore[attr-defined]
                for part in self.parts(node):  # type: ignore[arg-type]
                    self.literal(part)
        elif kind is ast.List or kind is ast.Tuple:
            self.sequence(node)  # type: ignore[arg-type]
        elif kind is ast.JoinedStr:
            for value in node.values:  # type: ignore[attr-defined]
                if type(value) is ast.Constant:
                    self.in_fstring.add(id(value))
                elif type(value) is ast.FormattedValue and value.format_spec is not None:
                    self.specs.add(id(value.format_spec))
            if id(node) not in self.specs:
                for part in self.fstring_parts(node):  # type: ignore[arg-type]
                    self.literal(part)
        elif kind is ast.Subscript and type(node.slice) is ast.Tuple:  # type: ignore[attr-defined]
            self.slices.add(id(node.slice))  # type: ignore[attr-defined]

    def facts(self) -> PythonFacts:
        facts = PythonFacts()
        lists = {"setting": facts.settings, "master": facts.masters, "resolution": facts.resolution_calls}
        for *_order, kind, fact in sorted(self.events, key=lambda e: e[:3]):
            lists[kind].append(fact)  # type: ignore[attr-defined]
        # `--conf` pairs are seen both as a list and as strings: keep one of each.
        unique = {(s.key, s.value_start): s for s in facts.settings}
        facts.settings = sorted(unique.values(), key=lambda s: s.value_start)
        facts.builder_inserts = sorted(self.inserts)
        return facts


# Bounds on what is analysed, from when libcst read these files (its native parser crashed on deep
# nesting, libcst issues #619 and #1000, and it cost about 40 us and 1.5 KB a node). The facts now come
# from the `ast` tree the syntax check builds anyway, walked iteratively at about 1 us a node, but the
# caps stay as they were so a file gets the same notice as before: a syntax tree deeper than MAX_DEPTH
# is a V6L900 notice, one over MAX_NODES nodes a V6L903 notice (hand-written Spark jobs have a few
# thousand; the corpus's largest Python file about 3,000).
MAX_DEPTH = 200
MAX_NODES = 50_000


def _walk(tree, extractor: _Extractor | None = None) -> tuple[int, int]:
    """(depth, node count) of an ast tree, iteratively (a recursive walk would itself overflow);
    stops counting once either is over its cap. Each node also goes to the extractor, if any."""
    deepest = nodes = 0
    stack = [(tree, 1)]
    visit = extractor.visit if extractor is not None else None
    while stack:
        node, depth = stack.pop()
        nodes += 1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH or nodes > MAX_NODES:
            break
        if visit is not None:
            visit(node)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, nodes


def _problem(message: str, at: int = 0) -> ParsedYaml:
    return ParsedYaml([], ParseProblem("V6L900", message, at, at))


def _document(source: SourceFile, facts: PythonFacts) -> ParsedYaml:
    return ParsedYaml([Document(source, None, 0, 0, len(source.text), language="python", payload=facts)])


def parse_python(source: SourceFile, facts: bool = True) -> ParsedYaml:
    """The file as one Document whose payload holds its Spark facts. Without `facts` (no enabled rule
    reads Python) only the syntax is checked."""
    if not any(t in source.text for t in TRIGGERS):
        return _document(source, PythonFacts())
    extractor = _Extractor(source) if facts else None
    with warnings.catch_warnings():  # SyntaxWarning (invalid escapes...) is the file's business
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source.text)
        except SyntaxError as exc:
            line = max((exc.lineno or 1) - 1, 0)
            at = source.offset(line, max((exc.offset or 1) - 1, 0))
            return _problem(f"Python syntax error (Python 3 expected): {exc.msg}", at)
        except (RecursionError, MemoryError, ValueError) as exc:
            return _problem(f"Python could not be parsed: {type(exc).__name__}")
        depth, nodes = _walk(tree, extractor)
    if depth > MAX_DEPTH:
        return _problem(f"Python code nested more than {MAX_DEPTH} levels deep (expressions or blocks); "
                        f"not analysed")
    if nodes > MAX_NODES:  # valid code, too large to analyse in bounded time: skipped, like an oversized file
        return ParsedYaml([], ParseProblem("V6L903", f"Python file with Spark settings over {MAX_NODES:,} syntax "
                                                     f"nodes; its Spark settings are not analysed", 0, 0))
    return _document(source, extractor.facts() if extractor is not None else PythonFacts())
