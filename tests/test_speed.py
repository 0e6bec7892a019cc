"""The cache and worker processes change speed, never findings."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint import cache
from v6lint.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The fixtures as one project (500+ files: enough for worker processes), or the corpus when present."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "fixtures", root)
    if CORPUS.is_dir():
        shutil.copytree(CORPUS, root / "corpus")
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--exit-zero", "--output-format", "json", *args],
                                catch_exceptions=False)
    return result.exit_code, result.output


def test_findings_are_identical_with_and_without_cache_and_workers(project):
    _, baseline = run("--no-cache", "--jobs", "1")
    assert len(json.loads(baseline)) > 100
    _, parallel = run("--no-cache", "--jobs", "2")
    _, cold_cache = run("--jobs", "1")
    assert list(cache.location(project).rglob("results-*.json"))  # outside the work tree
    assert not (project / ".v6lint_cache").exists()
    _, warm_cache = run("--jobs", "1")
    _, warm_parallel = run("--jobs", "2")
    assert parallel == baseline
    assert cold_cache == baseline
    assert warm_cache == baseline
    assert warm_parallel == baseline
    # text output too (fix marks, summaries)
    text = CliRunner().invoke(main, ["check", "--exit-zero", "--no-cache"]).output
    assert CliRunner().invoke(main, ["check", "--exit-zero"]).output == text


def test_cache_notices_changed_files_settings_and_profile(project):
    target = project / "svc" / "SVC001" / "bad.yaml"
    _, before = run("svc/SVC001")
    target.write_text(target.read_text().replace("- ipv6   # lower case is rejected", "- IPv6"))
    _, after = run("svc/SVC001")
    assert len(json.loads(after)) == len(json.loads(before)) - 1
    _, selected = run("svc/SVC001", "--select", "SVC002")
    assert json.loads(selected) == []
    # a profile source changing (a tfvars) invalidates results that depend on it
    (project / "svc" / "SVC001" / "x.tfvars").write_text("enable_ipv6 = true\n")
    _, with_profile = run("--select", "SVC009", "svc/SVC009/bad.yaml", "--ip-family", "ipv4")
    assert all(d["profile"]["ip_family"] == "ipv4" for d in json.loads(with_profile))


def test_clean_removes_the_cache(project):
    run("svc")
    assert cache.location(project).is_dir()
    result = CliRunner().invoke(main, ["clean"])
    assert result.exit_code == 0 and f"Removed {cache.location(project)}" in result.output
    assert not cache.location(project).exists()
    assert "No cache to remove" in CliRunner().invoke(main, ["clean"]).output
