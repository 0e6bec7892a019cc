"""The language server's partial re-parse (lsp/reparse.py) equals the whole-file parse: the same
documents, nodes and ranges, and so the same findings, on the shared corpus and after edits."""
from __future__ import annotations

import pytest

from v6lint.config import Settings
from v6lint.document import MAP, SEQ, Node
from v6lint.engine import Linter
from v6lint.lsp.reparse import Reparser
from v6lint.rule import Profile
from v6lint.source import SourceFile
from v6lint.yaml_source import parse_yaml
from fixturelib import shared

CORPUS = shared("corpus")


def shape(node: Node | None, seen=None):
    if node is None:
        return None
    if node.kind == MAP:
        value = [(shape(k), shape(v)) for k, v in node.value]
    elif node.kind == SEQ:
        value = [shape(child) for child in node.value]
    else:
        value = node.value
    return (node.kind, value, node.tag, node.style, node.flow, node.start, node.end)


def documents(parsed):
    return [(d.index, d.start, d.end, d.api_version, d.kind, sorted((k, shape(v)) for k, v in d.annotations.items()),
             shape(d.root)) for d in parsed.documents]


def same(reparser: Reparser, source: SourceFile) -> bool:
    """Whether the reparser agrees with the whole parse; False when it left the file to it."""
    parsed = reparser.parse(source)
    if parsed is None:
        return False
    whole = parse_yaml(source)
    assert whole.problem is None
    assert documents(parsed) == documents(whole), source.path
    return True


MANIFEST = """\
# shop services
---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {team: shop}
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data:
  script: |
    echo one
    echo two

---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: main
          args: ["--listen=[::]:8080"]
"""


def test_edits_reuse_the_untouched_documents_and_equal_the_whole_parse():
    reparser = Reparser()
    source = SourceFile("m.yaml", MANIFEST, abspath="/w/m.yaml")
    assert same(reparser, source) and reparser.reused == 0
    # a longer name in the first object moves every later one; only that piece is parsed again
    edited = MANIFEST.replace("name: web\n", "name: web-frontend\n", 1)
    assert same(reparser, SourceFile("m.yaml", edited, abspath="/w/m.yaml")) and reparser.reused == 3
    shorter = edited.replace("    echo two\n", "", 1)  # the block scalar shrinks: the Deployment moves back
    assert same(reparser, SourceFile("m.yaml", shorter, abspath="/w/m.yaml")) and reparser.reused == 3
    assert same(reparser, SourceFile("m.yaml", MANIFEST + MANIFEST, abspath="/w/m.yaml"))  # duplicated pieces
    assert same(reparser, SourceFile("m.yaml", "a: 1\n---\nb: 2\n", abspath="/w/m.yaml"))


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Service\nspec: [\n---\nkind: Pod\n",  # a syntax error: the whole parse reports it
    "%YAML 1.2\n---\na: 1\n",  # a directive
    "a: 1\n...\n---\nb: 2\n",  # a document end marker
    "apiVersion: v1\nkind: List\nitems: [{kind: Pod}]\n",  # expanded into its items
    "name: {{ .Values.name }}\n",  # a template
    "a: &x 1\n---\nb: *x\n",  # an alias to another document's anchor: an error only the whole parse sees
])
def test_what_only_the_whole_parse_can_judge_is_left_to_it(text):
    assert Reparser().parse(SourceFile("m.yaml", text, abspath="/w/m.yaml")) is None
    assert Reparser().parse(SourceFile("m.tf", "a = 1\n", abspath="/w/m.tf")) is None  # not YAML


def test_the_corpus_reparses_as_parsed_whole_and_gives_the_same_findings():
    linter = Linter(Settings(profile=Profile("ipv4", "--ip-family")))
    checked = 0
    for path in sorted(CORPUS.rglob("*.y*ml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        source = SourceFile(str(path.relative_to(CORPUS)), text, abspath=str(path))
        reparser = Reparser()
        if not same(reparser, source):
            continue
        checked += 1
        lines = text.splitlines(keepends=True)
        middle = len(lines) // 2  # an edit in the middle: what follows moves
        edited = "".join(lines[:middle] + ["# an edit\n"] + lines[middle:])
        source = SourceFile(source.path, edited, abspath=str(path))
        if same(reparser, source):
            assert linter.lint_source(source, reparser.parse(source)) == linter.lint_source(source), path
    assert checked > 300
