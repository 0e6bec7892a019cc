"""The command line as users drive it: exit codes, formats, --fix/--diff, config, discovery."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint import __version__
from v6lint.cli import main
from v6lint.rules import ALL_RULES

BAD = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ipFamilyPolicy: SingleStack   # keep this comment
  ipFamilies: [ipv6, IPv4]
"""
GOOD = "apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\nspec:\n  ipFamilies: [IPv6]\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "svc.yaml").write_text(BAD)
    (tmp_path / "k8s" / "ok.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_text_output_names_path_line_column_code_and_fixability(project):
    result = run("check", "--output-format", "concise")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("k8s/svc.yaml:7:19: SVC004 [single-stack-two-families] Service shop/web: ipFamilyPolicy is "
                        "`SingleStack` but ipFamilies hold two values; the API server rejects this (it must be "
                        "`PreferDualStack` or `RequireDualStack`)")
    assert lines[1].startswith("k8s/svc.yaml:8:16: SVC001 [invalid-ip-family] [*] Service shop/web: ipFamilies entry 'ipv6'")
    assert "Found 2 problems (2 errors) in 1 of 2 files." in lines
    assert "[*] 1 fixable with `v6lint check --fix`." in lines


def test_full_output_shows_the_source_line_with_a_caret_under_the_range(project):
    result = run("check")
    assert result.exit_code == 1
    assert result.output.startswith(
        "k8s/svc.yaml:7:19: SVC004 [single-stack-two-families] Service shop/web: ipFamilyPolicy is `SingleStack` "
        "but ipFamilies hold two values; the API server rejects this (it must be `PreferDualStack` or "
        "`RequireDualStack`)\n"
        "  |\n"
        "7 |   ipFamilyPolicy: SingleStack   # keep this comment\n"
        "  |                   ^^^^^^^^^^^\n"
        "\n"
        "k8s/svc.yaml:8:16: SVC001 [invalid-ip-family] [*] Service shop/web: ipFamilies entry 'ipv6' is not an IP "
        "family; the API server accepts exactly `IPv4` or `IPv6` (case-sensitive)\n"
        "  |\n"
        "8 |   ipFamilies: [ipv6, IPv4]\n"
        "  |                ^^^^\n")
    assert "\x1b[" not in result.output  # not a terminal: no colour


def test_json_output_has_the_documented_shape(project):
    result = run("check", "--output-format", "json", "--ip-family", "ipv6")
    assert result.exit_code == 1
    items = json.loads(result.output)
    assert {tuple(sorted(i)) for i in items} == {
        ("code", "fix", "message", "name", "path", "profile", "range", "severity", "url")}
    svc001 = next(i for i in items if i["code"] == "SVC001")
    assert svc001["range"] == {"start": {"line": 8, "column": 16}, "end": {"line": 8, "column": 20}}
    assert svc001["fix"] == {"applicability": "safe", "message": "Replace with `IPv6`", "edits": [
        {"range": {"start": {"line": 8, "column": 16}, "end": {"line": 8, "column": 20}}, "content": "IPv6"}]}
    assert svc001["profile"] is None
    svc009 = next(i for i in items if i["code"] == "SVC009")
    assert svc009["profile"] == {"ip_family": "ipv6", "source": "--ip-family"}


def test_diff_writes_nothing_and_shows_the_change(project):
    before = (project / "k8s" / "svc.yaml").read_bytes()
    result = run("check", "--diff", "--unsafe-fixes")
    assert result.exit_code == 1
    assert (project / "k8s" / "svc.yaml").read_bytes() == before
    assert "--- a/k8s/svc.yaml\n+++ b/k8s/svc.yaml\n" in result.output
    assert "\n-  ipFamilyPolicy: SingleStack   # keep this comment\n" in result.output
    assert "\n+  ipFamilyPolicy: PreferDualStack   # keep this comment\n" in result.output
    assert "\n+  ipFamilies: [IPv6, IPv4]\n" in result.output


def test_fix_applies_safe_fixes_only_and_reports_what_remains(project):
    result = run("check", "--fix")
    assert result.exit_code == 1
    assert (project / "k8s" / "svc.yaml").read_text() == BAD.replace("[ipv6, IPv4]", "[IPv6, IPv4]")
    assert "Fixed 1 problem." in result.output and "SVC004" in result.output


def test_fix_with_unsafe_fixes_leaves_nothing_and_exits_0(project):
    result = run("check", "--fix", "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert (project / "k8s" / "svc.yaml").read_text() == BAD.replace("[ipv6, IPv4]", "[IPv6, IPv4]").replace(
        "SingleStack", "PreferDualStack")
    assert run("check").exit_code == 0


def test_config_fix_unsafe_applies_unsafe_fixes(project):
    (project / ".v6lint.toml").write_text("[fix]\nunsafe = true\n")
    assert run("check", "--fix").exit_code == 0
    assert "PreferDualStack" in (project / "k8s" / "svc.yaml").read_text()


def test_exit_zero_select_and_ignore(project):
    assert run("check", "--exit-zero").exit_code == 0
    only = run("check", "--select", "SVC001", "--output-format", "json")
    assert [i["code"] for i in json.loads(only.output)] == ["SVC001"]
    ignored = run("check", "--ignore", "SVC001,single-stack-two-families")
    assert ignored.exit_code == 0
    assert run("check", "--select", "NOPE999").exit_code == 2


def test_no_cache_is_accepted(project):
    assert run("check", "--no-cache", "k8s/ok.yaml").exit_code == 0


def test_missing_path_is_a_notice_and_the_other_paths_are_checked(project):
    result = run("check", "--output-format", "concise", "nowhere/", "k8s/svc.yaml")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "nowhere/:1:1: V6L908 [path-not-found] no such file or directory" in lines
    assert any(line.startswith("k8s/svc.yaml:8:16: SVC001") for line in lines)
    assert "Found 3 problems (2 errors, 1 warning) in 2 of 2 files." in lines


def test_config_sets_profile_ignores_and_severity(project):
    (project / ".v6lint.toml").write_text(
        'ignore = ["SVC001"]\nseverity = {SVC004 = "warning"}\n[cluster]\nip-family = "ipv6"\n')
    items = json.loads(run("check", "--output-format", "json").output)
    assert sorted((i["code"], i["severity"]) for i in items) == [("SVC004", "warning"), ("SVC009", "error")]
    assert next(i for i in items if i["code"] == "SVC009")["profile"] == {"ip_family": "ipv6",
                                                                         "source": ".v6lint.toml:4"}
    text = run("check").output
    # the profile source is stated once, in the summary, not on each finding
    assert "(IPv6 cluster per" not in text
    assert "Judged against an IPv6 cluster per .v6lint.toml:4 (1 finding depends on it; " in text


def test_pyproject_config_and_per_file_ignores(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.v6lint]\nper-file-ignores = {"k8s/svc.yaml" = ["SVC"]}\n')
    assert run("check").exit_code == 0
    assert run("check", "--config", "/dev/null/none.toml").exit_code == 2


def test_bad_config_reports_location_and_allowed_values(project):
    (project / "pyproject.toml").write_text('[tool.v6lint]\nselect = ["SVC"]\nselekt = ["SVC"]\n')
    result = run("check")
    assert result.exit_code == 2
    assert "pyproject.toml:3: invalid v6lint configuration: unknown key 'selekt'; did you mean 'select'? (allowed: " \
           "cluster, exclude, extend, extend-exclude, extend-select, fix, force-exclude, helm, ignore, max-file-size, " \
           "per-file-ignores, preview, select, severity, spark-conf)" in result.output
    (project / "pyproject.toml").write_text('[tool.v6lint.cluster]\nip-family = "IPv6"\n')
    result = run("check")
    assert result.exit_code == 2
    assert "pyproject.toml:2: invalid v6lint configuration: 'cluster.ip-family' must be one of 'ipv4', 'ipv6', " \
           "'dual', not 'IPv6'" in result.output
    (project / "pyproject.toml").write_text('[tool.v6lint]\nselect = ["SVC0099"]\n')
    result = run("check")
    assert result.exit_code == 2 and "'SVC0099' matches no rule" in result.output
    (project / "pyproject.toml").write_text('[tool.v6lint\n')
    assert "not valid TOML" in run("check").output


def test_discovery_skips_excluded_vendor_and_gitignored_files(project):
    for folder in ("node_modules/pkg", ".terraform/m", "venv", "rendered"):
        (project / folder).mkdir(parents=True)
        (project / folder / "svc.yaml").write_text(BAD)
    (project / "venv" / "pyvenv.cfg").write_text("")
    (project / "k8s" / "notes.txt").write_text(BAD)
    (project / ".v6lint.toml").write_text('exclude = ["rendered/"]\n')
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("k8s/svc.yaml\n")
    result = run("check", "--output-format", "json")
    assert json.loads(result.output) == [] and result.exit_code == 0
    # an explicitly named file is linted even when git ignores it
    assert run("check", "k8s/svc.yaml").exit_code == 1


def test_template_notice_does_not_fail_the_run(project):
    (project / "k8s" / "svc.yaml").write_text("kind: Service\nmetadata:\n  name: {{ .Release.Name }}\n")
    result = run("check")
    assert result.exit_code == 0
    assert "V6L901 [unrendered-template]" in result.output


def test_rule_explains_by_code_or_name_and_lists_all():
    by_code = run("rule", "SVC004")
    assert by_code.exit_code == 0 and by_code.output.startswith("SVC004 (single-stack-two-families)")
    assert "Fix: unsafe" in by_code.output and "Why" in by_code.output and "Example" in by_code.output
    assert run("rule", "single-stack-two-families").output == by_code.output
    listed = run("rule", "--all").output.splitlines()
    assert [line.split()[0] for line in listed] == [r.code for r in ALL_RULES]
    assert run("rule", "NOPE").exit_code == 2


def test_version_and_help():
    assert run("--version").output.strip() == f"v6lint, version {__version__}"
    help_text = run("check", "--help").output
    for option in ("--fix", "--unsafe-fixes", "--diff", "--select", "--ignore", "--output-format", "--ip-family",
                   "--exit-zero", "--no-cache", "--config", "Exit codes", "--fix-only", "--exit-non-zero-on-fix",
                   "--quiet", "--exclude", "--extend-exclude", "--force-exclude", "--add-ignore"):
        assert option in help_text


def test_console_script_and_module_run(project):
    exe = Path(sys.executable).parent / "v6lint"
    for cmd in ([str(exe)], [sys.executable, "-m", "v6lint"]):
        proc = subprocess.run([*cmd, "check", "k8s/ok.yaml"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "No problems found in 1 file." in proc.stdout


def test_udp_dual_stack_with_an_old_controller_says_it_cannot_work(tmp_path, monkeypatch):
    (tmp_path / "lbc-values.yaml").write_text(
        "clusterName: shop\nimage:\n  repository: public.ecr.aws/eks/aws-load-balancer-controller\n  tag: v2.8.1\n")
    (tmp_path / "dns.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: dns\n  annotations:\n"
        "    service.beta.kubernetes.io/aws-load-balancer-type: external\n"
        "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n"
        "    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack\n"
        "spec:\n  type: LoadBalancer\n  ports: [{port: 53, protocol: UDP}]\n")
    monkeypatch.chdir(tmp_path)
    (found,) = json.loads(run("check", "--select", "LB007", "--platform", "aws", "--output-format", "json").output)
    assert "Controller is v2.8.1 (lbc-values.yaml:4)" in found["message"] and found["fix"] is None


def test_a_rule_that_crashes_is_reported_with_the_other_findings_and_the_run_exits_2(project, monkeypatch):
    from v6lint.rules import BY_CODE

    def crashing(doc, profile):
        raise KeyError("spec")
        yield  # a generator, as every check is

    # Rules are frozen and worker processes import them afresh: swap the check's code object in place.
    monkeypatch.setattr(BY_CODE["SVC004"].check, "__code__", crashing.__code__)
    for args in (["--output-format", "json"], ["--output-format", "json", "--exit-zero"]):
        result = CliRunner().invoke(main, ["check", "--no-cache", *args, "k8s/svc.yaml"])
        codes = [d["code"] for d in json.loads(result.output)]
        assert result.exit_code == 2 and codes == ["V6L999", "SVC001"], (result.exit_code, codes)
        crash = json.loads(result.output)[0]
        assert "SVC004" in crash["message"] and "KeyError" in crash["message"]


def test_an_internal_error_exits_2_with_one_line_and_the_traceback_only_under_verbose(project, monkeypatch):
    from test_stdin import _separate_streams

    import v6lint.engine

    def exploded(*_args, **_kwargs):
        raise RuntimeError("parser exploded \x1b]0;owned\x07")

    runner = _separate_streams()
    line = "v6lint: internal error: RuntimeError: parser exploded \\x1b]0;owned\\x07"
    with monkeypatch.context() as patched:
        patched.setattr(v6lint.engine, "parse_source", exploded)  # the engine raises on every file
        plain = runner.invoke(main, ["check", "--no-cache", "k8s/svc.yaml"])
        assert plain.exit_code == 2
        assert plain.stderr.splitlines() == [line + " (run with --verbose for the traceback)"]
        assert plain.stdout == ""
        for args in (["check", "--verbose", "--no-cache", "k8s/svc.yaml"], ["--verbose", "check", "--no-cache", "k8s"]):
            verbose = runner.invoke(main, args)
            assert verbose.exit_code == 2
            assert verbose.stderr.startswith("Traceback (most recent call last):\n")
            assert "in exploded" in verbose.stderr and "RuntimeError: parser exploded" in verbose.stderr
            assert verbose.stderr.splitlines()[-1] == line
    # click's own errors stay usage errors; a run that works is untouched by the handler
    usage = runner.invoke(main, ["check", "--no-such-flag"])
    assert usage.exit_code == 2 and "internal error" not in usage.stderr and "No such option" in usage.stderr
    fine = runner.invoke(main, ["check", "--no-cache", "--verbose", "--output-format", "json", "k8s/svc.yaml"])
    assert fine.exit_code == 1 and [d["code"] for d in json.loads(fine.stdout)] == ["SVC004", "SVC001"]
