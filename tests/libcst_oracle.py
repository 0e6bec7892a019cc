"""The reference for tests/test_python_facts.py: the libcst reader v6lint used before its Python facts
came from the stdlib `ast` (linter/python_source.py at 79f7d04, its visitor unchanged; the per-file time
budget dropped). The `ast` reader must find the same facts at the same offsets on every input, so this
stays here, in the tests, as the specification by example of what a concrete syntax tree sees."""
from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from v6lint.python_source import _SUBMIT_CONF, PySetting, PythonFacts
from v6lint.source import SourceFile


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


def libcst_facts(source: SourceFile) -> PythonFacts:
    """The facts the libcst reader finds in a file it parses (raises libcst's errors otherwise)."""
    visitor = _Visitor(source)
    MetadataWrapper(cst.parse_module(source.text), unsafe_skip_copy=True).visit(visitor)
    unique = {(s.key, s.value_start): s for s in visitor.facts.settings}
    visitor.facts.settings = sorted(unique.values(), key=lambda s: s.value_start)
    visitor.facts.builder_inserts.sort()
    return visitor.facts
