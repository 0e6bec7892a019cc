"""A data-on-eks-like stack: the profile comes from its tfvars, and --fix makes the jobs IPv6-ready."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from click.testing import CliRunner

from v6lint.cli import main
from v6lint.project import build_profile
from v6lint.rule import Profile
from v6lint.sources import parse_source
from v6lint.source import SourceFile

STACK = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "spark-on-eks"
TFVARS = "terraform/data-stack.tfvars"


@pytest.fixture
def stack(tmp_path, monkeypatch):
    root = tmp_path / "stack"
    shutil.copytree(STACK, root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    monkeypatch.chdir(root)
    return root


def check(*args):
    result = CliRunner().invoke(main, ["check", "--output-format", "json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.output) if result.output.strip().startswith("[") else result.output


def flip_to_ipv6(root: Path) -> None:
    path = root / TFVARS
    path.write_text(path.read_text().replace("enable_ipv6 = false", "enable_ipv6 = true"))


def test_as_shipped_the_stack_is_ipv4_and_its_jobs_are_fine(stack):
    profile = CliRunner().invoke(main, ["profile", "--output-format", "json"]).output
    assert json.loads(profile)["ip_family"] == "ipv4"
    assert json.loads(profile)["source"] == f"{TFVARS}:4"
    code, found = check()
    assert code == 0 and found == []


def test_flipping_enable_ipv6_makes_every_job_report_what_it_lacks(stack):
    flip_to_ipv6(stack)
    code, found = check("--select", "SPK001,SPK005", "--platform", "aws")
    assert code == 1
    where = sorted((d["code"], d["path"], d["range"]["start"]["line"]) for d in found)
    # Not reported: the PySpark script's session (client mode: no driver Service; Pod Identity
    # credentials: no IMDS) and the nightly job's IMDS mode (it touches no AWS service).
    assert where == [
        ("SPK001", "examples/pyspark-pi-job.yaml", 15),
        ("SPK001", "examples/taxi-trip.yaml", 10),
        ("SPK001", "examples/taxi-trip.yaml", 27),
        ("SPK005", "examples/pyspark-pi-job.yaml", 25),
        ("SPK005", "examples/pyspark-pi-job.yaml", 35),
        ("SPK005", "examples/taxi-trip.yaml", 13),
        ("SPK005", "examples/taxi-trip.yaml", 18),
    ]
    assert {d["profile"]["source"] for d in found} == {f"{TFVARS}:4"}
    assert {d["profile"]["ip_family"] for d in found} == {"ipv6"}


def test_fix_leaves_no_spk001_or_spk005_and_every_file_parses(stack):
    flip_to_ipv6(stack)
    before = (stack / "examples/pyspark-pi-job.yaml").read_text()
    result = CliRunner().invoke(main, ["check", "--fix", "--unsafe-fixes", "--preview", "--platform", "aws"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    code, found = check("--select", "SPK001,SPK005", "--platform", "aws")
    assert code == 0 and found == []
    for path in stack.rglob("*"):
        if path.suffix in (".yaml", ".py", ".tf", ".tfvars"):
            assert parse_source(SourceFile(path.name, path.read_text(), abspath=str(path))).problem is None, path
    # The data-on-eks lines were uncommented in place, not added a second time.
    after = (stack / "examples/pyspark-pi-job.yaml").read_text()
    assert after == before.replace('    # "spark.kubernetes', '    "spark.kubernetes') \
        .replace("    # env:\n    #   - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n    #     value: IPv6\n",
                 "    env:\n      - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n        value: IPv6\n")


def test_one_file_is_judged_with_the_whole_projects_profile(stack):
    flip_to_ipv6(stack)
    _, whole = check()
    _, single = check("examples/taxi-trip.yaml")
    assert single == [d for d in whole if d["path"] == "examples/taxi-trip.yaml"]
    assert single and all(d["profile"]["source"] == f"{TFVARS}:4" for d in single if d["profile"])
    # from a subdirectory too: the project root is found upward (.git)
    sub = CliRunner().invoke(main, ["profile", "examples/taxi-trip.yaml"]).output
    assert f"IP family: ipv6 (per {TFVARS}:4)" in sub


def test_a_variable_default_counts_only_when_no_tfvars_sets_it(stack):
    (stack / TFVARS).write_text('name = "spark-on-eks"\n')
    out = CliRunner().invoke(main, ["profile"]).output
    assert "IP family: ipv4 (per terraform/variables.tf:15)" in out
    (stack / "terraform/variables.tf").write_text(
        (stack / "terraform/variables.tf").read_text().replace("default     = false", "default     = true"))
    assert "IP family: ipv6 (per terraform/variables.tf:15)" in CliRunner().invoke(main, ["profile"]).output


def test_conflicting_sources_are_prf001_at_the_weaker_one(stack):
    (stack / "eksctl.yaml").write_text("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a}\n"
                                       "kubernetesNetworkConfig:\n  ipFamily: IPv6\n")
    code, found = check("--select", "PRF001")
    assert [(d["code"], d["path"], d["range"]["start"]["line"]) for d in found] == [("PRF001", "eksctl.yaml", 5)]
    assert f"the profile is IPv4 per {TFVARS}:4" in found[0]["message"]
    out = CliRunner().invoke(main, ["profile"]).output
    assert "eksctl.yaml:5  ipFamily: IPv6   <- conflicts (PRF001)" in out


def test_config_outranks_terraform_and_the_flag_outranks_both(stack):
    (stack / ".v6lint.toml").write_text('[cluster]\nip-family = "dual"\n')
    assert "IP family: dual (per .v6lint.toml:2)" in CliRunner().invoke(main, ["profile"]).output
    _, found = check("--select", "PRF001")
    assert [d["path"] for d in found] == [TFVARS]
    _, flagged = check("--ip-family", "ipv6", "--select", "SPK001")
    assert {d["profile"]["source"] for d in flagged} == {"--ip-family"}


@pytest.mark.parametrize("name, text, family, line", [
    ("eksctl.yaml", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a}\n"
                    "kubernetesNetworkConfig:\n  ipFamily: ipv6\n", "ipv6", 5),
    ("kubeadm.yaml", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n"
                     "  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n  serviceSubnet: 10.96.0.0/16,fd00:10:96::/112\n",
     "dual", 4),
    ("kcp.yaml", "apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: KubeadmControlPlane\nmetadata: {name: a}\n"
                 "spec:\n  kubeadmConfigSpec:\n    clusterConfiguration:\n      networking:\n"
                 "        podSubnet: fd00:10:244::/56\n", "ipv6", 8),
    ("kind.yaml", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: dual\n", "dual", 4),
    ("aws-node.yaml", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: aws-node, namespace: kube-system}\n"
                      "spec:\n  template:\n    spec:\n      containers:\n        - name: aws-node\n          env:\n"
                      "            - name: ENABLE_IPv6\n              value: \"true\"\n", "ipv6", 11),
    ("main.tf", 'resource "aws_eks_cluster" "this" {\n  name = "a"\n  kubernetes_network_config {\n'
                '    ip_family = "ipv6"\n  }\n}\n', "ipv6", 4),
    ("prod.tfvars.json", '{\n  "cluster_ip_family": "ipv6"\n}\n', "ipv6", 2),
])
def test_every_profile_source_kind(tmp_path, monkeypatch, name, text, family, line):
    (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    out = json.loads(CliRunner().invoke(main, ["profile", "--output-format", "json"]).output)
    assert (out["ip_family"], out["source"]) == (family, f"{name}:{line}")


def test_imds_fact_needs_a_job_that_sets_ipv6(tmp_path):
    """SPK007 reads 'jobs use the IPv6 IMDS endpoint' from the project: a commented-out env, IPv4, or the
    name in another variable do not count (the data-on-eks examples ship the lines commented out)."""
    job = ('apiVersion: "sparkoperator.k8s.io/v1beta2"\nkind: SparkApplication\nmetadata:\n  name: pi\n'
           'spec:\n  type: Python\n  mode: cluster\n  driver:\n    cores: 1\n{env}  executor:\n    cores: 1\n')
    commented = ("    # env:\n    #   - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n    #     value: IPv6\n")
    ipv4 = "    env:\n      - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n        value: IPv4\n"
    ipv6 = "    env:\n      - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n        value: ipv6\n"
    for env, expected in ((commented, []), (ipv4, []), (ipv6, ["job.yaml:1"])):
        (tmp_path / "job.yaml").write_text(job.format(env=env))
        facts = build_profile(tmp_path, [], Profile("ipv6", "--ip-family")).facts
        assert [ref.rsplit("/", 1)[-1] for ref in facts.imds_ipv6_jobs] == expected, env


def test_the_editor_memo_parses_only_what_changed(tmp_path, monkeypatch):
    """The language server re-profiles on a tfvars keystroke; files whose bytes (or unsaved text) did
    not change are not parsed again, and the facts are the same as a fresh scan's."""
    from v6lint import project

    (tmp_path / "stack.tfvars").write_text("enable_ipv6 = false\n")
    (tmp_path / "main.tf").write_text('module "eks" {\n  source = "terraform-aws-modules/eks/aws"\n}\n')
    (tmp_path / "cluster.yaml").write_text("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n"
                                           "metadata: {name: c}\nkubernetesNetworkConfig: {ipFamily: IPv6}\n")
    files = sorted(tmp_path.iterdir())
    calls = []
    real_parse = project.parse_source
    monkeypatch.setattr(project, "parse_source", lambda source: calls.append(source.path) or real_parse(source))
    memo = project.ParseMemo()

    def sources(collector):
        return [(s.ip_family, s.kind, s.what) for s in collector.sources]

    first = project.collect(files, memo=memo)
    assert len(calls) == 3 and (memo.read, memo.parsed, memo.extracted) == (3, 3, 3)
    calls.clear()
    assert sources(project.collect(files, memo=memo)) == sources(first) and calls == []
    assert (memo.read, memo.parsed, memo.extracted) == (0, 0, 0)  # unchanged on disk: not even read
    overlay = {str((tmp_path / "stack.tfvars").resolve()): "enable_ipv6 = true\n"}
    edited = project.collect(files, overlay, memo=memo)
    # only the edited file's facts are computed again; the others' shares are kept, not their trees
    assert [Path(c).name for c in calls] == ["stack.tfvars"] and (memo.read, memo.parsed, memo.extracted) == (0, 1, 1)
    assert sources(edited) == sources(project.collect(files, overlay))  # same facts as without the memo
    assert ("ipv6", "tfvars", "enable_ipv6 = true") in sources(edited)
    calls.clear()
    (tmp_path / "main.tf").write_text('module "eks" {\n  source = "terraform-aws-modules/eks/aws"\n}\n# saved\n')
    project.collect(files, overlay, memo=memo)  # changed on disk (size and mtime): read and parsed again
    assert [Path(c).name for c in calls] == ["main.tf"] and (memo.read, memo.parsed, memo.extracted) == (1, 1, 1)


def test_the_editor_memo_parses_a_skipped_file_once_it_may_add_evidence(tmp_path, monkeypatch):
    """A Service with only an AWS annotation is left unparsed while three earlier pieces of that
    evidence are held; when an edit takes one of them away, the memo's share of the skipped file
    is not enough: it is parsed, and the facts equal a fresh scan's."""
    from v6lint import project

    service = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  annotations:\n"
               "    service.beta.kubernetes.io/aws-load-balancer-type: external\nspec:\n  type: LoadBalancer\n")
    for i in range(4):
        (tmp_path / f"svc{i}.yaml").write_text(service.format(i=i))
    files = sorted(tmp_path.iterdir())
    monkeypatch.chdir(tmp_path)
    memo = project.ParseMemo()

    def evidence(collector):
        return [p.location for p in collector.platforms]

    first = project.collect(files, memo=memo)
    assert (memo.read, memo.parsed, memo.extracted) == (4, 3, 4)  # svc3.yaml: skipped
    assert evidence(first) == ["svc0.yaml:6", "svc1.yaml:6", "svc2.yaml:6"]
    overlay = {str((tmp_path / "svc0.yaml").resolve()): "apiVersion: v1\nkind: Service\nmetadata:\n  name: s0\n"}
    edited = project.collect(files, overlay, memo=memo)
    # svc0 (the edit: no trigger left, not parsed) and svc3 (read and parsed now)
    assert (memo.read, memo.parsed, memo.extracted) == (1, 1, 2)
    assert evidence(edited) == ["svc1.yaml:6", "svc2.yaml:6", "svc3.yaml:6"] == evidence(project.collect(files, overlay))


def test_profile_read_by_workers_equals_one_process(tmp_path, monkeypatch):
    """Each file's share is computed in a worker and the shares are folded in file order: the same
    profile and facts as one process reading the files in turn (evidence skipping included)."""
    from v6lint import project
    from v6lint.rule import Profile

    service = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  annotations:\n"
               "    service.beta.kubernetes.io/aws-load-balancer-type: external\nspec:\n  type: LoadBalancer\n")
    account = ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a{i}\n  annotations:\n"
               "    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/r{i}\n")
    for i in range(260):  # evidence-only Services (most skipped), IRSA accounts, Terraform stacks
        folder = tmp_path / f"team-{i % 7}"
        folder.mkdir(exist_ok=True)
        if i % 3:
            (folder / f"svc{i}.yaml").write_text((service if i % 5 else account).format(i=i))
        else:
            (folder / f"stack{i}.tf").write_text(f'variable "enable_ipv6" {{\n  default = {str(i % 2 == 0).lower()}\n}}\n'
                                                 f'module "m{i}" {{\n  source = "./x"\n  v = var.other{i}\n}}\n')
    (tmp_path / "team-3" / "env.tfvars").write_text("ip_family = \"ipv6\"\n")
    (tmp_path / "team-5" / "values.yaml").write_text("controller: {}\nwebhook:\n  enable: false\n# spark\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    one = project.build_profile(tmp_path, [], Profile(), jobs=1)
    workers = project.build_profile(tmp_path, [], Profile(), jobs=2)
    from v6lint.cache import _stable  # the facts' text form (parse-tree nodes compare by identity)

    assert one == workers and one.platform_sources == workers.platform_sources
    assert _stable(one.facts) == _stable(workers.facts)
    assert len(one.sources) > 80 and one.facts.webhook_disabled == "team-5/values.yaml:3"
    assert len(one.facts.irsa_service_accounts) > 30 and one.facts.incomplete_stacks


def test_shares_folded_per_chunk_equal_shares_folded_per_file(tmp_path):
    """Workers fold their chunk's shares before sending them (workers._scan): merging is associative,
    so the project's facts are the same for any cut into chunks, first-wins and last-wins facts included."""
    from itertools import combinations

    from v6lint import project
    from v6lint.cache import _stable

    texts = {
        "a/kubeadm.yaml": "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.29.0\n"
                          "networking:\n  podSubnet: 10.0.0.0/16\n",
        "b/kubeadm.yaml": "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.0\n"
                          "networking:\n  podSubnet: fd00::/56\n",
        "a/values.yaml": "controller: {}\nwebhook:\n  enable: false\n# spark\n",
        "c/values.yaml": "controller: {}\nwebhook:\n  enable: false\n# spark\n",
        "a/main.tf": 'variable "enable_ipv6" {\n  type = bool\n  default = true\n}\nmodule "m" {\n  source = "./x"\n'
                     '  v = var.other\n}\n',
        "a/more.tf": 'variable "enable_ipv6" {\n  type = string\n}\nvariable "other" {}\n',
        "a/aws-node.yaml": "kind: DaemonSet\napiVersion: apps/v1\nmetadata:\n  name: aws-node\nspec:\n  template:\n"
                           "    spec:\n      containers:\n        - name: aws-node\n          env:\n"
                           "            - name: ENABLE_PREFIX_DELEGATION\n              value: \"true\"\n",
        "b/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n  annotations:\n"
                     "    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/a\n",
        "c/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n  annotations:\n"
                     "    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/b\n",
        "c/ing.yaml": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n"
                      "    alb.ingress.kubernetes.io/group.name: g\n    alb.ingress.kubernetes.io/ip-address-type: dualstack\n",
    }
    shares = []
    for name, text in texts.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        shares.append(project.file_facts(path, str(path), text)[0])

    def folded(chunks):
        whole = project._Collector()
        for chunk in chunks:
            fold = project._Collector()
            for share in chunk:
                fold.merge(share)
            whole.merge(fold)
        whole.finish()
        return _stable([whole.sources, whole.platforms, whole.facts])

    one = folded([[share] for share in shares])
    whole = project._Collector()
    for share in shares:
        whole.merge(share)
    whole.finish()
    facts = whole.facts
    assert facts.kubeadm_pod_subnet[0] == "10.0.0.0/16" and facts.webhook_disabled.endswith("c/values.yaml:3")
    assert facts.irsa_service_accounts["s"].endswith("b/sa.yaml:1") and facts.prefix_delegation
    assert facts.variables[str(tmp_path / "a")]["enable_ipv6"].type == "string" and facts.ingress_groups["g"]
    for cuts in [c for k in (1, 2, 3) for c in combinations(range(1, len(shares)), k)]:
        bounds = [0, *cuts, len(shares)]
        assert folded([shares[a:b] for a, b in zip(bounds, bounds[1:])]) == one, cuts


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["var", "module", ".", "x", "_", "é", "1", "-", " ", "(", "\n", "${", "var.a", "ü"]),
                max_size=14).map("".join))
def test_terraform_references_are_the_words_at_a_word_boundary(text):
    """project._references finds what `\\b((?:var|module)\\.name)` finds (re's Unicode word characters)."""
    import re

    from v6lint.project import _references

    assert list(_references(text)) == re.findall(r"\b((?:var|module)\.[A-Za-z_][A-Za-z0-9_-]*)", text)
