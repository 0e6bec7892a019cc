"""PySpark code -> a Document whose payload lists the literal Spark settings in it (libcst).

Found: `SparkSession.builder....config(k, v)` (also `config(key=, value=)` and `config(map={...})`),
`SparkConf().set(k, v)` / `.setAll([(k, v), ...])`, `spark.conf.set(k, v)`, `.master(...)`, and
`--conf k=v` in spark-submit argument lists or strings. Also IPv4-only name resolution
(`socket.gethostbyname`, `hostname -i/-I`). Files that mention none of these are not parsed at all.
"""
from __future__ import annotations

import ast
import re
import time
import warnings
from dataclasses import dataclass, field

import libcst as cst  # noqa: F401  (imported lazily by v6lint.sources; see parse_python)
from libcst.metadata import MetadataWrapper, PositionProvider

from v6lint.document import Document
from v6lint.source import SourceFile
from v6lint.yaml_source import ParsedYaml, ParseProblem

TRIGGERS = ("pyspark", "SparkSession", "SparkConf", "spark-submit", "--conf", "gethostbyname", "hostname -")
_SUBMIT_CONF = re.compile(r"--conf[=\s]+['\"]?([A-Za-z0-9_.\-*]+)=([^\s'\"]*)")


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
    # where a `.config(k, v)` can be added to a builder chain: (offset, line-leading?, indent)
    builder_inserts: list[tuple[int, str]] = field(default_factory=list)
    resolution_calls: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def on_kubernetes(self) -> bool:
        return any(m.startswith("k8s://") for m, _s, _e in self.masters)


def _string(node) -> tuple[str, int] | None:
    """(value, quote-prefix length) of a plain string literal, else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        if isinstance(value, bytes):
            return None
        return value, len(node.prefix) + len(node.quote)
    return None


class _Visitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, source: SourceFile):
        super().__init__()
        self.source = source
        self.facts = PythonFacts()
        self.deadline = time.monotonic() + TIME_BUDGET

    def on_visit(self, node) -> bool:
        if time.monotonic() > self.deadline:
            raise _OverBudget()
        return super().on_visit(node)

    def span(self, node) -> tuple[int, int]:
        pos = self.get_metadata(PositionProvider, node)
        return (self.source.offset(pos.start.line - 1, pos.start.column),
                self.source.offset(pos.end.line - 1, pos.end.column))

    def _setting(self, key_node, value_node, call, via: str) -> None:
        key = _string(key_node)
        if key is None:
            return
        call_start, call_end = self.span(call)
        value = _string(value_node) if value_node is not None else None
        if value is not None:
            start, end = self.span(value_node)
            self.facts.settings.append(PySetting(key[0], value[0], start + value[1], end - len(value_node.quote),
                                                 call_start, call_end, via))
        else:
            self.facts.settings.append(PySetting(key[0], None, call_start, call_end, call_start, call_end, via))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        args = node.args
        positional = [a.value for a in args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
        if name == "gethostbyname":
            start, end = self.span(node)
            self.facts.resolution_calls.append((start, end, "socket.gethostbyname"))
        elif name == "config" and isinstance(func, cst.Attribute):
            key = positional[0] if positional else keywords.get("key")
            value = positional[1] if len(positional) > 1 else keywords.get("value")
            if key is not None:
                self._setting(key, value, node, "builder")
                self._remember_builder(func, node)
            mapping = keywords.get("map")
            if isinstance(mapping, cst.Dict):
                for element in mapping.elements:
                    if isinstance(element, cst.DictElement):
                        self._setting(element.key, element.value, node, "builder")
        elif name == "set" and isinstance(func, cst.Attribute) and len(positional) == 2:
            self._setting(positional[0], positional[1], node, "conf")
        elif name == "setAll" and positional and isinstance(positional[0], (cst.List, cst.Tuple)):
            for item in positional[0].elements:
                pair = item.value
                if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                    self._setting(pair.elements[0].value, pair.elements[1].value, node, "conf")
        elif name == "master" and positional:
            master = _string(positional[0])
            if master is not None:
                start, end = self.span(positional[0])
                self.facts.masters.append((master[0], start, end))

    def _remember_builder(self, func: cst.Attribute, call: cst.Call) -> None:
        """Where another `.config(...)` can go: before this one when it starts a line, else after it."""
        dot_start, _ = self.span(func.dot)
        start, end = self.span(call)
        line, col = self.source.position(dot_start)
        before = self.source.line_text(line)[:col]
        if not before.strip():
            self.facts.builder_inserts.append((dot_start, before))
        else:
            self.facts.builder_inserts.append((end, ""))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = _string(node)
        if value is None:
            return
        text = value[0]
        start, end = self.span(node)
        raw = self.source.text[start:end]
        if "hostname -i" in text or "hostname -I" in text:
            self.facts.resolution_calls.append((start, end, "hostname -i/-I"))
        for match in _SUBMIT_CONF.finditer(raw):
            self.facts.settings.append(PySetting(match.group(1), match.group(2), start + match.start(2),
                                                 start + match.end(2), start + match.start(), start + match.end(),
                                                 "submit"))

    def visit_List(self, node: cst.List) -> None:
        self._submit_pairs(node.elements)

    def visit_Tuple(self, node: cst.Tuple) -> None:
        self._submit_pairs(node.elements)

    def _submit_pairs(self, elements) -> None:
        """["--conf", "k=v"] pairs in an argument list."""
        values = [e.value for e in elements]
        for flag, arg in zip(values, values[1:]):
            flag_text = (_string(flag) or ("",))[0]
            if flag_text == "--conf":
                parsed = _string(arg)
                if parsed and "=" in parsed[0]:
                    key, _, value = parsed[0].partition("=")
                    start, end = self.span(arg)
                    value_start = start + parsed[1] + len(key) + 1
                    self.facts.settings.append(PySetting(key, value, value_start, end - len(arg.quote), start, end,
                                                         "submit"))
            elif flag_text == "--master":
                master = _string(arg)
                if master:
                    start, end = self.span(arg)
                    self.facts.masters.append((master[0], start, end))


# libcst's native parser overflows the C stack on deep nesting (libcst issues #619, #1000: a segfault
# kills the run and the language server) and its Python visitors hit RecursionError long before;
# its parse time also grows about cubically in the length of an operator chain. So the stdlib `ast`
# parser reads every file first (it rejects nesting past its own limits with a clean SyntaxError),
# and libcst only gets files whose syntax tree is at most MAX_DEPTH deep and has at most MAX_NODES
# nodes. libcst costs about 40 us and 1.5 KB per node (measured: 400,000 nodes, a 200 KB file of long
# expressions, took 16 s and 580 MB), so the node cap bounds its native parse to about 2 s and 100 MB;
# the visit also checks a per-file time budget. Real Spark jobs are far below it (the corpus's largest
# Python file has about 3,000 nodes).
MAX_DEPTH = 200
MAX_NODES = 50_000
TIME_BUDGET = 10.0  # seconds of visiting per file


class _OverBudget(Exception):
    pass


def _shape(tree) -> tuple[int, int]:
    """(depth, node count) of an ast tree, iteratively (a recursive walk would itself overflow);
    stops counting once either is over its cap."""
    deepest = nodes = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH or nodes > MAX_NODES:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, nodes


def _problem(message: str, at: int = 0) -> ParsedYaml:
    return ParsedYaml([], ParseProblem("V6L900", message, at, at))


def parse_python(source: SourceFile, facts: bool = True) -> ParsedYaml:
    """The file as one Document whose payload holds its Spark facts. Without `facts` (no enabled rule
    reads Python) the syntax is still checked with `ast`, ten times cheaper than libcst."""
    if not any(t in source.text for t in TRIGGERS):
        return ParsedYaml([Document(source, None, 0, 0, len(source.text), language="python", payload=PythonFacts())])
    try:
        with warnings.catch_warnings():  # SyntaxWarning (invalid escapes...) is the file's business
            warnings.simplefilter("ignore")
            tree = ast.parse(source.text)
    except SyntaxError as exc:
        line = max((exc.lineno or 1) - 1, 0)
        at = source.offset(line, max((exc.offset or 1) - 1, 0))
        return _problem(f"Python syntax error (Python 3 expected): {exc.msg}", at)
    except (RecursionError, MemoryError, ValueError) as exc:
        return _problem(f"Python could not be parsed: {type(exc).__name__}")
    depth, nodes = _shape(tree)
    if depth > MAX_DEPTH:
        return _problem(f"Python code nested more than {MAX_DEPTH} levels deep (expressions or blocks); "
                        f"not analysed")
    if nodes > MAX_NODES:  # valid code, too large to analyse in bounded time: skipped, like an oversized file
        return ParsedYaml([], ParseProblem("V6L903", f"Python file with Spark settings over {MAX_NODES:,} syntax "
                                                     f"nodes; its Spark settings are not analysed", 0, 0))
    if not facts:
        return ParsedYaml([Document(source, None, 0, 0, len(source.text), language="python", payload=PythonFacts())])
    try:
        module = cst.parse_module(source.text)
    except cst.ParserSyntaxError as exc:
        line = max(exc.raw_line - 1, 0)
        at = source.offset(line, max(exc.raw_column, 0))
        message = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        return _problem(f"Python syntax error (Python 3 expected): {message}", at)
    except (RecursionError, ValueError) as exc:
        return _problem(f"Python could not be parsed: {exc}")
    visitor = _Visitor(source)
    try:
        MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
    except _OverBudget:
        return _problem(f"Python file took over {TIME_BUDGET:.0f} s to analyse; not analysed")
    except RecursionError:
        return _problem("Python code nested too deeply to analyse")
    # `--conf` pairs are seen both as a list and as strings: keep one of each.
    unique = {(s.key, s.value_start): s for s in visitor.facts.settings}
    visitor.facts.settings = sorted(unique.values(), key=lambda s: s.value_start)
    visitor.facts.builder_inserts.sort()
    return ParsedYaml([Document(source, None, 0, 0, len(source.text), language="python", payload=visitor.facts)])
