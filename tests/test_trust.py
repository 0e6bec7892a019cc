"""Issue 12, sections 1 and 2: rules that guess are opt-in, AWS rules stay off other platforms, and
the false-positive classes seen on real repositories stay fixed (each on a small project written here)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixturelib import fixture_diagnostics
from v6lint.cli import main
from v6lint.rules import ALL_RULES, BY_CODE

ROOT = Path(__file__).resolve().parent.parent

# A kind cluster in IPv6 mode with a MetalLB-served LoadBalancer: no AWS anywhere.
KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  ipFamily: ipv6
nodes:
  - role: control-plane
  - role: worker
"""
METALLB_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: gitea-http
  namespace: gitea
  annotations:
    metallb.universe.tf/address-pool: lab-v6
spec:
  type: LoadBalancer
  ipFamilies: [IPv6]
  selector: {app: gitea}
  ports:
    - port: 3000
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def findings(root: Path, *args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "--exit-zero", "--no-cache", str(root),
                                       *args], catch_exceptions=False)
    return json.loads(result.output)


def codes(found: list[dict]) -> list[str]:
    return sorted(d["code"] for d in found)


# --- section 1: maturity and platforms -----------------------------------------------------------
PREVIEW = {"NET001", "NET002", "NET003", "NET004", "NET005", "SPK005", "SPK008", "SPK009", "SPK012", "SPK014",
           "NODE002", "NODE005", "CNI011", "CNI014", "TF005"}


def test_the_rules_that_guess_are_preview_and_the_rest_stable():
    assert {r.code for r in ALL_RULES if r.maturity == "preview"} == PREVIEW


def test_every_rule_about_an_aws_component_runs_only_on_aws():
    aws = {r.code for r in ALL_RULES if r.platforms == ("aws",)}
    for rule in ALL_RULES:
        # Terraform rules are about the AWS provider and modules, except the generic tfvars checks.
        about_aws = rule.family in ("LB", "CNI", "NODE", "EKS") or rule.code in (
            "NET004", "SPK005", "SPK006", "SPK007") or (rule.family == "TF" and rule.code not in ("TF002", "TF003"))
        assert (rule.code in aws) == about_aws, rule.code
    assert all(r.platforms in ((), ("aws",)) for r in ALL_RULES)


def test_lb011_is_silent_on_a_kind_ipv6_cluster(tmp_path):
    root = project(tmp_path, {"kind.yaml": KIND, "apps/gitea-service.yaml": METALLB_SERVICE})
    assert findings(root, "--select", "LB") == []  # platform unknown: AWS rules do not run
    assert findings(root, "--select", "LB", "--platform", "other") == []
    # The same Service on an AWS IPv6 cluster is a real finding.
    on_aws = findings(root, "--select", "LB", "--platform", "aws")
    assert codes(on_aws) == ["LB011"] and on_aws[0]["path"].endswith("gitea-service.yaml")


def test_preview_rules_run_only_when_asked(tmp_path):
    deployment = (ROOT / "fixtures" / "net" / "NET001" / "bad.yaml").read_text()
    root = project(tmp_path, {".v6lint.toml": '[cluster]\nip-family = "ipv6"\n', "web.yaml": deployment})
    assert "NET001" not in codes(findings(root))
    assert codes(findings(root, "--preview")).count("NET001") == 5
    assert codes(findings(root, "--select", "NET001")).count("NET001") == 5  # selected by exact code


# --- section 2: the classes --------------------------------------------------------------------
GO_AND_JAVA = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: platform-agents
spec:
  template:
    spec:
      containers:
        - name: redis-exporter
          image: oliver006/redis_exporter:v1.62.0
          args: ["--web.listen-address=0.0.0.0:9121"]
        - name: controller
          image: registry.example.com/platform/controller:0.9.1
          args: ["--metrics-bind-address=0.0.0.0:8080", "--health-probe-bind-address=0.0.0.0"]
        - name: api
          image: eclipse-temurin:21-jre
          command: ["java", "-jar", "/app/api.jar", "--server.address=0.0.0.0"]
"""


def test_wildcard_binds_of_go_java_and_unknown_binaries_are_not_reported(tmp_path):
    root = project(tmp_path, {"agents.yaml": GO_AND_JAVA})
    assert findings(root, "--select", "NET001", "--ip-family", "ipv6") == []


def test_no_wildcard_fix_writes_an_address_a_host_port_join_breaks():
    """Every NET001 fix in the fixtures rewrites only a flag known to parse a host, and the address it
    writes survives a `host:port` split (bracketed) or is a bare host for a host-only flag."""
    found = fixture_diagnostics(ROOT / "fixtures" / "net" / "NET001")
    fixes = [e["content"] for d in found if d["fix"] for e in d["fix"]["edits"]]
    assert fixes == ['"[::]:8000"', '"--host=::"']
    unfixed = [d["message"] for d in found if d["fix"] is None]
    assert any("args binds 0.0.0.0" in m for m in unfixed)  # an app's own --metrics-host: no fix
    assert any("env HOST" in m for m in unfixed)  # an env value code may join into "host:port": no fix


LOOPBACK_SIDECAR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/cart:1
          env:
            - name: REDIS_HOST
              value: 127.0.0.1
        - name: redis
          image: redis:7.2
          args: ["--bind", "127.0.0.1"]
"""


def test_loopback_clients_are_fine_unless_the_pod_binds_ipv6_loopback_only(tmp_path):
    root = project(tmp_path, {"cart.yaml": LOOPBACK_SIDECAR})
    assert findings(root, "--select", "NET002", "--ip-family", "ipv6") == []
    (root / "cart.yaml").write_text(LOOPBACK_SIDECAR.replace('"127.0.0.1"]', '"::1"]'))
    assert codes(findings(root, "--select", "NET002", "--ip-family", "ipv6")) == ["NET002"]


def test_lb011_hand_over_keeps_the_scheme():
    found = fixture_diagnostics(ROOT / "fixtures" / "lb" / "LB011")
    schemes = [re.findall(r"aws-load-balancer-scheme: \"?([a-z-]+)", e["content"]) for d in found
               for e in d["fix"]["edits"]]
    # ingress-nginx (in-tree default: public), ledger-grpc (asked internal), mqtt (already says), grafana
    assert [s for s in schemes if s] == [["internet-facing"], ["internal"], ["internet-facing"]]


def test_auto_mode_and_controller_classes_are_the_controller_s():
    from v6lint.rules.lb.common import owner
    from v6lint.source import SourceFile
    from v6lint.sources import parse_source

    def of(spec: str) -> str | None:
        text = f"apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec:\n{spec}"
        return owner(parse_source(SourceFile("s.yaml", text)).documents[0])

    assert of("  type: LoadBalancer\n  loadBalancerClass: eks.amazonaws.com/nlb\n") == "lbc"
    assert of("  type: LoadBalancer\n  loadBalancerClass: service.k8s.aws/nlb\n") == "lbc"
    assert of("  type: LoadBalancer\n  loadBalancerClass: io.cilium/bgp\n") is None
    assert of("  type: LoadBalancer\n") == "default"


CNI_POLICY_BY_NAME = """\
resource "aws_iam_policy" "cni_ipv6" {
  name   = "AmazonEKS_CNI_IPv6_Policy"
  policy = data.aws_iam_policy_document.cni_ipv6.json
}

resource "aws_iam_role_policy_attachment" "node_cni_ipv6" {
  role       = aws_iam_role.node.name
  policy_arn = aws_iam_policy.cni_ipv6.arn
}
"""
EKS_MODULE_IPV6 = """\
module "eks" {
  source            = "terraform-aws-modules/eks/aws"
  version           = "~> 20.31"
  cluster_name      = "payments"
  cluster_ip_family = "ipv6"

  eks_managed_node_groups = {
    general = { instance_types = ["m6i.large"] }
  }
}
"""


OWN_NAMED_POLICY = (ROOT / "fixtures" / "tf" / "TF005" / "good.own-policy.tf").read_text()


@pytest.mark.parametrize("stack", [CNI_POLICY_BY_NAME, OWN_NAMED_POLICY, EKS_MODULE_IPV6],
                         ids=["policy-by-name", "own-named-policy", "module-attaches"])
def test_tf005_is_silent_on_stacks_that_create_or_implicitly_attach_the_policy(tmp_path, stack):
    root = project(tmp_path, {"infra/main.tf": stack})
    assert findings(root, "--select", "TF005", "--ip-family", "ipv6", "--platform", "aws") == []


def test_tf005_still_reports_an_explicit_attachment_nobody_creates(tmp_path):
    attach_only = ('resource "aws_iam_role_policy_attachment" "cni" {\n  role       = aws_iam_role.node.name\n'
                   '  policy_arn = "arn:aws:iam::111122223333:policy/AmazonEKS_CNI_IPv6_Policy"\n}\n')
    root = project(tmp_path, {"infra/main.tf": attach_only})
    assert codes(findings(root, "--select", "TF005", "--ip-family", "ipv6", "--platform", "aws")) == ["TF005"]


def test_readme_demo_output_is_the_real_output():
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("## What the demo prints\n\n```text\n", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-m", "v6lint", "check", "fixtures/demo"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == shown


def test_rule_metadata_names_its_upstream_sources():
    for code in ("NET001", "LB011", "LB006", "SPK014", "TF005"):
        assert BY_CODE[code].references, code


PD_STACK = """\
module "eks" {
  source       = "terraform-aws-modules/eks/aws"
  cluster_name = "batch"
  cluster_addons = {
    vpc-cni = {
      configuration_values = jsonencode({ env = { ENABLE_PREFIX_DELEGATION = "true" } })
    }
  }
  eks_managed_node_groups = {
    workers = { instance_types = ["m5.large"] }
  }
}
"""
XEN_NODEGROUP = """\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: legacy, region: eu-west-1}
managedNodeGroups:
  - name: old
    instanceType: m4.large
"""


def test_nitro_evidence_comes_from_the_same_stack(tmp_path):
    """Prefix delegation turned on by one example does not make another example's Xen nodes wrong."""
    root = project(tmp_path, {"examples/prefix-delegation/main.tf": PD_STACK,
                              "examples/eksctl-legacy/cluster.yaml": XEN_NODEGROUP})
    args = ("--select", "NODE001", "--ip-family", "dual", "--platform", "aws")
    assert findings(root, *args) == []
    (root / "examples/prefix-delegation/cluster.yaml").write_text(XEN_NODEGROUP)
    found = findings(root, *args)
    assert [(d["code"], d["path"].rsplit("examples/", 1)[1]) for d in found] == [
        ("NODE001", "prefix-delegation/cluster.yaml")]
    assert "prefix delegation is on" in found[0]["message"]


NODE_CLASS = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: spark-compute
spec:
  role: karpenter-spark
  amiSelectorTerms:
    - alias: al2023@latest
"""
JOB_WITH_IMDS_COMMENTED_OUT = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: pyspark-pi
  namespace: spark-team-a
spec:
  type: Python
  driver:
    cores: 1
    # env:
    #   - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
    #     value: IPv6
  executor:
    env:
      - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
        value: IPv4
"""


def test_node_class_imds_needs_a_job_that_really_uses_the_ipv6_endpoint(tmp_path):
    root = project(tmp_path, {"karpenter/nodeclass.yaml": NODE_CLASS, "jobs/pi.yaml": JOB_WITH_IMDS_COMMENTED_OUT})
    args = ("--select", "SPK007", "--ip-family", "ipv6", "--platform", "aws")
    assert findings(root, *args) == []
    (root / "jobs/pi.yaml").write_text(JOB_WITH_IMDS_COMMENTED_OUT.replace("value: IPv4", "value: ipv6"))
    assert [d["path"].rsplit("repo/", 1)[-1] for d in findings(root, *args)] == ["karpenter/nodeclass.yaml"]
