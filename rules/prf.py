"""PRF: the cluster profile itself."""
from __future__ import annotations

from v6lint.diagnostics import FAMILY_LABELS, Finding
from v6lint.rule import any_case, rule
from v6lint.rules.views import ALLOC, SERVICE, SPARK_APPS, imds_values, ipv6_only, service_spec, spark_jobs


IMDS = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
FAMILIES = "spark.kubernetes.driver.service.ipFamilies"


@rule("PRF002", "ipv6-config-on-ipv4-cluster", "error",
      fix="none", kinds=SERVICE + SPARK_APPS + ("v1/ConfigMap",), languages=("yaml", "python"),
      profiles=("ipv4",), rejected_by="the API server", references=(ALLOC,),
      yaml_gate=any_case("ipv6"))  # each finding is at an `IPv6` value (IMDS modes in any case)
def ipv6_config_on_ipv4_cluster(doc, profile):
    """IPv6-only settings (a SingleStack IPv6 Service, Spark `IPv6`, IMDS mode IPv6) in a project whose cluster
    profile is IPv4.

    Why:
        Either the detected profile is wrong (fix the tfvars, eksctl or v6lint config it came from) or the
        object was written for another cluster: an IPv4 cluster rejects an IPv6-only Service with "not
        configured on this cluster". The diagnostic names the profile's source so you can tell which.

    Example:
        # profile: IPv4
        ipFamilies: [IPv6]           # bad
        ipFamilyPolicy: SingleStack
    """
    # IPv6-only Services, Spark driver Services and IMDS endpoint modes in an IPv4 project.
    where = "in a project whose cluster profile is IPv4; either the profile is wrong or"
    if doc.matches(SERVICE):
        svc = service_spec(doc)
        node = svc.families_node
        if node is not None and not svc.headless_selectorless and ipv6_only(svc):
            yield Finding(node.start, node.end, f"{svc.name}: an IPv6-only Service {where} the API server will "
                                                f"reject it (\"IPv6 not configured on this cluster\")")
        return
    for job in spark_jobs(doc):
        conf = job.conf.get(FAMILIES)
        if conf is not None and conf.value == "IPv6":
            yield Finding(conf.start, conf.end, f"{job.label}: an IPv6-only driver Service {where} Spark's driver "
                                                f"Service will be rejected")
        for node, imds_conf, value in imds_values(job):
            if value.strip().lower() == "ipv6":
                span = node if node is not None else imds_conf
                assert span is not None  # (imds_values gives a node or a conf)
                start, end = span.start, span.end
                yield Finding(start, end, f"{job.label}: `{IMDS}=IPv6` {where} the SDK cannot reach the IPv6 "
                                          f"IMDS endpoint on IPv4 nodes")


def _holds_conflict(source, profile) -> bool:
    """PRF001's gate: it reports only the profile's conflicting sources found in this very file."""
    return bool(profile.conflicts_in(source.abspath))


@rule("PRF001", "conflicting-cluster-profile", "warning", fix="none", languages=("yaml", "hcl"),
      yaml_gate=_holds_conflict)
def conflicting_cluster_profile(doc, profile):
    """Two sources in one project disagree on the cluster's IP family.

    Why:
        v6lint judges every file against one profile, taken from the strongest source (config, tfvars,
        Terraform blocks, variable defaults, eksctl, kubeadm/kind, aws-node). A weaker source that says
        otherwise is either stale or describes another cluster; either way some findings will be wrong until
        they agree.

    Example:
        # terraform/prod.tfvars
        enable_ipv6 = true
        # eksctl/cluster.yaml
        kubernetesNetworkConfig:
          ipFamily: IPv4     # PRF001
    """
    for source in profile.conflicts_in(doc.source.abspath):
        if doc.start <= source.start <= doc.end:
            yield Finding(source.start, source.end,
                          f"`{source.what}` says the cluster is {FAMILY_LABELS[source.ip_family]}, but the profile is "
                          f"{FAMILY_LABELS[profile.ip_family]} per {profile.source}; make the sources agree (or set "
                          f"cluster.ip-family in the v6lint config)")


RULES = [
    conflicting_cluster_profile,
    ipv6_config_on_ipv4_cluster,
]
