"""KADM: kubeadm and kind dual-stack configuration (kubernetes cmd/kubeadm/app/apis/kubeadm/validation,
kube-controller-manager node CIDR masks)."""
from __future__ import annotations

import ipaddress
import os
import re
from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, Document, Node
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import delete_entry, delete_item, replace_scalar

KUBEADM = ("kubeadm.k8s.io/*/ClusterConfiguration", "controlplane.cluster.x-k8s.io/*/KubeadmControlPlane",
           "kind.x-k8s.io/*/Cluster")
PROXY = ("kubeproxy.config.k8s.io/*/KubeProxyConfiguration",)
# ValidateIPNetFromString, ValidatePodSubnetNodeMask and getClusterNodeMask as read at
# kubernetes/kubernetes@00d24de699fe4409b5829a5e51b73c1fc7bcba12
VALIDATION = ("https://github.com/kubernetes/kubernetes/blob/00d24de699fe4409b5829a5e51b73c1fc7bcba12/"
              "cmd/kubeadm/app/apis/kubeadm/validation/validation.go")
DUAL_DOCS = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/dual-stack-support/"


def cluster_configuration(doc: Document) -> Node | None:
    if doc.kind == "KubeadmControlPlane":
        return doc.tree.path("spec", "kubeadmConfigSpec", "clusterConfiguration")
    return doc.root


def _cidrs(node: Node | None) -> list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network | None]]:
    """(text, network or None) for each comma-separated CIDR. Like Go's net.ParseCIDR a CIDR needs its
    `/prefix`: a bare address (`2001:db8::1`) is not one, though Python would read it as a /128."""
    out: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network | None]] = []
    for part in (node.text or "").split(",") if node is not None else []:
        try:
            out.append((part, ipaddress.ip_network(part.strip(), strict=False) if "/" in part else None))
        except ValueError:
            out.append((part, None))
    return out


def _subnets(doc: Document):
    config = cluster_configuration(doc)
    networking = config.get("networking") if config is not None else None
    if networking is None or networking.kind != MAP:
        return None, None, config
    return networking.get("podSubnet"), networking.get("serviceSubnet"), config


def _extra_args(config: Node | None) -> dict[str, Node]:
    """controllerManager.extraArgs as name -> value node (v1beta3 map, v1beta4 list of name/value)."""
    args = config.path("controllerManager", "extraArgs") if config is not None else None
    if args is None:
        return {}
    if args.kind == MAP:
        return {k.text: v for k, v in args.entries() if k.text}
    return {name: value for a in args.items()
            if a.kind == MAP and (name := a.str_at("name")) and (value := a.get("value")) is not None}


@rule("KADM001", "invalid-dual-stack-cidrs", "error",
      fix="safe", kinds=KUBEADM, rejected_by="kubeadm", references=(VALIDATION, DUAL_DOCS))
def invalid_dual_stack_cidrs(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`podSubnet`/`serviceSubnet` with more than two CIDRs, two of one family, a bad CIDR, or spaces.

    Why:
        kubeadm's ValidateIPNetFromString parses each comma-separated part with net.ParseCIDR: one CIDR or a
        dual-stack pair of different families, each with its /prefix (a bare address is "couldn't parse
        subnet").

    Example:
        serviceSubnet: 2001:db8::1,10.96.0.0/12   # bad: an address, not a CIDR
        podSubnet: 10.244.0.0/16,fd00:10:244::/56

    Fix:
        trim spaces
    """
    for node in _subnets(doc)[:2]:
        if node is None or not node.text:
            continue
        cidrs = _cidrs(node)
        problems = []
        if len(cidrs) > 2:
            problems.append("more than two CIDRs")
        bare = [t.strip() for t, net in cidrs if net is None and _is_address(t.strip())]
        if bare:
            problems.append(f"{', '.join(bare)} is an address, not a CIDR (no /prefix)")
        elif any(net is None for _t, net in cidrs):
            problems.append("a value that is not a CIDR")
        families = [net.version for _t, net in cidrs if net is not None]
        if len(families) != len(set(families)):
            problems.append("two CIDRs of one family")
        spaced = any(text != text.strip() for text, _n in cidrs)
        if spaced:
            problems.append("spaces around commas")
        if not problems:
            continue
        fix = None
        if spaced and problems == ["spaces around commas"]:
            fix = Fix.safe("Remove the spaces", replace_scalar(node, ",".join(t.strip() for t, _n in cidrs)))
        yield Finding(node.start, node.end, f"{doc.object_name}: {node.text!r}: {', '.join(problems)}; kubeadm "
                                            f"accepts one CIDR or two of different families, comma-separated", fix)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


@rule("KADM002", "service-subnet-too-large", "error",
      fix="none", kinds=KUBEADM, rejected_by="kubeadm", references=(VALIDATION, DUAL_DOCS))
def service_subnet_too_large(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An IPv6 service subnet larger than /108, or IPv4 larger than /12.

    Why:
        kubeadm rejects service subnets beyond those sizes (the service IP allocator is bounded).

    Example:
        serviceSubnet: 10.96.0.0/16,fd00:10:96::/112
    """
    service = _subnets(doc)[1]
    for _text, net in _cidrs(service):
        if net is None or service is None:  # (no CIDRs without a service subnet)
            continue
        limit = 108 if net.version == 6 else 12
        if net.prefixlen < limit:
            yield Finding(service.start, service.end,
                          f"{doc.object_name}: service subnet {net} is too large; kubeadm allows at most /{limit} "
                          f"for IPv{net.version} (the allocator's bitmap is bounded)")


@rule("KADM003", "node-mask-mismatch", "error", fix="none", kinds=KUBEADM, references=(VALIDATION, DUAL_DOCS))
def node_mask_mismatch(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Pod subnet and node CIDR mask that do not fit (pod subnet smaller than the node mask, or more than 16 bits
    apart).

    Why:
        The controller manager carves a node CIDR of the node mask out of the pod subnet; it must fit, and the
        difference may be at most 16 bits. As in kubeadm's getClusterNodeMask the mask is
        node-cidr-mask-size-ipv4/-ipv6, else /24 and /64; the unsuffixed flag is not read (KADM004).

    Example:
        controllerManager:
          extraArgs:
            node-cidr-mask-size-ipv6: "64"
    """
    pod, _service, config = _subnets(doc)
    args = _extra_args(config)
    for _text, net in _cidrs(pod):
        if net is None or pod is None:  # (no CIDRs without a pod subnet)
            continue
        # kubeadm reads only the suffixed flag (getClusterNodeMask); the unsuffixed one is KADM004's.
        node = args.get(f"node-cidr-mask-size-ipv{net.version}")
        try:
            mask = int(node.text) if node is not None and node.text else (24 if net.version == 4 else 64)
        except ValueError:
            continue
        start, end = (node.start, node.end) if node is not None else (pod.start, pod.end)
        if net.prefixlen > mask:
            yield Finding(start, end, f"{doc.object_name}: pod subnet {net} is smaller than the per-node mask /{mask}; no "
                                  f"node CIDR fits in it")
        elif mask - net.prefixlen > 16:
            yield Finding(start, end, f"{doc.object_name}: per-node mask /{mask} is {mask - net.prefixlen} bits below the pod "
                                  f"subnet {net}; the controller manager allows at most 16")


@rule("KADM004", "unsuffixed-node-mask", "error",
      fix="safe", kinds=KUBEADM, references=(VALIDATION, DUAL_DOCS))
def unsuffixed_node_mask(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Dual-stack with `node-cidr-mask-size` (no family suffix).

    Why:
        With two pod CIDRs the controller manager needs node-cidr-mask-size-ipv4/-ipv6.

    Example:
        node-cidr-mask-size-ipv4: "24"
        node-cidr-mask-size-ipv6: "64"

    Fix:
        rename to -ipv4 (or -ipv6 for masks above 32)
    """
    pod, _service, config = _subnets(doc)
    args = _extra_args(config)
    node = args.get("node-cidr-mask-size")
    if node is None or len([n for _t, n in _cidrs(pod) if n is not None]) < 2:
        return
    value = int(node.text) if node.text and node.text.isdigit() else None
    target = "node-cidr-mask-size-ipv6" if value is not None and value > 32 else "node-cidr-mask-size-ipv4"
    key = _arg_key(config, "node-cidr-mask-size")
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: `node-cidr-mask-size` on a dual-stack cluster; use node-cidr-mask-size-ipv4 "
                  f"and -ipv6 (the unsuffixed flag is rejected with two pod CIDRs)",
                  Fix.safe(f"Rename to `{target}`", replace_scalar(key, target)) if key is not None else None)


def _arg_key(config: Node, name: str) -> Node | None:
    args = config.path("controllerManager", "extraArgs")
    if args is None:
        return None
    if args.kind == MAP:
        found = args.entry(name)
        return found[0] if found else None
    return next((a.get("name") for a in args.items() if a.kind == MAP and a.str_at("name") == name), None)


@rule("KADM005", "kube-proxy-cluster-cidr-mismatch", "warning",
      fix="safe", kinds=PROXY, references=(DUAL_DOCS,))
def kube_proxy_cluster_cidr_mismatch(doc: Document, profile: Profile) -> Iterator[Finding]:
    """KubeProxyConfiguration `clusterCIDR` differs from `podSubnet`.

    Why:
        kube-proxy uses clusterCIDR to tell pod traffic from external traffic; it must match the pod subnets.

    Example:
        clusterCIDR: 10.244.0.0/16,fd00:10:244::/56

    Fix:
        copy podSubnet
    """
    facts = profile.facts
    node = doc.tree.get("clusterCIDR")
    if facts is None or facts.kubeadm_pod_subnet is None or node is None or not node.text:
        return
    pod_subnet, where = facts.kubeadm_pod_subnet
    if [p.strip() for p in node.text.split(",")] == [p.strip() for p in pod_subnet.split(",")]:
        return
    yield Finding(node.start, node.end, f"{doc.object_name}: clusterCIDR {node.text!r} differs from the kubeadm "
                                        f"podSubnet {pod_subnet!r} ({where}); kube-proxy then misclassifies pod traffic",
                  Fix.safe("Copy podSubnet", replace_scalar(node, pod_subnet)))


@rule("KADM006", "family-order-mismatch", "warning",
      fix="none", kinds=KUBEADM, references=(VALIDATION, DUAL_DOCS))
def family_order_mismatch(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Pod and service subnets list the families in different orders.

    Why:
        The first CIDR's family is the primary for pods and for services; mixing the order makes pods
        IPv4-primary and services IPv6-primary (or the reverse).

    Example:
        podSubnet: 10.244.0.0/16,fd00::/56
        serviceSubnet: 10.96.0.0/16,fd01::/112
    """
    pod, service, _config = _subnets(doc)
    pod_families = [n.version for _t, n in _cidrs(pod) if n is not None]
    service_families = [n.version for _t, n in _cidrs(service) if n is not None]
    if service is not None and len(pod_families) == 2 and len(service_families) == 2 and pod_families != service_families:
        yield Finding(service.start, service.end,
                      f"{doc.object_name}: pod subnets list IPv{pod_families[0]} first but service subnets "
                      f"IPv{service_families[0]}; the first family is each object's primary, so keep the order the same")


# --- versions and kubelet flags -------------------------------------------------------------------
NODE_CONFIGS = ("kubeadm.k8s.io/*/InitConfiguration", "kubeadm.k8s.io/*/JoinConfiguration",
                "controlplane.cluster.x-k8s.io/*/KubeadmControlPlane", "bootstrap.cluster.x-k8s.io/*/KubeadmConfig",
                "bootstrap.cluster.x-k8s.io/*/KubeadmConfigTemplate")
# KEP-563 (kubernetes/enhancements keps/sig-network/563-dual-stack): the IPv6DualStack feature gate was
# alpha (off by default) up to 1.20, beta and on by default from 1.21, GA in 1.23.
DUAL_STACK_KEP = "https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/563-dual-stack"
FEATURE_GATES_REMOVED = "https://kubernetes.io/docs/reference/command-line-tools-reference/feature-gates-removed/"
DUAL_STACK_ON_BY_DEFAULT = (1, 21)
DUAL_STACK_CONCEPT = "https://kubernetes.io/docs/concepts/services-networking/dual-stack/"
KEP_3705 = "https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/3705-cloud-node-ips"
# The dockershim and its kubelet networking flags (--network-plugin, --cni-bin-dir, --cni-conf-dir,
# --network-plugin-mtu) were removed in Kubernetes 1.24.
DOCKERSHIM_REMOVED = (1, 24)
CHANGELOG_124 = "https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.24.md"
DOCKERSHIM_FLAGS = ("network-plugin", "cni-bin-dir", "cni-conf-dir", "network-plugin-mtu")
_K8S_VERSION = re.compile(r"(\d+)\.(\d+)")


def k8s_version(text: str | None) -> tuple[int, int] | None:
    match = _K8S_VERSION.search(text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _version_node(doc: Document) -> Node | None:
    return doc.tree.path("spec", "version") if doc.kind == "KubeadmControlPlane" else doc.tree.get("kubernetesVersion")


@rule("KADM007", "dual-stack-before-1-21", "error",
      fix="none", kinds=KUBEADM[:2], references=(DUAL_STACK_KEP, FEATURE_GATES_REMOVED, DUAL_DOCS))
def dual_stack_before_1_21(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Dual-stack pod or service subnets with a `kubernetesVersion` before 1.21 and no IPv6DualStack gate.

    Why:
        KEP-563: the IPv6DualStack feature gate was alpha, off by default, up to Kubernetes 1.20 (the
        dual-stack API as it is today arrived in 1.20), beta and on by default from 1.21, GA in 1.23. Two
        CIDRs on an older control plane are rejected or ignored unless the gate is on.

    Example:
        kubernetesVersion: v1.31.2
        networking:
          podSubnet: 10.244.0.0/16,fd00:10:244::/56
    """
    pod, service, config = _subnets(doc)
    node = _version_node(doc)
    version = k8s_version(node.text if node is not None else None)
    if node is None or version is None or version >= DUAL_STACK_ON_BY_DEFAULT:
        return
    dual = [n for n in (pod, service) if len({net.version for _t, net in _cidrs(n) if net is not None}) == 2]
    gate = config.path("featureGates", "IPv6DualStack") if config is not None else None
    if not dual or (gate is not None and (gate.text or "").lower() == "true"):
        return
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: dual-stack subnets with Kubernetes {node.text}: before 1.21 dual-stack is an "
                  f"alpha feature, off unless `featureGates: {{IPv6DualStack: true}}`; use 1.21 or later")


def _kubelet_args(doc: Document) -> Iterator[tuple[Node, dict[str, tuple[Node, Node]]]]:
    """(args node, name -> (name node, value node)) for every nodeRegistration.kubeletExtraArgs in the doc."""
    root = doc.tree
    if doc.kind == "KubeadmControlPlane":
        owners = [root.path("spec", "kubeadmConfigSpec", k) for k in ("initConfiguration", "joinConfiguration")]
    elif doc.kind == "KubeadmConfig":
        owners = [root.path("spec", k) for k in ("initConfiguration", "joinConfiguration")]
    elif doc.kind == "KubeadmConfigTemplate":
        owners = [root.path("spec", "template", "spec", "joinConfiguration")]
    else:
        owners = [root]
    for owner in owners:
        args = owner.path("nodeRegistration", "kubeletExtraArgs") if owner is not None else None
        if args is None:
            continue
        if args.kind == MAP:  # v1beta3: a map
            yield args, {k.text: (k, v) for k, v in args.entries() if k.text}
        else:  # v1beta4: a list of name/value
            yield args, {name: (key, value) for a in args.items()
                         if a.kind == MAP and (name := a.str_at("name")) and (key := a.get("name")) is not None
                         and (value := a.get("value")) is not None}


@rule("KADM008", "single-node-ip-on-dual-stack", "warning",
      fix="none", kinds=NODE_CONFIGS, profiles=("dual",),
      references=(DUAL_STACK_CONCEPT, KEP_3705, DUAL_DOCS))
def single_node_ip_on_dual_stack(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A kubelet `node-ip` with one address on a dual-stack cluster, with no cloud provider.

    Why:
        Without a cloud provider the kubelet reports exactly the --node-ip addresses; on a dual-stack cluster
        it needs `<IPv4>,<IPv6>` (the dual-stack docs: required for bare metal dual-stack nodes), else the
        node and its host-network pods are single-stack. With a cloud provider the cloud supplies the
        addresses (KEP-3705), so those nodes are not judged.

    Example:
        nodeRegistration:
          kubeletExtraArgs:
            node-ip: 10.0.0.11,fd00:10::11
    """
    for _args, found in _kubelet_args(doc):
        if "node-ip" not in found or "cloud-provider" in found:
            continue
        _key, value = found["node-ip"]
        if not value.text or "," in value.text:
            continue
        yield Finding(value.start, value.end,
                      f"{doc.object_name}: a single kubelet --node-ip ({value.text}) on a dual-stack cluster without a "
                      f"cloud provider: the node registers one family only; give one address of each family "
                      f"(`<IPv4>,<IPv6>`)")


@rule("KADM009", "removed-dockershim-kubelet-flag", "error",
      fix="safe", kinds=NODE_CONFIGS, references=(CHANGELOG_124, DUAL_DOCS))
def removed_dockershim_kubelet_flag(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`network-plugin` (or another dockershim flag) in kubeletExtraArgs on Kubernetes 1.24 or later.

    Why:
        Kubernetes 1.24 removed the dockershim and its kubelet flags --network-plugin, --cni-bin-dir,
        --cni-conf-dir and --network-plugin-mtu; a kubelet given one fails with "unknown flag". The version
        comes from a kubeadm `kubernetesVersion` in the same directory (or the KubeadmControlPlane's
        spec.version).

    Example:
        nodeRegistration:
          kubeletExtraArgs:
            network-plugin: cni   # bad: remove

    Fix:
        remove the flag (the kubelet cannot start with it)
    """
    facts = profile.facts
    own = doc.tree.path("spec", "version") if doc.kind == "KubeadmControlPlane" else None
    declared = facts.kubeadm_versions.get(os.path.dirname(doc.source.abspath or doc.source.path)) \
        if facts is not None else None
    text, where = (own.text, "spec.version") if own is not None and own.text else (declared or (None, None))
    version = k8s_version(text)
    if version is None or version < DOCKERSHIM_REMOVED:
        return
    for args, found in _kubelet_args(doc):
        for flag in DOCKERSHIM_FLAGS:
            if flag not in found:
                continue
            key, _value = found[flag]
            if args.kind == MAP:
                edit = delete_entry(doc.source, args, flag) if len(args.entries()) > 1 else None
            else:
                items = args.items()
                index = next(i for i, a in enumerate(items) if a.kind == MAP and a.str_at("name") == flag)
                edit = delete_item(doc.source, args, index) if len(items) > 1 else None
            yield Finding(key.start, key.end,
                          f"{doc.object_name}: kubelet flag --{flag} was removed with the dockershim in Kubernetes "
                          f"1.24; the kubelet of this {text} cluster ({where}) refuses to start with it",
                          Fix.safe(f"Remove `{flag}`", edit) if edit is not None else None)


RULES = [
    invalid_dual_stack_cidrs,
    service_subnet_too_large,
    node_mask_mismatch,
    unsuffixed_node_mask,
    kube_proxy_cluster_cidr_mismatch,
    family_order_mismatch,
    dual_stack_before_1_21,
    single_node_ip_on_dual_stack,
    removed_dockershim_kubelet_flag,
]
