"""Edits shared by several rules: removing several entries at once, repairing a misspelled annotation."""
from __future__ import annotations

import yaml

from v6lint.engine import apply_edits
from v6lint.rules.lb.common import IP_TYPE, set_annotations
from v6lint.source import SourceFile
from v6lint.sources import parse_source
from v6lint.yaml_edit import delete_entries


def _doc(text: str):
    source = SourceFile("svc.yaml", text)
    return source, parse_source(source).documents[0]


def _remove(text: str, keys: list[str]) -> str:
    source, doc = _doc(text)
    spec = doc.root.get("spec")
    return apply_edits(text, delete_entries(source, spec, keys))


def test_delete_entries_flow_mapping_middle_and_trailing_run():
    text = "spec: {clusterIP: 10.0.0.1, type: ExternalName, ipFamilies: [IPv4], externalName: x, clusterIPs: [a], " \
           "ipFamilyPolicy: SingleStack}\n"
    out = _remove(text, ["clusterIP", "ipFamilies", "clusterIPs", "ipFamilyPolicy"])
    assert out == "spec: {type: ExternalName, externalName: x}\n"
    assert yaml.safe_load(out) == {"spec": {"type": "ExternalName", "externalName": "x"}}


def test_delete_entries_block_mapping_and_every_entry():
    text = "spec:\n  type: ExternalName\n  clusterIP: 10.0.0.1\n  externalName: db\n  clusterIPs:\n    - 10.0.0.1\n"
    assert _remove(text, ["clusterIP", "clusterIPs"]) == "spec:\n  type: ExternalName\n  externalName: db\n"
    assert _remove("spec: {a: 1, b: 2}\n", ["a", "b"]) == "spec: {}\n"


def test_set_annotations_repairs_the_misspelled_key_instead_of_adding_a_second():
    text = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  annotations:\n"
            "    service.beta.kubernetes.io/aws-load-balancer-type: external\n"
            "    service.beta.kubernetes.io/aws-load-balancer-ip-address_type: ipv4\n"
            "spec:\n  type: LoadBalancer\n")
    source, doc = _doc(text)
    out = apply_edits(text, set_annotations(doc, [(IP_TYPE, "dualstack")]))
    annotations = yaml.safe_load(out)["metadata"]["annotations"]
    assert annotations == {"service.beta.kubernetes.io/aws-load-balancer-type": "external", IP_TYPE: "dualstack"}


def test_set_annotations_adds_when_nothing_is_close():
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  annotations:\n    team: edge\nspec: {}\n"
    source, doc = _doc(text)
    out = apply_edits(text, set_annotations(doc, [(IP_TYPE, "dualstack")]))
    assert yaml.safe_load(out)["metadata"]["annotations"] == {"team": "edge", IP_TYPE: "dualstack"}
