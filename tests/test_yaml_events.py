"""The YAML front end composes v6lint Nodes from libyaml's events (yaml_source._Composer). It must build
exactly what the converter over ruamel's composer built (tests/yaml_oracle.py): the same nodes, values,
tags, styles, flow flags, ranges, shared alias nodes, alias-bomb verdicts and error messages and offsets.
Checked on every YAML file of the fixtures, ../shared/corpus and ../shared/charts, and on generated text."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from v6lint import yaml_source
from v6lint.document import MAP, SEQ, Node
from v6lint.source import DecodeError, SourceFile, decode
from v6lint.sources import language_of
from v6lint.yaml_source import _parse_yaml, parses_clean
from yaml_oracle import parse_yaml_oracle
from fixturelib import shared

HERE = Path(__file__).resolve().parent


def shape(node: Node | None, numbers: dict[int, int]):
    """The node as plain data; a node met again (an alias) is its first visit's number."""
    if node is None:
        return None
    if id(node) in numbers:
        return ("alias", numbers[id(node)])
    numbers[id(node)] = len(numbers)
    if node.kind == MAP:
        value = [(shape(k, numbers), shape(v, numbers)) for k, v in node.value]
    elif node.kind == SEQ:
        value = [shape(child, numbers) for child in node.value]
    else:
        value = node.value
    return (node.kind, value, node.tag, node.style, node.flow, node.start, node.end)


def described(parsed) -> tuple:
    docs = []
    for doc in parsed.documents:
        numbers: dict[int, int] = {}
        root = shape(doc.root, numbers)
        docs.append((doc.index, doc.start, doc.end, doc.api_version, doc.kind, doc.language, root,
                     sorted((key, shape(value, numbers)) for key, value in doc.annotations.items())))
    problem = parsed.problem
    return (None if problem is None else (problem.code, problem.message, problem.start, problem.end)), docs


def same_as_oracle(text: str) -> None:
    source = SourceFile("x.yaml", text)
    assert described(_parse_yaml(source)) == described(parse_yaml_oracle(source)), text


def _yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and language_of(str(p)) in ("yaml", "tfvars-json"))


@pytest.mark.parametrize("where", ["fixtures", "corpus", "charts"])
def test_every_yaml_file_composes_as_before(where):
    root = HERE.parent / "fixtures" if where == "fixtures" else shared(where)
    files = _yaml_files(root)
    assert len(files) > 20
    checked = problems = 0
    for path in files:
        try:
            text = decode(path.read_bytes())[0]
        except DecodeError:
            continue
        source = SourceFile(str(path), text)
        new, old = described(_parse_yaml(source)), described(parse_yaml_oracle(source))
        assert new == old, path
        checked += 1
        problems += new[0] is not None
    assert checked > 20 and problems > 0  # (the folders hold broken files and templates too)


@pytest.mark.parametrize("text, problem", [
    ("a: &x 1\nb: &x 2\n", "YAML syntax error: found duplicate anchor; first occurrence second occurrence"),
    ("a: *nowhere\n", "YAML syntax error: found undefined alias"),
    ("a: !e%25zz 1\nb: [\n", "YAML syntax error: while parsing a flow node"),  # the syntax error comes first
    ("a: !e%25zz 1\n---\nb: [\n", "YAML syntax error: invalid literal for int() with base 16: 'zz'"),
    ("a: &a [*a]\n", "document 1 has a recursive alias (alias bomb); skipped"),
    ("a: \x07\n", "YAML syntax error: unacceptable character 7"),
])
def test_errors_and_bombs_are_reported_as_before(text, problem):
    same_as_oracle(text)
    assert not parses_clean(SourceFile("x.yaml", text))  # the syntax-only check does not miss them either
    assert (_parse_yaml(SourceFile("x.yaml", text)).problem.message or "").startswith(problem)


def test_tags_styles_and_aliases_compose_as_before():
    text = ("%TAG !e! tag:example.com,2000:\n--- !!map\n"
            "a: !e!x%41 1\nb: ! 'true'\nc: !!str 2\nd: !<tag:e,1:%2541> x\n"
            "f: &n2 |+\n  keep\n\ne: &n {x: [1, *n2]}\ng: >-\n  folded\nh: *n2\ni: [*n2, ~, null, True, '']\n<<: *n\n"
            "---\n- &s [a, b]\n- *s\n- ? complex\n  : key\n")
    same_as_oracle(text)
    docs = _parse_yaml(SourceFile("x.yaml", text)).documents
    root = docs[0].root
    assert len(docs) == 2 and root.get("d").tag == "tag:e,1:A"
    assert root.get("a").tag == "tag:example.com,2000:xA" and root.get("b").tag == "tag:yaml.org,2002:bool"
    assert root.get("h") is root.get("f") and docs[1].root.value[0] is docs[1].root.value[1]


_PIECES = ["a", "b: ", "key: ", "- ", "? ", ": ", "&x ", "&y ", "*x", "*y", "!!str ", "!t ", "! ", "!a%25zz ",
           "!<tag:e,2000:a%41> ", "'q'", "'it''s'", '"d\\n"', "|\n  l\n", ">-\n  f\n\n", "|+\n  k\n\n", "[", "]",
           "{", "}", ", ", " # c", "\n", "\n  ", "\n    ", "---\n", "--- ", "...\n", "%YAML 1.1\n",
           "%TAG !e! tag:e,2000:\n", "!e!z ", "<<: *x", "null", "~", "true", "1", "é", "\U0001F600", "\t",
           "\r\n", "{{ x }}", "${a}", "apiVersion: v1\nkind: List\nitems:\n- ", "kind: Service\n"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_generated_fragments_compose_as_before(text):
    same_as_oracle(text)


def _block(value, indent: int) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        return "".join(f"\n{pad}{key}:{_block(item, indent + 2)}" for key, item in value.items()) or " {}"
    if isinstance(value, list):
        return "".join(f"\n{pad}-{_block(item, indent + 2)}" for item in value) or " []"
    return " " + value


_SCALARS = st.sampled_from(["x", "'s'", '"d"', "~", "", "true", "1.5", "&a v", "*a", "!!int 3", "[a, *a]",
                            "{k: v}", "&b {p: q}", "*b", "|\n      lit\n", "# c\n  z"])
_DATA = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(["a", "b", "c", "<<", "'q'"]), inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_DATA, min_size=1, max_size=3))
def test_generated_documents_compose_as_before(documents):
    same_as_oracle("".join(f"---{_block(doc, 0)}\n" for doc in documents))


def test_pure_parser_composes_as_before(monkeypatch):
    """Where ruamel.yaml.clib is missing (other Python implementations) the events come from ruamel's
    own parser: the same trees as its composer built, for every fixture that parses."""
    monkeypatch.setattr(yaml_source, "PURE", True)
    files = _yaml_files(HERE.parent / "fixtures")
    compared = 0
    for path in files[:150]:
        text = path.read_text(encoding="utf-8", errors="replace")
        source = SourceFile(str(path), text)
        old = parse_yaml_oracle(source, pure=True)
        if old.problem is None:
            assert described(_parse_yaml(source)) == described(old), path
            compared += 1
    assert compared > 50


def _marker_line_by_line(source: SourceFile, pattern) -> int:
    """find_template_marker's definition: the first line whose first match outside quotes and comments
    is at some column (SourceFile's lines: split at LF, a CR before it dropped)."""
    for line_no in range(source.line_count):
        col = yaml_source._unquoted_marker(source.line_text(line_no), pattern)
        if col != -1:
            return source.line_start(line_no) + col
    return -1


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(["{{", "{%", "{#", "%{", "${", "{", "%", "$", "#", " #", "'", '"', "''", "\\\"",
                                 "\\", "\n", "\r\n", "\r", " ", "a", ": ", "- ", "[", ","]), max_size=30).map("".join))
def test_template_markers_are_found_as_line_by_line(text):
    """find_template_marker searches the whole text and cuts only the lines holding a match (it once
    walked every line of the file): the same offset as the line-by-line definition, for both patterns."""
    source = SourceFile("x.yaml", text)
    for pattern in (yaml_source._TEMPLATE_ACTION, yaml_source._INTERPOLATION):
        assert yaml_source.find_template_marker(source, pattern) == _marker_line_by_line(source, pattern)


def test_clib_makes_tuples_for_our_parsers_and_events_for_any_other():
    """While our parser pulls events, ruamel.yaml.clib's event classes are swapped for tuple makers
    (yaml_source's doc): our streams parse to tuples, while any other parser in the process, even one
    interleaved with ours, still gets ruamel's event objects. After, clib's module holds ruamel's
    classes again: its C emitter takes event objects and its C loader loads."""
    import io

    import _ruamel_yaml
    from ruamel.yaml import YAML, events

    swap = yaml_source.TUPLE_EVENTS
    assert swap is not None
    ours = yaml_source._events("a: [1, &x b]\nc: *x\n")
    theirs = _ruamel_yaml.CParser("a: [1, &x b]\nc: *x\n").get_event
    kinds, classes = [], []
    with swap:
        with swap:  # (entries nest)
            assert _ruamel_yaml.ScalarEvent is not events.ScalarEvent
        assert _ruamel_yaml.ScalarEvent is not events.ScalarEvent
        for _ in range(11):
            kinds.append(ours()[0])
            classes.append(theirs().__class__)
    assert kinds == [yaml_source.STREAM_START, yaml_source.DOCUMENT_START, yaml_source.MAPPING_START,
                     yaml_source.SCALAR_EVENT, yaml_source.SEQUENCE_START, yaml_source.SCALAR_EVENT,
                     yaml_source.SCALAR_EVENT, yaml_source.SEQUENCE_END, yaml_source.SCALAR_EVENT,
                     yaml_source.ALIAS, yaml_source.MAPPING_END]
    assert classes == [events.StreamStartEvent, events.DocumentStartEvent, events.MappingStartEvent,
                       events.ScalarEvent, events.SequenceStartEvent, events.ScalarEvent, events.ScalarEvent,
                       events.SequenceEndEvent, events.ScalarEvent, events.AliasEvent, events.MappingEndEvent]
    assert _parse_yaml(SourceFile("x.yaml", "a: &x [1]\nb: *x\n")).documents
    assert not parses_clean(SourceFile("x.yaml", "a: &x [1]\nb: *x\n"))
    assert all(getattr(_ruamel_yaml, name) is getattr(events, name) for name in yaml_source._EVENT_CLASSES)
    out = io.StringIO()
    emitter = _ruamel_yaml.CEmitter(out)
    for event in (events.StreamStartEvent(), events.DocumentStartEvent(explicit=False),
                  events.ScalarEvent(None, None, (True, False), "x"), events.DocumentEndEvent(explicit=False),
                  events.StreamEndEvent()):
        emitter.emit(event)
    assert out.getvalue() == "x\n...\n"
    assert YAML(typ="safe").load("a: [1, &x b]\nc: *x\n") == {"a": [1, "b"], "c": "b"}


def test_threads_parsing_at_once_share_the_swap():
    """Entries overlap across threads (the language server lints and answers requests in two): the
    classes come back only when the last one leaves, and every parse is whole."""
    import threading

    from ruamel.yaml import events

    import _ruamel_yaml

    text = "".join(f"k{i}: [a, &x{i} b, *x{i}]\n" for i in range(2000))
    expected = described(parse_yaml_oracle(SourceFile("x.yaml", text)))
    results = []

    def parse():
        for _ in range(5):
            results.append(described(_parse_yaml(SourceFile("x.yaml", text))) == expected)

    threads = [threading.Thread(target=parse) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 20
    assert yaml_source.TUPLE_EVENTS.entered == 0
    assert _ruamel_yaml.ScalarEvent is events.ScalarEvent


def test_events_converted_one_by_one_compose_as_before(monkeypatch):
    """Where clib's events cannot be tuples (another clib, or someone else's classes in its module),
    each event object is converted: the same trees and problems as the oracle's."""
    monkeypatch.setattr(yaml_source, "TUPLE_EVENTS", None)
    cron = "schedule: '*/5 * * * *'\nargs: [a & b]\n"  # `*` and `&` in strings: parsed to events, no anchor
    for path in _yaml_files(HERE.parent / "fixtures")[:300]:
        try:
            same_as_oracle(decode(path.read_bytes())[0])
        except DecodeError:
            continue
    for text in ("a: &x 1\nb: &x 2\n", "a: *nowhere\n", "a: &a [*a]\n", "a: \x07\n", "- &s [a]\n- *s\n", cron):
        same_as_oracle(text)
        assert parses_clean(SourceFile("x.yaml", text)) == (text == cron)


def test_the_swap_is_made_only_over_ruamels_own_classes_and_a_probe_that_parses(monkeypatch):
    import _ruamel_yaml
    from ruamel.yaml import events

    monkeypatch.delattr(_ruamel_yaml, "_v6lint_tuple_events")  # as a fresh process finds clib's module
    monkeypatch.setattr(_ruamel_yaml, "AliasEvent", type("AliasEvent", (events.AliasEvent,), {}))
    someone_elses = _ruamel_yaml.AliasEvent
    assert yaml_source.tuple_events() is None
    assert _ruamel_yaml.AliasEvent is someone_elses and _ruamel_yaml.ScalarEvent is events.ScalarEvent

    monkeypatch.setattr(_ruamel_yaml, "AliasEvent", events.AliasEvent)
    shifted = [(kind, *rest[1:]) for kind, *rest in yaml_source._PROBE_EVENTS]  # as if clib passed other arguments
    monkeypatch.setattr(yaml_source, "_PROBE_EVENTS", shifted)
    assert yaml_source.tuple_events() is None  # the probe failed
    assert all(getattr(_ruamel_yaml, name) is getattr(events, name) for name in yaml_source._EVENT_CLASSES)

    monkeypatch.undo()
    monkeypatch.delattr(_ruamel_yaml, "_v6lint_tuple_events")
    made = yaml_source.tuple_events()
    assert made is not None and made is not yaml_source.TUPLE_EVENTS and _ruamel_yaml._v6lint_tuple_events is made


def test_a_second_copy_of_the_module_shares_the_swap(monkeypatch):
    """A module loaded again (a reload, or a second copy) takes the swap the first made, so their
    entries are counted together; its parses equal the first copy's."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("v6lint_yaml_source_copy", yaml_source.__file__)
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, copy)
    spec.loader.exec_module(copy)
    assert copy.TUPLE_EVENTS is yaml_source.TUPLE_EVENTS
    text = "a: &x [1, {b: c}]\nd: *x\n"
    assert described(copy._parse_yaml(SourceFile("x.yaml", text))) == described(_parse_yaml(SourceFile("x.yaml", text)))
