"""What linter users expect around the linter: pre-commit, SARIF, GitHub annotations, statistics,
--show-fixes, --output-file, a progress bar only in terminals, and `v6lint init`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from terminal import EXE, run_in_terminal
from v6lint.cli import main
from v6lint.rules import ALL_RULES
from fixturelib import shared

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
SARIF_SCHEMA = shared("data", "sarif-schema-2.1.0.json")


@pytest.fixture
def demo(tmp_path, monkeypatch):
    shutil.copytree(DEMO, tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    return tmp_path / "demo"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_sarif_is_valid_against_the_published_schema_and_carries_fixes(demo):
    result = run("check", "--output-format", "sarif")
    assert result.exit_code == 1
    sarif = json.loads(result.output)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r.code for r in ALL_RULES)
    svc004 = next(r for r in rules if r["id"] == "SVC004")
    assert svc004["name"] == "single-stack-two-families"
    assert svc004["shortDescription"]["text"] and svc004["fullDescription"]["text"]
    assert svc004["helpUri"].endswith("#svc004-single-stack-two-families")
    assert svc004["defaultConfiguration"] == {"level": "error"}
    results = run_["results"]
    assert len(results) == 9
    svc001 = next(r for r in results if r["ruleId"] == "SVC001")
    assert rules[svc001["ruleIndex"]]["id"] == "SVC001"
    assert svc001["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "k8s/web.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 27, "startColumn": 16, "endLine": 27, "endColumn": 20}}
    assert svc001["fixes"][0]["artifactChanges"][0]["replacements"] == [{
        "deletedRegion": {"startLine": 27, "startColumn": 16, "endLine": 27, "endColumn": 20},
        "insertedContent": {"text": "IPv6"}}]
    assert "(IPv6 cluster per .v6lint.toml:3)" in next(r for r in results if r["ruleId"] == "SVC009")["message"]["text"]


def test_github_annotations(demo):
    lines = run("check", "--output-format", "github").output.splitlines()
    assert len(lines) == 9
    assert lines[2] == ("::error file=k8s/legacy.yaml,line=8,col=3,endLine=8,endColumn=17,"
                        "title=SVC011 removed-ip-family-field::Service monitoring/metrics: `spec.ipFamily` was removed "
                        "in Kubernetes 1.20 and is silently dropped; use `ipFamilies` and `ipFamilyPolicy`")
    (demo / "k8s" / "web.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                                           "spec: {ipFamilyPolicy: preferDualStack}\n")
    (demo / "k8s" / "a,b:c.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
                                             "spec: {ipFamilies: [IPv6], clusterIP: None, type: NodePort}\n")
    out = run("check", "--output-format", "github", "--select", "SVC008").output
    assert out.startswith("::error file=k8s/a%2Cb%3Ac.yaml,line=4,")


def test_statistics_text_and_json(demo):
    text = run("check", "--statistics").output.splitlines()
    assert text[0] == "3\tSVC009\t    ip-family-not-in-cluster"
    assert "1\tSVC001\t[*] invalid-ip-family" in text
    data = json.loads(run("check", "--statistics", "--output-format", "json").output)
    assert data[0] == {"code": "SVC009", "name": "ip-family-not-in-cluster", "count": 3, "fixable": 0}
    assert sum(item["count"] for item in data) == 9


def test_show_fixes_lists_what_fix_changed(demo):
    out = run("check", "--fix", "--show-fixes").output
    assert out.startswith("k8s/legacy.yaml:\n    1 \u00d7 SVC007 (external-name-ip-fields)\n"
                          "    1 \u00d7 SVC011 (removed-ip-family-field)\nk8s/web.yaml:\n"
                          "    1 \u00d7 SVC001 (invalid-ip-family)\n")
    assert "Fixed 3 problems." in out


def test_output_file(demo, tmp_path):
    target = tmp_path / "report.json"
    result = run("check", "--output-format", "json", "--output-file", str(target))
    assert result.exit_code == 1 and result.output == ""
    assert len(json.loads(target.read_text())) == 9


def _stderr_of(args: list[str], cwd: Path, *, tty: bool, env: dict) -> str:
    if not tty:
        return subprocess.run([EXE, *args], cwd=cwd, env=env, capture_output=True, text=True).stderr
    return run_in_terminal(args, cwd, env, "stderr")


def test_progress_bar_only_in_a_terminal(tmp_path):
    for i in range(60):
        (tmp_path / f"svc{i}.yaml").write_text(f"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    assert "v6lint" in _stderr_of(["check", "."], tmp_path, tty=True, env=env)  # the bar's label
    assert _stderr_of(["check", "."], tmp_path, tty=False, env=env) == ""
    assert "v6lint" not in _stderr_of(["check", "."], tmp_path, tty=True, env={**env, "CI": "true"})
    assert "v6lint" not in _stderr_of(["check", "--output-format", "json", "."], tmp_path, tty=True, env=env)


def test_init_writes_the_detected_profile_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prod.tfvars").write_text("enable_ipv6 = true\n")
    result = run("init")
    assert result.exit_code == 0 and "Wrote .v6lint.toml (ip-family = ipv6, from prod.tfvars:1)" in result.output
    config = (tmp_path / ".v6lint.toml").read_text()
    assert '# detected from prod.tfvars:1 (enable_ipv6 = true)\nip-family = "ipv6"\n' in config
    again = run("init")
    assert again.exit_code == 2 and "already holds a v6lint configuration" in again.output
    assert (tmp_path / ".v6lint.toml").read_text() == config
    # the written file is a valid configuration that v6lint reads back
    assert "IP family: ipv6 (per .v6lint.toml:" in run("profile").output


def test_init_appends_to_pyproject(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "jobs"\n')
    assert run("init").exit_code == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "jobs"\n\n# v6lint configuration')
    assert "[tool.v6lint]" in text and "[tool.v6lint.cluster]" in text and '# ip-family = "ipv6"' in text
    assert run("check", ".").exit_code == 0  # valid config
    assert run("init").exit_code == 2


STACK_TFVARS = "enable_ipv6 = true\n"
JOB = ('apiVersion: "sparkoperator.k8s.io/v1beta2"\nkind: SparkApplication\nmetadata:\n  name: etl\nspec:\n'
       '  sparkConf:\n    "spark.eventLog.enabled": "true"\n  driver:\n    cores: 1\n')
SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ipFamilies: [ipv6]\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed for pre-commit")
def test_pre_commit_hooks_with_the_real_pre_commit(tmp_path):
    pre_commit = Path(sys.executable).parent / "pre-commit"
    assert pre_commit.exists(), "install the test extras: pip install '.[test]'"
    repo = tmp_path / "repo"
    (repo / "terraform").mkdir(parents=True)
    (repo / "terraform" / "stack.tfvars").write_text(STACK_TFVARS)
    (repo / "jobs").mkdir()
    (repo / "jobs" / "etl.yaml").write_text(JOB)
    (repo / "jobs" / "web.yaml").write_text(SVC)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "init"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env)

    def try_repo(hook: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(pre_commit), "try-repo", str(ROOT), hook, "--files", "jobs/etl.yaml",
                               "jobs/web.yaml", "--verbose"], cwd=repo, env=env, capture_output=True, text=True,
                              timeout=900)

    checked = try_repo("v6lint")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    # judged with the profile of the whole repository, although only two files were passed
    assert "jobs/etl.yaml:6:3: SPK001 [spark-driver-service-ipv4]" in checked.stdout
    assert "Judged against an IPv6 cluster per terraform/stack.tfvars:1 " in checked.stdout
    assert "jobs/web.yaml:6:16: SVC001 [invalid-ip-family] [*]" in checked.stdout
    full = run_json(repo)
    passed = {line.split(" ")[0] + " " + line.split(" ")[1] for line in checked.stdout.splitlines()
              if line.startswith("jobs/")}
    assert passed == {f"{d['path']}:{d['range']['start']['line']}:{d['range']['start']['column']}: {d['code']}"
                      for d in full}

    fixed = try_repo("v6lint-fix")
    assert fixed.returncode == 1  # files were modified by the hook
    assert "files were modified by this hook" in fixed.stdout
    assert "ipFamilies: [IPv6]" in (repo / "jobs" / "web.yaml").read_text()
    assert '"spark.kubernetes.driver.service.ipFamilies": "IPv6"' in (repo / "jobs" / "etl.yaml").read_text()
    # --exit-non-zero-on-fix: the hook itself failed because it fixed something (nothing remains)
    assert "- exit code: 1" in fixed.stdout, fixed.stdout
    assert "Fixed 2 problems.\nNo problems remain in 2 files." in fixed.stdout, fixed.stdout

    # --force-exclude: pre-commit names the files, and the config's exclude still holds for them
    (repo / "jobs" / "web.yaml").write_text(SVC)
    (repo / ".v6lint.toml").write_text('exclude = ["jobs/web.yaml"]\n')
    excluded = try_repo("v6lint")
    assert "jobs/web.yaml" not in excluded.stdout, excluded.stdout
    assert excluded.returncode == 0, excluded.stdout
    refix = try_repo("v6lint-fix")
    assert refix.returncode == 0 and (repo / "jobs" / "web.yaml").read_text() == SVC


def run_json(repo: Path) -> list[dict]:
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        return json.loads(run("check", "--output-format", "json").output)
    finally:
        os.chdir(cwd)
