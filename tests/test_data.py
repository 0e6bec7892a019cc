"""The instance table and the annotation data that rules rely on."""
from __future__ import annotations

import re

from v6lint.data.instances import table
from v6lint.data.lbc_annotations import LBC_EXACT, LBC_PATTERNS
from fixturelib import shared

SHARED = shared("data")


def test_instance_table_has_every_row():
    assert len(table()) == 1391
    assert table()["t2.micro"].hypervisor == "xen" and not table()["t2.micro"].nitro
    assert table()["m5.metal"].nitro and table()["m5.large"].nitro


def test_secondary_ip_formula_reproduces_eni_max_pods_for_every_type():
    expected = {}
    for line in (SHARED / "eni-max-pods.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, pods = line.split()
            expected[name] = int(pods)
    assert len(expected) == 1391
    assert {name: inst.max_pods for name, inst in table().items()} == expected


def test_size_classes_for_the_managed_node_group_cap():
    assert table()["m5.8xlarge"].vcpus_at_most_30 is False  # 32 vCPUs
    assert table()["m5.4xlarge"].vcpus_at_most_30 is True  # 16
    assert table()["t3.medium"].vcpus_at_most_30 is True
    assert table()["m5.metal"].vcpus_at_most_30 is None


def test_annotation_keys_match_the_shared_csv():
    import csv
    rows = list(csv.DictReader((SHARED / "lbc-annotations.csv").open()))
    assert set(LBC_EXACT) == {r["annotation_key"] for r in rows if r["match"] == "exact"}
    assert set(LBC_PATTERNS) == {r["annotation_key"] for r in rows if r["match"] == "pattern"}
    assert all(re.search(r"\{[^}]+\}", p) for p in LBC_PATTERNS)
