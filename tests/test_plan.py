"""`v6lint plan`: parse once, judge by the project's profile and by the target, group, order, render."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint.cli import main
from v6lint.plan import class_of, fix_of
from v6lint.rules import ALL_RULES, BY_CODE

STACK = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "spark-on-eks"
TFVARS = "terraform/data-stack.tfvars"


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


@pytest.fixture
def stack(tmp_path, monkeypatch):
    root = tmp_path / "stack"
    shutil.copytree(STACK, root)
    git_repo(root)
    monkeypatch.chdir(root)
    return root


def plan(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["plan", *args], catch_exceptions=False)
    return result.exit_code, result.output


def plan_json(*args) -> dict:
    code, out = plan("--output-format", "json", *args)
    assert code == 0, out
    return json.loads(out)


def test_spark_on_eks_to_ipv6_field_by_field(stack):
    data = plan_json("--to", "ipv6")
    assert data["version"] == 1 and data["target"] == "ipv6"
    assert data["summary"] == {"projects": 1, "units": 3, "findings": 4, "new": 4,
                               "classes": {"rejected": 0, "breaks": 3, "degrades": 1},
                               "fixes": {"safe": 3, "unsafe": 0, "manual": 1}}
    (project,) = data["projects"]
    assert project["root"] == "."
    assert project["current"] == {"ip_family": "ipv4", "source": f"{TFVARS}:4"}
    assert project["target"] == "ipv6"
    assert project["platform"] == {"platform": None, "source": None}
    assert project["summary"] == {k: v for k, v in data["summary"].items() if k not in ("projects", "units")}
    assert project["not_judged"] == []
    units = project["units"]
    # The switch first (nothing must change before it here): the tfvars flag that says IPv4, then the Spark jobs.
    assert [(u["step"], u["path"], u["kind"], u["phase"]) for u in units] == [
        (1, "terraform", "terraform stack", "switch"),
        (2, "examples/pyspark-pi-job.yaml", "spark job", "workloads"),
        (3, "examples/taxi-trip.yaml", "spark job", "workloads"),
    ]
    (switch,) = units[0]["findings"]
    assert switch == {
        "code": "PRF001", "name": "conflicting-cluster-profile", "class": "degrades", "fix": "manual",
        "phase": "switch", "new": True, "severity": "warning", "rejected_by": "",
        "message": "`enable_ipv6 = false` says the cluster is IPv4, but the profile is IPv6 per plan --to ipv6; "
                   "make the sources agree (or set cluster.ip-family in the v6lint config)",
        "path": TFVARS, "line": 4, "column": 15, "end_line": 4, "end_column": 20,
        "url": BY_CODE["PRF001"].url}
    jobs = [f for u in units[1:] for f in u["findings"]]
    assert [(f["code"], f["path"], f["line"], f["class"], f["fix"], f["phase"], f["new"], f["severity"])
            for f in jobs] == [
        ("SPK001", "examples/pyspark-pi-job.yaml", 15, "breaks", "safe", "workloads", True, "error"),
        ("SPK001", "examples/taxi-trip.yaml", 10, "breaks", "safe", "workloads", True, "error"),
        ("SPK001", "examples/taxi-trip.yaml", 27, "breaks", "safe", "workloads", True, "error"),
    ]
    assert "pyspark-pi-karpenter" in jobs[0]["message"] and "nightly" in jobs[2]["message"]
    assert units[2]["summary"] == {"findings": 2, "new": 2, "classes": {"rejected": 0, "breaks": 2, "degrades": 0},
                                   "fixes": {"safe": 2, "unsafe": 0, "manual": 0}}
    # Nothing changed on disk, and today's check is clean (these findings exist only under IPv6).
    assert "enable_ipv6 = false" in (stack / TFVARS).read_text()


def test_spark_on_eks_with_platform_and_preview_adds_the_imds_findings(stack):
    data = plan_json("--to", "ipv6", "--platform", "aws", "--preview")
    codes = [(f["code"], f["path"], f["line"]) for u in data["projects"][0]["units"] for f in u["findings"]]
    assert ("SPK005", "examples/pyspark-pi-job.yaml", 25) in codes
    assert data["projects"][0]["platform"] == {"platform": "aws", "source": "--platform"}


def test_text_plan_is_short_and_ordered(stack):
    code, out = plan("--to", "ipv6")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Plan: moving to IPv6"
    steps = [line.strip() for line in lines if re.match(r"\s+\d+\. ", line)]
    assert steps == ["1. the switch: 1 unit(s) (terraform stack): 1 degrades; fixes: 1 manual",
                     "2. workloads: 2 unit(s) (spark job): 3 breaks at run time; fixes: 3 safe"]
    assert f"PRF001 x1 degrades, manual, new: `enable_ipv6 = false` says the cluster is IPv4" in out
    assert "SPK001 x3 breaks at run time, safe, new: " in out
    assert "3 fixable with `v6lint plan --to ipv6 --fix`, 0 more with --unsafe-fixes, 1 manual." in out
    assert len(lines) < 25


def test_findings_present_today_are_kept_and_not_new(tmp_path, monkeypatch):
    root = git_repo(tmp_path / "p")
    (root / ".v6lint.toml").write_text('[cluster]\nip-family = "ipv4"\n')
    (root / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n"
                                   "  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4, IPv6]\n")
    monkeypatch.chdir(root)
    data = plan_json("--to", "ipv6")
    found = {(f["code"], f["new"], f["class"], f["fix"]) for u in data["projects"][0]["units"]
             for f in u["findings"]}
    # SVC004 is wrong today and under IPv6 (kept, not new); SVC009 says another thing under each
    # family (IPv6 not served today, IPv4 not served then): new.
    assert ("SVC004", False, "rejected", "unsafe") in found
    assert ("SVC009", True, "rejected", "unsafe") in found
    assert data["projects"][0]["units"][0]["kind"] == "manifests"


def test_a_project_with_no_family_is_judged_against_the_target_all_new(tmp_path, monkeypatch):
    root = git_repo(tmp_path / "p")
    (root / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n"
                                   "  ipFamilies: [IPv4]\n")
    monkeypatch.chdir(root)
    data = plan_json("--to", "ipv6")
    assert data["projects"][0]["current"] == {"ip_family": None, "source": None}
    assert [(f["code"], f["new"]) for u in data["projects"][0]["units"] for f in u["findings"]] == [("SVC009", True)]
    assert "no source says the family today" in plan("--to", "ipv6")[1]


def test_two_projects_two_plans_each_against_its_own_profile(tmp_path, monkeypatch):
    spark = tmp_path / "repo" / "spark"
    shutil.copytree(STACK, spark)
    git_repo(spark)
    web = git_repo(tmp_path / "repo" / "web")
    (web / ".v6lint.toml").write_text('[cluster]\nip-family = "dual"\n')
    (web / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
                                  "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n")
    monkeypatch.chdir(tmp_path / "repo")
    data = plan_json("--to", "ipv6", "spark", "web")
    assert [(p["root"], p["current"]["ip_family"]) for p in data["projects"]] == [("spark", "ipv4"), ("web", "dual")]
    spark_plan, web_plan = data["projects"]
    assert {f["code"] for u in spark_plan["units"] for f in u["findings"]} == {"PRF001", "SPK001"}
    assert spark_plan["current"]["source"] == f"spark/{TFVARS}:4"
    web_findings = [(f["code"], f["new"], f["class"]) for u in web_plan["units"] for f in u["findings"]]
    assert ("SVC010", True, "rejected") in web_findings and ("SVC009", True, "rejected") in web_findings
    assert all(f["path"].startswith("web/") for u in web_plan["units"] for f in u["findings"])
    assert data["summary"]["projects"] == 2
    assert data["summary"]["findings"] == spark_plan["summary"]["findings"] + web_plan["summary"]["findings"]


def test_fix_applies_the_safe_fixes_and_prints_what_remains_manual(stack):
    result = subprocess.run([str(Path(sys.executable).parent / "v6lint"), "plan", "--to", "ipv6", "--fix"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)  # as in CI
    code, out = result.returncode, result.stdout
    assert code == 0 and result.stderr == ""
    assert "after --fix applied 3 fixes" in out
    # exactly what it changed (positions as before the fixes), then what remains
    assert out.split("\n\n")[-1].splitlines() == [
        "Applied 3 fix(es) in 2 file(s):",
        "  examples/pyspark-pi-job.yaml:15: SPK001 Add `spark.kubernetes.driver.service.ipFamilies: IPv6` and the SingleStack "
        "policy",
        "  examples/taxi-trip.yaml:10: SPK001 Add `spark.kubernetes.driver.service.ipFamilies: IPv6` and the SingleStack "
        "policy",
        "  examples/taxi-trip.yaml:27: SPK001 Add `spark.kubernetes.driver.service.ipFamilies: IPv6` and the SingleStack "
        "policy",
        "Remains manual (1):",
        f"  {TFVARS}:4: PRF001 [degrades] `enable_ipv6 = false` says the cluster is IPv4, but the profile is IPv6 "
        f"per plan --to ipv6; make the sources agree (or set cluster.ip-family in the v6lint config)"]
    job = (stack / "examples" / "taxi-trip.yaml").read_text()
    assert job.count("spark.kubernetes.driver.service.ipFamilies") == 2
    assert "enable_ipv6 = false" in (stack / TFVARS).read_text()  # the switch stays the user's
    data = plan_json("--to", "ipv6")
    assert data["summary"]["findings"] == 1 and data["summary"]["fixes"]["manual"] == 1


def test_fix_says_what_it_applied_alike_in_text_json_and_html(tmp_path, monkeypatch):
    said = {}
    for fmt in ("text", "json", "html"):
        root = tmp_path / fmt
        shutil.copytree(STACK, root)
        git_repo(root)
        monkeypatch.chdir(root)
        _code, out = plan("--to", "ipv6", "--fix", "--output-format", fmt)
        if fmt == "json":
            data = json.loads(out)
            said[fmt] = [f"{a['path']}:{a['line']}: {a['code']} {a['fix']}" for a in data["applied"]]
            assert data["summary"]["findings"] == 1  # the plan is what remains
        elif fmt == "html":
            assert re.search(r"<h2>Applied by --fix: <span data-applied>3</span></h2>", out)
            said[fmt] = [f"{path}:{line}: {code} {html.unescape(fix)}" for path, line, code, fix in re.findall(
                r"<tr><td>([^<:]+):(\d+):\d+</td><td>(\w+) [\w-]+</td><td>([^<]*)</td></tr>", out)]
        else:
            lines = out.splitlines()
            start = lines.index("Applied 3 fix(es) in 2 file(s):") + 1
            said[fmt] = [line.strip() for line in lines[start:start + 3]]
    assert said["text"] == said["json"] == said["html"] and len(said["text"]) == 3
    assert plan_json("--to", "ipv6").get("applied") is None  # not a --fix run: no such key


def test_unsafe_fixes_need_fix(stack):
    code, out = plan("--to", "ipv6", "--unsafe-fixes")
    assert code == 2


def test_class_is_derived_from_rejected_by_and_severity():
    # Only error rules name who rejects them, and the class follows from that and the severity.
    assert all(r.severity == "error" for r in ALL_RULES if r.rejected_by)
    assert BY_CODE["SVC009"].rejected_by == "the API server" and BY_CODE["EKS003"].rejected_by == "eksctl"
    assert BY_CODE["SPK001"].rejected_by == ""  # the job is accepted; its driver Service fails at run time
    from v6lint.diagnostics import Diagnostic, Edit, Fix
    diag = Diagnostic("SVC009", "x", "error", "m", "p", 0, 1)
    assert class_of(diag) == "rejected" and fix_of(diag) == "manual"
    diag = Diagnostic("SPK001", "x", "error", "m", "p", 0, 1, Fix("f", "safe", (Edit(0, 0, "a"),)))
    assert class_of(diag) == "breaks" and fix_of(diag) == "safe"
    assert class_of(Diagnostic("SPK005", "x", "warning", "m", "p", 0, 1)) == "degrades"


# --- HTML in a real browser ---------------------------------------------------------------------
HOSTILE = '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)"><script>fetch("http://127.0.0.1:9/")</script>'


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


_CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                 "--disable-extensions", "--no-pings", "--disable-breakpad", "--enable-logging=stderr", "--v=0"]


def _open(browser: str, page: Path, work: Path, *extra: str) -> tuple[str, list[str], list[str]]:
    """(DOM after load, console messages, URLs the page requested), from chromium's log and NetLog.
    The browser's own background requests carry no file:// isolation key; the page's do."""
    netlog = work / "net.json"
    profile = work / "profile"
    shutil.rmtree(profile, ignore_errors=True)
    done = subprocess.run([browser, *_CHROME_FLAGS, f"--user-data-dir={profile}", f"--log-net-log={netlog}", *extra,
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    log = json.loads(netlog.read_text())
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requested = [e["params"]["url"] for e in log["events"]
                 if names.get(e["type"]) == "URL_REQUEST_START_JOB"
                 and "file://" in str(e.get("params", {}).get("network_isolation_key", ""))]
    return done.stdout, console, requested


class _Summary(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, int] = {}
        self._key = None

    def handle_starttag(self, tag, attrs):
        self._key = dict(attrs).get("data-summary")

    def handle_data(self, data):
        if self._key:
            self.values[self._key] = int(data)
            self._key = None


def test_html_in_headless_chromium(tmp_path, monkeypatch):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's package with apt-get; it could not here)")
    root = tmp_path / "stack"
    shutil.copytree(STACK, root)
    git_repo(root)
    # Hostile input: an object name and a file name that would be markup if not escaped.
    (root / "k8s").mkdir()
    (root / "k8s" / "svc.yaml").write_text(
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: '{HOSTILE}'\nspec:\n  ipFamilies: [IPv4]\n")
    monkeypatch.chdir(root)
    page = tmp_path / "plan.html"
    code, _ = plan("--to", "ipv6", "--output-format", "html", "--output-file", str(page))
    assert code == 0
    text = page.read_text()
    assert "<script" not in text and "<img" not in text and "http://127.0.0.1" in text  # escaped, kept as text
    assert not re.search(r"""(?:src|href)=["']?https?:""", text) and "@import" not in text
    data = plan_json("--to", "ipv6")

    # A page that requests something and logs an error is seen as such: the check can fail.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>')
    _dom, console, requested = _open(browser, control, tmp_path, "--dump-dom")
    assert requested == ["http://127.0.0.1:9/x.png"] and any('"boom"' in line for line in console)

    dom, console, requested = _open(browser, page, tmp_path, "--dump-dom")
    assert console == [] and requested == []
    summary = _Summary()
    summary.feed(dom)
    s = data["summary"]
    assert summary.values == {"findings": s["findings"], "new": s["new"],
                              **{f"class-{c}": n for c, n in s["classes"].items()},
                              **{f"fix-{f}": n for f, n in s["fixes"].items()}}
    assert s["classes"]["rejected"] == 1  # the hostile Service's IPv4 family
    assert "<svg" in dom and dom.count("<details") == len({f["code"] for p in data["projects"] for u in p["units"]
                                                           for f in u["findings"]})
    shot = tmp_path / "plan.png"
    _open(browser, page, tmp_path, f"--screenshot={shot}", "--window-size=1200,1500", "--hide-scrollbars")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


def _platform_repo(root: Path) -> Path:
    """A repository with an IPv4 tfvars switch, an eksctl config, a chart, a kustomization and a folder
    of manifests, each with a Service asking for IPv4."""
    git_repo(root)
    files = {
        "infra/terraform.tfvars": "enable_ipv6 = false\n",
        "infra/variables.tf": 'variable "enable_ipv6" {\n  type    = bool\n  default = false\n}\n',
        "infra/eksctl.yaml": "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: c\n"
                             "  region: us-west-2\nnodeGroups:\n  - name: ng-1\n    instanceType: m5.large\n",
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "apps/base/kustomization.yaml": "resources:\n  - svc.yaml\n",
    }
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {}\nspec:\n  ipFamilies: [IPv4]\n"
    files |= {"charts/web/templates/svc.yaml": service.format("web"), "apps/base/svc.yaml": service.format("api"),
              "apps/raw/svc.yaml": service.format("raw")}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_units_classes_and_order_cluster_switch_workloads(tmp_path, monkeypatch):
    monkeypatch.chdir(_platform_repo(tmp_path / "repo"))
    data = plan_json("--to", "ipv6", "--platform", "aws")
    units = [(u["step"], u["path"], u["kind"], u["phase"],
              [(f["code"], f["class"], f["fix"], f["rejected_by"], f["line"]) for f in u["findings"]])
             for u in data["projects"][0]["units"]]
    assert units == [
        (1, "infra", "manifests", "cluster", [("EKS002", "rejected", "manual", "eksctl", 7)]),
        (2, "infra", "terraform stack", "switch", [("PRF001", "degrades", "manual", "", 1)]),
        (3, "apps/base", "kustomization", "workloads", [("SVC009", "rejected", "unsafe", "the API server", 6)]),
        (4, "apps/raw", "manifests", "workloads", [("SVC009", "rejected", "unsafe", "the API server", 6)]),
        (5, "charts/web", "chart", "workloads", [("SVC009", "rejected", "unsafe", "the API server", 6)]),
    ]


CONTROLLER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: aws-load-balancer-controller
  namespace: kube-system
spec:
  selector:
    matchLabels: {app: aws-load-balancer-controller}
  template:
    metadata:
      labels: {app: aws-load-balancer-controller}
    spec:
      containers:
        - name: controller
          image: public.ecr.aws/eks/aws-load-balancer-controller:{version}
          args: [--cluster-name=shop]
"""
LB_SERVICES = """\
apiVersion: v1
kind: Service
metadata:
  name: orphan
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
spec:
  type: LoadBalancer
  ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata:
  name: dns
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack
spec:
  type: LoadBalancer
  ports: [{port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  ports: [{port: 80}]
"""


def _html_units(page: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<h3>\d+\. (.*?) <span class="phase">\((.*?); (.*?)\)</span>', page)


def test_an_old_load_balancer_controller_is_upgraded_before_the_flip(tmp_path, monkeypatch):
    root = _platform_repo(tmp_path / "repo")
    (root / "platform").mkdir()
    (root / "platform/lbc.yaml").write_text(CONTROLLER.replace("{version}", "v2.4.7"))
    (root / "apps/raw/lb.yaml").write_text(LB_SERVICES)
    monkeypatch.chdir(root)
    data = plan_json("--to", "ipv6", "--platform", "aws")
    units = [(u["path"], u["kind"], u["phase"], u.get("pinned"), [(f["code"], f["path"], f["line"], f["phase"])
                                                                 for f in u["findings"]])
             for u in data["projects"][0]["units"]]
    # Before the flip: the eksctl config, and the controller pin (v2.4.7 predates the v2.5.0 Service
    # webhook and v2.10.0's UDP on dual-stack NLBs); the Services these findings are on come after.
    assert units[:2] == [
        ("infra", "manifests", "cluster", None, [("EKS002", "infra/eksctl.yaml", 7, "cluster")]),
        ("platform/lbc.yaml", "load balancer controller", "cluster",
         {"version": "2.4.7", "at": "platform/lbc.yaml:15"},
         [("LB006", "apps/raw/lb.yaml", 6, "cluster"), ("LB007", "apps/raw/lb.yaml", 18, "cluster")]),
    ]
    assert [u[:3] for u in units[2:]] == [("infra", "terraform stack", "switch"), ("apps/base", "kustomization",
                                          "workloads"), ("apps/raw", "manifests", "workloads"),
                                         ("charts/web", "chart", "workloads")]
    workloads = {(f[0], f[2]) for u in units[2:] for f in u[4]}
    assert ("LB011", 28) in workloads  # its fix (the controller's annotations) works with v2.4.7 too
    assert not {c for c, _ in workloads} & {"LB006", "LB007"}
    # the text and the HTML give the same order
    _code, out = plan("--to", "ipv6", "--platform", "aws")
    steps = [line.strip().split(":")[0] for line in out.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert steps == ["1. before the cluster flips", "2. the switch", "3. workloads"]
    assert ("     upgrade the AWS Load Balancer Controller v2.4.7 pinned at platform/lbc.yaml:15 (LB006, LB007 "
            "depend on it)") in out.splitlines()
    assert out.index("LB006 x1") < out.index("2. the switch") < out.index("LB011 x1")
    _code, page = plan("--to", "ipv6", "--platform", "aws", "--output-format", "html")
    assert _html_units(page) == [(u[0], u[1], {"cluster": "before the cluster flips", "switch": "the switch",
                                               "workloads": "workloads"}[u[2]]) for u in units]
    assert "Upgrade the AWS Load Balancer Controller v2.4.7 pinned at platform/lbc.yaml:15" in page
    # A current controller causes none of them: no controller step, LB007 is a workload fix.
    (root / "platform/lbc.yaml").write_text(CONTROLLER.replace("{version}", "v2.11.0"))
    data = plan_json("--to", "ipv6", "--platform", "aws")
    kinds = [(u["kind"], u["phase"]) for u in data["projects"][0]["units"]]
    assert ("load balancer controller", "cluster") not in kinds
    found = {(f["code"], f["phase"], f["fix"]) for u in data["projects"][0]["units"] for f in u["findings"]}
    assert ("LB007", "workloads", "safe") in found and not any(c == "LB006" for c, _p, _f in found)


def test_fix_with_unsafe_fixes_leaves_only_the_manual_steps(tmp_path, monkeypatch):
    root = _platform_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    # unsafe fixes only with --unsafe-fixes, also where the config turns fix.unsafe on for `check`
    (root / ".v6lint.toml").write_text("[fix]\nunsafe = true\n")
    code, out = plan("--to", "ipv6", "--platform", "aws", "--fix")
    assert "ipFamilies: [IPv4]" in (root / "apps/raw/svc.yaml").read_text()
    assert "Applied 0 fix(es) in 0 file(s).\n3 unsafe fix(es) not applied: unsafe fixes change behaviour; review " \
           "them, then rerun with --unsafe-fixes:\n" in out
    assert "Remains manual (2):" in out
    code, out = plan("--to", "ipv6", "--platform", "aws", "--fix", "--unsafe-fixes")
    assert code == 0 and "after --fix applied 3 fixes" in out
    assert out.endswith("Applied 3 fix(es) in 3 file(s):\n"
                        "  apps/base/svc.yaml:6: SVC009 Use the cluster's family `IPv6`\n"
                        "  apps/raw/svc.yaml:6: SVC009 Use the cluster's family `IPv6`\n"
                        "  charts/web/templates/svc.yaml:6: SVC009 Use the cluster's family `IPv6`\n"
                        "Remains manual (2):\n"
                        "  infra/eksctl.yaml:7: EKS002 [rejected] ClusterConfig c: unmanaged node group ng-1 on an "
                        "IPv6 cluster; eksctl supports only managed node groups there\n"
                        "  infra/terraform.tfvars:1: PRF001 [degrades] `enable_ipv6 = false` says the cluster is IPv4, "
                        "but the profile is IPv6 per plan --to ipv6; make the sources agree (or set cluster.ip-family "
                        "in the v6lint config)\n")
    for name in ("apps/raw/svc.yaml", "apps/base/svc.yaml", "charts/web/templates/svc.yaml"):
        assert "IPv4" not in (root / name).read_text()


def test_help_documents_plan():
    out = CliRunner().invoke(main, ["plan", "--help"]).output
    assert "--to [ipv6|dual]" in out and "--output-format [text|json|html]" in out and "--unsafe-fixes" in out
    assert "v6lint plan --to ipv6 ." in CliRunner().invoke(main, ["--help"]).output
