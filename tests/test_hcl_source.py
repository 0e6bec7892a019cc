"""The HCL front end's own bookkeeping: tree-sitter's byte offsets become character offsets, string
escapes are read, and Kubernetes YAML in a heredoc is parsed at its place in the .tf file."""
from __future__ import annotations

from v6lint.hcl_source import _Builder, _unescape, parse_hcl
from v6lint.source import SourceFile


def test_offsets_are_characters_after_wide_characters():
    text = ('# café \U0001F600 notes\nresource "aws_vpc" "ü" {\n  name = "naïve \U0001F680"\n'
            '  cidr_block = "10.0.0.0/16"  # ✓\n}\nlocals { x = "\U0001F600" }\n')
    doc = parse_hcl(SourceFile("main.tf", text)).documents[0]
    vpc, local = doc.blocks
    assert (vpc.type, vpc.labels, local.labels) == ("resource", ["aws_vpc", "ü"], [])
    assert vpc.start == text.index("resource") and vpc.end == text.index("}\n") + 1
    name, cidr = vpc.body.get("name"), vpc.body.get("cidr_block")
    assert name.value == "naïve \U0001F680" and (name.start, name.end) == (text.index('"naïve'), text.index('\n  cidr') )
    assert (cidr.start, cidr.end) == (text.index('"10.'), text.index('"  #') + 1)
    x = local.body.get("x")
    assert text[x.start:x.end] == '"\U0001F600"'


def test_a_byte_inside_a_character_is_that_characters_offset():
    text = "a é\U0001F600b"
    builder = _Builder(SourceFile("x.tf", text), text.encode("utf-8"))
    # bytes: a=0 ' '=1 é=2,3 😀=4..7 b=8, end=9
    assert [builder.off(b) for b in range(10)] == [0, 1, 2, 2, 3, 3, 3, 3, 4, 5]


def test_escapes_are_read_and_unknown_ones_kept():
    assert _unescape(r'a\nb\t\"c\\n\x') == 'a\nb\t"c\\n\\x'
    assert _unescape("plain") == "plain"


def test_heredoc_manifest_keeps_the_files_offsets():
    text = ('resource "kubectl_manifest" "svc" {\r\n  yaml_body = <<-YAML\r\n    apiVersion: v1\r\n'
            '    kind: Service\r\n    metadata: {name: é}\r\n  YAML\r\n}\r\n')
    parsed = parse_hcl(SourceFile("main.tf", text))
    assert parsed.problem is None
    manifest = parsed.documents[1]
    assert manifest.kind == "Service" and manifest.source.text == text
    name = manifest.root.path("metadata", "name")
    assert name.value == "é" and name.start == text.index("é")
