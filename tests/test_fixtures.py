"""Every fixture folder: bad fires as expected.json says, fixes give bad.fixed, good stays clean."""
from __future__ import annotations

import pytest

from fixturelib import ENGINE_ONLY, FIXTURES, diagnostics_json, expected, files, find, fixed_name, fixture_dirs, run
from v6lint.rules import ALL_RULES, BY_CODE
from v6lint.sources import parse_source

FOLDERS = fixture_dirs()
IDS = [f.name for f in FOLDERS]


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_bad_reports_expected_diagnostics(folder):
    found = [d for bad in files(folder, "bad") for d in diagnostics_json(run(folder, bad), folder.name)]
    assert found == expected(folder)


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
        unfixable = sorted(d["message"] for d in expected(folder) if d["fix"] is None and d["path"] == bad.name)
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
        if not (folder / "expected.json").exists() or not expected(folder):
            problems.append(f"{rule.code}: expected.json missing or empty (bad must fire)")
        if rule.fix != "none" and find(folder, "bad.fixed") is None:
            problems.append(f"{rule.code}: has a {rule.fix} fix but no bad.fixed.*")
        if rule.fix == "none" and find(folder, "bad.fixed") is not None:
            problems.append(f"{rule.code}: fix is none but bad.fixed.* exists")
    assert problems == []


def test_fixture_folders_name_registered_rules():
    unknown = [f.name for f in FIXTURES.glob("*/*") if f.is_dir() and f.parent.name not in ("demo", "projects")
               and f.name not in BY_CODE]
    assert unknown == []


def test_fixed_files_apply_the_fix_kind_the_rule_declares():
    for folder in FOLDERS:
        rule = BY_CODE[folder.name]
        kinds = {d["fix"]["applicability"] for d in expected(folder) if d["fix"]}
        declared = set(rule.fix.split("|")) - {"none"}
        assert kinds <= declared, f"{rule.code} declares {rule.fix} but offers {kinds}"


def test_rule_reference_is_up_to_date():
    from v6lint.docs import render_reference

    reference = (FIXTURES.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    assert reference == render_reference(), "regenerate: python -m v6lint.docs > docs/rules.md"
    for rule in ALL_RULES:
        assert f"### {rule.code} {rule.name}" in reference
