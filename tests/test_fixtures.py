"""Every fixture folder: bad fires as expected.snap says, fixes give bad.fixed, good stays clean."""
from __future__ import annotations

import difflib
import json

import pytest

from fixturelib import (ENGINE_ONLY, FIXTURES, REGENERATE, SNAPSHOT, diagnostics_json, expected_snapshot, files,
                        find, fixed_name, fixture_diagnostics, fixture_dirs, run, snapshot)
from v6lint.rule import RULES_URL
from v6lint.rules import ALL_RULES, BY_CODE
from v6lint.sources import parse_source

FOLDERS = fixture_dirs()
IDS = [f.name for f in FOLDERS]


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_bad_reports_what_the_snapshot_shows(folder):
    """Codes, names, severities, messages, ranges, profiles, fixes (applicability, message, each edit
    exactly) of every finding on the bad files, in order, as `expected.snap` holds them."""
    want = expected_snapshot(folder)
    assert want is not None, f"no {SNAPSHOT}: run `{REGENERATE} {folder.name}`"
    got = snapshot(folder)
    if got != want:
        diff = difflib.unified_diff(want.splitlines(keepends=True), got.splitlines(keepends=True),
                                    f"{folder.relative_to(FIXTURES)}/{SNAPSHOT}", "what the engine reports now")
        pytest.fail("the findings differ from the snapshot (- expected, + now); if the change is intended, "
                    f"run `{REGENERATE} {folder.name}` and review the diff:\n" + "".join(diff), pytrace=False)


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_findings_link_to_their_rule_s_reference_entry(folder):
    """The one field of the JSON output a snapshot does not show."""
    for d in fixture_diagnostics(folder):
        assert d["url"] == f"{RULES_URL}#{d['code'].lower()}-{d['name']}"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_good_is_clean(folder):
    goods = files(folder, "good")
    assert goods
    for good in goods:
        assert diagnostics_json(run(folder, good), folder.name) == [], good.name


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_fix_produces_bad_fixed_which_parses_and_lints_clean(folder):
    code = folder.name
    for bad in files(folder, "bad"):
        fixed_file = folder / fixed_name(bad)
        result = run(folder, bad, fix=True)
        if not fixed_file.exists():
            assert result.fixed is None, f"{code} changed {bad.name} but there is no {fixed_file.name}"
            continue
        assert result.fixed is not None, f"{code}: --fix changed nothing in {bad.name}"
        assert result.fixed.encode() == fixed_file.read_bytes()
        assert parse_source(result.fixed).problem is None
        # What remains of the rule is exactly what had no fix to offer (lines may have moved).
        unfixable = sorted(d["message"] for d in fixture_diagnostics(folder)
                           if d["fix"] is None and d["path"] == bad.name)
        remaining = sorted(d.message for d in result.diagnostics if d.code == code)
        assert remaining == unfixable, bad.name


def test_every_rule_has_docs_and_fixtures():
    problems = []
    folders = {f.name: f for f in FIXTURES.glob("*/*") if f.is_dir()}
    for rule in ALL_RULES:
        for field in ("summary", "why", "example"):
            if not getattr(rule, field).strip():
                problems.append(f"{rule.code}: no {field}")
        if rule.code in ENGINE_ONLY:
            continue
        folder = folders.get(rule.code)
        if folder is None or folder.parent.name != rule.family.lower():
            problems.append(f"{rule.code}: no fixtures/{rule.family.lower()}/{rule.code}/")
            continue
        for stem in ("bad", "good"):
            if find(folder, stem) is None:
                problems.append(f"{rule.code}: no {stem}.* fixture")
        if expected_snapshot(folder) is None:
            problems.append(f"{rule.code}: no {SNAPSHOT}")
        if not fixture_diagnostics(folder):
            problems.append(f"{rule.code}: its bad files do not fire")
        if rule.fix != "none" and find(folder, "bad.fixed") is None:
            problems.append(f"{rule.code}: has a {rule.fix} fix but no bad.fixed.*")
        if rule.fix == "none" and find(folder, "bad.fixed") is not None:
            problems.append(f"{rule.code}: fix is none but bad.fixed.* exists")
    assert problems == []


def test_no_fixture_keeps_the_old_json_expectations():
    """expected.snap replaced expected.json; a leftover one (say, from a branch merged later) would
    assert nothing."""
    assert sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("expected.json")) == [], \
        f"delete them and run `{REGENERATE}` for their folders"


def test_fixture_folders_name_registered_rules():
    unknown = [f.name for f in FIXTURES.glob("*/*") if f.is_dir() and f.parent.name not in ("demo", "projects")
               and f.name not in BY_CODE]
    assert unknown == []


def test_fixed_files_apply_the_fix_kind_the_rule_declares():
    for folder in FOLDERS:
        rule = BY_CODE[folder.name]
        kinds = {d["fix"]["applicability"] for d in fixture_diagnostics(folder) if d["fix"]}
        declared = set(rule.fix.split("|")) - {"none"}
        assert kinds <= declared, f"{rule.code} declares {rule.fix} but offers {kinds}"


def test_rule_reference_is_up_to_date():
    from v6lint.docs import render_reference

    reference = (FIXTURES.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    assert reference == render_reference(), "regenerate: python -m v6lint.docs > docs/rules.md"
    for rule in ALL_RULES:
        assert f"### {rule.code} {rule.name}" in reference


def test_a_notebook_finding_shows_its_cell_lines_and_the_fix_as_a_diff_of_the_json(tmp_path):
    """No fixture folder holds a notebook yet; a snapshot of one must still show the cell's own lines
    (positions are within the cell) and the fix as the .ipynb bytes it changes."""
    folder = tmp_path / "SPK003"
    folder.mkdir()
    cell = ["from pyspark.sql import SparkSession\n", "spark = (SparkSession.builder\n",
            '    .config("spark.kubernetes.driver.service.ipFamilies", "ipv6")\n', "    .getOrCreate())"]
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# ETL"]},
                          {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": cell}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "bad.ipynb").write_text(json.dumps(notebook, indent=1))
    text = snapshot(folder)
    assert "## bad.ipynb: 1 finding; --fix --unsafe-fixes writes bad.fixed.ipynb\n" in text
    assert "\nbad.ipynb:cell 2:3:60-3:64: SPK003 [invalid-spark-ip-family-value] error: " in text
    assert ('\n3 |     .config("spark.kubernetes.driver.service.ipFamilies", "ipv6")\n'
            "  |                                                            ^^^^\n") in text
    assert "\n  = safe fix: Use `IPv6`\n" in text
    assert '\n    -    "    .config(\\"spark.kubernetes.driver.service.ipFamilies\\", \\"ipv6\\")\\n",\n' in text
    assert '\n    +    "    .config(\\"spark.kubernetes.driver.service.ipFamilies\\", \\"IPv6\\")\\n",\n' in text
