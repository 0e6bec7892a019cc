"""Trust on real repositories, engine side (issue 12): the platform in the profile, one profile per
project root, Kustomize patches as partial objects, templates that are only templates when they do
not parse, --fix that converges across files, saying what was not checked, and preview/platform
gating through the real command line."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint.cli import main
from v6lint.kustomize import builder
from v6lint.rules import ALL_RULES, BY_CODE, BY_NAME
from v6lint.source import SourceFile
from v6lint.sources import parse_source
from v6lint.yaml_source import parse_yaml

SERVICE_V4 = """\
apiVersion: v1
kind: Service
metadata:
  name: checkout
  namespace: shop
spec:
  selector:
    app: checkout
  ipFamilies: [IPv4]
  ports:
    - port: 80
      targetPort: 8080
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check_json(*args: str) -> list[dict]:
    result = run("check", "--no-cache", "--output-format", "json", *args)
    return json.loads(result.output)


def where(found: list[dict]) -> list[tuple[str, str, int]]:
    return sorted((d["code"], d["path"], d["range"]["start"]["line"]) for d in found)


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- A. platform ---------------------------------------------------------------------------------
EKS_MODULE = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"

  cluster_name    = "payments"
  cluster_version = "1.30"
}
"""
KIND = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: ipv6\n"
KUBEADM = ("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n"
           "  podSubnet: fd00:10:244::/56\n")


@pytest.mark.parametrize("name, text, platform, line", [
    ("main.tf", EKS_MODULE, "aws", 1),
    ("eks.tf", 'resource "aws_eks_cluster" "this" {\n  name = "a"\n}\n', "aws", 1),
    ("data.tf", 'provider "aws" {}\n\ndata "aws_eks_cluster" "this" {\n  name = var.cluster\n}\n', "aws", 3),
    ("gke.tf", 'resource "google_container_cluster" "primary" {\n  name = "a"\n}\n', "other", 1),
    ("cluster.yaml", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a, region: eu-west-1}\n",
     "aws", 1),
    ("aws-node.yaml", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: aws-node\n  namespace: kube-system\n",
     "aws", 1),
    ("nodeclass.yaml", "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\n",
     "aws", 1),
    ("lbc.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: aws-load-balancer-controller\n", "aws", 1),
    ("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n"
                 "    service.beta.kubernetes.io/aws-load-balancer-type: external\nspec:\n  type: LoadBalancer\n",
     "aws", 6),
    ("sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: spark\n  annotations:\n"
                "    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/spark\n", "aws", 6),
    ("kind.yaml", KIND, "other", 1),
    ("kubeadm.yaml", KUBEADM, "other", 1),
    ("kubeadm-aws.yaml", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer:\n"
                         "  extraArgs:\n    cloud-provider: aws\n", "aws", 1),
    ("capi.yaml", "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata: {name: a}\nspec:\n"
                  "  infrastructureRef:\n    apiVersion: infrastructure.cluster.x-k8s.io/v1beta1\n"
                  "    kind: DockerCluster\n    name: a\n", "other", 1),
    ("capa.yaml", "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata: {name: a}\n",
     "aws", 1),
])
def test_every_platform_evidence_kind(tmp_path, monkeypatch, name, text, platform, line):
    write(tmp_path / name, text)
    monkeypatch.chdir(tmp_path)
    out = json.loads(run("profile", "--output-format", "json").output)
    assert (out["platform"], out["platform_source"]) == (platform, f"{name}:{line}")
    assert out["platform_sources"][0]["location"] == f"{name}:{line}"


def test_no_evidence_or_an_external_cloud_provider_leaves_the_platform_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "kubeadm.yaml", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                                     "controllerManager:\n  extraArgs:\n    - name: cloud-provider\n"
                                     "      value: external\n")
    write(tmp_path / "provider.tf", 'provider "aws" {\n  region = "eu-west-1"\n}\n')  # AWS provider alone: no EKS
    out = json.loads(run("profile", "--output-format", "json").output)
    assert (out["platform"], out["platform_sources"]) == (None, [])
    assert "Platform: unknown (no evidence found;" in run("profile").output


def test_a_cluster_definition_outranks_local_kind_and_a_tie_stays_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "hack/kind.yaml", KIND)  # the local test cluster
    write(tmp_path / "infra/main.tf", EKS_MODULE)  # production
    out = json.loads(run("profile", "--output-format", "json").output)
    assert (out["platform"], out["platform_source"]) == ("aws", "infra/main.tf:1")
    assert [(s["platform"], s["agrees"]) for s in out["platform_sources"]] == [("aws", True), ("other", False)]
    text = run("profile").output
    assert "Platform: aws (per infra/main.tf:1)" in text
    assert "hack/kind.yaml:1  kind Cluster   <- disagrees" in text
    # an AWS annotation does not outrank a kind cluster definition
    (tmp_path / "infra/main.tf").unlink()
    write(tmp_path / "svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n"
                                 "    service.beta.kubernetes.io/aws-load-balancer-scheme: internal\n")
    assert json.loads(run("profile", "--output-format", "json").output)["platform"] == "other"
    # two cluster definitions of equal strength that disagree: no guess
    write(tmp_path / "infra/gke.tf", 'resource "google_container_cluster" "a" {\n  name = "a"\n}\n')
    write(tmp_path / "infra/eks.tf", 'resource "aws_eks_cluster" "a" {\n  name = "a"\n}\n')
    out = json.loads(run("profile", "--output-format", "json").output)
    assert out["platform"] is None and len(out["platform_sources"]) == 4
    assert "Platform: unknown (evidence of equal strength disagrees;" in run("profile").output


def test_config_platform_wins_and_init_writes_the_detected_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # (the module takes its family from the variable the tfvars set: without that line it is IPv4 by default)
    write(tmp_path / "infra/main.tf", EKS_MODULE.replace('"1.30"\n', '"1.30"\n  cluster_ip_family = var.cluster_ip_family\n'))
    write(tmp_path / "infra/prod.tfvars", 'cluster_ip_family = "ipv6"\n')
    result = run("init")
    assert result.exit_code == 0
    assert result.output == ("Wrote .v6lint.toml (ip-family = ipv6, from infra/prod.tfvars:1; "
                             "platform = aws, from infra/main.tf:1)\n")
    config = (tmp_path / ".v6lint.toml").read_text()
    assert '# platform detected from infra/main.tf:1 (module source "terraform-aws-modules/eks/aws")\n' \
           'platform = "aws"\n' in config
    out = json.loads(run("profile", "--output-format", "json").output)
    assert (out["platform"], out["platform_source"]) == ("aws", ".v6lint.toml:9")
    (tmp_path / ".v6lint.toml").write_text('[cluster]\nplatform = "other"\n')
    out = json.loads(run("profile", "--output-format", "json").output)
    assert (out["platform"], out["platform_source"]) == ("other", ".v6lint.toml:2")


def test_init_without_evidence_leaves_a_commented_platform(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "svc.yaml", SERVICE_V4)
    assert run("init").output == "Wrote .v6lint.toml (no profile detected)\n"
    assert '# platform = "aws"   # aws | other\n' in (tmp_path / ".v6lint.toml").read_text()


# --- B. one profile per project root ----------------------------------------------------------------
@pytest.fixture
def siblings(tmp_path, monkeypatch):
    """A folder holding two work trees: an IPv4 stack and an IPv6 one, with the same Service."""
    for name, flag in (("legacy-stack", "false"), ("ipv6-stack", "true")):
        repo = git_repo(tmp_path / name)
        write(repo / "terraform/prod.tfvars", f'cluster_name = "{name}"\nenable_ipv6  = {flag}\n')
        write(repo / "k8s/checkout.yaml", SERVICE_V4)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_each_repository_is_judged_by_its_own_profile(siblings):
    out = json.loads(run("profile", "--output-format", "json").output)
    assert (out["ip_family"], out["sources"], out["nested_projects"]) == (None, [], ["ipv6-stack", "legacy-stack"])
    found = check_json(".", "--select", "SVC009")
    assert where(found) == [("SVC009", "ipv6-stack/k8s/checkout.yaml", 9)]
    assert found[0]["profile"] == {"ip_family": "ipv6", "source": "ipv6-stack/terraform/prod.tfvars:2"}
    # the same from inside either repository, and for both named together
    assert check_json("legacy-stack") == []
    assert where(check_json("ipv6-stack/k8s/checkout.yaml", "legacy-stack/k8s/checkout.yaml",
                            "--select", "SVC009")) == [("SVC009", "ipv6-stack/k8s/checkout.yaml", 9)]


def test_each_project_keeps_its_own_config_and_cache(siblings):
    write(siblings / "legacy-stack/.v6lint.toml", '[cluster]\nip-family = "ipv6"\n')
    found = check_json(".", "--select", "SVC009")
    assert {(d["path"], d["profile"]["source"]) for d in found} == {
        ("legacy-stack/k8s/checkout.yaml", "legacy-stack/.v6lint.toml:2"),
        ("ipv6-stack/k8s/checkout.yaml", "ipv6-stack/terraform/prod.tfvars:2")}
    cold = run("check", "--output-format", "json", ".").output
    from v6lint.cache import location

    assert location(siblings / "legacy-stack").is_dir() and location(siblings / "ipv6-stack").is_dir()
    assert not location(siblings).exists() and not list(siblings.rglob(".v6lint_cache"))
    assert run("check", "--output-format", "json", ".").output == cold  # warm: the same findings
    # a change in one project's profile invalidates only that project's cached results
    (siblings / "ipv6-stack/terraform/prod.tfvars").write_text('enable_ipv6 = false\n')
    assert where(json.loads(run("check", "--output-format", "json", "--select", "SVC009", ".").output)) == [
        ("SVC009", "legacy-stack/k8s/checkout.yaml", 9)]


def test_a_nested_work_tree_is_a_project_of_its_own(tmp_path, monkeypatch):
    outer = git_repo(tmp_path / "platform")
    write(outer / "envs/prod.tfvars", "enable_ipv6 = true\n")
    write(outer / "apps/checkout.yaml", SERVICE_V4)
    vendored = git_repo(outer / "vendor/legacy-chart")
    write(vendored / "ci/test.tfvars", "enable_ipv6 = false\n")
    write(vendored / "rendered/checkout.yaml", SERVICE_V4)
    monkeypatch.chdir(outer)
    assert where(check_json("--select", "SVC009,PRF001")) == [("SVC009", "apps/checkout.yaml", 9)]
    out = json.loads(run("profile", "--output-format", "json").output)
    assert [s["location"] for s in out["sources"]] == ["envs/prod.tfvars:1"]
    assert out["nested_projects"] == ["vendor/legacy-chart"]
    assert "Projects below, judged by their own profiles (`v6lint profile DIR`): vendor/legacy-chart" in \
        run("profile").output


def test_files_outside_any_project_do_not_read_the_projects_beside_them(siblings):
    write(siblings / "scratch/checkout.yaml", SERVICE_V4)
    found = check_json(".", "--select", "SVC009")
    assert where(found) == [("SVC009", "ipv6-stack/k8s/checkout.yaml", 9)]
    text = run("check", "--no-cache", "--select", "SVC009", ".").output
    assert "Not checked in .: 1 rule, because nothing in the project states the cluster's IP family (1 rule)." in text
    assert "Not checked in ipv6-stack" not in text and "Not checked in legacy-stack" not in text


# --- C. Kustomize patches -------------------------------------------------------------------------
PATCH_LB = "apiVersion: v1\nkind: Service\nmetadata:\n  name: storefront\nspec:\n  type: LoadBalancer\n"


@pytest.fixture
def overlay(tmp_path, monkeypatch):
    repo = git_repo(tmp_path / "shop")
    write(repo / "base/service.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: storefront\nspec:\n"
                                      "  selector:\n    app: storefront\n  ports:\n    - port: 80\n")
    write(repo / "base/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                            "resources:\n  - service.yaml\n")
    write(repo / "overlays/prod/service-lb.yaml", PATCH_LB)
    write(repo / "overlays/prod/legacy-patch.yaml", PATCH_LB.replace("storefront", "admin")
          + "  ipFamily: IPv4  # v6lint: ignore[SVC011]\n")
    write(repo / "overlays/prod/kustomization.yaml",
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n"
          "patches:\n  - path: service-lb.yaml\n    target:\n      kind: Service\n"
          "patchesStrategicMerge:\n  - legacy-patch.yaml\n")
    monkeypatch.chdir(repo)
    return repo


def test_kustomize_patches_are_not_judged_as_whole_objects(overlay):
    # (LB011 runs only on AWS; nothing in this overlay says where the cluster runs)
    # The overlay does not build (legacy-patch.yaml targets a Service the base does not have): one
    # notice says so, and the patches are still not judged as whole objects.
    (notice,) = check_json("--ip-family", "ipv6", "--platform", "aws")
    assert notice["code"] == "V6L909"
    assert ("failed to find unique target for patch" if builder() else "is on PATH") in notice["message"]
    assert check_json("--ip-family", "ipv6", "--platform", "aws", "overlays/prod/service-lb.yaml") == []
    # the same file, no longer listed as a patch, is a whole Service again
    (overlay / "overlays/prod/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n")
    assert where(check_json("--ip-family", "ipv6", "--platform", "aws", "--select", "LB011,SVC011,V6L001")) == [
        ("LB011", "overlays/prod/legacy-patch.yaml", 6),
        ("LB011", "overlays/prod/service-lb.yaml", 6)]


def test_json6902_patch_paths_count_and_inline_patches_are_ignored(overlay):
    (overlay / "overlays/prod/kustomization.yaml").write_text(
        "resources:\n  - ../../base\npatchesJson6902:\n  - target: {version: v1, kind: Service, name: storefront}\n"
        "    path: service-lb.yaml\npatches:\n  - patch: |-\n      - op: add\n        path: /spec/type\n"
        "        value: LoadBalancer\n")
    assert where(check_json("--ip-family", "ipv6", "--platform", "aws", "--select", "LB011")) == [
        ("LB011", "overlays/prod/legacy-patch.yaml", 6), ("V6L909", "overlays/prod/kustomization.yaml", 1)]


# --- D. templates -----------------------------------------------------------------------------------
WORKFLOW = """\
name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    if: ${{ github.event_name == 'push' }}
    steps:
      - run: helm upgrade shop ./chart --set image.tag=${{ github.sha }}
"""
ANSIBLE = """\
- name: render the kubeadm config
  hosts: control_plane
  tasks:
    - name: write it
      template:
        src: kubeadm.yaml.j2
        dest: "{{ kubeadm_config_path }}"
    - debug:
        msg: Pod subnet is {{ pod_subnet }}
"""
MULTILINE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
data:
  NOTES: "Get the address with
    {{ .Release.Name }} once it is ready"
"""


@pytest.mark.parametrize("text", [WORKFLOW, ANSIBLE, MULTILINE], ids=["workflow", "ansible", "multiline"])
def test_valid_yaml_with_braces_is_data(text):
    parsed = parse_yaml(SourceFile("f.yaml", text))
    assert parsed.problem is None and parsed.documents


@pytest.mark.parametrize("text, line", [
    ("kind: Service\nmetadata:\n  name: {{ .Release.Name }}\n", 3),  # composes, but as a mapping key
    ("{{- if .Values.enabled }}\nkind: Service\n{{- end }}\n", 1),
    ("{% if ipv6 %}\nipFamilies: [IPv6]\n{% endif %}\n", 1),
])
def test_a_file_that_is_not_yaml_is_a_template(text, line):
    parsed = parse_yaml(SourceFile("t.yaml", text))
    assert parsed.problem.code == "V6L901" and parsed.documents == []
    assert SourceFile("t.yaml", text).position(parsed.problem.start)[0] + 1 == line


def test_template_extensions_are_linted_when_they_parse_and_noticed_when_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "roles/app/templates/service.yaml.j2",
          "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"{{ app_name }}\"\nspec:\n  ipFamily: IPv6\n")
    write(tmp_path / "roles/app/templates/deploy.yaml.j2", "{% for port in ports %}\n- {{ port }}\n{% endfor %}\n")
    write(tmp_path / "infra/nodes.tf.tpl", 'resource "aws_eks_node_group" "{{ name }}" {\n  {{ settings }}\n}\n')
    write(tmp_path / "chart/templates/_helpers.tpl", '{{- define "chart.name" -}}\nshop\n{{- end }}\n')
    result = run("check", "--no-cache", "--output-format", "json", ".")
    found = json.loads(result.output)
    assert result.exit_code == 1
    assert where(found) == [("SVC011", "roles/app/templates/service.yaml.j2", 6),
                            ("V6L901", "infra/nodes.tf.tpl", 1),
                            ("V6L901", "roles/app/templates/deploy.yaml.j2", 1)]
    notices = {d["path"]: d for d in found if d["code"] == "V6L901"}
    assert notices["infra/nodes.tf.tpl"]["severity"] == "info"
    assert notices["infra/nodes.tf.tpl"]["message"].startswith("template (.tpl) that does not parse until rendered")
    # a template that parses also gets fixes
    run("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "SVC011", ".")
    fixed = (tmp_path / "roles/app/templates/service.yaml.j2").read_text()
    assert "ipFamily:" not in fixed and "ipFamilies" in fixed and '"{{ app_name }}"' in fixed


def test_a_template_that_parses_as_hcl_is_linted_as_terraform():
    source = SourceFile("vars.tfvars.j2", 'enable_ipv6 = true\n', abspath="/x/vars.tfvars.j2")
    parsed = parse_source(source)
    assert parsed.problem is None and parsed.documents[0].language == "hcl"


# --- E. fixes converge across files -----------------------------------------------------------------
JOB = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: nightly-etl
  namespace: spark-jobs
spec:
  type: Scala
  mode: cluster
  image: public.ecr.aws/data-on-eks/spark:3.5.1-scala2.12-java17
  mainClass: com.example.etl.Nightly
  mainApplicationFile: s3a://example-artifacts/jars/etl-assembly-1.4.0.jar
  sparkVersion: "3.5.1"
  driver:
    cores: 1
    memory: 2g
    serviceAccount: spark
  executor:
    instances: 4
    cores: 2
    memory: 4g
"""
NODECLASS = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: spark-compute
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: KarpenterNodeRole-spark
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: spark-on-eks
"""


@pytest.fixture
def spark_stack(tmp_path, monkeypatch):
    repo = git_repo(tmp_path / "spark-on-eks")
    write(repo / "terraform/prod.tfvars", 'region      = "eu-west-1"\nenable_ipv6 = true\n')
    write(repo / "jobs/nightly-etl.yaml", JOB)
    write(repo / "karpenter/spark-nodeclass.yaml", NODECLASS)
    monkeypatch.chdir(repo)
    return repo


def test_a_fix_that_creates_a_finding_in_another_file_is_followed_in_the_same_run(spark_stack):
    # Before: only the job has a finding; the node class needs IPv6 IMDS only once a job uses it.
    assert where(check_json("--select", "SPK005,SPK007")) == [("SPK005", "jobs/nightly-etl.yaml", 13),
                                                              ("SPK005", "jobs/nightly-etl.yaml", 17)]
    # SPK005's fix is unsafe (the SDK then uses only the IPv6 IMDS endpoint, which nodes serve only when enabled)
    safe = run("check", "--no-cache", "--diff", "--select", "SPK005,SPK007").output
    assert "+++" not in safe and safe.startswith("No safe fixes") and "--unsafe-fixes" in safe
    diff = run("check", "--no-cache", "--diff", "--unsafe-fixes", "--select", "SPK005,SPK007").output
    assert "+++ b/jobs/nightly-etl.yaml" in diff and "+++ b/karpenter/spark-nodeclass.yaml" in diff
    result = run("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "SPK005,SPK007")
    assert result.exit_code == 0 and result.output == "Fixed 3 problems.\nNo problems remain in 3 files.\n"
    assert (spark_stack / "karpenter/spark-nodeclass.yaml").read_text() == \
        NODECLASS + "  metadataOptions:\n    httpProtocolIPv6: enabled\n"
    assert (spark_stack / "jobs/nightly-etl.yaml").read_text().count("value: IPv6") == 2
    before = {p: p.read_text() for p in spark_stack.rglob("*.yaml")}
    again = run("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "SPK005,SPK007")
    assert again.output == "No problems found in 3 files.\n"
    assert {p: p.read_text() for p in spark_stack.rglob("*.yaml")} == before


def test_the_first_fix_run_reports_what_it_could_not_fix(spark_stack):
    result = run("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "SPK005,SPK007,NODE005", "--output-format", "concise")
    lines = result.output.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith("karpenter/spark-nodeclass.yaml:5:1: NODE005 [karpenter-max-pods-unset]")
    assert lines[1:] == ["Fixed 3 problems.", "Found 1 problem (1 info) in 1 of 3 files.",
                         "Judged against an IPv6 cluster per terraform/prod.tfvars:2 (1 finding depends on it; `v6lint profile` shows every source)."]
    again = run("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "SPK005,SPK007,NODE005", "--output-format", "concise")
    assert again.output.splitlines()[1:] == ["Found 1 problem (1 info) in 1 of 3 files.", "Judged against an IPv6 cluster per terraform/prod.tfvars:2 (1 finding depends on it; `v6lint profile` shows every source)."]


@pytest.fixture
def swap_rule():
    """Replace a rule in the catalog for one test (the CLI runs in this process)."""
    swapped = []

    def swap(code: str, **changes):
        index = next(i for i, r in enumerate(ALL_RULES) if r.code == code)
        original = ALL_RULES[index]
        changed = replace(original, **changes)
        ALL_RULES[index] = BY_CODE[code] = BY_NAME[original.name] = changed
        swapped.append((index, original))
        return changed

    yield swap
    for index, original in swapped:
        ALL_RULES[index] = BY_CODE[original.code] = BY_NAME[original.name] = original


# --- F. saying what was not checked -------------------------------------------------------------------
def test_without_a_profile_check_says_how_many_rules_were_skipped_and_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.chdir(git_repo(tmp_path / "app"))
    write(tmp_path / "app/k8s/checkout.yaml", SERVICE_V4)
    result = run("check", "--no-cache")
    stable = [r for r in ALL_RULES if r.check is not None and r.maturity == "stable"]
    family = sum(1 for r in stable if r.profiles)
    platform = sum(1 for r in stable if r.platforms and not r.profiles)
    assert family > 10
    wants = f"the cluster's IP family ({family} rules)" + (
        f" or its platform, aws or other ({platform} rule" + "s" * (platform > 1) + ")" if platform else "")
    flags = "`--ip-family ipv4|ipv6|dual`" + (" and `--platform aws|other`" if platform else "")
    assert result.output.splitlines()[-1] == (
        f"Not checked in .: {family + platform} rules, because nothing in the project states {wants}. "
        f"Give {'them' if platform else 'it'} with {flags}, or write {'them' if platform else 'it'} to a config "
        f"with `v6lint init`.")
    assert result.exit_code == 0  # a note, not a failure
    assert "Not checked" not in run("check", "--no-cache", "--ip-family", "ipv4", "--platform", "aws").output
    assert "Not checked" not in run("check", "--no-cache", "--output-format", "json").output  # machine formats
    # only rules that are enabled count
    assert "Not checked in .: 2 rules, because" in run("check", "--no-cache", "--select", "SVC009,SPK001").output


@pytest.fixture
def aws_only_svc009(swap_rule):
    """SVC009 as if it were about an AWS component: gated on the platform."""
    return swap_rule("SVC009", platforms=("aws",))


def test_an_unknown_platform_is_reported_with_the_rules_it_skipped(tmp_path, monkeypatch, aws_only_svc009):
    monkeypatch.chdir(git_repo(tmp_path / "app"))
    write(tmp_path / "app/k8s/checkout.yaml", SERVICE_V4)
    out = run("check", "--no-cache", "--ip-family", "ipv6", "--select", "SVC009").output
    assert "SVC009" not in out.split("Not checked")[0]
    assert out.splitlines()[-1] == (
        "Not checked in .: 1 rule, because nothing in the project states its platform, aws or other (1 rule). "
        "Give it with `--platform aws|other`, or write it to a config with `v6lint init`.")
    assert "Not checked" not in run("check", "--no-cache", "--ip-family", "ipv6", "--select", "SVC009",
                                    "--platform", "other").output


# --- G. maturity and platform gating through the command line ---------------------------------------
@pytest.fixture
def legacy_field(tmp_path, monkeypatch, swap_rule):
    """A project whose Service has the removed `spec.ipFamily` (SVC011), with SVC011 made preview."""
    swap_rule("SVC011", maturity="preview")
    repo = git_repo(tmp_path / "app")
    write(repo / "k8s/metrics.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: metrics\nspec:\n"
                                     "  ipFamily: IPv4\n  ports:\n    - port: 9100\n")
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.parametrize("args, fires", [
    ((), False),
    (("--select", "SVC"), False),  # a prefix does not turn on a preview rule
    (("--select", "ALL"), False),
    (("--preview",), True),
    (("--select", "SVC011"), True),  # its exact code does
    (("--select", "removed-ip-family-field"), True),  # and so does its name
    (("--extend-select", "svc011"), True),
    (("--preview", "--ignore", "SVC011"), False),
])
def test_preview_rules_run_only_when_asked(legacy_field, args, fires):
    found = check_json(*args)
    assert (("SVC011", "k8s/metrics.yaml", 6) in where(found)) is fires


def test_config_preview_turns_preview_rules_on(legacy_field):
    (legacy_field / ".v6lint.toml").write_text("preview = true\n")
    assert where(check_json()) == [("SVC011", "k8s/metrics.yaml", 6)]
    assert "preview" in run("rule", "SVC011").output and "SVC011  removed-ip-family-field" in run("rule", "--all").output
    line = next(x for x in run("rule", "--all").output.splitlines() if x.startswith("SVC011"))
    assert " preview " in line


def test_platform_gated_rules_follow_detection_config_and_flag(tmp_path, monkeypatch, aws_only_svc009):
    repo = git_repo(tmp_path / "app")
    write(repo / "k8s/checkout.yaml", SERVICE_V4)
    write(repo / "terraform/prod.tfvars", "enable_ipv6 = true\n")
    monkeypatch.chdir(repo)
    assert check_json("--select", "SVC009") == []  # platform unknown
    assert where(check_json("--select", "SVC009", "--platform", "aws")) == [("SVC009", "k8s/checkout.yaml", 9)]
    write(repo / "eksctl.yaml", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: app}\n"
                                "kubernetesNetworkConfig: {ipFamily: IPv6}\n")
    assert where(check_json("--select", "SVC009")) == [("SVC009", "k8s/checkout.yaml", 9)]  # detected
    assert check_json("--select", "SVC009", "--platform", "other") == []  # the flag beats detection
    (repo / ".v6lint.toml").write_text('[cluster]\nplatform = "other"\n')
    assert check_json("--select", "SVC009") == []  # so does the config
    assert where(check_json("--select", "SVC009", "--platform", "aws")) == [("SVC009", "k8s/checkout.yaml", 9)]


# --- issue 15, first section: a config per folder, `extend`, --show-settings, --show-files ----------
@pytest.fixture
def monorepo(tmp_path, monkeypatch):
    repo = git_repo(tmp_path / "clusters-repo")
    write(repo / ".v6lint.toml", 'ignore = ["SVC012"]\nexclude = ["clusters/dev/generated/", "*.rendered.yaml"]\n'
                                 '\n[cluster]\nplatform = "aws"\n')
    write(repo / "clusters/prod/.v6lint.toml", 'extend = "../../.v6lint.toml"\n\n[cluster]\nip-family = "ipv6"\n')
    write(repo / "clusters/dev/.v6lint.toml", 'extend = "../../.v6lint.toml"\nper-file-ignores = {"legacy/**" = '
                                              '["SVC011"]}\n\n[cluster]\nip-family = "ipv4"\n')
    for cluster in ("prod", "dev"):
        write(repo / f"clusters/{cluster}/apps/checkout.yaml", SERVICE_V4)
    write(repo / "clusters/dev/generated/checkout.yaml", SERVICE_V4 + "  ipFamily: IPv4\n")
    write(repo / "clusters/dev/legacy/metrics.yaml", SERVICE_V4 + "  ipFamily: IPv4\n")
    write(repo / "clusters/prod/out.rendered.yaml", SERVICE_V4)
    monkeypatch.chdir(repo)
    return repo


def test_each_file_gets_its_nearest_config_extending_the_base(monorepo):
    found = check_json("--select", "SVC009,SVC011")
    assert where(found) == [("SVC009", "clusters/prod/apps/checkout.yaml", 9)]
    assert found[0]["profile"]["source"] == "clusters/prod/.v6lint.toml:4"
    # the same when only that file is passed (pre-commit), or from inside its folder
    assert check_json("--select", "SVC009,SVC011", "clusters/prod/apps/checkout.yaml") == found
    assert run("check", "--show-files").output.splitlines() == [
        "clusters/dev/apps/checkout.yaml", "clusters/dev/legacy/metrics.yaml", "clusters/prod/apps/checkout.yaml"]
    # the base's excludes hold when run from the folder below it, and a folder's own excludes from the top
    assert run("check", "--show-files", "clusters/dev").output.splitlines() == [
        "clusters/dev/apps/checkout.yaml", "clusters/dev/legacy/metrics.yaml"]
    # `exclude` in the extending config replaces the base's (as in ruff): *.rendered.yaml is linted in
    # prod now, from the top as from inside; `extend-exclude` adds to the base's instead
    (monorepo / "clusters/prod/.v6lint.toml").write_text('extend = "../../.v6lint.toml"\nexclude = ["apps/"]\n')
    assert run("check", "--show-files").output.splitlines() == [
        "clusters/dev/apps/checkout.yaml", "clusters/dev/legacy/metrics.yaml", "clusters/prod/out.rendered.yaml"]
    assert run("check", "--show-files", "clusters/prod").output.splitlines() == ["clusters/prod/out.rendered.yaml"]
    (monorepo / "clusters/prod/.v6lint.toml").write_text('extend = "../../.v6lint.toml"\nextend-exclude = ["apps/"]\n')
    assert run("check", "--show-files").output.splitlines() == [
        "clusters/dev/apps/checkout.yaml", "clusters/dev/legacy/metrics.yaml"]


SERVICE_OLD_FIELD = SERVICE_V4 + "  ipFamily: IPv4\n"  # SVC011 on any cluster, SVC009 on an IPv6 one


@pytest.fixture
def two_clusters(tmp_path, monkeypatch):
    """A monorepo: the root config excludes `legacy/` (any depth), `clusters/dev/` and `*.rendered.yaml`;
    prod (IPv4) extends it, dev (IPv6) has a config of its own with its own excludes."""
    repo = git_repo(tmp_path / "mono")
    write(repo / ".v6lint.toml", 'exclude = ["legacy/", "clusters/dev/", "*.rendered.yaml"]\n\n'
                                 '[cluster]\nplatform = "aws"\n')
    write(repo / "clusters/prod/.v6lint.toml", 'extend = "../../.v6lint.toml"\n\n[cluster]\nip-family = "ipv4"\n')
    write(repo / "clusters/dev/.v6lint.toml", 'exclude = ["generated/"]\nextend-exclude = ["*.tmp.yaml"]\n\n'
                                              '[cluster]\nip-family = "ipv6"\nplatform = "aws"\n')
    for name in ("legacy/old.yaml", "top.yaml"):
        write(repo / name, SERVICE_OLD_FIELD)
    for cluster in ("prod", "dev"):
        for name in ("apps/svc.yaml", "legacy/old.yaml", "out.rendered.yaml", "generated/gen.yaml",
                     "apps/a.tmp.yaml"):
            write(repo / "clusters" / cluster / name, SERVICE_OLD_FIELD)
    monkeypatch.chdir(repo)
    return repo


def by_file(found: list[dict]) -> dict[str, list[tuple]]:
    """Findings per absolute path, with the profile's source as an absolute path (output is cwd-relative)."""
    out: dict[str, list[tuple]] = {}
    for d in found:
        profile = d["profile"] and (d["profile"]["ip_family"], str(Path(d["profile"]["source"]).resolve()))
        out.setdefault(str(Path(d["path"]).resolve()), []).append(
            (d["code"], d["range"]["start"]["line"], d["range"]["start"]["column"], profile))
    return out


def test_each_file_is_excluded_by_its_nearest_config_only(two_clusters, monkeypatch):
    repo = two_clusters
    linted = ["top.yaml", "clusters/prod/apps/svc.yaml", "clusters/prod/apps/a.tmp.yaml",
              "clusters/prod/generated/gen.yaml",  # prod extends the root: legacy/ and *.rendered.yaml hold
              "clusters/dev/apps/svc.yaml", "clusters/dev/legacy/old.yaml", "clusters/dev/out.rendered.yaml"]
    every = [str(p.relative_to(repo)) for p in sorted(repo.rglob("*.yaml"))]
    assert sorted(run("check", "--show-files").output.splitlines()) == sorted(linted)
    top = by_file(check_json())
    assert sorted(top) == sorted(str(repo / p) for p in linted)
    dev = top[str(repo / "clusters/dev/legacy/old.yaml")]
    assert [c for c, *_ in dev] == ["SVC009", "SVC011"]
    assert dev[0][3] == ("ipv6", str(repo / "clusters/dev/.v6lint.toml:5"))
    assert [c for c, *_ in top[str(repo / "clusters/prod/apps/svc.yaml")]] == ["SVC011"]  # IPv4: no SVC009
    # `v6lint profile` lists dev among the nested projects although the root's exclude names its folder
    assert json.loads(run("profile", "--output-format", "json").output)["nested_projects"] == [
        "clusters/dev", "clusters/prod"]
    # from inside each cluster's folder: the same files, the same findings
    for cluster in ("prod", "dev"):
        monkeypatch.chdir(repo / "clusters" / cluster)
        inside = by_file(check_json())
        assert inside == {f: d for f, d in top.items() if f.startswith(str(repo / "clusters" / cluster) + "/")}
        shown = {str((repo / "clusters" / cluster / line).resolve()) for line in run("check", "--show-files").output.split()}
        assert shown == set(inside)
    # pre-commit: every file named alone, with --force-exclude, from the root
    monkeypatch.chdir(repo)
    for path in every:
        alone = by_file(check_json("--force-exclude", path))
        assert alone == ({str(repo / path): top[str(repo / path)]} if path in linted else {}), path
        assert run("check", "--show-files", "--force-exclude", path).output.split() == ([path] if path in linted else [])


def test_show_settings_names_every_source(monorepo):
    out = run("check", "--show-settings", "clusters/prod/apps/checkout.yaml").output
    assert out.splitlines()[:4] == ["File: clusters/prod/apps/checkout.yaml", "Project root: clusters/prod",
                                    "Config: clusters/prod/.v6lint.toml (extends .v6lint.toml)", "Settings:"]
    assert '  ignore = ["SVC012"]' in out
    assert '  exclude = ["*.rendered.yaml"]' in out  # the dev-only pattern does not reach prod
    assert "  ip-family = ipv6 (per clusters/prod/.v6lint.toml:4)" in out
    assert "  platform = aws (per .v6lint.toml:5)" in out
    assert "  force-exclude = false" in out and "  spark-conf = []" in out
    dev = run("check", "--show-settings", "clusters/dev/legacy/metrics.yaml").output
    assert '  exclude = ["/generated/", "*.rendered.yaml"]' in dev
    assert '  per-file-ignores = {"legacy/**": ["SVC011"]}' in dev


def test_extend_errors_stop_the_run(monorepo):
    (monorepo / "clusters/prod/.v6lint.toml").write_text('extend = "missing.toml"\n')
    result = run("check", "clusters/prod")
    assert result.exit_code == 2
    assert "clusters/prod/.v6lint.toml:1: extend: 'missing.toml': no such config file" in result.output
    (monorepo / "clusters/prod/.v6lint.toml").write_text('extend = "../../.v6lint.toml"\n')
    (monorepo / ".v6lint.toml").write_text('extend = "clusters/prod/.v6lint.toml"\n')
    result = run("check", "clusters/prod")
    assert result.exit_code == 2 and "(a cycle)" in result.output


@pytest.mark.parametrize("pattern, rebased", [
    ("*.rendered.yaml", "*.rendered.yaml"),  # unanchored: any depth
    ("clusters/dev/generated/", "/generated/"),
    ("clusters/*/generated/", "/generated/"),
    ("/clusters/dev/", "**"),  # the extending config's own folder: everything in it
    ("clusters/dev", "**"),
    ("/clusters/", "**"),  # a folder above it
    ("!clusters/dev/", "!**"),
    ("clusters/prod/x/", None),  # elsewhere
    ("**/tmp/", "**/tmp/"),
    ("clusters/**/tmp/", "**/tmp/"),
    ("!clusters/dev/keep.yaml", "!/keep.yaml"),
])
def test_a_base_pattern_keeps_its_meaning_below_it(pattern, rebased):
    from v6lint.config import _rebase

    assert _rebase(pattern, Path("/r"), Path("/r/clusters/dev")) == rebased


def test_a_tfvars_template_that_parses_is_judged_as_tfvars(tmp_path, monkeypatch):
    monkeypatch.chdir(git_repo(tmp_path / "stack"))
    write(tmp_path / "stack/envs/prod.tfvars.tpl", 'name              = "shop"\ncluster_ip_family = "IPv6"\n')
    assert where(check_json("--select", "TF001", "--platform", "aws")) == [("TF001", "envs/prod.tfvars.tpl", 2)]


# --- a project that defines several clusters: the family of one is not the others' ----------------
# An examples folder of eksctl configs (like eksctl's own examples/) and a repository of Terraform patterns,
# each a stack creating its own cluster: one states IPv6, the others leave the family to the tool's
# default, IPv4 (eksctl DefaultIPFamily, eksctl-io/eksctl@99984adb pkg/apis/eksctl.io/v1alpha5/types.go;
# terraform-aws-modules/eks `ip_family` default "ipv4", terraform-aws-modules/terraform-aws-eks@bef29c4d
# variables.tf). Before, the one IPv6 definition made the whole project IPv6 and every other cluster's
# unmanaged node groups, VPCs and Services were judged as IPv6 ones.
EKSCTL_V6 = """\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: orders-v6
  region: us-west-2
kubernetesNetworkConfig:
  ipFamily: IPv6
addons:
  - name: vpc-cni
  - name: coredns
  - name: kube-proxy
iam:
  withOIDC: true
managedNodeGroups:
  - name: mng-1
    instanceType: m6i.large
"""
EKSCTL_V4 = """\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: batch
  region: us-west-2
nodeGroups:
  - name: ng-spot
    instanceType: c4.large
    desiredCapacity: 2
"""
EKSCTL_V6_MORE_NODES = """\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: orders-v6
  region: us-west-2
nodeGroups:
  - name: ng-legacy
    instanceType: m5.large
"""


def test_eksctl_configs_of_other_clusters_keep_their_default_family(tmp_path, monkeypatch):
    repo = git_repo(tmp_path / "eksctl-examples")
    write(repo / "examples/10-ipv6.yaml", EKSCTL_V6)
    write(repo / "examples/02-spot.yaml", EKSCTL_V4)
    monkeypatch.chdir(repo)
    assert check_json("--select", "EKS002,NODE001") == []
    out = run("profile").output
    assert ("IP family: unknown (the project defines clusters of different families: examples/10-ipv6.yaml:7 says "
            "IPv6, but examples/02-spot.yaml:1 define clusters that are IPv4 by default;") in out
    assert "<- conflicts" not in out
    assert json.loads(run("profile", "--output-format", "json").output)["ip_family"] is None
    # what the user states still decides
    assert where(check_json("--select", "EKS002", "--ip-family", "ipv6")) == [("EKS002", "examples/02-spot.yaml", 7)]
    # a node-group config naming the IPv6 cluster is of that cluster: eksctl refuses its unmanaged group
    (repo / "examples/02-spot.yaml").unlink()
    write(repo / "examples/11-ipv6-nodegroups.yaml", EKSCTL_V6_MORE_NODES)
    assert where(check_json("--select", "EKS002")) == [("EKS002", "examples/11-ipv6-nodegroups.yaml", 7)]


TF_VPC = """\
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name            = "main"
  cidr            = "10.0.0.0/16"
  azs             = ["us-west-2a", "us-west-2b"]
  private_subnets = ["10.0.1.0/24", "10.0.2.0/24"]
  public_subnets  = ["10.0.101.0/24", "10.0.102.0/24"]
%s}
"""
TF_EKS = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "%s"
  kubernetes_version = "1.33"
%s  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets
}
"""


def test_terraform_patterns_of_other_clusters_keep_their_default_family(tmp_path, monkeypatch):
    repo = git_repo(tmp_path / "patterns-repo")
    write(repo / "patterns/ipv6/main.tf",
          TF_EKS % ("ipv6", '  ip_family          = "ipv6"\n')
          + TF_VPC % "\n  enable_ipv6                                   = true\n"
                     "  public_subnet_assign_ipv6_address_on_creation = true\n"
                     "  private_subnet_assign_ipv6_address_on_creation = true\n"
                     "  private_subnet_ipv6_prefixes                  = [3, 4]\n"
                     "  public_subnet_ipv6_prefixes                   = [0, 1]\n")
    write(repo / "patterns/karpenter/main.tf", TF_EKS % ("karpenter", "") + TF_VPC % "")
    monkeypatch.chdir(repo)
    assert check_json("--select", "TF") == []
    assert "patterns/karpenter/main.tf:1 define clusters that are IPv4 by default" in run("profile").output
    assert where(check_json("--select", "TF007", "--ip-family", "ipv6")) == [
        ("TF007", "patterns/karpenter/main.tf", 10)]
    # a cluster whose family is an expression is decided elsewhere (tfvars): not a default IPv4 one
    write(repo / "patterns/karpenter/main.tf", TF_EKS % ("karpenter", "  ip_family          = var.ip_family\n")
          + TF_VPC % "")
    assert json.loads(run("profile", "--output-format", "json").output)["ip_family"] == "ipv6"
    assert where(check_json("--select", "TF007")) == [("TF007", "patterns/karpenter/main.tf", 11)]


def _profile_tree(top: Path) -> Path:
    """A project with a config excluding a folder, a git-ignored folder, a nested project with its own
    config and excludes, a template, a Spark properties file and Terraform files."""
    root = top / "repo"
    for name, text in {
        ".v6lint.toml": 'exclude = ["skip/"]\n',
        ".gitignore": "ign/\n",
        "a.yaml": "kind: ConfigMap\n",
        "infra/main.tf": 'variable "ip_family" { default = "ipv6" }\n',
        "infra/prod.tfvars": 'ip_family = "ipv6"\n',
        "infra/x.tfvars.json": '{"ip_family": "ipv6"}\n',
        "skip/b.yaml": "kind: ConfigMap\n",
        "ign/c.yaml": "kind: ConfigMap\n",
        "sub/d.yaml.j2": "kind: {{ kind }}\n",
        "sub/spark-defaults.conf": "spark.driver.host ::1\n",
        "sub/e.yml": "kind: ConfigMap\n",
        "nested/.v6lint.toml": 'exclude = ["own/"]\n',
        "nested/f.yaml": "kind: ConfigMap\n",
        "nested/own/g.yaml": "kind: ConfigMap\n",
        "nested/skip/h.yaml": "kind: ConfigMap\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / ".git").mkdir()
    return root


@pytest.mark.parametrize("how", ["relative", "absolute", "subfolder", "symlinked-file", "config-above", "--config",
                                 "no-config"])
def test_the_profile_takes_its_files_from_the_runs_walk_only_when_it_is_the_same_walk(tmp_path, monkeypatch, how):
    """The profile's candidates are the run's own files when the run walked the project's folder and
    judged it by the same excludes from the same folder: no second walk. Otherwise (a sub-folder given,
    a symlinked file, a config above the project, --config) it walks the project itself. Either way
    they are the files a walk of the project finds."""
    from v6lint import cli, project

    root = _profile_tree(tmp_path)
    config = None
    if how == "symlinked-file":
        (root / "link.yaml").symlink_to(root / "a.yaml")
    if how == "config-above":  # (its excludes are of its own folder; the profile's, of the project's)
        (root / ".v6lint.toml").unlink()
        (tmp_path / ".v6lint.toml").write_text('exclude = ["repo/skip/"]\n')
    if how == "--config":
        config = str(root / ".v6lint.toml")
    if how == "no-config":  # (nothing excluded: whose folder the excludes are of does not matter)
        (root / ".v6lint.toml").unlink()
    monkeypatch.chdir({"subfolder": root / "infra", "no-config": tmp_path}.get(how, root))
    given = {"relative": ".", "subfolder": "."}.get(how, str(root))
    configs: dict = {}
    found = cli._discover([given], config, lambda settings: settings, configs=configs)
    exclude = cli.load(config, [str(root)], configs).exclude
    walks = []
    real_discover = project.discover
    monkeypatch.setattr(project, "discover", lambda *args, **kwargs: walks.append(args[0]) or real_discover(*args, **kwargs))
    taken = list(project._owned_files(root, project._profile_files(root, exclude, found), configs))
    assert walks == ([] if how in ("relative", "absolute", "--config", "no-config") else [[str(root)]])
    walked = list(project._owned_files(root, project._profile_files(root, exclude, None), {}))
    assert taken == walked
    # (no excluded, git-ignored, template or nested project's file; one name of a file with two)
    assert {os.path.relpath(path, root) for path in taken} == {
        "a.yaml", "infra/main.tf", "infra/prod.tfvars", "infra/x.tfvars.json", "sub/e.yml",
        *(["skip/b.yaml"] if how in ("config-above", "no-config") else [])}
    assert all(path.startswith(str(root) + os.sep) for path in taken)
