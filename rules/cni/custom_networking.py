"""CNI rules on custom networking: ENIConfig objects and whether the CNI uses them."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, SEQ, Document
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import delete_entry
from v6lint.rules.views import CNI_TEXT, cni_settings
from v6lint.rules.cni.common import (CUSTOM_NET, _at, _placeholder)


@rule("CNI010", "eniconfig-invalid", "error",
      fix="safe", kinds=("crd.k8s.amazonaws.com/*/ENIConfig",), platforms=("aws",), references=(CUSTOM_NET,))
def eniconfig_invalid(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An ENIConfig without `spec.subnet`, with a namespace, or with ids that are not subnet-/sg-.

    Why:
        ENIConfig is cluster-scoped and needs a subnet ID; names are not resolved to IDs.

    Example:
        apiVersion: crd.k8s.amazonaws.com/v1alpha1
        kind: ENIConfig
        metadata: {name: eu-west-1a}
        spec: {subnet: subnet-0123, securityGroups: [sg-0123]}

    Fix:
        drop the namespace
    """
    root = doc.tree
    spec = root.get("spec")
    subnet = spec.get("subnet") if spec is not None and spec.kind == MAP else None
    metadata = root.get("metadata")
    found = metadata.entry("namespace") if metadata is not None else None
    if metadata is not None and found is not None:
        key, namespace = found
        yield Finding(key.start, namespace.end, f"{doc.object_name}: ENIConfig is cluster-scoped; a namespace is "
                                                f"ignored by some tools and rejected by others",
                      Fix.safe("Remove the namespace", delete_entry(doc.source, metadata, "namespace")))
    if subnet is None or not subnet.text:
        name = root.path("metadata", "name") or root
        yield Finding(name.start, name.end, f"{doc.object_name}: ENIConfig without `spec.subnet`; pods on nodes "
                                            f"using it get no secondary ENI")
    elif not subnet.text.startswith("subnet-") and not _placeholder(subnet.text):
        yield Finding(subnet.start, subnet.end, f"{doc.object_name}: `spec.subnet` {subnet.text!r} is not a subnet ID "
                                                f"(subnet-...)")
    groups = spec.get("securityGroups") if spec is not None and spec.kind == MAP else None
    for group in groups.items() if groups is not None and groups.kind == SEQ else []:
        if group.text and not group.text.startswith("sg-") and not _placeholder(group.text):
            yield Finding(group.start, group.end, f"{doc.object_name}: security group {group.text!r} is not an ID (sg-...)")


@rule("CNI011", "custom-networking-unused", "warning",
      fix="none", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, profiles=("ipv4",), platforms=("aws",), maturity="preview",
      references=(CUSTOM_NET,))
def custom_networking_unused(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Custom networking on, but no ENIConfig and no ENI_CONFIG_LABEL_DEF/ANNOTATION_DEF in the project.

    Why:
        With custom networking on and nothing selecting an ENIConfig, nodes attach no pod ENIs.

    Example:
        ENI_CONFIG_LABEL_DEF: topology.kubernetes.io/zone
    """
    facts = profile.facts
    for s in cni_settings(doc):
        if not s.flag("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"):
            continue
        # With custom networking the primary ENI carries no pods, so max pods must come down.
        groups = doc.tree.get("managedNodeGroups") if doc.kind == "ClusterConfig" else None
        for group in groups.items() if groups is not None and groups.kind == SEQ else []:
            if group.get("maxPodsPerNode") is None:
                name = group.get("name") or group
                yield Finding(name.start, name.end,
                              f"{s.label}: custom networking is on but managed node group "
                              f"{group.str_at('name') or '?'} keeps the default max pods, which counts the "
                              f"primary ENI's addresses that pods can no longer use; set maxPodsPerNode")
        if s.value("ENI_CONFIG_LABEL_DEF") or s.value("ENI_CONFIG_ANNOTATION_DEF"):
            continue
        if facts is not None and facts.eniconfigs:
            continue
        yield Finding(*_at(s, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"),
                      f"{s.label}: custom networking is on but the project has no ENIConfig and no "
                      f"ENI_CONFIG_LABEL_DEF/ANNOTATION_DEF; nodes get no pod ENIs")
