"""The Service view: the dual-stack fields of a Service, and how the API server reads them.

Facts from kubernetes pkg/apis/core/validation (ValidateService) and pkg/registry/core/service/storage/alloc.go
(initIPFamilyFields: policy defaulting).
"""
from __future__ import annotations

import ipaddress

from v6lint.document import MAP, SEQ, Document, Node, per_document


SERVICE = ("v1/Service",)
FAMILIES = ("IPv4", "IPv6")
POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")

# initIPFamilyFields as read at kubernetes/kubernetes@b0d609f08083d7a8aa3426540d6d5f9090944906
ALLOC = ("https://github.com/kubernetes/kubernetes/blob/b0d609f08083d7a8aa3426540d6d5f9090944906/"
         "pkg/registry/core/service/storage/alloc.go")


class ServiceSpec:
    """The dual-stack fields of one Service, read once for all SVC rules."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.spec: Node | None = doc.root.get("spec") if doc.root is not None else None
        spec = self.spec if self.spec is not None and self.spec.kind == MAP else None
        self.spec = spec
        get = spec.get if spec is not None else (lambda _key: None)
        self.type = (node.text if (node := get("type")) is not None else None) or "ClusterIP"
        self.families_node = get("ipFamilies")
        self.policy_node = get("ipFamilyPolicy")
        self.cluster_ip_node = get("clusterIP")
        self.cluster_ips_node = get("clusterIPs")
        self.selector = get("selector")

    def seq(self, node: Node | None) -> list[Node]:
        return node.items() if node is not None and node.kind == SEQ else []

    @property
    def families(self) -> list[Node]:
        return self.seq(self.families_node)

    @property
    def family_values(self) -> list[str | None]:
        return [n.text for n in self.families]

    @property
    def cluster_ips(self) -> list[Node]:
        return self.seq(self.cluster_ips_node)

    @property
    def policy(self) -> str | None:
        return self.policy_node.text if self.policy_node is not None else None

    @property
    def cluster_ip(self) -> str | None:
        return self.cluster_ip_node.text if self.cluster_ip_node is not None else None

    @property
    def headless_selectorless(self) -> bool:
        """alloc.go lets these through before any cluster-family check."""
        has_selector = self.selector is not None and bool(self.selector.entries())
        return self.cluster_ip == "None" and not has_selector

    @property
    def name(self) -> str:
        return self.doc.object_name


service_spec = per_document(ServiceSpec)  # one build per Service for all rules


def canonical(value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    folded = value.strip().lower()
    return next((c for c in choices if c.lower() == folded), None)


def family_of(address: str | None) -> str | None:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    return "IPv4" if ip.version == 4 else "IPv6"


def effective_policy(svc: ServiceSpec) -> tuple[str | None, bool]:
    """(policy, defaulted): the policy the API server applies on create. alloc.go initIPFamilyFields: an
    absent policy becomes SingleStack, except on headless selector-less Services (RequireDualStack);
    ExternalName Services get none."""
    if svc.policy_node is not None and not svc.policy_node.is_null:
        return svc.policy, False
    if svc.type == "ExternalName":
        return None, True
    return ("RequireDualStack" if svc.headless_selectorless else "SingleStack"), True


def ipv6_only(svc: ServiceSpec) -> bool:
    return svc.family_values == ["IPv6"] and svc.policy in (None, "SingleStack")
