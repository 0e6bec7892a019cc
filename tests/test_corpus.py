"""The real-world corpus in ../shared: nothing crashes, fixes re-parse and converge."""
from __future__ import annotations

from pathlib import Path

import pytest

from v6lint.config import Settings
from v6lint.discovery import discover
from v6lint.engine import Linter
from v6lint.rule import Profile
from v6lint.source import SourceFile
from v6lint.sources import parse_source
from fixturelib import shared

CORPUS = shared("corpus")


@pytest.fixture(scope="module")
def corpus_files():
    files = discover([str(CORPUS)], [], CORPUS).files
    assert len(files) > 400
    return files


@pytest.mark.parametrize("family", [None, "ipv4", "ipv6", "dual"])
def test_whole_corpus_lints_without_crash_and_fixes_reparse(corpus_files, family):
    linter = Linter(Settings(profile=Profile(family, "--ip-family") if family else Profile()))
    for path in corpus_files:
        result = linter.check_path(path, fix=True, unsafe=True)
        codes = {d.code for d in result.diagnostics}
        assert "V6L999" not in codes, (path, result.diagnostics)
        assert "V6L906" not in codes, (path, result.diagnostics)
        if result.fixed is not None:
            assert parse_source(result.fixed).problem is None
            again = linter.fix_source(SourceFile(result.path, result.fixed.text), unsafe=True)
            assert again.fixed is None, f"second fix pass changed {path}"


def test_known_corpus_findings(corpus_files):
    linter = Linter(Settings(profile=Profile("ipv6", "--ip-family")), select=["SVC"])
    found = set()
    for path in corpus_files:
        for d in linter.check_path(path).diagnostics:
            found.add((str(Path(d.path).resolve().relative_to(CORPUS)), d.code, d.start_line))
    assert ("kubernetes__ingress-nginx/deploy/static/provider/aws/deploy.yaml", "SVC009", 353) in found
    assert ("kubernetes__website/content/en/examples/service/networking/dual-stack-ipv6-svc.yaml", "SVC011", 6) in found


def _findings(path: Path, *args) -> set[tuple[str, str, int]]:
    from click.testing import CliRunner

    from v6lint.cli import main

    result = CliRunner().invoke(main, ["check", "--output-format", "json", "--exit-zero", str(path), *args],
                                catch_exceptions=False)
    import json
    return {(str(Path(d["path"]).resolve().relative_to(CORPUS)), d["code"], d["range"]["start"]["line"])
            for d in json.loads(result.output)}


def test_data_on_eks_findings():
    root = CORPUS / "awslabs__data-on-eks"
    # As the repository stands: the old IPv6 blueprint's `cluster_ip_family = "ipv6"` disagrees with the
    # data stacks' `enable_ipv6 = false`.
    found = _findings(root, "--select", "PRF,SPK,TF")
    assert ("awslabs__data-on-eks/analytics/terraform/spark-eks-ipv6/eks.tf", "PRF001", 10) in found
    assert not {f for f in found if f[1].startswith(("SPK", "TF"))}
    # Judged as an IPv6 stack: the pi job's commented-out IPv6 settings are reported ...
    job = "awslabs__data-on-eks/data-stacks/spark-on-eks/examples/pyspark-pi-job.yaml"
    found = _findings(root, "--ip-family", "ipv6", "--platform", "aws", "--select", "SPK001,SPK005")
    # (its S3A credentials come from EKS Pod Identity, ContainerCredentialsProvider: no IMDS, no SPK005)
    assert {f for f in found if f[0] == job} == {(job, "SPK001", 25)}
    # ... while the TPC-DS job that already carries them is not.
    tpcds = "awslabs__data-on-eks/data-stacks/spark-on-eks/benchmarks/benchmark-testdata-generation/" \
            "tpcds-benchmark-data-generation-3t.yaml"
    assert not {f for f in found if f[0] == tpcds and f[1] in ("SPK001", "SPK005")}


def test_spark_operator_and_pyspark_findings():
    found = _findings(CORPUS / "fall-out-bug__spark_k8s", "--ip-family", "ipv6", "--select", "NET005,SPK014")
    script = "fall-out-bug__spark_k8s/dags/spark_jobs/taxi_catboost_training.py"
    # bindAddress 0.0.0.0 in a JVM is a dual-stack bind (no preferIPv4Stack there): no SPK014
    assert (script, "NET005", 49) in found and (script, "SPK014", 62) not in found
    found = _findings(CORPUS / "kubeflow__spark-operator", "--ip-family", "ipv6", "--select", "SPK", "--preview")
    assert ("kubeflow__spark-operator/examples/spark-pi.yaml", "SPK001", 21) in found
    # SPK012 is for dual-stack (preview): on IPv6-only there is no IPv4 address for the JVM to prefer.
    values = ("kubeflow__spark-operator/charts/spark-operator-chart/values.yaml", "SPK012", 86)
    assert values not in found
    assert values in _findings(CORPUS / "kubeflow__spark-operator", "--ip-family", "dual", "--select", "SPK012")


def test_load_balancer_cni_and_node_findings():
    # ruby-no-kai's syslog Service: a controller-managed UDP NLB; on IPv6 it must be dual-stack, and with
    # UDP that needs IPv6 source NAT prefixes, which the one fix adds as well.
    root = CORPUS / "ruby-no-kai__rubykaigi-net"
    from click.testing import CliRunner
    import json

    from v6lint.cli import main
    out = CliRunner().invoke(main, ["check", str(root / "gen/k8s/syslog/service.yml"), "--ip-family", "ipv6",
                                    "--platform", "aws", "--select", "LB", "--output-format", "json"]).output
    (lb003,) = [d for d in json.loads(out) if d["code"] == "LB003"]
    assert lb003["range"]["start"]["line"] == 17
    assert "source NAT" in lb003["fix"]["message"]
    assert any("enable-prefix-for-ipv6-source-nat" in e["content"] for e in lb003["fix"]["edits"])
    # ingress-nginx's AWS manifest: an in-tree IPv4 NLB on an IPv6 profile
    found = _findings(CORPUS / "kubernetes__ingress-nginx", "--ip-family", "ipv6", "--platform", "aws", "--select", "LB,SVC")
    assert ("kubernetes__ingress-nginx/deploy/static/provider/aws/deploy.yaml", "LB011", 370) in found
    assert ("kubernetes__ingress-nginx/deploy/static/provider/aws/deploy.yaml", "SVC009", 353) in found
    # the ENIConfig with a namespace, inside a Terraform heredoc
    found = _findings(CORPUS / "kjpark__terraform-aws-eks-vpc-cni-custom-networking", "--platform", "aws", "--select", "CNI")
    assert ("kjpark__terraform-aws-eks-vpc-cni-custom-networking/eniconfig.tf", "CNI010", 12) in found
    # Karpenter's own examples still admit Xen types (instance-generation Gt 2 keeps c3/c4/m4)
    found = _findings(CORPUS / "aws__karpenter-provider-aws", "--ip-family", "ipv6", "--platform", "aws", "--select", "NODE002")
    assert ("aws__karpenter-provider-aws/examples/v1/general-purpose.yaml", "NODE002", 12) in found
    # a Terraform node group with Xen types on an IPv6 cluster
    found = _findings(CORPUS / "aws-samples__karpenter-blueprints", "--ip-family", "ipv6", "--platform", "aws", "--select", "NODE001")
    assert {f[1:] for f in found if f[0].endswith("cluster/terraform/main.tf")} == {("NODE001", 116)}
