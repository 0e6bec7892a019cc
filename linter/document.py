"""The document model rules see: nodes with values and exact ranges.

It deliberately hides the parser (ruamel.yaml today): rules ask `node.get("spec")`,
`node.text`, `node.start`/`node.end`, never for parser classes, so the loader can be
swapped for a faster one without touching any rule.
"""
from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

from v6lint.source import SourceFile

if TYPE_CHECKING:  # those modules build Documents (they import this one): type-only imports, no cycle
    from v6lint.hcl_source import HclBlock
    from v6lint.python_source import PythonFacts

MAP, SEQ, SCALAR = "map", "seq", "scalar"


class Node:
    """A YAML node. `value` is str (scalar), list[Node] (seq) or list[(key, value)] (map).

    `start`/`end` are character offsets of the node's own text; for block collections `end`
    is the end of their last leaf, so it never swallows following comments or blank lines.
    """

    __slots__ = ("kind", "value", "tag", "style", "flow", "start", "end")

    def __init__(self, kind: str, value, tag: str, style: str | None, flow: bool, start: int, end: int):
        self.kind = kind
        self.value = value
        self.tag = tag
        self.style = style  # scalars: None (plain), '"', "'", '|', '>'
        self.flow = flow  # collections: written in flow style ([..] / {..})
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.value if self.kind == SCALAR else '...'!r}, {self.start}-{self.end})"

    # Pickled as one tuple (worker processes send profile facts holding nodes: the Terraform
    # variables' defaults): a slotted object's default state is set attribute by attribute,
    # ~14x slower to load (0.10 s of the ~0.7 MB of variables at 10k bench files, in every worker).
    def __getstate__(self) -> tuple:
        return self.kind, self.value, self.tag, self.style, self.flow, self.start, self.end

    def __setstate__(self, state: tuple) -> None:
        self.kind, self.value, self.tag, self.style, self.flow, self.start, self.end = state

    # --- scalars -----------------------------------------------------------------
    @property
    def text(self) -> str | None:
        """The scalar's string value, or None for collections and nulls."""
        if self.kind != SCALAR or self.is_null:
            return None
        return self.value

    @property
    def is_null(self) -> bool:
        return self.kind == SCALAR and self.tag.endswith(":null")

    # --- mappings ------------------------------------------------------------------
    def entries(self) -> list[tuple[Node, Node]]:
        return self.value if self.kind == MAP else []

    def entry(self, key: str) -> tuple[Node, Node] | None:
        if self.kind == MAP:
            for k, v in self.value:
                if k.kind == SCALAR and k.value == key:
                    return k, v
        return None

    def get(self, key: str) -> Node | None:
        found = self.entry(key)
        return found[1] if found else None

    def path(self, *keys: str) -> Node | None:
        node: Node | None = self
        for key in keys:
            node = node.get(key) if node is not None else None
        return node

    def str_at(self, *keys: str) -> str | None:
        node = self.path(*keys)
        return node.text if node is not None else None

    # --- sequences -----------------------------------------------------------------
    def items(self) -> list[Node]:
        return self.value if self.kind == SEQ else []

    def scalars(self) -> list[str | None]:
        return [n.text for n in self.items()]


@functools.lru_cache(maxsize=4096)
def _matches(key: str, patterns: tuple[str, ...]) -> bool:
    """A corpus has few apiVersion/kind pairs and rules few pattern tuples: each pair is matched once."""
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


V = TypeVar("V")


def per_document(view: Callable[["Document"], V]) -> Callable[["Document"], V]:
    """Memoise a read-only view of a document (ServiceSpec, Spark jobs, CNI settings) for the
    document's life: every rule reading it shares one build. Views must not be changed by rules."""
    @functools.wraps(view)
    def memoised(doc: "Document") -> V:
        views = doc.views
        if view in views:
            return views[view]
        found = views[view] = view(doc)
        return found

    return memoised


def release(documents: "list[Document]") -> None:
    """Drop the views built on documents nobody reads any more. A view holds its document, so a
    document with views is a reference cycle: only the cyclic garbage collector would free it, after
    walking every node of it again (most of the collections of a lint run, ~5% of its CPU at 10k
    bench files). Without the views the documents are freed as soon as the last reference goes.
    Views are memos: a document read again only builds them again."""
    for doc in documents:
        doc.views.clear()


@dataclass
class Document:
    """One YAML document of a file (a Kubernetes object when it has apiVersion and kind)."""

    source: SourceFile
    root: Node | None
    index: int
    start: int
    end: int
    api_version: str | None = None
    kind: str | None = None
    annotations: dict[str, Node] = field(default_factory=dict)
    language: str = "yaml"  # "yaml" | "hcl" | "python"
    blocks: list[HclBlock] = field(default_factory=list)  # HCL: top-level blocks
    payload: PythonFacts | None = None  # Python: the parsed module facts (see python_source)
    views: dict = field(default_factory=dict, repr=False, compare=False)  # see per_document

    @property
    def is_kubernetes(self) -> bool:
        return bool(self.api_version and self.kind)

    @property
    def tree(self) -> Node:
        """`root` where the document must have one: a rule that reads Kubernetes `kinds` (an object
        has apiVersion and kind, so a root) or a tfvars file. Typed `Node`, not `Node | None`."""
        if self.root is None:
            raise ValueError(f"document {self.index} of {self.source.path} has no root node")
        return self.root

    @property
    def type_key(self) -> str:
        return f"{self.api_version}/{self.kind}"

    def matches(self, patterns: tuple[str, ...]) -> bool:
        """Match `apiVersion/kind` patterns such as "v1/Service" or "*.k8s.io/*/Foo"."""
        if not self.is_kubernetes:
            return False
        return _matches(self.type_key, patterns)

    @property
    def name(self) -> str | None:
        return self.root.str_at("metadata", "name") if self.root else None

    @property
    def namespace(self) -> str | None:
        return self.root.str_at("metadata", "namespace") if self.root else None

    @property
    def object_name(self) -> str:
        """How messages name the object: `Service default/web`, `Service web`."""
        name = self.name or "<unnamed>"
        ns = self.namespace
        return f"{self.kind} {ns}/{name}" if ns else f"{self.kind} {name}"


def walk(node: Node | None) -> Iterator[Node]:
    """Every node below `node` (aliases are shared nodes; each is visited once)."""
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        if n.kind == MAP:
            for k, v in reversed(n.value):
                stack.append(v)
                stack.append(k)
        elif n.kind == SEQ:
            stack.extend(reversed(n.value))
