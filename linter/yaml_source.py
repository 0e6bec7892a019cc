"""YAML files -> Documents, from libyaml's parse events (through ruamel.yaml.clib).

Our Node tree is composed straight from the events, as ruamel's composer would compose its nodes:
composition never constructs Python objects (tags such as `!!python/object` stay data) and never
expands aliases: an alias is the same Node object as its anchor. The expanded size is still measured
so that an alias bomb becomes a notice instead of a hang in a rule.

Events reach the composer as tuples, `(kind, *the arguments of ruamel's event class)`. ruamel.yaml.clib
makes each event by calling the event class it imported into its module, a chain of three Python
`__init__`s per event (a fifth of a cold run's YAML time). While we pull a text's events, a small
function stands in each class's place there (TupleEvents): for a parser reading one of our streams
(its marks carry our stream name) it returns the tuple, for any other parser it calls the class as
before. The swap is made only when clib's module holds ruamel's own classes and a probe document
parses to exactly the expected tuples; else events are converted one by one (`_as_tuple`).
"""
from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from typing import Callable, Iterator

from ruamel.yaml import events as ruamel_events
from ruamel.yaml.composer import ComposerError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tag import Tag

from v6lint.document import MAP, SCALAR, SEQ, Document, Node
from v6lint.source import SourceFile

# An expanded tree this many times larger than the written one is an alias bomb.
ALIAS_EXPANSION_LIMIT = 100_000

try:  # libyaml through ruamel.yaml.clib: the same events and marks as ruamel's own parser, ~7x faster
    from _ruamel_yaml import CParser

    PURE = False
except ImportError:  # pragma: no cover - other Python implementations
    PURE = True

STR, SEQ_TAG, MAP_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
# Plain scalars are tagged null, bool or str with one dict lookup. Rules read values as text, so
# YAML's full implicit resolver (a regex per scalar) buys nothing here.
_PLAIN_TAGS = {v: "tag:yaml.org,2002:null" for v in ("", "~", "null", "Null", "NULL")}
_PLAIN_TAGS.update({v: "tag:yaml.org,2002:bool" for v in ("true", "True", "TRUE", "false", "False", "FALSE")})


@dataclass
class ParseProblem:
    """Why a file yields no (or only some) documents; becomes a V6L9xx notice."""

    code: str  # notice code, e.g. "V6L900"
    message: str
    start: int
    end: int


@dataclass
class ParsedYaml:
    documents: list[Document]
    problem: ParseProblem | None = None


# Go/Helm actions (`{{ ... }}`), Jinja statements and comments (`{% %}`, `{# #}`) and Terraform
# template directives (`%{ ... }`).
_TEMPLATE_ACTION = re.compile(r"\{\{|\{%|\{#|%\{")
_INTERPOLATION = re.compile(r"\$\{")


def _unquoted_marker(line: str, pattern: re.Pattern) -> int:
    """Column of the first `pattern` match outside quotes and comments, or -1."""
    quote = None
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if quote:
            if ch == quote:
                if quote == "'" and i + 1 < n and line[i + 1] == "'":
                    i += 2
                    continue
                quote = None
            elif ch == "\\" and quote == '"':
                i += 2
                continue
        elif ch in "\"'" and (i == 0 or line[i - 1] in " \t:[{,-"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return -1
        elif pattern.match(line, i):
            return i
        i += 1
    return -1


def find_template_marker(source: SourceFile, pattern: re.Pattern = _TEMPLATE_ACTION) -> int:
    """Offset of the first template marker that is not inside a quoted string, or -1."""
    text = source.text
    match = pattern.search(text)
    while match is not None:  # each line holding a match, as SourceFile.line_text cuts it
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        if end == -1:
            end = len(text)
        elif text[end - 1] == "\r":
            end -= 1
        col = _unquoted_marker(text[start:end], pattern)
        if col != -1:
            return start + col
        match = pattern.search(text, end)
    return -1


# Event kinds, the first item of an event tuple. After it come the arguments clib passes to
# ruamel's event class (_ruamel_yaml.pyx `_event_to_object`), in its order:
#   scalar: anchor, tag, (plain implicit, quoted implicit), value, start mark, end mark, style
#   sequence/mapping start: anchor, tag, implicit, start mark, end mark, flow style
#   alias: anchor, start mark, end mark;  the others: start mark, end mark, ...
STREAM_START, STREAM_END, DOCUMENT_START, DOCUMENT_END, ALIAS, SCALAR_EVENT, SEQUENCE_START, SEQUENCE_END, \
    MAPPING_START, MAPPING_END = range(10)
_EVENT_CLASSES = ("StreamStartEvent", "StreamEndEvent", "DocumentStartEvent", "DocumentEndEvent", "AliasEvent",
                  "ScalarEvent", "SequenceStartEvent", "SequenceEndEvent", "MappingStartEvent", "MappingEndEvent")
_START_MARK_AT = (0, 0, 0, 0, 1, 4, 3, 0, 3, 0)  # where each class's arguments hold the start mark
_NODE_EVENTS = (ALIAS, SCALAR_EVENT, SEQUENCE_START, MAPPING_START)  # their second item: the anchor


class _StreamName(str):
    """The name our streams give their marks: the text clib gives a string's, as a distinct object."""


class _Stream:
    """The UTF-8 of a text, read as a file named `name` (clib encodes a str the same way: same marks)."""

    __slots__ = ("read", "name")

    def __init__(self, text: str, name: _StreamName) -> None:
        self.read = io.BytesIO(text.encode("utf-8")).read
        self.name = name


def _tuple_maker(kind: int, event_class: type, ours: _StreamName) -> Callable[..., object]:
    mark_at = _START_MARK_AT[kind]

    def make(*args):
        if args[mark_at].name is ours:
            return (kind, *args)
        return event_class(*args)

    return make


class TupleEvents:
    """Entered, clib's module holds tuple makers in place of ruamel's event classes (see the module's
    doc); at the last exit it holds the classes again. Entered by the threads parsing our streams,
    each for one text's events (counted: entries may nest or overlap). Any other parser gets ruamel's
    events even then; only ruamel's C emitter, if another thread gave it event objects in that very
    moment, would refuse them (it compares their classes with the module's names)."""

    def __init__(self, module) -> None:
        import threading

        self.module = module
        self.name = _StreamName("<unicode string>")
        self.classes = [getattr(ruamel_events, name) for name in _EVENT_CLASSES]
        self.makers = [_tuple_maker(kind, event_class, self.name) for kind, event_class in enumerate(self.classes)]
        self.lock = threading.Lock()
        self.entered = 0

    def __enter__(self) -> None:
        with self.lock:
            if self.entered == 0:
                for name, maker in zip(_EVENT_CLASSES, self.makers):
                    setattr(self.module, name, maker)
            self.entered += 1

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.entered -= 1
            if self.entered == 0:
                for name, event_class in zip(_EVENT_CLASSES, self.classes):
                    setattr(self.module, name, event_class)


_PROBE = "--- &a\nk: [*a, 'v']\n...\n"
_PROBE_EVENTS = [(STREAM_START, None), (DOCUMENT_START, None), (MAPPING_START, "a", None, True, 4, 7, False),
                 (SCALAR_EVENT, None, None, (True, False), "k", 7, 8, ""), (SEQUENCE_START, None, None, True, 10, 11, True),
                 (ALIAS, "a", 11, 13), (SCALAR_EVENT, None, None, (False, True), "v", 15, 18, "'"),
                 (SEQUENCE_END, None), (MAPPING_END, None), (DOCUMENT_END, None), (STREAM_END, None)]


def _probe_shape(event: tuple) -> tuple:
    """An event tuple with its marks as offsets (start and end for node events)."""
    kind = event[0]
    if kind in _NODE_EVENTS:
        at = _START_MARK_AT[kind] + 1
        rest = event[at + 2:] if kind != ALIAS else ()
        return (*event[:at], event[at].index, event[at + 1].index, *rest)
    return (kind, None)


def tuple_events() -> TupleEvents | None:
    """The swap for this process (one, kept on clib's module: a second copy of this module shares it),
    made when clib's module holds ruamel's own classes and a probe document parses, swapped, to
    exactly the expected tuples; None when not (another clib calls the classes otherwise)."""
    import _ruamel_yaml

    made = getattr(_ruamel_yaml, "_v6lint_tuple_events", None)
    if made is not None:
        return made  # by a first copy of this module
    if any(getattr(_ruamel_yaml, name, None) is not getattr(ruamel_events, name) for name in _EVENT_CLASSES):
        return None  # someone else's classes: leave them alone
    swap = TupleEvents(_ruamel_yaml)
    try:
        with swap:
            next_event = CParser(_Stream(_PROBE, swap.name)).get_event
            if [_probe_shape(next_event()) for _ in _PROBE_EVENTS] != _PROBE_EVENTS:
                return None
    except Exception:  # noqa: BLE001 - another clib calls the classes otherwise
        return None
    _ruamel_yaml._v6lint_tuple_events = swap
    return swap


_KIND_OF_CLASS = {getattr(ruamel_events, name): kind for kind, name in enumerate(_EVENT_CLASSES)}


def _as_tuple(event) -> tuple:
    """ruamel's event object -> our event tuple (where clib's events could not be tuples)."""
    kind = _KIND_OF_CLASS[event.__class__]
    if kind == SCALAR_EVENT:
        return (kind, event.anchor, event.ctag, event.implicit, event.value, event.start_mark, event.end_mark,
                event.style)
    if kind == SEQUENCE_START or kind == MAPPING_START:
        return (kind, event.anchor, event.ctag, event.implicit, event.start_mark, event.end_mark, event.flow_style)
    if kind == ALIAS:
        return (kind, event.anchor, event.start_mark, event.end_mark)
    return (kind, event.start_mark, event.end_mark)


TUPLE_EVENTS = None if PURE else tuple_events()
_NO_SWAP = contextlib.nullcontext()


def _swapped():
    """Enter this around pulling the events of `_events` (the swap, or nothing to do)."""
    return TUPLE_EVENTS or _NO_SWAP


def _events(text: str) -> Callable[[], tuple]:
    """The next-event function of a parser over `text`: each call (inside `_swapped()`), the next event
    as a tuple."""
    if TUPLE_EVENTS is not None:
        return CParser(_Stream(text, TUPLE_EVENTS.name)).get_event
    if not PURE:
        next_object = CParser(text).get_event
    else:  # pragma: no cover - other Python implementations: ruamel's own parser
        from ruamel.yaml import YAML

        next_object = YAML(typ="safe", pure=True).parse(text).__next__
    return lambda: _as_tuple(next_object())


class _Composer:
    """Parse events -> v6lint Nodes for each document of a stream, exactly as ruamel's C composer
    composes its nodes (the same tags, marks, anchors and errors): an alias is its anchor's Node.
    `aliased` says whether an alias occurred in the last document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.next = _events(text)
        self.anchors: dict[str, Node] = {}
        self.aliased = False
        self.failed: ValueError | None = None  # a tag's bad %-escape, raised when its document is whole

    def documents(self) -> Iterator[Node]:
        """Each document's root, once the document has ended (a later syntax error ends the stream)."""
        next_event = self.next
        next_event()  # the stream start
        while next_event()[0] != STREAM_END:  # a document start
            self.anchors, self.aliased, self.failed = {}, False, None
            root = self.node(next_event())
            next_event()  # the document end
            if self.failed is not None:
                raise self.failed
            yield root

    def tag(self, written: str | None, default: str) -> str:
        if written is None or written == "!":
            return default
        if written.__class__ is not str:  # pragma: no cover - ruamel's pure parser hands Tag objects
            written = str(written)
            if written == "!":
                return default
        if "%" not in written:
            return written
        try:  # as ruamel's Node does: URI-decode a %-escape libyaml kept (`%25` -> `%`)
            return str(Tag(suffix=written))
        except ValueError as exc:
            self.failed = self.failed or exc
            return written

    def anchor(self, anchor: str, start_mark, node: Node) -> None:
        if anchor in self.anchors:
            raise ComposerError("found duplicate anchor; first occurrence", None, "second occurrence", start_mark)
        self.anchors[anchor] = node

    def node(self, event: tuple) -> Node:
        """The node starting with `event`, with everything in it (recursive: MAX_DEPTH bounds the depth)."""
        kind = event[0]
        if kind == SCALAR_EVENT:
            _, anchor, tag, implicit, scalar, start_mark, end_mark, style = event
            if tag is None or tag == "!":  # no tag or the non-specific `!`: resolved
                tag = _PLAIN_TAGS.get(scalar, STR) if implicit[0] else STR
            else:
                tag = self.tag(tag, STR)
            style = style or None  # libyaml says "" for plain
            start = start_mark.index
            end = end_mark.index
            if style == "|" or style == ">":
                # A block scalar's end mark sits past its trailing line breaks, on the next
                # key's line; its text ends at its last non-blank character.
                end = start + len(self.text[start:end].rstrip())
            node = Node(SCALAR, scalar, tag, style, False, start, end)
            if anchor is not None:
                self.anchor(anchor, start_mark, node)
            return node
        if kind == ALIAS:
            found = self.anchors.get(event[1])
            if found is None:
                raise ComposerError(None, None, "found undefined alias", event[2])
            self.aliased = True
            return found
        _, anchor, tag, _implicit, start_mark, _end_mark, flow = event
        flow = bool(flow)
        value: list = []
        next_event, child = self.next, self.node
        last = None
        if kind == MAPPING_START:
            node = Node(MAP, value, self.tag(tag, MAP_TAG), None, flow, start_mark.index, -1)
            if anchor is not None:
                self.anchor(anchor, start_mark, node)
            event = next_event()
            while event[0] != MAPPING_END:
                key = child(event)
                last = child(next_event())
                value.append((key, last))
                event = next_event()
        else:
            node = Node(SEQ, value, self.tag(tag, SEQ_TAG), None, flow, start_mark.index, -1)
            if anchor is not None:
                self.anchor(anchor, start_mark, node)
            event = next_event()
            while event[0] != SEQUENCE_END:
                last = child(event)
                value.append(last)
                event = next_event()
        node.end = event[2].index  # the end event's end mark
        if not flow and last is not None and last is not node:
            # A block collection's end mark sits at the next token, past comments and
            # blank lines; its real end is its last leaf's. (An alias to a collection still
            # open is recursive: its document is skipped as an alias bomb.)
            node.end = max(last.end, node.start)
        return node


def expanded_size(root: Node, limit: int) -> int | None:
    """Node count with aliases expanded, capped at `limit`; None when an alias is recursive."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int | None:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            return None
        active.add(key)
        total = 1
        children = (
            [c for kv in node.value for c in kv] if node.kind == MAP else node.value if node.kind == SEQ else []
        )
        for child in children:
            sub = size(child)
            if sub is None:
                return None
            total = min(total + sub, limit + 1)
        active.discard(key)
        sizes[key] = total
        return total

    return size(root)


def _make_document(source: SourceFile, root: Node, index: int) -> Document:
    doc = Document(source, root, index, root.start, root.end)
    if root.kind == MAP:
        doc.api_version = root.str_at("apiVersion")
        doc.kind = root.str_at("kind")
        annotations = root.path("metadata", "annotations")
        if annotations is not None:
            doc.annotations = {k.value: v for k, v in annotations.entries() if k.kind == SCALAR}
    return doc


def _documents_of(source: SourceFile, root: Node, index: int) -> list[Document]:
    doc = _make_document(source, root, index)
    if doc.kind == "List" and doc.api_version == "v1":
        # `kubectl get -o yaml` output: each item is an object of its own.
        items = root.get("items")
        return [_make_document(source, item, index) for item in (items.items() if items else [])]
    return [doc]


def _problem_from_error(source: SourceFile, exc: Exception) -> ParseProblem:
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        offset = mark.index if mark is not None else 0
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return ParseProblem("V6L900", f"YAML syntax error: {what}", offset, offset)
    if isinstance(exc, ReaderError):
        return ParseProblem(
            "V6L900", f"YAML syntax error: unacceptable character {exc.character!r}", exc.position, exc.position
        )
    if isinstance(exc, RecursionError):
        return ParseProblem("V6L900", "YAML nesting is too deep to parse", 0, 0)
    return ParseProblem("V6L900", f"YAML syntax error: {exc}", 0, 0)


# YAML nesting past this depth is one notice, checked before any parser runs: libyaml composes
# recursively in C (100,000 nested `- ` segfault it; 100,000 `[` hang it) and the Python side
# (converter, rules) recurses per level.
MAX_DEPTH = 200
_BRACKET = re.compile(r"[][{}]")


# A line starting with more than MAX_DEPTH spaces and indicators (after a line break: a literal
# prefix the regex engine finds at C speed, where `^` in MULTILINE mode is tried at every offset).
_DEEP_LINE = re.compile(r"\n[ ?-]{%d}" % (MAX_DEPTH + 1))
_DEEP_FIRST_LINE = re.compile(r"[ ?-]{%d}" % (MAX_DEPTH + 1))


def may_nest_deeper(text: str) -> bool:
    """False when no line starts with more than MAX_DEPTH spaces and `-`/`?` indicators and the file
    has at most MAX_DEPTH open brackets: then nesting_bound cannot pass MAX_DEPTH (one C scan, where
    nesting_bound loops over lines in Python)."""
    return text.count("[") + text.count("{") > MAX_DEPTH or _DEEP_LINE.search(text) is not None \
        or _DEEP_FIRST_LINE.match(text) is not None


def nesting_bound(text: str, limit: int = MAX_DEPTH) -> int:
    """An upper bound on the file's YAML nesting (exact enough to compare with `limit`; it stops once
    past it), in one pass: open flow brackets (counted even in strings and comments, so it may
    overestimate) plus, per line, the structural indentation (leading spaces and `- `/`? `
    indicators; a nested block level needs at least one more column)."""
    deepest = flow = 0
    brackets = text.count("[") + text.count("{") > limit
    for line in text.split("\n"):
        rest = line.lstrip(" ")
        if not rest.strip() or rest.startswith("#"):  # blank or comment lines nest nothing
            continue
        at = len(line) - len(rest)
        while line.startswith(("- ", "? "), at) or line[at:] in ("-", "?"):
            at += 1
            while at < len(line) and line[at] == " ":
                at += 1
            if at > limit:
                break
        if flow == 0 and at > deepest:
            deepest = at
        if brackets and ("[" in line or "{" in line or flow):
            for match in _BRACKET.finditer(line):
                if match.group() in "[{":
                    flow += 1
                    deepest = max(deepest, flow)
                elif flow:
                    flow -= 1
        if deepest > limit:
            break
    return deepest


_TEMPLATE_MESSAGE = ("template, not YAML until rendered (Helm/Go `{{ }}`, Jinja `{% %}` or Terraform `%{ }` "
                     "outside quotes); skipped")


def _action_as_mapping(documents: list[Document]) -> int:
    """Start of a flow mapping whose key is itself a mapping, or -1. That is how YAML reads an
    unquoted Go/Helm action such as `name: {{ .Release.Name }}`; no Kubernetes object or JSON
    value can hold a mapping as a key, so a file with one is a template even though it composes."""
    from v6lint.document import walk

    for doc in documents:
        for node in walk(doc.root):
            if node.kind == MAP and node.flow and any(key.kind == MAP for key, _value in node.value):
                return node.start
    return -1


def parse_yaml(source: SourceFile) -> ParsedYaml:
    """Parse every document of a YAML file. Never raises for bad input.

    A file is a template only when it is not YAML: it does not parse and has a template marker
    outside quotes, or an unquoted action composed into a mapping key. `{{` inside a quoted or
    plain string (`${{ github.sha }}` in a workflow, Ansible's `"{{ item }}"`) is data."""
    if may_nest_deeper(source.text) and nesting_bound(source.text) > MAX_DEPTH:
        return ParsedYaml([], ParseProblem("V6L900", f"YAML nested more than {MAX_DEPTH} levels deep (or indented "
                                                     f"past column {MAX_DEPTH}); not analysed", 0, 0))
    marker = find_template_marker(source)
    parsed = _parse_yaml(source)
    if marker == -1:
        return parsed
    if parsed.problem is not None and parsed.problem.code == "V6L900":
        return ParsedYaml([], ParseProblem("V6L901", _TEMPLATE_MESSAGE, marker, marker + 2))
    action = _action_as_mapping(parsed.documents)
    if action != -1:
        return ParsedYaml([], ParseProblem("V6L901", _TEMPLATE_MESSAGE, action, action + 2))
    return parsed


def parses_clean(source: SourceFile) -> bool:
    """True only when parse_yaml finds no problem in the file (False when unsure): libyaml's parser
    accepts it, it has no anchor or alias (the composer's own errors, undefined and duplicate
    anchors, and alias bombs need one), no template marker and no deeper nesting than MAX_DEPTH.
    For a file whose documents no rule needs (engine.Linter.quiet): libyaml's C `raw_parse` makes no
    Python object; a file with `*` or `&` somewhere (a cron schedule) is parsed to events instead,
    to see whether one of them is an anchor or alias."""
    text = source.text
    if PURE or (may_nest_deeper(text) and nesting_bound(text) > MAX_DEPTH) or find_template_marker(source) != -1:
        return False
    if "%25" in text:  # a tag may hold a `%` that does not URI-decode (the composer's ValueError)
        return False
    try:
        if "*" not in text and "&" not in text:
            CParser(text).raw_parse()
            return True
        next_event = _events(text)
        with _swapped():
            while True:
                event = next_event()
                kind = event[0]
                if kind == STREAM_END:
                    return True
                if kind in _NODE_EVENTS and event[1] is not None:  # an anchor or an alias
                    return False
    except Exception:  # noqa: BLE001 - any error: parse_yaml reports it as it always did
        return False


def _parse_yaml(source: SourceFile) -> ParsedYaml:
    documents: list[Document] = []
    try:
        composer = _Composer(source.text)
        with _swapped():
            for index, root in enumerate(composer.documents()):
                if composer.aliased:  # else every node is written once: nothing to expand
                    bomb = alias_bomb(root, index, written_nodes(root))
                    if bomb is not None:
                        return ParsedYaml(documents, bomb)
                documents.extend(_documents_of(source, root, index))
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        return ParsedYaml(documents, parse_failure(source, exc))
    return ParsedYaml(documents)


def written_nodes(root: Node) -> int:
    """The nodes a document's text writes: its distinct nodes (an alias is its anchor's node)."""
    from v6lint.document import walk

    return sum(1 for _node in walk(root))


def alias_bomb(root: Node, index: int, written: int) -> ParseProblem | None:
    """The V6L904 notice for document `index` when its aliases expand it past the bound (`written`:
    the nodes its text writes), or recursively; None when it is fine."""
    bound = max(ALIAS_EXPANSION_LIMIT, 10 * written)
    size = expanded_size(root, bound)
    if size is not None and size <= bound:
        return None
    why = "a recursive alias" if size is None else "aliases that expand past the size limit"
    return ParseProblem("V6L904", f"document {index + 1} has {why} (alias bomb); skipped", root.start, root.start)


def parse_failure(source: SourceFile, exc: Exception) -> ParseProblem:
    """The notice for a file libyaml (or the composer) refused: a syntax error, or a `${ }` template."""
    problem = _problem_from_error(source, exc)
    if _INTERPOLATION.search(source.text) and find_template_marker(source, _INTERPOLATION) != -1:
        problem = ParseProblem(
            "V6L901",
            f"template, not YAML until rendered (`${{ }}` placeholders): {problem.message}",
            problem.start, problem.end,
        )
    return problem
