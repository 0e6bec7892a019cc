"""CNI: Amazon VPC CNI settings (aws-node DaemonSet env, aws-vpc-cni Helm values, EKS add-on
configuration values in eksctl and Terraform, ENIConfig, the amazon-vpc-cni ConfigMap).

Facts: aws/amazon-vpc-cni-k8s (README "CNI Configuration Variables", config/master/aws-k8s-cni.yaml,
charts/aws-vpc-cni/values.yaml; ipamd: "VPC CNI currently does not support dual stack mode", IPv6
needs prefix delegation and ignores warm targets, custom networking is rejected in IPv6 mode).
Booleans are read with Go's strconv.ParseBool.
"""
from __future__ import annotations

import re

from v6lint.diagnostics import Edit
from v6lint.document import Node
from v6lint.hcl_source import EXPR
from v6lint.yaml_edit import replace_scalar
from v6lint.rules.views import CniSettings, EnvVar

KNOWN_ENV = (
    "ADDITIONAL_ENI_TAGS", "ANNOTATE_POD_IP", "AWS_MANAGE_ENIS_NON_SCHEDULABLE", "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_ENI_MTU", "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
    "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS", "AWS_VPC_K8S_CNI_EXTERNALSNAT", "AWS_VPC_K8S_CNI_LOGLEVEL",
    "AWS_VPC_K8S_CNI_LOG_FILE", "AWS_VPC_K8S_CNI_RANDOMIZESNAT", "AWS_VPC_K8S_CNI_VETHPREFIX",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE", "AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "CLUSTER_ENDPOINT", "CLUSTER_NAME",
    "DISABLE_INTROSPECTION", "DISABLE_LEAKED_ENI_CLEANUP", "DISABLE_METRICS", "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "DISABLE_POD_V6", "DISABLE_TCP_EARLY_DEMUX", "ENABLE_BANDWIDTH_PLUGIN", "ENABLE_IMDS_ONLY_MODE", "ENABLE_IPv4",
    "ENABLE_IPv6", "ENABLE_MULTI_NIC", "ENABLE_NFTABLES", "ENABLE_POD_ENI", "ENABLE_PREFIX_DELEGATION",
    "ENABLE_SUBNET_DISCOVERY", "ENABLE_V4_EGRESS", "ENABLE_V6_EGRESS", "ENI_CONFIG_ANNOTATION_DEF",
    "ENI_CONFIG_LABEL_DEF", "INTROSPECTION_BIND_ADDRESS", "IP_COOLDOWN_PERIOD", "MAX_ENI", "MINIMUM_IP_TARGET",
    "MY_NODE_NAME", "MY_POD_NAME", "NETWORK_POLICY_ENFORCING_MODE", "POD_SECURITY_GROUP_ENFORCING_MODE",
    "VPC_CNI_VERSION", "WARM_ENI_TARGET", "WARM_IP_TARGET", "WARM_PREFIX_TARGET",
)
BOOL_ENV = (
    "ANNOTATE_POD_IP", "AWS_MANAGE_ENIS_NON_SCHEDULABLE", "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "AWS_VPC_K8S_CNI_EXTERNALSNAT",
    "DISABLE_INTROSPECTION", "DISABLE_LEAKED_ENI_CLEANUP", "DISABLE_METRICS", "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "DISABLE_POD_V6", "DISABLE_TCP_EARLY_DEMUX", "ENABLE_BANDWIDTH_PLUGIN", "ENABLE_IMDS_ONLY_MODE", "ENABLE_IPv4",
    "ENABLE_IPv6", "ENABLE_MULTI_NIC", "ENABLE_NFTABLES", "ENABLE_POD_ENI", "ENABLE_PREFIX_DELEGATION",
    "ENABLE_SUBNET_DISCOVERY", "ENABLE_V4_EGRESS", "ENABLE_V6_EGRESS",
)
_LOOSE = {"yes": "true", "y": "true", "on": "true", "enabled": "true", "enable": "true",
          "no": "false", "n": "false", "off": "false", "disabled": "false", "disable": "false"}
WARM = ("WARM_ENI_TARGET", "WARM_IP_TARGET", "WARM_PREFIX_TARGET", "MINIMUM_IP_TARGET")
CNI_README = "https://github.com/aws/amazon-vpc-cni-k8s#cni-configuration-variables"
# The one place for the VPC CNI's minimum versions: its README (aws/amazon-vpc-cni-k8s@b52188387f2e,
# "ENABLE_IPv6 (v1.10.0+)", "ENABLE_PREFIX_DELEGATION (v1.9.0+)"); eksctl's minimumVPCCNIVersionForIPv6
# (pkg/apis/eksctl.io/v1alpha5/addon.go) agrees on 1.10.0.
MIN_IPV6, MIN_PREFIX_DELEGATION = (1, 10, 0), (1, 9, 0)
EKS_IPV6 = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"
CUSTOM_NET = "https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html"


def _editable(var: EnvVar) -> Node | None:
    """The value's node when we can rewrite it in place (not JSON inside an eksctl string, not a computed
    expression), else None."""
    node = var.value_node
    return node if node is not None and node is not var.name_node and node.tag != EXPR else None


def _set(settings: CniSettings, name: str, value: str) -> list[Edit] | None:
    var = settings.env.get(name)
    if var is not None:
        return [replace_scalar(node, value)] if (node := _editable(var)) is not None else None
    return settings.add(name, value)


def _at(settings: CniSettings, name: str) -> tuple[int, int]:
    var = settings.env.get(name)
    node = (var.value_node or var.name_node) if var is not None else None
    return (node.start, node.end) if node is not None else settings.anchor


def _fold(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", name.upper())


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 2 or len(a) < 8:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 2


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_IMAGE_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def _cni_version(s: CniSettings) -> tuple[Node, tuple[int, int, int]] | None:
    for node in (s.version, s.image):
        text = node.text if node is not None else None
        match = _IMAGE_VERSION.search(text.rsplit(":", 1)[-1]) if text else None
        if match and node is not None:  # (a match needs text)
            major, minor, patch = (int(g) for g in match.groups())
            return node, (major, minor, patch)
    return None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def _placeholder(text: str | None) -> bool:
    return text is not None and bool(text) and ("${" in text or text.startswith("$") or "{{" in text)


CM_KEYS = ("enable-windows-ipam", "enable-network-policy-controller", "enable-windows-prefix-delegation",
           "warm-prefix-target", "warm-ip-target", "minimum-ip-target", "branch-eni-cooldown")


SG_FOR_PODS = "https://docs.aws.amazon.com/eks/latest/userguide/security-groups-pods-deployment.html"


