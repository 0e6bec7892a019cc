"""EKS: eksctl ClusterConfig (eksctl pkg/apis/eksctl.io/v1alpha5 validation.go, IPv6 checks)."""
from __future__ import annotations

import re
from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, SEQ, Document, Node
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import Literal, append_item, delete_entry, insert_entries, replace_scalar
from v6lint.rules.views import ip_family

CLUSTER = ("eksctl.io/*/ClusterConfig",)
EKSCTL_DOCS = "https://eksctl.io/usage/vpc-ip-family/"
# validateKubernetesNetworkConfig as read at eksctl-io/eksctl@99984adb6164ece593c0728523b7f497ea61d60e
VALIDATION = ("https://github.com/eksctl-io/eksctl/blob/99984adb6164ece593c0728523b7f497ea61d60e/"
              "pkg/apis/eksctl.io/v1alpha5/validation.go")
# eksctl's IPv6 add-on and credential checks, since eksctl #8790 (a068db8e): only coredns must be
# declared; vpc-cni and kube-proxy are optional.
REQUIRED_ADDONS = ("coredns",)


_CREATE = " Judged from the config's own `kubernetesNetworkConfig.ipFamily` (absent means IPv4), as eksctl does."


def creates_ipv6(doc: Document) -> bool:
    """The config itself creates an IPv6 cluster. eksctl's create-time checks (validateKubernetesNetworkConfig)
    read only the config: an absent or empty ipFamily is IPv4, whatever the rest of the project says."""
    return (doc.tree.str_at("kubernetesNetworkConfig", "ipFamily") or "").lower() == "ipv6"


def _addons(doc: Document) -> Node | None:
    addons = doc.tree.get("addons")
    return addons if addons is not None and addons.kind == SEQ else None


def _addon(doc: Document, name: str) -> Node | None:
    """The add-on entry called `name` (eksctl compares names lower-cased)."""
    addons = _addons(doc)
    return next((a for a in addons.items() if (a.str_at("name") or "").lower() == name), None) \
        if addons is not None else None


def _true(node: Node | None) -> bool:
    return node is not None and (node.text or "").lower() == "true"


def auto_mode(doc: Document) -> bool:
    """`autoModeConfig.enabled: true`: eksctl then skips the IPv6 add-on and credential checks."""
    return _true(doc.tree.path("autoModeConfig", "enabled"))


def _key(doc: Document, *path: str) -> tuple[int, int]:
    """The range of the key at `path`, or the document's start when the file lacks it."""
    node = doc.root
    for part in path[:-1]:
        node = node.get(part) if node is not None else None
    found = node.entry(path[-1]) if node is not None else None
    return (found[0].start, found[0].end) if found else (doc.start, doc.start)


@rule("EKS001", "eksctl-invalid-ip-family", "error",
      fix="safe", kinds=CLUSTER, platforms=("aws",), rejected_by="eksctl",
      references=(EKSCTL_DOCS, VALIDATION))
def eksctl_invalid_ip_family(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`kubernetesNetworkConfig.ipFamily` is not IPv4 or IPv6.

    Why:
        eksctl accepts IPv4 or IPv6 (case-insensitively) and has no dual-stack mode; an empty value is IPv4.

    Example:
        kubernetesNetworkConfig:
          ipFamily: IPv6

    Fix:
        canonical spelling when the value is IPv4/IPv6 with stray spaces
    """
    node = doc.tree.path("kubernetesNetworkConfig", "ipFamily")
    if node is None or node.text is None or node.text.lower() in ("ipv4", "ipv6", ""):
        return  # eksctl treats an empty ipFamily as IPv4
    fixed = {"ipv4": "IPv4", "ipv6": "IPv6"}.get(node.text.strip().lower())
    yield Finding(node.start, node.end, f"{doc.object_name}: ipFamily {node.text!r} is not IPv4 or IPv6 (eksctl has no "
                                        f"dual-stack mode)",
                  Fix.safe(f"Use `{fixed}`", replace_scalar(node, fixed)) if fixed else None)


@rule("EKS002", "eksctl-unmanaged-nodegroup-ipv6", "error",
      fix="none", kinds=CLUSTER, platforms=("aws",), rejected_by="eksctl",
      references=(EKSCTL_DOCS, VALIDATION))
def eksctl_unmanaged_nodegroup_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Unmanaged `nodeGroups` on an IPv6 cluster.

    Why:
        eksctl supports only managed node groups (and Karpenter/Fargate) for IPv6 clusters ("unmanaged
        nodegroups are not supported with IPv6 clusters", pkg/cfn/builder/nodegroup.go). Unlike EKS003-EKS006
        this is checked whenever node groups are added, against the existing cluster's family (eksctl fills it
        in from the live cluster, ClusterConfig.SetClusterState), so a config without ipFamily is judged by
        the project profile.

    Example:
        managedNodeGroups:
          - name: ng-1
    """
    if ip_family(doc, profile) != "ipv6":
        return
    groups = doc.tree.get("nodeGroups")
    for group in groups.items() if groups is not None and groups.kind == SEQ else []:
        name = group.get("name") or group
        yield Finding(name.start, name.end, f"{doc.object_name}: unmanaged node group {group.str_at('name') or '?'} on "
                                            f"an IPv6 cluster; eksctl supports only managed node groups there")


INCOMPATIBLE = (
    (("kubernetesNetworkConfig", "serviceIPv4CIDR"), True, "serviceIPv4CIDR is IPv4-only"),
    (("vpc", "nat"), True, "NAT gateways are not used for IPv6 clusters"),
    (("vpc", "autoAllocateIPv6"), False, "eksctl allocates the IPv6 CIDR itself in IPv6 mode"),
    (("localZones",), False, "Local Zones are not supported with IPv6"),
    (("outpost",), False, "Outposts are not supported with IPv6"),
    (("remoteNetworkConfig",), False, "hybrid nodes (remoteNetworkConfig) are not supported with IPv6"),
)


@rule("EKS003", "eksctl-ipv6-incompatible-field", "error",
      fix="safe", kinds=CLUSTER, platforms=("aws",), rejected_by="eksctl",
      references=(EKSCTL_DOCS, VALIDATION))
def eksctl_ipv6_incompatible_field(doc: Document, profile: Profile) -> Iterator[Finding]:
    """IPv6 with `serviceIPv4CIDR`, `vpc.nat`, `vpc.autoAllocateIPv6: true`, `localZones`, Outposts or
    `remoteNetworkConfig`.

    Why:
        eksctl's validation rejects these with ipFamily IPv6. Judged from the config's own
        `kubernetesNetworkConfig.ipFamily` (absent means IPv4), as eksctl does.

    Example:
        kubernetesNetworkConfig:
          ipFamily: IPv6

    Fix:
        delete `serviceIPv4CIDR` / `vpc.nat`
    """
    if not creates_ipv6(doc):
        return
    for path, removable, why in INCOMPATIBLE:
        node = doc.tree.path(*path)
        if node is None or (path[-1] == "autoAllocateIPv6" and (node.text or "").lower() != "true"):
            continue
        parent = doc.tree.path(*path[:-1]) if len(path) > 1 else doc.tree
        fix = Fix.safe(f"Remove `{'.'.join(path)}`", delete_entry(doc.source, parent, path[-1])) \
            if removable and parent is not None and parent.kind == MAP and len(parent.entries()) > 1 else None
        yield Finding(*_key(doc, *path), f"{doc.object_name}: `{'.'.join(path)}` on an IPv6 cluster: {why}", fix)


@rule("EKS004", "eksctl-ipv6-missing-addon", "error",
      fix="safe", kinds=CLUSTER, platforms=("aws",), rejected_by="eksctl",
      references=(EKSCTL_DOCS, VALIDATION))
def eksctl_ipv6_missing_addon(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An IPv6 cluster config (not EKS Auto Mode) without the `coredns` add-on.

    Why:
        eksctl's validation requires the default add-ons to be declared for IPv6 clusters unless
        `autoModeConfig.enabled` is true ("the default core addons must be defined for IPv6; missing addon(s):
        ..."). Since eksctl #8790 (a068db8e) only coredns is required; vpc-cni and kube-proxy are optional.
        Judged from the config's own `kubernetesNetworkConfig.ipFamily` (absent means IPv4), as eksctl does.

    Example:
        addons:
          - name: vpc-cni
          - name: coredns
          - name: kube-proxy

    Fix:
        add every missing required add-on
    """
    if not creates_ipv6(doc) or auto_mode(doc):
        return
    missing = [name for name in REQUIRED_ADDONS if _addon(doc, name) is None]
    if not missing:
        return
    entries = [{"name": name} for name in missing]
    addons = _addons(doc)
    if addons is not None:
        edits = [append_item(doc.source, addons, entry) for entry in entries]
        where = _key(doc, "addons")
    else:
        edits = [insert_entries(doc.source, doc.tree, [("addons", entries)], doc.root)]
        where = _key(doc, "kubernetesNetworkConfig") if doc.tree.get("kubernetesNetworkConfig") is not None \
            else _key(doc, "metadata")
    names = ", ".join(missing)
    yield Finding(*where, f"{doc.object_name}: an IPv6 cluster without the default add-on(s) {names}; eksctl "
                          f"requires them to be declared for IPv6 (or EKS Auto Mode)",
                  Fix.safe(f"Add the {names} add-on(s)", edits))


@rule("EKS005", "eksctl-ipv6-oidc", "error",
      fix="safe", kinds=CLUSTER, platforms=("aws",), rejected_by="eksctl",
      references=(EKSCTL_DOCS, VALIDATION))
def eksctl_ipv6_oidc(doc: Document, profile: Profile) -> Iterator[Finding]:
    """The `vpc-cni` add-on on IPv6 (not EKS Auto Mode) without credentials: neither the pod identity agent nor
    `iam.withOIDC: true`, or the agent without a pod identity association for vpc-cni.

    Why:
        In IPv6 mode the VPC CNI's service account needs IAM permissions (AmazonEKS_CNI_IPv6_Policy). eksctl
        rejects the config unless OIDC is on or the eks-pod-identity-agent add-on is declared; with the agent
        it also wants `useDefaultPodIdentityAssociations` or `podIdentityAssociations` on vpc-cni (or
        `addonsConfig.autoApplyPodIdentityAssociations`). Auto Mode clusters are exempt. Judged from the
        config's own `kubernetesNetworkConfig.ipFamily` (absent means IPv4), as eksctl does.

    Example:
        iam:
          withOIDC: true

    Fix:
        `withOIDC: true`, or `useDefaultPodIdentityAssociations: true` when the agent is declared
    """
    cni = _addon(doc, "vpc-cni")
    if not creates_ipv6(doc) or cni is None or auto_mode(doc):
        return
    if _addon(doc, "eks-pod-identity-agent") is not None:
        yield from _pod_identity(doc, cni)
        return
    iam = doc.tree.get("iam")
    with_oidc = iam.get("withOIDC") if iam is not None and iam.kind == MAP else None
    if _true(with_oidc):
        return
    if with_oidc is not None:
        edits, where = (replace_scalar(with_oidc, Literal("true")),), (with_oidc.start, with_oidc.end)
    elif iam is not None and iam.kind == MAP and iam.entries():
        edits, where = (insert_entries(doc.source, iam, [("withOIDC", Literal("true"))], doc.root),), _key(doc, "iam")
    else:
        edits, where = (insert_entries(doc.source, doc.tree, [("iam", {"withOIDC": Literal("true")})], doc.root),), \
            _key(doc, "addons")
    yield Finding(*where, f"{doc.object_name}: the vpc-cni add-on on an IPv6 cluster needs IAM for its service account "
                          f"(OIDC or the pod identity agent), and neither is set up",
                  Fix.safe("Set `iam.withOIDC: true`", edits))


def _pod_identity(doc: Document, cni: Node) -> Iterator[Finding]:
    """With the pod identity agent, eksctl wants the vpc-cni add-on to get an association."""
    if _true(doc.tree.path("addonsConfig", "autoApplyPodIdentityAssociations")):
        return
    associations = cni.get("podIdentityAssociations")
    if _true(cni.get("useDefaultPodIdentityAssociations")) or \
            (associations is not None and associations.kind == SEQ and associations.items()):
        return
    name = cni.get("name") or cni
    edit = insert_entries(doc.source, cni, [("useDefaultPodIdentityAssociations", Literal("true"))], doc.root) \
        if cni.kind == MAP and cni.get("useDefaultPodIdentityAssociations") is None else None
    yield Finding(name.start, name.end,
                  f"{doc.object_name}: the pod identity agent is installed but the vpc-cni add-on has no pod identity "
                  f"association (`useDefaultPodIdentityAssociations` or `podIdentityAssociations`, or "
                  f"`addonsConfig.autoApplyPodIdentityAssociations`); eksctl rejects the IPv6 cluster",
                  Fix.safe("Set `useDefaultPodIdentityAssociations: true` on the vpc-cni add-on", edit))


def _version(text: str | None) -> tuple[int, ...] | None:
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", (text or "").strip())
    return tuple(int(g) for g in match.groups() if g is not None) if match else None


@rule("EKS006", "eksctl-old-version", "error",
      fix="none", kinds=CLUSTER, platforms=("aws",), rejected_by="eksctl",
      references=(EKSCTL_DOCS, VALIDATION))
def eksctl_old_version(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Kubernetes older than 1.21 with IPv6.

    Why:
        eksctl rejects IPv6 clusters below Kubernetes 1.21 ("cluster version must be >= 1.21"). The vpc-cni
        add-on version is CNI009's (one fact, one rule). Judged from the config's own
        `kubernetesNetworkConfig.ipFamily` (absent means IPv4), as eksctl does.

    Example:
        metadata:
          version: "1.31"
    """
    if not creates_ipv6(doc):
        return
    version = doc.tree.path("metadata", "version")
    found = _version(version.text if version is not None else None)
    if version is not None and found is not None and found[:2] < (1, 21):
        yield Finding(version.start, version.end, f"{doc.object_name}: Kubernetes {version.text} is older than 1.21, the "
                                                  f"first EKS version with IPv6 clusters")


# EKS003 to EKS006 mirror eksctl's create-time validation, which reads only the config: they fire only
# when the config itself says `ipFamily: IPv6` (absent or empty is IPv4), never from the project profile.


RULES = [
    eksctl_invalid_ip_family,
    eksctl_unmanaged_nodegroup_ipv6,
    eksctl_ipv6_incompatible_field,
    eksctl_ipv6_missing_addon,
    eksctl_ipv6_oidc,
    eksctl_old_version,
]
