"""`v6lint check -`: one stream from standard input, named by --stdin-filename (issue 18)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from v6lint.cli import main

# What `helm template web ./web` prints: each document after `---` and `# Source:`.
RENDERED = """\
---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [ipv6, IPv4]
"""


def run(*args, stdin=""):
    return CliRunner().invoke(main, ["check", *args], input=stdin, catch_exceptions=False)


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_findings_are_named_by_stdin_filename_and_helm_source(cwd):
    result = run("-", "--stdin-filename", "chart/rendered.yaml", "--output-format", "json", stdin=RENDERED)
    assert result.exit_code == 1
    found = {(d["code"], d["range"]["start"]["line"]) for d in json.loads(result.stdout)}
    assert ("SVC001", 15) in found and ("SVC004", 14) in found
    for diag in json.loads(result.stdout):
        assert diag["path"] == "chart/rendered.yaml"
        assert diag["message"].endswith("(Service web, rendered from web/templates/service.yaml)")


def test_stdin_fix_writes_the_fixed_stream_to_stdout_and_the_report_to_stderr(cwd):
    result = _separate_streams().invoke(main, ["check", "-", "--fix", "--stdin-filename", "r.yaml"],
                                                input=RENDERED, catch_exceptions=False)
    assert "ipFamilies: [IPv6, IPv4]" in result.stdout
    assert result.stdout.startswith("---\n# Source: web/templates/serviceaccount.yaml\n")
    assert "r.yaml:14:19: SVC004" in result.stderr and "SVC004" not in result.stdout
    assert result.exit_code == 1  # SVC004 has no safe fix: it remains


def test_stdin_filename_picks_the_config_of_its_folder(cwd):
    (cwd / "team").mkdir()
    (cwd / "team" / ".v6lint.toml").write_text('ignore = ["SVC001"]\n')
    result = run("-", "--stdin-filename", "team/x.yaml", "--output-format", "json", stdin=RENDERED)
    codes = {d["code"] for d in json.loads(result.stdout)}
    assert "SVC001" not in codes and "SVC004" in codes


def test_clean_stream_and_misuse(cwd):
    assert run("-", stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").exit_code == 0
    assert run("-", "a.yaml").exit_code == 2
    assert run("a.yaml", "--stdin-filename", "x.yaml").exit_code == 2


def _separate_streams() -> CliRunner:
    """A runner that keeps stderr apart from stdout: click 8.1 (our floor) needs mix_stderr=False,
    click 8.2 removed the option and always keeps them apart."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()
