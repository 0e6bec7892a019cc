"""SVC: the Kubernetes Service dual-stack API.

Facts from kubernetes pkg/apis/core/validation (ValidateService and
ValidateServiceClusterIPsRelatedFields) and pkg/registry/core/service/storage/alloc.go
(initIPFamilyFields: policy defaulting, "not configured on this cluster").
"""
from __future__ import annotations

import ipaddress
from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import SEQ, Document, Node
from v6lint.rule import Needles, Profile, contains, rule
from v6lint.rules.views import (ALLOC, FAMILIES, POLICIES, SERVICE, canonical, effective_policy, family_of, ipv6_only,
                                service_spec)
from v6lint.yaml_edit import delete_entries, delete_entry, delete_item, entry_index, insert_entries, replace_scalar

VALIDATION = "https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go"
DUAL_STACK_DOCS = "https://kubernetes.io/docs/concepts/services-networking/dual-stack/"
# ValidateService checks every externalIPs entry with ValidateNonSpecialIP (kubernetes/kubernetes@a7264f95ffc8,
# "used to validate Endpoints, EndpointSlices, and external IPs").
NON_SPECIAL_IP = ("https://github.com/kubernetes/kubernetes/blob/a7264f95ffc8b56377da16e83461aa59467ebb3e/"
                  "pkg/apis/core/validation/validation.go")
EKS_IPV6 = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"


def _show(node: Node) -> str:
    return node.text if node.text is not None else "<non-string>"


@rule("SVC001", "invalid-ip-family", "error",
      fix="safe", kinds=SERVICE, yaml_gate=contains("ipFamilies"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def invalid_ip_family(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`spec.ipFamilies` entry is not exactly `IPv4` or `IPv6`.

    Why:
        The API server compares families case-sensitively: `ipv6` or `IPV6` is rejected as an unsupported
        value, so the Service is never created.

    Example:
        ipFamilies: [ipv6]   # bad
        ipFamilies: [IPv6]   # good

    Fix:
        rewrite to the canonical case when the value is IPv4/IPv6 in another case
    """
    svc = service_spec(doc)
    for item in svc.families:
        value = item.text
        if value in FAMILIES:
            continue
        fixed = canonical(value, FAMILIES)
        fix = Fix.safe(f"Replace with `{fixed}`", replace_scalar(item, fixed)) if fixed else None
        yield Finding(item.start, item.end,
                      f"{svc.name}: ipFamilies entry {_show(item)!r} is not an IP family; the API server "
                      f"accepts exactly `IPv4` or `IPv6` (case-sensitive)", fix)


@rule("SVC002", "invalid-ip-family-policy", "error",
      fix="safe", kinds=SERVICE, yaml_gate=contains("ipFamilyPolicy"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def invalid_ip_family_policy(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`spec.ipFamilyPolicy` is not exactly `SingleStack`, `PreferDualStack` or `RequireDualStack`.

    Why:
        Any other value (`preferDualStack`, `DualStack`) is rejected as an unsupported value.

    Example:
        ipFamilyPolicy: preferDualStack   # bad
        ipFamilyPolicy: PreferDualStack   # good

    Fix:
        canonical case; `DualStack` has no automatic fix (prefer or require?)
    """
    svc = service_spec(doc)
    node = svc.policy_node
    if node is None or node.is_null or svc.policy in POLICIES:
        return
    fixed = canonical(svc.policy, POLICIES)
    fix = Fix.safe(f"Replace with `{fixed}`", replace_scalar(node, fixed)) if fixed else None
    hint = " (did you mean `PreferDualStack` or `RequireDualStack`?)" if svc.policy == "DualStack" else ""
    yield Finding(node.start, node.end,
                  f"{svc.name}: ipFamilyPolicy {_show(node)!r} is not one of `SingleStack`, "
                  f"`PreferDualStack`, `RequireDualStack`{hint}", fix)


@rule("SVC003", "duplicate-ip-family", "error",
      fix="safe", kinds=SERVICE, yaml_gate=contains("ipFamilies"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def duplicate_ip_family(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A family is listed twice in `spec.ipFamilies`, or it has more than two entries.

    Why:
        Validation rejects duplicate families and more than two entries: a Service has at most one address per
        family.

    Example:
        ipFamilies: [IPv6, IPv6]   # bad
        ipFamilies: [IPv6]         # good

    Fix:
        drop the duplicate entries
    """
    svc = service_spec(doc)
    seen: set[str | None] = set()
    for index, item in enumerate(svc.families):
        value = item.text
        if value in seen and svc.families_node is not None:  # (it holds the items)
            yield Finding(item.start, item.end,
                          f"{svc.name}: ipFamilies lists {value!r} twice; each family may appear once",
                          Fix.safe(f"Remove the duplicate `{value}`",
                               delete_item(doc.source, svc.families_node, index)))
        elif index >= 2:
            yield Finding(item.start, item.end,
                          f"{svc.name}: ipFamilies may hold at most two entries (one per family)")
        seen.add(value)


@rule("SVC004", "single-stack-two-families", "error",
      fix="unsafe", kinds=SERVICE, yaml_gate=contains("ipFamilies", "clusterIPs"), rejected_by="the API server", references=(ALLOC, DUAL_STACK_DOCS))
def single_stack_two_families(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Two `ipFamilies` or two `clusterIPs` with `ipFamilyPolicy: SingleStack`, or with no policy (which the API
    server defaults to SingleStack).

    Why:
        alloc.go (`initIPFamilyFields`) defaults an absent `ipFamilyPolicy` to `SingleStack` on create; only a
        headless Service without a selector defaults to `RequireDualStack`. It then rejects a `SingleStack`
        Service with two families or two cluster IPs ("must be 'RequireDualStack' or 'PreferDualStack' when
        multiple IP families are specified"), on every cluster and every Service type, so no cluster profile
        is needed.

    Example:
        ipFamilies: [IPv6, IPv4]           # bad: no policy means SingleStack

        ipFamilyPolicy: PreferDualStack    # good
        ipFamilies: [IPv6, IPv4]

    Fix:
        set (or add) `ipFamilyPolicy: PreferDualStack`; the Service becomes dual-stack where the cluster is
    """
    svc = service_spec(doc)
    policy, defaulted = effective_policy(svc)
    if policy != "SingleStack":
        return
    # Only a pair validation lets through reaches this check (ValidateServiceClusterIPsRelatedFields runs
    # first): two different families, or addresses of two families. Duplicates are SVC003's and SVC005's.
    pairs = (("ipFamilies", svc.families_node, [n.text for n in svc.families]),
             ("clusterIPs", svc.cluster_ips_node, [family_of(n.text) for n in svc.cluster_ips]))
    two = [(what, node) for what, node, values in pairs
           if len(values) == 2 and None not in values and values[0] != values[1]]
    if not two:
        return
    names = " and ".join(what for what, _n in two)
    if not defaulted:
        node = svc.policy_node
        assert node is not None  # (a policy that is not defaulted is written)
        yield Finding(node.start, node.end,
                      f"{svc.name}: ipFamilyPolicy is `SingleStack` but {names} hold two values; the API server "
                      f"rejects this (it must be `PreferDualStack` or `RequireDualStack`)",
                      Fix.unsafe("Set ipFamilyPolicy to `PreferDualStack`", replace_scalar(node, "PreferDualStack")))
        return
    what, node = two[0]
    assert node is not None and svc.spec is not None  # (two values are written in the spec)
    at = entry_index(svc.spec, what)
    yield Finding(node.start, node.end,
                  f"{svc.name}: {names} hold two values but no ipFamilyPolicy is set; on create the API server "
                  f"defaults it to `SingleStack` and rejects the Service (it must be `PreferDualStack` or "
                  f"`RequireDualStack`)",
                  Fix.unsafe("Add `ipFamilyPolicy: PreferDualStack`",
                       insert_entries(doc.source, svc.spec, [("ipFamilyPolicy", "PreferDualStack")], doc.root,
                                      at=at + 1 if at is not None else None)))


@rule("SVC005", "inconsistent-cluster-ips", "error",
      fix="safe", kinds=SERVICE, yaml_gate=contains("clusterIP"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def inconsistent_cluster_ips(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`clusterIPs` disagrees with `clusterIP`, has more than two values, `None` not alone, two IPs of one
    family, or a value that is not an IP.

    Why:
        Clients must set `clusterIP` and `clusterIPs` together with `clusterIPs[0] == clusterIP`; the API
        server does not fill `clusterIP` from `clusterIPs` on create and rejects every other inconsistency.

    Example:
        clusterIPs: [10.96.0.20, fd00::20]              # bad: no clusterIP
        clusterIP: 10.96.0.20
        clusterIPs: [10.96.0.20, fd00::20]   # good

    Fix:
        add `clusterIP: <clusterIPs[0]>` when it is missing
    """
    svc = service_spec(doc)
    ips = svc.cluster_ips
    single = svc.cluster_ip
    garbage = single not in (None, "", "None") and family_of(single) is None
    if garbage and (node := svc.cluster_ip_node) is not None:  # (a garbage value is written)
        also = " (nor is clusterIPs[0], the same value)" if ips and ips[0].text == single else ""
        yield Finding(node.start, node.end, f"{svc.name}: clusterIP {single!r} is not an IP address or `None`{also}")
    if not ips:
        return
    values = [n.text for n in ips]
    node = svc.cluster_ips_node
    assert node is not None  # (it holds the items)
    if svc.cluster_ip_node is None or svc.cluster_ip_node.is_null:
        first = values[0]
        fix = None
        if first and (first == "None" or family_of(first)) and svc.spec is not None:
            at = entry_index(svc.spec, "clusterIPs")
            fix = Fix.safe(f"Add `clusterIP: {first}`",
                       insert_entries(doc.source, svc.spec, [("clusterIP", first)], doc.root, at=at))
        yield Finding(node.start, node.end,
                      f"{svc.name}: clusterIPs is set without clusterIP; clusterIP must equal clusterIPs[0]", fix)
    elif single != values[0]:
        yield Finding(ips[0].start, ips[0].end,
                      f"{svc.name}: clusterIPs[0] ({values[0]!r}) must equal clusterIP ({single!r})")
    if len(ips) > 2:
        yield Finding(ips[2].start, node.end, f"{svc.name}: clusterIPs may hold at most two addresses")
    if "None" in values and len(values) > 1:
        where = ips[values.index("None")]
        yield Finding(where.start, where.end, f"{svc.name}: `None` must be the first and only value of clusterIPs")
    seen: dict[str, int] = {}
    for index, item in enumerate(ips):
        value = item.text
        if value == "None" or (index == 0 and garbage and value == single):
            continue  # the same bad value as clusterIP: reported there, once
        family = family_of(value)
        if family is None:
            yield Finding(item.start, item.end, f"{svc.name}: clusterIPs entry {_show(item)!r} is not an IP address")
        elif family in seen:
            yield Finding(item.start, item.end,
                          f"{svc.name}: clusterIPs holds two {family} addresses; a dual-stack Service has one of "
                          f"each family")
        else:
            seen[family] = 1


@rule("SVC006", "cluster-ip-family-mismatch", "error",
      fix="safe", kinds=SERVICE, yaml_gate=Needles((("ipFamilies", "clusterIPs"),)), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def cluster_ip_family_mismatch(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`clusterIPs[i]` is of another family than `ipFamilies[i]`.

    Why:
        The i-th family must match the i-th address; the API server rejects a mismatch.

    Example:
        clusterIPs: [fd00::20, 10.96.0.20]
        ipFamilies: [IPv4, IPv6]   # bad
        ipFamilies: [IPv6, IPv4]   # good

    Fix:
        reorder `ipFamilies` when it is a permutation of the addresses' families
    """
    svc = service_spec(doc)
    families, ips = svc.families, svc.cluster_ips
    ip_families = [family_of(n.text) for n in ips]
    values = svc.family_values
    mismatched = [
        i for i in range(min(len(families), len(ips)))
        if ip_families[i] and values[i] in FAMILIES and values[i] != ip_families[i]
    ]
    if not mismatched:
        return
    wanted = ip_families[:len(families)] + values[len(ips):]
    fix = None
    # A null entry (SVC001's) leaves nothing to reorder: comparing it with a family raised TypeError here.
    order = [w for w in wanted if w is not None]
    known = [v for v in values if v is not None]
    if len(order) == len(wanted) and len(known) == len(values) and sorted(order) == sorted(known):
        fix = Fix.safe("Reorder ipFamilies to match clusterIPs",
                   *(replace_scalar(families[i], order[i]) for i in range(len(families)) if order[i] != values[i]))
    for i in mismatched:
        yield Finding(families[i].start, families[i].end,
                      f"{svc.name}: ipFamilies[{i}] is {values[i]} but clusterIPs[{i}] ({ips[i].text}) is "
                      f"{ip_families[i]}; the families must be listed in the order of the addresses", fix)


@rule("SVC007", "external-name-ip-fields", "error",
      fix="safe", kinds=SERVICE, yaml_gate=contains("ExternalName"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def external_name_ip_fields(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`type: ExternalName` with `clusterIP(s)`, `ipFamilies` or `ipFamilyPolicy` (one finding for all of them).

    Why:
        An ExternalName Service is a DNS CNAME and gets no IP: validation rejects IP fields on it.

    Example:
        type: ExternalName
        externalName: db.example.com
        ipFamilyPolicy: SingleStack   # bad: remove

    Fix:
        delete those fields
    """
    svc = service_spec(doc)
    if svc.type != "ExternalName" or svc.spec is None:
        return
    found = []
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        entry = svc.spec.entry(key)
        if entry is None:
            continue
        k, v = entry
        if v.is_null or (key == "clusterIP" and v.text == "") or (v.kind == SEQ and not v.items()):
            continue
        found.append((key, k, v))
    if not found:
        return
    keys = [key for key, _k, _v in found]
    shown = ", ".join(f"`{key}`" for key in keys)
    yield Finding(found[0][1].start, found[0][2].end,
                  f"{svc.name}: {shown} must not be set on an ExternalName Service (it gets no IP)",
                  Fix.safe(f"Remove {shown}", delete_entries(doc.source, svc.spec, keys)))


@rule("SVC008", "headless-exposed-service", "error",
      fix="none", kinds=SERVICE, yaml_gate=contains("clusterIP"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def headless_exposed_service(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`clusterIP: None` with type `LoadBalancer` or `NodePort`.

    Why:
        A headless Service has no virtual IP to expose; validation rejects `None` for these types.

    Example:
        type: LoadBalancer
        clusterIP: None   # bad: remove clusterIP, or use type ClusterIP
    """
    svc = service_spec(doc)
    node = svc.cluster_ip_node
    if node is not None and svc.cluster_ip == "None" and svc.type in ("LoadBalancer", "NodePort"):
        yield Finding(node.start, node.end,
                      f"{svc.name}: clusterIP `None` (headless) is not allowed with type {svc.type}; remove "
                      f"clusterIP, or make the Service type ClusterIP")


@rule("SVC009", "ip-family-not-in-cluster", "error",
      fix="unsafe", kinds=SERVICE, yaml_gate=contains("ipFamilies", "clusterIPs"), profiles=("ipv4", "ipv6"), rejected_by="the API server",
      references=(ALLOC, EKS_IPV6))
def ip_family_not_in_cluster(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`ipFamilies` or a cluster IP names a family the single-stack cluster does not serve.

    Why:
        Every requested family must be configured on the cluster, even with `PreferDualStack`. An EKS IPv6
        cluster serves only IPv6 Services, so `[IPv4]` (or `[IPv6, IPv4]`) fails with "not configured on this
        cluster". Headless Services without a selector are exempt.

    Example:
        # IPv6 cluster
        ipFamilies: [IPv4]   # bad
        ipFamilies: [IPv6]   # good

    Fix:
        use only the cluster's family (never touches hard-coded clusterIPs)
    """
    svc = service_spec(doc)
    served = profile.service_families
    if svc.headless_selectorless or not served:
        return
    if profile.ip_family == "ipv4" and ipv6_only(svc):
        return  # an IPv6-only Service in an IPv4 project questions the profile: PRF002
    values = [canonical(v, FAMILIES) for v in svc.family_values]  # `ipv6` is IPv6 here; SVC001 reports the case
    foreign = [i for i, v in enumerate(values) if v in FAMILIES and v not in served]
    bad_ips = [n for n in svc.cluster_ips if family_of(n.text) not in (None, *served)]
    node = svc.families_node
    if foreign and node is not None:  # (it holds the entries)
        fix = None
        if not bad_ips:
            keep = [i for i, v in enumerate(values) if v in served]
            if keep:
                edits = [delete_item(doc.source, node, i) for i in foreign]
                fix = Fix.unsafe(f"Keep only {', '.join(served)} in ipFamilies", edits) if len(edits) == 1 else None
            else:
                edits = [replace_scalar(svc.families[i], served[0]) for i in foreign]
                fix = Fix.unsafe(f"Use the cluster's family `{served[0]}`", edits)
        names = ", ".join(dict.fromkeys(name for i in foreign if (name := values[i])))
        yield Finding(node.start, node.end,
                      f"{svc.name}: ipFamilies asks for {names}, which this {profile.label} cluster does not "
                      f"serve; the API server rejects it (\"not configured on this cluster\")", fix)
    for node in bad_ips:
        yield Finding(node.start, node.end,
                      f"{svc.name}: clusterIPs entry {node.text} is {family_of(node.text)}, which this "
                      f"{profile.label} cluster does not serve")


@rule("SVC010", "require-dual-stack-on-single-stack", "error",
      fix="unsafe", kinds=SERVICE, yaml_gate=contains("RequireDualStack"), profiles=("ipv4", "ipv6"), rejected_by="the API server",
      references=(ALLOC, EKS_IPV6))
def require_dual_stack_on_single_stack(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`RequireDualStack` on a single-stack cluster.

    Why:
        `RequireDualStack` fails with "this cluster is not configured for dual-stack services" unless the
        cluster serves both families. An EKS IPv6 cluster is single-stack for Services.

    Example:
        # IPv6 cluster
        ipFamilyPolicy: RequireDualStack   # bad
        ipFamilyPolicy: PreferDualStack    # good

    Fix:
        set `PreferDualStack`
    """
    svc = service_spec(doc)
    node = svc.policy_node
    if node is None or svc.policy != "RequireDualStack" or svc.headless_selectorless:
        return
    yield Finding(node.start, node.end,
                  f"{svc.name}: `RequireDualStack` on a single-stack {profile.label} cluster is rejected "
                  f"(\"this cluster is not configured for dual-stack services\")",
                  Fix.unsafe("Set ipFamilyPolicy to `PreferDualStack`", replace_scalar(node, "PreferDualStack")))


@rule("SVC011", "removed-ip-family-field", "error",
      fix="safe", kinds=SERVICE, yaml_gate=contains("ipFamily"), references=(VALIDATION, DUAL_STACK_DOCS))
def removed_ip_family_field(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`spec.ipFamily` (singular) is set.

    Why:
        The alpha field `ipFamily` was removed in Kubernetes 1.20; the API server silently drops it and the
        Service gets the cluster's default family instead of the one asked for.

    Example:
        ipFamily: IPv6                 # bad
        ipFamilies: [IPv6]             # good
        ipFamilyPolicy: SingleStack

    Fix:
        replace with `ipFamilies: [X]` and `ipFamilyPolicy: SingleStack`
    """
    svc = service_spec(doc)
    found = svc.spec.entry("ipFamily") if svc.spec is not None else None
    if svc.spec is None or found is None:
        return
    key, value = found
    family = canonical(value.text, FAMILIES)
    fix = None
    if svc.families_node is not None:
        fix = Fix.safe("Remove `ipFamily` (ipFamilies is already set)",
                   delete_entry(doc.source, svc.spec, "ipFamily"))
    elif family:
        pairs: list[tuple[str, object]] = [("ipFamilies", [family])]
        if svc.policy_node is None:
            pairs.append(("ipFamilyPolicy", "SingleStack"))
        at = entry_index(svc.spec, "ipFamily")
        fix = Fix.safe(f"Replace with `ipFamilies: [{family}]`" + (" and `ipFamilyPolicy: SingleStack`" if len(pairs) > 1 else ""),
                   delete_entry(doc.source, svc.spec, "ipFamily"),
                   insert_entries(doc.source, svc.spec, pairs, doc.root, at=at))
    yield Finding(key.start, value.end,
                  f"{svc.name}: `spec.ipFamily` was removed in Kubernetes 1.20 and is silently dropped; use "
                  f"`ipFamilies` and `ipFamilyPolicy`", fix)


@rule("SVC012", "load-balancer-class-wrong-type", "error",
      fix="none", kinds=SERVICE, yaml_gate=contains("loadBalancerClass"), rejected_by="the API server", references=(VALIDATION, DUAL_STACK_DOCS))
def load_balancer_class_wrong_type(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`spec.loadBalancerClass` on a type other than LoadBalancer.

    Why:
        Validation allows `loadBalancerClass` only when `type` is LoadBalancer.

    Example:
        type: ClusterIP
        loadBalancerClass: service.k8s.aws/nlb   # bad
    """
    svc = service_spec(doc)
    node = svc.spec.get("loadBalancerClass") if svc.spec is not None else None
    if node is None or node.is_null or svc.type == "LoadBalancer":
        return
    yield Finding(node.start, node.end,
                  f"{svc.name}: loadBalancerClass may only be set when type is LoadBalancer (type is {svc.type}); "
                  f"remove it or set `type: LoadBalancer`")



def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ValidateNonSpecialIP refuses an address (Go's net.IP tests, which read an IPv4-mapped IPv6
    address as the IPv4 one), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "may not be unspecified"
    if address.is_loopback:
        return "may not be in the loopback range (127.0.0.0/8, ::1/128)"
    if address.is_link_local:
        return "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
    link_local_multicast = (address in ipaddress.ip_network("224.0.0.0/24") if address.version == 4
                            else address.is_multicast and address.packed[1] & 0x0F == 0x02)
    if link_local_multicast:
        return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/16)"
    return None


@rule("SVC013", "special-external-ip", "error", kinds=SERVICE, yaml_gate=contains("externalIPs"), references=(NON_SPECIAL_IP,),
      rejected_by="the API server")
def special_external_ip(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A `spec.externalIPs` entry is unspecified, loopback, link-local or link-local multicast.

    Why:
        The API server checks every external IP with ValidateNonSpecialIP and rejects `0.0.0.0` and `::`,
        `127.0.0.0/8` and `::1`, `169.254.0.0/16` and `fe80::/10`, and the link-local multicast ranges
        (IPv4-mapped IPv6 addresses count as their IPv4 address). Moving to IPv6, `::` or an interface's
        `fe80::` address copied from a node is an easy mistake; the Service is never created.

    Example:
        externalIPs: ["fe80::1"]           # bad: link-local
        externalIPs: ["2001:db8:10::20"]   # good
    """
    svc = service_spec(doc)
    entries = svc.spec.get("externalIPs") if svc.spec is not None else None
    for item in entries.items() if entries is not None and entries.kind == SEQ else []:
        try:
            address = ipaddress.ip_address((item.text or "").strip())
        except ValueError:
            continue  # not an IP as Python reads it; Go's sloppy parser accepts some of these, so no guess
        why = _special(address)
        if why:
            yield Finding(item.start, item.end, f"{svc.name}: externalIPs entry {item.text!r} {why}; the API "
                                                f"server rejects the Service")


RULES = [
    invalid_ip_family,
    invalid_ip_family_policy,
    duplicate_ip_family,
    single_stack_two_families,
    inconsistent_cluster_ips,
    cluster_ip_family_mismatch,
    external_name_ip_fields,
    headless_exposed_service,
    ip_family_not_in_cluster,
    require_dual_stack_on_single_stack,
    removed_ip_family_field,
    load_balancer_class_wrong_type,
    special_external_ip,
]
