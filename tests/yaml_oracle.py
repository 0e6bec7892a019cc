"""The YAML front end as it was before it composed from libyaml's events (v6lint 79f7d04): ruamel's
C composer builds its own nodes, which are then converted to v6lint Nodes. Kept only as the oracle
of tests/test_yaml_events.py, which proves the event composer builds the same trees, marks, tags,
styles, aliases and errors. Not used by v6lint itself."""
from __future__ import annotations

import threading

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from v6lint.document import MAP, SCALAR, SEQ, Document, Node
from v6lint.source import SourceFile
from v6lint.yaml_source import _PLAIN_TAGS, ParsedYaml, _documents_of, alias_bomb, parse_failure


class _PlainResolver(VersionedResolver):
    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            return _PLAIN_TAGS.get(value, "tag:yaml.org,2002:str")
        return super().resolve(kind, value, implicit)


class _PurePlainResolver(VersionedResolver):
    """The same for ruamel's Python composer, which wants Tag objects (the old code handed it strings,
    so its untested pure branch failed an assertion on the first plain scalar)."""

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            return Tag(suffix=_PLAIN_TAGS.get(value, "tag:yaml.org,2002:str"))
        return super().resolve(kind, value, implicit)


class _Converter:
    def __init__(self, text: str) -> None:
        self.memo: dict[int, Node] = {}
        self.text = text
        self.aliased = False

    def convert(self, rnode) -> Node:
        key = id(rnode)
        done = self.memo.get(key)
        if done is not None:
            self.aliased = True
            return done
        start = rnode.start_mark.index
        ctag = rnode.ctag
        tag = ctag.suffix if ctag.handle is None and "%" not in ctag.suffix else str(ctag)
        if isinstance(rnode, ScalarNode):
            end = rnode.end_mark.index
            if rnode.style in ("|", ">"):
                end = start + len(self.text[start:end].rstrip())
            node = Node(SCALAR, rnode.value, tag, rnode.style or None, False, start, end)
            self.memo[key] = node
            return node
        flow = bool(rnode.flow_style)
        if isinstance(rnode, SequenceNode):
            node = Node(SEQ, [], tag, None, flow, start, rnode.end_mark.index)
            self.memo[key] = node
            node.value = [self.convert(child) for child in rnode.value]
            last = node.value[-1] if node.value else None
        elif isinstance(rnode, MappingNode):
            node = Node(MAP, [], tag, None, flow, start, rnode.end_mark.index)
            self.memo[key] = node
            node.value = [(self.convert(k), self.convert(v)) for k, v in rnode.value]
            last = node.value[-1][1] if node.value else None
        else:
            raise TypeError(type(rnode))
        if not flow and last is not None and last is not node:
            node.end = max(last.end, node.start)
        return node


_LOADERS = threading.local()


def _loader(pure: bool) -> YAML:
    made = getattr(_LOADERS, "pure" if pure else "c", None)
    if made is None:
        made = YAML(typ="safe", pure=pure)
        made.Resolver = _PurePlainResolver if pure else _PlainResolver
        setattr(_LOADERS, "pure" if pure else "c", made)
    infos = getattr(made, "doc_infos", None)
    if infos is not None:
        infos.clear()
    return made


def parse_yaml_oracle(source: SourceFile, pure: bool = False) -> ParsedYaml:
    """What `yaml_source._parse_yaml` returned before (with `pure`: on ruamel's Python parser)."""
    documents: list[Document] = []
    try:
        for index, rnode in enumerate(_loader(pure).compose_all(source.text)):
            if rnode is None:
                continue
            converter = _Converter(source.text)
            root = converter.convert(rnode)
            written = len(converter.memo)
            if not converter.aliased:
                documents.extend(_documents_of(source, root, index))
                continue
            bomb = alias_bomb(root, index, written)
            if bomb is not None:
                return ParsedYaml(documents, bomb)
            documents.extend(_documents_of(source, root, index))
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        return ParsedYaml(documents, parse_failure(source, exc))
    return ParsedYaml(documents)
