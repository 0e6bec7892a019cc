"""Rolling v6lint out on an existing repository: config messages, --add-ignore, the fixing-hook flags,
excludes, files that must never pass silently (spark-defaults.conf, notebooks, unknown files),
readable output (source lines, colour, summary) and the machine formats (SARIF, JUnit, GitLab)."""
from __future__ import annotations

import difflib
import json
import os
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from click.testing import CliRunner

from fixturelib import shared
from terminal import EXE, run_in_terminal
from v6lint.cli import main

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = shared("data", "sarif-schema-2.1.0.json")

SVC = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: SingleStack   # keep
  ipFamilies: [ipv6, IPv4]
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: spark
data:
  spark-defaults.conf: |
    spark.master k8s://https://api.example:443
    spark.eventLog.dir s3a://lake/spark-events
"""
DEFAULTS = """\
# Spark defaults
spark.master                      k8s://https://api.example:443
spark.eventLog.dir                s3a://lake/spark-events
spark.executor.instances          2
"""
PYSPARK = '''\
from pyspark.sql import SparkSession
spark = SparkSession.builder \\
    .master("k8s://https://api.example:443") \\
    .config("spark.kubernetes.driver.service.ipFamilies", "ipv6") \\
    .getOrCreate()
df = spark.read.parquet("s3a://lake/events/")
'''


def notebook(cells: list[tuple[str, list[str]]]) -> str:
    """A notebook as Jupyter writes it (indent 1, ensure_ascii False, trailing newline)."""
    nb = {"cells": [{"cell_type": kind, "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                     "source": source} if kind == "code" else
                    {"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source}
                    for i, (kind, source) in enumerate(cells)],
          "metadata": {"kernelspec": {"display_name": "PySpark", "language": "python", "name": "pyspark"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


NOTEBOOK = notebook([
    ("markdown", ["# Nightly ETL – café\n", "Reads the lake."]),
    ("code", ["%pip install pyspark\n", "import socket"]),
    ("code", ["from pyspark.sql import SparkSession\n",
              "spark = (SparkSession.builder\n",
              "    .master(\"k8s://https://api.example:443\")\n",
              "    .config(\"spark.kubernetes.driver.service.ipFamilies\", \"ipv6\")\n",
              "    .getOrCreate())\n",
              "df = spark.read.parquet(\"s3a://lake/events/\")\n",
              "ip = socket.gethostbyname(\"db\")  # résumé"]),
])


# Rules about AWS components (IMDS) need the platform; the IMDS and resolution rules are preview.
AWS = 'preview = true\n[cluster]\nplatform = "aws"\n'


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()  # the project root
    (tmp_path / "stack.tfvars").write_text("enable_ipv6 = true\n")
    (tmp_path / ".v6lint.toml").write_text(AWS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def as_json(*args) -> list[dict]:
    return json.loads(run("check", "--output-format", "json", "--no-cache", *args).output)


def only_insertions(before: str, after: str) -> bool:
    """True when `after` is `before` with text inserted (nothing removed or replaced)."""
    ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in ops)


# --- config messages ------------------------------------------------------------------------------
def test_config_unknown_key_suggests_the_close_one(repo):
    (repo / ".v6lint.toml").write_text('ignore = []\nper-file-ignore = {"a/**" = ["SVC"]}\n')
    result = run("check")
    assert result.exit_code == 2
    assert ".v6lint.toml:2: invalid v6lint configuration: unknown key 'per-file-ignore'; did you mean " \
           "'per-file-ignores'?" in result.output
    (repo / ".v6lint.toml").write_text('[cluster]\nip-famly = "ipv6"\n')
    assert "unknown key 'cluster.ip-famly'; did you mean 'ip-family'?" in run("check").output


def test_the_readme_block_pasted_into_dot_v6lint_toml_says_to_drop_the_header(repo):
    (repo / ".v6lint.toml").write_text('[tool.v6lint]\nselect = ["ALL"]\n\n[tool.v6lint.cluster]\nip-family = "ipv6"\n')
    result = run("check")
    assert result.exit_code == 2
    assert ".v6lint.toml:1: invalid v6lint configuration: `[tool.v6lint]` tables belong in pyproject.toml; in " \
           ".v6lint.toml the settings sit at the top level: drop the `tool.v6lint` header" in result.output
    assert "`[tool.v6lint.cluster]` -> `[cluster]`" in result.output


def test_unknown_codes_warn_in_ignore_and_fail_in_select(repo):
    (repo / "svc.yaml").write_text(SVC)
    (repo / ".v6lint.toml").write_text('ignore = ["SVC001", "OLD123"]\n'
                                       'per-file-ignores = {"legacy/**" = ["GONE9"]}\n')
    result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "concise", "--ignore", "NOPE1"])
    assert result.exit_code == 1  # the run went on: SVC004 and SVC009 are found
    assert "v6lint: warning: .v6lint.toml: ignore: 'OLD123' matches no rule" in result.output
    assert "per-file-ignores['legacy/**']: 'GONE9' matches no rule" in result.output
    assert "v6lint: warning: --ignore: 'NOPE1' matches no rule" in result.output
    assert "SVC001" not in result.output.split("warning")[-1].split("\n", 1)[1]
    # a nested project's config warns too, once, when run from the top (each file gets its own config)
    (repo / "team" / "svc.yaml").parent.mkdir()
    (repo / "team" / "svc.yaml").write_text(SVC)
    (repo / "team" / ".v6lint.toml").write_text('ignore = ["RENAMED7"]\n')
    result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "concise"])
    assert result.output.count("v6lint: warning: team/.v6lint.toml: ignore: 'RENAMED7' matches no rule") == 1
    assert result.output.count("v6lint: warning: .v6lint.toml: ignore: 'OLD123' matches no rule") == 1
    (repo / ".v6lint.toml").write_text('select = ["OLD123"]\n')
    assert run("check").exit_code == 2
    assert run("check", "--select", "OLD123").exit_code == 2


# --- --add-ignore ---------------------------------------------------------------------------------
def test_add_ignore_suppresses_every_finding_with_comments_annotations_and_a_reason(repo):
    files = {"k8s/svc.yaml": SVC, "k8s/spark.yaml": CONFIGMAP, "conf/spark-defaults.conf": DEFAULTS,
             "jobs/etl.py": PYSPARK, "jobs/etl.ipynb": NOTEBOOK,
             "main.tf": 'module "eks" {\n  cluster_ip_family = "ipv4"\n}\n'}
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    before = as_json()
    assert len(before) > 10
    result = run("check", "--no-cache", "--add-ignore", "PLAT-42 migrate by Q3")
    assert result.exit_code == 1, result.output  # two findings in etl.py cannot take a comment (see below)
    assert as_json() == [d for d in as_json() if d["path"] == "jobs/etl.py"]
    for name, text in files.items():
        assert only_insertions(text, (repo / name).read_text()), name  # nothing but insertions
    svc = (repo / "k8s/svc.yaml").read_text()
    assert "  ipFamilyPolicy: SingleStack   # keep  # v6lint: ignore[SVC004] PLAT-42 migrate by Q3\n" in svc
    assert "  ipFamilies: [ipv6, IPv4]  # v6lint: ignore[SVC001, SVC009] PLAT-42 migrate by Q3\n" in svc
    # inside the block scalar a comment would become data: the ConfigMap gets the annotation
    spark = (repo / "k8s/spark.yaml").read_text()
    assert "metadata:\n  name: spark\n  annotations:\n    v6lint.io/ignore: SPK001,SPK005\n" in spark
    assert "# v6lint" not in spark
    # java.util.Properties reads `#` only at the start of a line: own-line comments above
    conf = (repo / "conf/spark-defaults.conf").read_text()
    assert conf == DEFAULTS.replace("spark.master", "# v6lint: ignore[SPK001, SPK005] PLAT-42 migrate by Q3\n"
                                                    "spark.master")
    assert '  cluster_ip_family = "ipv4"  # v6lint: ignore[PRF001] PLAT-42 migrate by Q3\n' in (repo / "main.tf").read_text()
    # Python lines continued with a backslash cannot carry a comment: left, and said so
    assert (repo / "jobs/etl.py").read_text() == PYSPARK
    assert "jobs/etl.py:3:13: SPK005 [missing-imds-endpoint-mode]" in result.output
    assert "jobs/etl.py:4:60: SPK003 [invalid-spark-ip-family-value]" in result.output
    assert "(no suppression could be added)" in result.output
    assert "Added suppressions for" in result.output
    # the notebook's cells got the comments, its JSON is otherwise unchanged
    nb = json.loads((repo / "jobs/etl.ipynb").read_text())
    assert nb["cells"][2]["source"][2:4] == [
        "    .master(\"k8s://https://api.example:443\")  # v6lint: ignore[SPK005] PLAT-42 migrate by Q3\n",
        "    .config(\"spark.kubernetes.driver.service.ipFamilies\", \"ipv6\")  # v6lint: ignore[SPK003] PLAT-42 "
        "migrate by Q3\n"]
    # a second run has nothing left to add
    again = run("check", "--no-cache", "--add-ignore")
    assert "Added suppressions" not in again.output and "No findings to suppress." in again.output


def test_add_ignore_with_diff_writes_nothing_and_refuses_fix(repo):
    (repo / "svc.yaml").write_text(SVC)
    result = run("check", "--no-cache", "--add-ignore", "--diff")
    assert result.exit_code == 1
    assert "+  ipFamilies: [ipv6, IPv4]  # v6lint: ignore[SVC001, SVC009]\n" in result.output
    assert (repo / "svc.yaml").read_text() == SVC
    refused = run("check", "--add-ignore", "--fix")
    assert refused.exit_code == 2 and "--add-ignore suppresses findings and --fix repairs them" in refused.output


# --- fixing hooks: --fix-only, --exit-non-zero-on-fix, -q ----------------------------------------------
def test_fix_only_reports_only_fixes_and_exit_non_zero_on_fix(repo):
    (repo / "svc.yaml").write_text(SVC)
    result = run("check", "--no-cache", "--fix-only")
    assert result.exit_code == 0  # SVC004 and SVC009 remain, but --fix-only does not report them
    assert result.output == "Fixed 1 problem.\n"
    assert "[IPv6, IPv4]" in (repo / "svc.yaml").read_text()
    assert run("check", "--no-cache", "--fix-only").output == "Nothing to fix.\n"
    (repo / "svc.yaml").write_text(SVC)
    assert run("check", "--no-cache", "--fix-only", "--exit-non-zero-on-fix").exit_code == 1
    (repo / "svc.yaml").write_text(SVC.replace("SingleStack", "PreferDualStack").replace(", IPv4", ""))
    fixed = run("check", "--no-cache", "--fix", "--exit-non-zero-on-fix")
    assert fixed.exit_code == 1 and "No problems remain in 2 files." in fixed.output  # fixed all, still 1
    assert run("check", "--no-cache", "--fix", "--exit-non-zero-on-fix").exit_code == 0  # nothing to fix


def test_quiet_prints_findings_only(repo):
    (repo / "svc.yaml").write_text(SVC)
    out = run("check", "--no-cache", "-q", "--output-format", "concise").output.splitlines()
    assert [line.split(" ")[1] for line in out] == ["SVC004", "SVC009", "SVC001"]
    assert run("check", "--no-cache", "-q", "--ignore", "ALL").output == ""


# --- excludes -------------------------------------------------------------------------------------
def test_exclude_extend_exclude_and_force_exclude(repo):
    for name in ("k8s/svc.yaml", "vendor/svc.yaml", "rendered/svc.yaml"):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(SVC)
    (repo / ".v6lint.toml").write_text('exclude = ["vendor/"]\n')
    paths = lambda *args: sorted({d["path"] for d in as_json(*args)})  # noqa: E731
    assert paths() == ["k8s/svc.yaml", "rendered/svc.yaml"]
    assert paths("--extend-exclude", "rendered/") == ["k8s/svc.yaml"]
    assert paths("--exclude", "rendered/") == ["k8s/svc.yaml", "vendor/svc.yaml"]  # replaces the config's
    # a file named on the command line is checked unless --force-exclude (ruff's semantics)
    assert paths("vendor/svc.yaml") == ["vendor/svc.yaml"]
    assert paths("--force-exclude", "vendor/svc.yaml", "k8s/svc.yaml") == ["k8s/svc.yaml"]
    (repo / ".v6lint.toml").write_text('exclude = ["vendor/"]\nforce-exclude = true\n')
    assert paths("vendor/svc.yaml", "k8s/svc.yaml") == ["k8s/svc.yaml"]
    assert paths("--no-force-exclude", "vendor/svc.yaml") == ["vendor/svc.yaml"]


# --- never pass a file silently -------------------------------------------------------------------
def test_spark_defaults_conf_is_read_as_spark_properties(repo):
    (repo / "conf").mkdir()
    (repo / "conf" / "spark-defaults.conf").write_text(DEFAULTS)
    (repo / "conf" / "other.conf").write_text(DEFAULTS)  # not found by walking...
    found = as_json()
    assert sorted((d["path"], d["code"], d["range"]["start"]["line"]) for d in found) == [
        ("conf/spark-defaults.conf", "SPK001", 2), ("conf/spark-defaults.conf", "SPK005", 2)]
    assert found[0]["message"].startswith("Spark properties (spark-defaults.conf): no `spark.kubernetes.driver")
    assert {d["path"] for d in as_json("conf/other.conf")} == {"conf/other.conf"}  # ...but when named
    (repo / ".v6lint.toml").write_text('spark-conf = ["conf/*.properties"]\n' + AWS)
    (repo / "conf" / "jobs.properties").write_text(DEFAULTS)
    assert {d["path"] for d in as_json()} == {"conf/spark-defaults.conf", "conf/jobs.properties"}
    # the fixes append the settings in the file's own style (SPK005's is unsafe: the nodes may not serve IMDS on IPv6)
    run("check", "--no-cache", "--fix", "--unsafe-fixes", "conf/spark-defaults.conf")
    assert (repo / "conf" / "spark-defaults.conf").read_text() == DEFAULTS + (
        "spark.kubernetes.driver.service.ipFamilies          IPv6\n"
        "spark.kubernetes.driver.service.ipFamilyPolicy          SingleStack\n"
        "spark.kubernetes.driverEnv.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE          IPv6\n"
        "spark.executorEnv.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE          IPv6\n")


def test_notebook_cells_are_linted_with_cell_positions_and_fixed_in_place(repo):
    (repo / "etl.ipynb").write_text(NOTEBOOK)
    found = as_json()
    assert sorted((d["code"], d["cell"], d["range"]["start"]["line"], d["range"]["start"]["column"])
                  for d in found) == [("NET005", 3, 7, 6), ("SPK003", 3, 4, 60), ("SPK005", 3, 3, 13)]
    text = run("check", "--no-cache", "--output-format", "concise").output
    assert "etl.ipynb:cell 3:4:60: SPK003 [invalid-spark-ip-family-value] [*] PySpark session: `spark.kubernetes" in text
    full = run("check", "--no-cache").output  # the cell's own line, under the finding
    assert ('  |\n4 |     .config("spark.kubernetes.driver.service.ipFamilies", "ipv6")\n'
            '  |                                                            ^^^^\n') in full
    shown = run("check", "--no-cache", "--show-fixes").output  # the fix as the cell's lines, not JSON
    assert ('  = safe fix: Use `IPv6`\n'
            '4 -     .config("spark.kubernetes.driver.service.ipFamilies", "ipv6")\n'
            '4 +     .config("spark.kubernetes.driver.service.ipFamilies", "IPv6")\n') in shown
    result = run("check", "--no-cache", "--fix", "--unsafe-fixes")
    after = (repo / "etl.ipynb").read_text()
    old, new = json.loads(NOTEBOOK), json.loads(after)
    # only the code cell's source changed; every other byte of the JSON is as it was
    assert [c for i, c in enumerate(new["cells"]) if i != 2] == [c for i, c in enumerate(old["cells"]) if i != 2]
    assert {k: v for k, v in new["cells"][2].items() if k != "source"} == \
        {k: v for k, v in old["cells"][2].items() if k != "source"}
    assert new["cells"][2]["source"][3:7] == [  # two lines inserted (SPK005), one value fixed (SPK003)
        "    .config(\"spark.kubernetes.driverEnv.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\", \"IPv6\")\n",
        "    .config(\"spark.executorEnv.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\", \"IPv6\")\n",
        "    .config(\"spark.kubernetes.driver.service.ipFamilies\", \"IPv6\")\n",
        "    .getOrCreate())\n"]
    changed = [line for line in difflib.ndiff(NOTEBOOK.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert all('"    .config(' in line for line in changed), changed
    assert "Fixed 2 problems." in result.output
    assert [d["code"] for d in as_json()] == ["NET005"]  # no fix: the code must change by hand


def test_broken_notebook_is_a_parse_error_with_position(repo):
    (repo / "bad.ipynb").write_text('{"cells": [\n  {"cell_type": "code", "source": ["x = (\\n"]}\n')
    (d,) = as_json()
    assert d["code"] == "V6L900" and "notebook could not be read" in d["message"]


def test_unknown_files_missing_paths_and_empty_folders_are_never_passed_silently(repo):
    (repo / "README.md").write_text("# hi\n")
    (repo / "empty").mkdir()
    (repo / "empty" / "notes.txt").write_text("x\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "concise", "README.md",
                                       "nowhere.yaml", "empty"])
    assert result.exit_code == 1
    assert "README.md:1:1: V6L907 [unsupported-file] v6lint does not read this kind of file" in result.output
    assert "nowhere.yaml:1:1: V6L908 [path-not-found] no such file or directory" in result.output
    assert "v6lint: no files to check under empty" in result.output


# --- output people read ---------------------------------------------------------------------------
def _stdout_in_a_terminal(args: list[str], cwd: Path, env: dict) -> str:
    return run_in_terminal(args, cwd, env, "stdout")


def test_colour_on_a_terminal_honours_no_color_and_force_color(repo):
    (repo / "svc.yaml").write_text(SVC)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    assert "\x1b[1;31mSVC004\x1b[0m" in _stdout_in_a_terminal(["check", "--no-cache"], repo, env)
    assert "\x1b[" not in _stdout_in_a_terminal(["check", "--no-cache"], repo, {**env, "NO_COLOR": "1"})
    piped = subprocess.run([EXE, "check", "--no-cache"], cwd=repo, env=env, capture_output=True, text=True).stdout
    assert "\x1b[" not in piped and "SVC004" in piped
    forced = subprocess.run([EXE, "check", "--no-cache"], cwd=repo, env={**env, "FORCE_COLOR": "1"},
                            capture_output=True, text=True).stdout
    assert "\x1b[1;31mSVC004\x1b[0m" in forced


def test_show_fixes_without_fix_shows_each_fix_as_a_diff_and_says_nothing_changed(repo):
    (repo / "svc.yaml").write_text(SVC)
    out = run("check", "--no-cache", "--show-fixes").output
    assert ("7 |   ipFamilies: [ipv6, IPv4]\n"
            "  |                ^^^^\n"
            "  = safe fix: Replace with `IPv6`\n"
            "7 -   ipFamilies: [ipv6, IPv4]\n"
            "7 +   ipFamilies: [IPv6, IPv4]\n") in out
    assert "  = unsafe fix (changes behaviour): Set ipFamilyPolicy to `PreferDualStack`\n" in out
    assert "(--show-fixes: each fix is shown under its finding; nothing was changed." in out
    assert (repo / "svc.yaml").read_text() == SVC


def test_diff_with_only_unsafe_fixes_says_so(repo):
    (repo / "svc.yaml").write_text(SVC.replace("ipv6", "IPv6"))
    result = CliRunner().invoke(main, ["check", "--no-cache", "--diff"])
    assert result.exit_code == 0
    assert "No safe fixes to show; 2 unsafe fixes would change behaviour: add --unsafe-fixes to see them." \
        in result.output


def test_impossible_combinations_are_refused(repo):
    for fmt in ("sarif", "github", "junit", "gitlab"):
        result = run("check", "--statistics", "--output-format", fmt)
        assert result.exit_code == 2
        assert f"--statistics prints a count per rule, which --output-format {fmt} cannot hold" in result.output


def test_sarif_fingerprints_survive_line_shifts_and_the_run_says_where_it_ran(repo):
    (repo / "svc.yaml").write_text(SVC)
    (repo / "etl.ipynb").write_text(NOTEBOOK)

    def sarif() -> dict:
        out = json.loads(run("check", "--no-cache", "--output-format", "sarif").output)
        jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(out)
        return out

    first = sarif()
    run_ = first["runs"][0]
    assert run_["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}
    assert run_["invocations"] == [{"executionSuccessful": True,
                                    "workingDirectory": {"uri": repo.resolve().as_uri() + "/"}}]
    prints = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]):
              r["partialFingerprints"]["v6lint/v1"] for r in run_["results"]}
    assert len(set(prints.values())) == len(run_["results"])
    (repo / "svc.yaml").write_text("# a comment\n\n" + SVC)  # every finding moves two lines down
    moved = sarif()["runs"][0]["results"]
    assert {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]):
            r["partialFingerprints"]["v6lint/v1"] for r in moved} == prints
    assert {r["locations"][0]["physicalLocation"]["region"].get("startLine") for r in moved
            if r["ruleId"] == "SVC004"} == {8}
    (repo / "svc.yaml").write_text(SVC.replace("name: web", "name: shop"))  # the message changes
    changed = sarif()["runs"][0]["results"]
    assert next(r for r in changed if r["ruleId"] == "SVC004")["partialFingerprints"] != \
        next(r for r in moved if r["ruleId"] == "SVC004")["partialFingerprints"]


def test_junit_and_gitlab_formats(repo):
    (repo / "svc.yaml").write_text(SVC)
    junit = ElementTree.fromstring(run("check", "--no-cache", "--output-format", "junit").output)
    assert junit.tag == "testsuites" and junit.get("failures") == "3"
    (suite,) = junit.findall("testsuite")
    assert suite.get("name") == "svc.yaml"
    cases = suite.findall("testcase")
    assert [(c.get("name"), c.get("line")) for c in cases] == [("v6lint.SVC004", "6"), ("v6lint.SVC009", "7"),
                                                               ("v6lint.SVC001", "7")]
    assert cases[0].find("failure").get("type") == "SVC004"
    gitlab = json.loads(run("check", "--no-cache", "--output-format", "gitlab").output)
    assert [(g["check_name"], g["severity"], g["location"]) for g in gitlab] == [
        ("SVC004", "major", {"path": "svc.yaml", "lines": {"begin": 6, "end": 6}}),
        ("SVC009", "major", {"path": "svc.yaml", "lines": {"begin": 7, "end": 7}}),
        ("SVC001", "major", {"path": "svc.yaml", "lines": {"begin": 7, "end": 7}})]
    assert len({g["fingerprint"] for g in gitlab}) == 3
    assert gitlab[0]["description"].startswith("SVC004 [single-stack-two-families] Service web:")
    (repo / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n")
    empty = ElementTree.fromstring(run("check", "--no-cache", "--output-format", "junit").output)
    assert empty.get("failures") == "0" and empty.find("testsuite/testcase").get("name") == "No problems found"
    assert json.loads(run("check", "--no-cache", "--output-format", "gitlab").output) == []


def test_rule_as_json():
    one = json.loads(run("rule", "SVC004", "--output-format", "json").output)
    assert one["code"] == "SVC004" and one["name"] == "single-stack-two-families" and one["fix"] == "unsafe"
    assert one["maturity"] == "stable" and one["url"].endswith("#svc004-single-stack-two-families")
    every = json.loads(run("rule", "--all", "--output-format", "json").output)
    from v6lint.rules import ALL_RULES

    assert [r["code"] for r in every] == [r.code for r in ALL_RULES]
    assert run("rule", "NOPE", "--output-format", "json").exit_code == 2


def test_notebook_shapes_string_sources_cell_magics_and_escapes(repo):
    cells = [("code", ["%%sql\n", "SELECT 1"]),  # a cell magic: not Python, skipped
             ("code", "import socket\nip = socket.gethostbyname('db')\n"),  # source as one string
             ("code", ["from pyspark.sql import SparkSession\n",
                       "s = SparkSession.builder.master('k8s://https://x:443').config("
                       "'spark.kubernetes.driver.service.ipFamilies', 'ipv6').getOrCreate()  # caf\u00e9"])]
    ascii_nb = json.dumps(json.loads(notebook(cells)), indent=1) + "\n"  # ensure_ascii: \\u00e9
    (repo / "a.ipynb").write_text(ascii_nb)
    found = sorted((d["code"], d["cell"], d["range"]["start"]["line"]) for d in as_json())
    assert found == [("NET005", 2, 2), ("SPK003", 3, 2)]
    run("check", "--no-cache", "--fix", "--select", "SPK003")
    after = (repo / "a.ipynb").read_text()
    assert "caf\\u00e9" in after and after == ascii_nb.replace("'ipv6'", "'IPv6'")  # \\u escapes kept
    # a string literal whose escaping v6lint cannot reproduce byte for byte gets no fix
    odd = ascii_nb.replace("k8s://https://x:443", "k8s:\\/\\/https:\\/\\/x:443")
    (repo / "a.ipynb").write_text(odd)
    (spk003,) = as_json("--select", "SPK003")
    assert spk003["fix"] is None
