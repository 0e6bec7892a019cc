"""NODE: instance types, Nitro, max pods (Terraform, eksctl node groups, Karpenter).

Facts: the instance table (aws/amazon-vpc-cni-k8s vpc_ip_resource_limit.go, see v6lint.data.instances);
prefix delegation needs Nitro (IsPrefixDelegationSupported); max pods without prefix delegation is
`enis * (ips - 1) + 2`; EKS managed node groups cap max pods at 110 for up to 30 vCPUs, else 250.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Iterator

from v6lint.data.instances import table
from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, SEQ, Document, Node, per_document
from v6lint.hcl_source import EXPR, walk_blocks
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import append_item, replace_scalar
from v6lint.rules.views import is_ipv6

HYPERVISOR = "karpenter.k8s.aws/instance-hypervisor"
# EKS Auto Mode's NodePools (nodeClassRef group eks.amazonaws.com) name the same instance labels
# eks.amazonaws.com/instance-* (https://docs.aws.amazon.com/eks/latest/userguide/create-node-pool.html).
AUTO_MODE_LABELS = "eks.amazonaws.com/instance-"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
NODEPOOL = ("karpenter.sh/*/NodePool",)
NODECLASS = ("karpenter.k8s.aws/*/EC2NodeClass",)
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")
EKS_PD = "https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html"
EKS_MAX_PODS = "https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html#determine-max-pods"
KARPENTER = "https://karpenter.sh/docs/concepts/nodepools/"


@dataclass
class NodeGroup:
    label: str
    types: list[Node] = field(default_factory=list)
    max_pods: Node | None = None
    managed: bool = False
    requirements: Node | None = None  # Karpenter NodePool requirements
    # An EKS node (node group, a launch template one uses, an EKS module's node groups, eksctl,
    # Karpenter) rather than any EC2 instance type in the file (a bastion's aws_instance).
    eks_node: bool = True


def _type_nodes(value: Node | None) -> list[Node]:
    if value is None:
        return []
    if value.kind == SEQ:
        return [n for n in value.items() if n.text and n.tag != EXPR]
    return [value] if value.text and value.tag != EXPR else []


_LAUNCH_TEMPLATE_REF = re.compile(r"\baws_launch_template\.([A-Za-z_][A-Za-z0-9_-]*)")


def _is_eks_module(block) -> bool:
    source = (block.body.str_at("source") or "").lower() if block.type == "module" else ""
    return "eks" in source


def _eks_node_block(block, used_templates: set[str]) -> bool:
    """EKS node groups, the launch templates they (or an EKS module) use, and EKS modules."""
    if block.type == "resource" and block.labels:
        if block.labels[0] == "aws_eks_node_group":
            return True
        return block.labels[0] == "aws_launch_template" and len(block.labels) > 1 and block.labels[1] in used_templates
    return _is_eks_module(block)


def _maps(node: Node, node_context: bool) -> Iterator[tuple[Node, bool]]:
    """Every mapping below `node`, with whether a key on its path names nodes (`node_groups`...)."""
    stack = [(node, node_context)]
    while stack:
        current, context = stack.pop()
        if current.kind == SEQ:
            stack.extend((item, context) for item in current.items())
        elif current.kind == MAP:
            yield current, context
            stack.extend((v, context or "node" in (k.value or "").lower()) for k, v in current.entries()
                         if v.kind in (MAP, SEQ))


def _hcl_groups(doc: Document) -> list[NodeGroup]:
    text = doc.source.text
    used = set()
    for block in doc.blocks:
        if (block.type == "resource" and block.labels[:1] == ["aws_eks_node_group"]) or _is_eks_module(block):
            used.update(_LAUNCH_TEMPLATE_REF.findall(text[block.start:block.end]))
    scopes = [(doc.root, False)] + [(b.body, _eks_node_block(top, used)) for top in doc.blocks
                                    for b in walk_blocks([top])]
    groups = []
    for body, eks_node in scopes:
        for mapping, node_context in _maps(body, False):
            for key in ("instance_types", "instance_type"):
                found = mapping.entry(key)
                types = _type_nodes(found[1]) if found is not None else []
                if types:
                    groups.append(NodeGroup("node group", types, eks_node=eks_node or node_context))
    return groups


def _eksctl_groups(doc: Document) -> list[NodeGroup]:
    groups = []
    for key, managed in (("managedNodeGroups", True), ("nodeGroups", False)):
        seq = doc.tree.get(key)
        for ng in seq.items() if seq is not None and seq.kind == SEQ else []:
            types = _type_nodes(ng.get("instanceType")) + _type_nodes(ng.get("instanceTypes")) + \
                _type_nodes(ng.path("instancesDistribution", "instanceTypes"))
            label = f"{'managed ' if managed else ''}node group {ng.str_at('name') or '?'}"
            groups.append(NodeGroup(label, types, ng.get("maxPodsPerNode"), managed))
    return groups


def _nodepool_group(doc: Document) -> NodeGroup:
    spec = doc.tree.path("spec", "template", "spec")
    requirements = spec.get("requirements") if spec is not None else None
    group = NodeGroup(doc.object_name, requirements=requirements,
                      max_pods=spec.path("kubelet", "maxPods") if spec is not None else None)
    for req in requirements.items() if requirements is not None and requirements.kind == SEQ else []:
        if req.str_at("key") == INSTANCE_TYPE and req.str_at("operator") == "In":
            group.types.extend(_type_nodes(req.get("values")))
    return group


@per_document
def node_groups(doc: Document) -> list[NodeGroup]:
    """The document's node groups, built once for every NODE rule (read-only)."""
    if doc.language == "hcl":
        return _hcl_groups(doc)
    if doc.root is None:
        return []
    if doc.kind == "ClusterConfig":
        return _eksctl_groups(doc)
    if doc.matches(NODEPOOL):
        return [_nodepool_group(doc)]
    return []


def _known(node: Node):
    return table().get(node.text or "")


@per_document
def _real_folder(doc: Document) -> str | None:
    """The real folder of the document's file (os.path.realpath walks every component: once per document)."""
    return os.path.dirname(os.path.realpath(doc.source.abspath)) if doc.source.abspath else None


def _pd_or_ipv6(doc: Document, profile: Profile) -> str | None:
    if profile.ip_family == "ipv6":
        return f"the cluster is IPv6 (per {profile.source})"
    facts = profile.facts
    here = _real_folder(doc) if facts is not None else None
    if facts is None or not here:
        return None
    where = facts.prefix_delegation_near(here)
    return f"prefix delegation is on ({where})" if where is not None else None


@rule("NODE001", "non-nitro-instance", "error",
      fix="none", kinds=("eksctl.io/*/ClusterConfig",) + NODEPOOL, languages=("yaml", "hcl"),
      platforms=("aws",), references=(EKS_PD,))
def non_nitro_instance(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Xen instance types where IPv6 or prefix delegation needs Nitro (`t2.*`, `m4.*`, ...).

    Why:
        Prefix delegation, and so EKS IPv6, is supported only on Nitro-based instances (and bare metal). Fires
        on an IPv6 profile, or when the project turns prefix delegation on. Instance data:
        aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go at b52188387f2e2f10bf289ace929d6a63b176a4fa
        (via shared/data/instance-limits.csv).

    Example:
        instance_types = ["t3.large"]   # not t2.large
    """
    # (a standalone instance, a bastion or NAT box, is not a Kubernetes node)
    xen = [(group, node, inst) for group in node_groups(doc) if group.eks_node for node in group.types
           if (inst := _known(node)) is not None and not inst.nitro]
    why = _pd_or_ipv6(doc, profile) if xen else None  # (asked only where there is a Xen node)
    if why is None:
        return
    for group, node, inst in xen:
        yield Finding(node.start, node.end,
                      f"{group.label}: {inst.name} runs on the {inst.hypervisor} hypervisor, but {why}; "
                      f"IPv6 and prefix delegation need Nitro instances")


_FAMILY = re.compile(r"^([a-z]+)(\d+)")


def _labels(name: str) -> dict[str, str]:
    """The Karpenter well-known labels of an instance type, derived from its name."""
    family = name.split(".", 1)[0]
    match = _FAMILY.match(family)
    return {INSTANCE_TYPE: name, "karpenter.k8s.aws/instance-family": family,
            "karpenter.k8s.aws/instance-category": match.group(1) if match else "",
            "karpenter.k8s.aws/instance-generation": match.group(2) if match else ""}


def _label_key(key: str | None) -> str | None:
    """Auto Mode's `eks.amazonaws.com/instance-X` as Karpenter's `karpenter.k8s.aws/instance-X`."""
    return "karpenter.k8s.aws/" + key[len("eks.amazonaws.com/"):] if key and key.startswith(AUTO_MODE_LABELS) else key


def _admits(requirement: Node, labels: dict[str, str]) -> bool:
    key, operator = _label_key(requirement.str_at("key")), requirement.str_at("operator")
    listed = requirement.get("values")
    values = listed.scalars() if listed is not None else []
    if key == "kubernetes.io/arch":  # every Xen type is x86_64
        return not (operator == "In" and values and "amd64" not in values)
    if key not in labels:
        return True
    value = labels[key]
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    first = values[0] if values else None
    if operator in ("Gt", "Lt") and value.isdigit() and first and first.isdigit():
        return int(value) > int(first) if operator == "Gt" else int(value) < int(first)
    return True


def xen_types_admitted(requirements: list[Node]) -> list[str]:
    """Xen instance types a NodePool's requirements still allow."""
    return sorted(inst.name for inst in table().values() if not inst.nitro and inst.hypervisor == "xen"
                  and all(_admits(r, _labels(inst.name)) for r in requirements))


@rule("NODE002", "hypervisor-requirement-missing", "warning",
      fix="safe", kinds=NODEPOOL, profiles=("ipv6",), platforms=("aws",), maturity="preview",
      references=(KARPENTER,))
def hypervisor_requirement_missing(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A Karpenter NodePool on IPv6 that can pick Xen instance types.

    Why:
        Without a hypervisor requirement Karpenter may launch Xen types, whose pods never get IPv6 addresses.
        EKS Auto Mode NodePools are read with their own `eks.amazonaws.com/instance-*` labels, and their fix
        uses `eks.amazonaws.com/instance-hypervisor`.

    Example:
        - key: karpenter.k8s.aws/instance-hypervisor
          operator: NotIn
          values: [xen]

    Fix:
        add `NotIn [xen]`
    """
    group = _nodepool_group(doc)
    requirements = group.requirements
    if requirements is None or requirements.kind != SEQ:
        return
    if any(_label_key(r.str_at("key")) == HYPERVISOR for r in requirements.items()):
        return
    xen = xen_types_admitted(requirements.items())
    if not xen:
        return  # the other requirements already rule Xen out
    # an Auto Mode NodePool knows its labels as eks.amazonaws.com/instance-*: the fix speaks its language
    auto_mode = doc.tree.str_at("spec", "template", "spec", "nodeClassRef", "group") == "eks.amazonaws.com"
    hypervisor = AUTO_MODE_LABELS + "hypervisor" if auto_mode else HYPERVISOR
    edit = append_item(doc.source, requirements, {"key": hypervisor, "operator": "NotIn", "values": ["xen"]})
    template_spec = doc.tree.path("spec", "template", "spec")
    found = template_spec.entry("requirements") if template_spec is not None else None
    assert found is not None  # (the group's requirements are there)
    key = found[0]
    yield Finding(key.start, key.end,
                  f"{doc.object_name}: the requirements still allow {len(xen)} Xen instance types "
                  f"({', '.join(xen[:3])}, ...), which cannot run IPv6 pods; require `{hypervisor}` NotIn [xen]",
                  Fix.safe("Add the hypervisor requirement", edit) if edit else None)


def _max_pods(group: NodeGroup) -> int | None:
    try:
        return int(group.max_pods.text) if group.max_pods is not None and group.max_pods.text else None
    except ValueError:
        return None


@rule("NODE003", "max-pods-over-eni-limit", "error",
      fix="none", kinds=("eksctl.io/*/ClusterConfig",) + NODEPOOL, languages=("yaml", "hcl"),
      platforms=("aws",), references=(EKS_MAX_PODS,))
def max_pods_over_eni_limit(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Explicit max pods above the secondary-IP formula `enis*(ips-1)+2` without prefix delegation, on an IPv4
    cluster.

    Why:
        Without prefix delegation a node can address only `enis*(ips-1)+2` pods; a higher max pods leaves the
        rest stuck in ContainerCreating. Never on IPv6: there the VPC CNI always runs in prefix mode
        (ENABLE_PREFIX_DELEGATION is required with ENABLE_IPv6, VPC CNI README), written down or not.

    Example:
        maxPodsPerNode: 29   # m5.large: 3*(10-1)+2
    """
    facts = profile.facts
    if facts is not None and facts.prefix_delegation:
        return
    # IPv6 clusters always run the VPC CNI in prefix mode (one /80 per node), written down or not:
    # the secondary-IP formula never applies there.
    if is_ipv6(doc, profile):
        return
    for group in node_groups(doc):
        wanted = _max_pods(group)
        if wanted is None or group.max_pods is None:  # (a number needs its node)
            continue
        for node in group.types:
            inst = _known(node)
            if inst is not None and wanted > inst.max_pods:
                yield Finding(group.max_pods.start, group.max_pods.end,
                              f"{group.label}: max pods {wanted} exceeds what {inst.name} can address without prefix "
                              f"delegation ({inst.enis} ENIs x ({inst.ipv4_per_eni} IPs - 1) + 2 = {inst.max_pods}); "
                              f"pods beyond that never get an IP")
                break


@rule("NODE004", "max-pods-capped", "warning",
      fix="none", kinds=("eksctl.io/*/ClusterConfig",) + NODEPOOL, languages=("yaml", "hcl"),
      platforms=("aws",), references=(EKS_MAX_PODS,))
def max_pods_capped(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Explicit max pods above the managed node group cap (110 up to 30 vCPUs, else 250).

    Why:
        EKS managed node groups cap max pods at 110 for instances with up to 30 vCPUs and 250 above; a higher
        value is silently lowered. vCPUs come from the size name (Nxlarge = 4N); metal sizes are skipped.

    Example:
        maxPodsPerNode: 110
    """
    for group in node_groups(doc):
        wanted = _max_pods(group)
        if wanted is None or group.max_pods is None or not group.managed:
            continue
        for node in group.types:
            inst = _known(node)
            small = inst.vcpus_at_most_30 if inst is not None else None
            if small is None:
                continue
            cap = 110 if small else 250
            if wanted > cap:
                yield Finding(group.max_pods.start, group.max_pods.end,
                              f"{group.label}: max pods {wanted} is above the managed node group cap for {inst.name} "
                              f"({cap}: {'up to' if small else 'more than'} 30 vCPUs); EKS uses {cap}")
                break


@rule("NODE005", "karpenter-max-pods-unset", "info",
      fix="none", kinds=NODECLASS, profiles=("ipv6",), platforms=("aws",), maturity="preview",
      references=(KARPENTER,))
def karpenter_max_pods_unset(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A Karpenter EC2NodeClass on IPv6 without `kubelet.maxPods`.

    Why:
        Without kubelet.maxPods Karpenter computes max pods from the secondary-IP formula for AMI families
        with ENI-limited pod density, else 110 (aws/karpenter-provider-aws@1d927085
        pkg/providers/instancetype/types.go, pods()), ignoring prefix delegation; IPv6 nodes can run more
        pods, so set kubelet.maxPods explicitly. Windows families (`amiFamily: Windows*` or a `windows*`
        AMI alias) get 110 (windows.go: no ENI-limited density) and are CNI012's on IPv6: not reported.
        Only `karpenter.k8s.aws/v1` node classes: before v1 kubelet settings were the NodePool's
        (`spec.template.spec.kubelet`); the v1beta1 EC2NodeClass has no `kubelet`
        (aws/karpenter-provider-aws@bbff05cc pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml).
        Preview: an efficiency hint, nothing fails without it.

    Example:
        spec:
          kubelet:
            maxPods: 110
    """
    if doc.api_version != "karpenter.k8s.aws/v1":
        return  # v1beta1: kubelet.maxPods is the NodePool's, not the node class's
    found = doc.tree.entry("spec")
    spec = found[1] if found is not None else None
    if found is None or spec is None or spec.kind != MAP or spec.path("kubelet", "maxPods") is not None:
        return
    terms = spec.get("amiSelectorTerms")
    aliases = [t.str_at("alias") or "" for t in terms.items()] if terms is not None and terms.kind == SEQ else []
    if (spec.str_at("amiFamily") or "").lower().startswith("windows") or \
            any(a.lower().startswith("windows") for a in aliases):
        return  # Karpenter's Windows families default to 110 pods, and EKS IPv6 has no Windows (CNI012)
    key = found[0]
    yield Finding(key.start, key.end,
                  f"{doc.object_name}: no `kubelet.maxPods`; Karpenter sizes nodes with the secondary-IP formula, "
                  f"not the much higher prefix-delegation capacity of IPv6 nodes (EKS recommends 110, or 250 on "
                  f"large nodes)")


@rule("NODE006", "unknown-instance-type", "warning",
      fix="safe", kinds=("eksctl.io/*/ClusterConfig",) + NODEPOOL, languages=("yaml", "hcl"),
      platforms=("aws",), references=(EKS_MAX_PODS,))
def unknown_instance_type(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An instance type that is not in the instance table (a typo?).

    Why:
        An unknown type fails at launch; the table is the VPC CNI's list of every EC2 instance type.

    Example:
        instanceType: m5.lage   # m5.large

    Fix:
        when exactly one type is close
    """
    for group in node_groups(doc):
        for node in group.types:
            text = node.text or ""
            if not _TYPE_NAME.match(text) or text in table():
                continue
            close = difflib.get_close_matches(text, list(table()), n=3, cutoff=0.85)
            same_family = [c for c in close if c.split(".")[0] == text.split(".")[0]]
            close = same_family if len(same_family) == 1 else close[:2]  # `m5.lage` is m5.large, not m5n.large
            fix = Fix.safe(f"Use `{close[0]}`", replace_scalar(node, close[0])) if len(close) == 1 else None
            hint = f" (did you mean {' or '.join(f'`{c}`' for c in close)}?)" if close else ""
            yield Finding(node.start, node.end, f"{group.label}: unknown instance type `{text}`{hint}", fix)


RULES = [
    non_nitro_instance,
    hypervisor_requirement_missing,
    max_pods_over_eni_limit,
    max_pods_capped,
    karpenter_max_pods_unset,
    unknown_instance_type,
]
