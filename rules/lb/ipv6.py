"""LB rules on what an IPv6 or dual-stack cluster needs of a load balancer and of the controller that builds it."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import SEQ, Document, Node
from v6lint.rule import Profile, contains, rule
from v6lint.yaml_edit import replace_scalar
from v6lint.rules.lb.common import (ALB_CIDRS, ALB_GROUP, ALB_IP_TYPE, ALB_TARGET, AUTO_MODE_DOCS, AWS, LOAD_BALANCER,
                                    EKS_IPV6_LB, INGRESS, INTERNAL, IPV6_ADDRESSES, IP_TYPE, LBC_CODE,
                                    LBC_DOCS, LBC_INGRESS_DOCS, LBC_OWNER, LBC_WEBHOOK, SCHEME, SERVICE, SNAT,
                                    SOURCE_RANGES, SUBNETS, TARGET, TYPE, WEBHOOK_VERSION, _list, _spec,
                                    _old_controller, _where, ann, controller_managed, ip_type_key,
                                    ipv6_backends, is_dualstack, owner, set_annotation, set_annotations)


@rule("LB003", "lb-not-dual-stack", "error",
      yaml_gate=LOAD_BALANCER, fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_CODE, EKS_IPV6_LB))
def lb_not_dual_stack(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A controller-managed load balancer with IPv6 backends that is not dual-stack.

    Why:
        With IPv6 pods (an IPv6 cluster, or a Service with an IPv6 family) the controller requires a
        dual-stack load balancer and fails with "unsupported IPv6 configuration, lb not dual-stack".

    Example:
        service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack

    Fix:
        add or set `ip-address-type: dualstack`
    """
    if not controller_managed(doc, profile) or not ipv6_backends(doc, profile) or is_dualstack(doc):
        return
    key = ip_type_key(doc)
    if profile.ip_family == "ipv6" and (ann(doc, key) or "") == "ipv4":
        return  # LB013 says it
    why = f"the cluster is IPv6 (per {profile.source})" if profile.ip_family == "ipv6" else "the Service has IPv6 families"
    pairs = [(key, "dualstack")]
    if doc.matches(SERVICE) and _udp(doc) and ann(doc, SNAT) != "on":
        pairs.append((SNAT, "on"))  # UDP on a dual-stack NLB needs source NAT prefixes (LB007)
    yield Finding(*_where(doc, key),
                  f"{doc.object_name}: {why}, but the load balancer is not dual-stack; the controller fails with "
                  f"\"unsupported IPv6 configuration, lb not dual-stack\"",
                  Fix.safe(f"Set `{key}: dualstack`" + (" and IPv6 source NAT for UDP" if len(pairs) > 1 else ""),
                       set_annotations(doc, pairs)))


def _target_key(doc: Document) -> str:
    return ALB_TARGET if doc.matches(INGRESS) else TARGET


@rule("LB004", "ipv6-instance-targets", "error",
      yaml_gate=LOAD_BALANCER, fix="safe", kinds=SERVICE + INGRESS, profiles=("ipv6",), platforms=AWS,
      references=(EKS_IPV6_LB, LBC_DOCS))
def ipv6_instance_targets(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A controller-managed load balancer on an IPv6 cluster with instance targets.

    Why:
        On EKS in IPv6 mode load balancers route to IPv6 pods only as IP targets; instance targets (the
        default for NLB Services with the class and for ALB Ingresses) do not work.

    Example:
        service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip

    Fix:
        set the target type to `ip`
    """
    if not controller_managed(doc, profile):
        return
    key = _target_key(doc)
    value = ann(doc, key)
    if value not in (None, "instance") or (value is None and ann(doc, TYPE) == "nlb-ip"):
        return  # `nlb-ip` means IP targets
    what = "instance targets" if value == "instance" else "the default instance targets"
    yield Finding(*_where(doc, key),
                  f"{doc.object_name}: {what} on an IPv6 cluster; EKS load balancers reach IPv6 pods only as IP "
                  f"targets", Fix.safe(f"Set `{key}: ip`", set_annotation(doc, key, "ip")))


@rule("LB006", "orphan-external-lb", "error",
      yaml_gate=contains("LoadBalancer"), fix="unsafe", kinds=SERVICE, platforms=AWS, references=(LBC_OWNER, LBC_WEBHOOK))
def orphan_external_lb(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`aws-load-balancer-type: external` without `nlb-target-type` or a loadBalancerClass.

    Why:
        The in-tree provider skips `external` Services, and the controller takes one without a class only with
        a target type. Since v2.5.0 the controller's Service webhook (on by default) gives every new
        LoadBalancer Service its class, so this fires only where the project pins an older controller (its
        Deployment image or Helm values): there no load balancer is ever created.

    Example:
        service.beta.kubernetes.io/aws-load-balancer-type: external
        service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip

    Fix:
        add `nlb-target-type: ip`
    """
    if owner(doc) != "webhook":
        return
    # Since v2.5.0 the controller's webhook gives such a Service its class and reconciles it (with
    # instance targets); it is an orphan only where the project pins an older controller.
    old = _old_controller(profile, WEBHOOK_VERSION)
    if old is None:
        return
    yield Finding(*_where(doc, TYPE),
                  f"{doc.object_name}: `aws-load-balancer-type: external` without `nlb-target-type` or a "
                  f"loadBalancerClass: the in-tree provider skips it, and the project's AWS Load Balancer "
                  f"Controller v{old[0]} ({old[1]}) predates the v2.5.0 Service webhook that would take it, so "
                  f"nobody creates its load balancer",
                  Fix.unsafe("Add `nlb-target-type: ip`", set_annotation(doc, TARGET, "ip")))


def _udp(doc: Document) -> bool:
    spec = _spec(doc)
    ports = spec.get("ports") if spec is not None else None
    return any((p.str_at("protocol") or "").upper() == "UDP" for p in (ports.items() if ports is not None else []))


@rule("LB007", "udp-dual-stack-nlb", "error",
      yaml_gate=contains("LoadBalancer"), fix="safe", kinds=SERVICE, platforms=AWS, references=(LBC_DOCS,))
def udp_dual_stack_nlb(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A UDP Service on a dual-stack NLB without IPv6 source NAT prefixes.

    Why:
        Since late 2024 (controller v2.10.0) dual-stack NLBs support UDP when
        `aws-load-balancer-enable-prefix-for-ipv6-source-nat: "on"`; without it the UDP listener fails. (Older
        AWS docs still say UDP is unsupported on dual-stack NLBs.)

    Example:
        service.beta.kubernetes.io/aws-load-balancer-enable-prefix-for-ipv6-source-nat: "on"

    Fix:
        add the annotation
    """
    if not controller_managed(doc, profile) or not _udp(doc) or ann(doc, IP_TYPE) != "dualstack" or ann(doc, SNAT) == "on":
        return
    old = _old_controller(profile, (2, 10, 0))
    if old is not None:
        yield Finding(*_where(doc, IP_TYPE),
                      f"{doc.object_name}: a UDP listener on a dual-stack NLB, but the project's AWS Load Balancer "
                      f"Controller is v{old[0]} ({old[1]}): UDP on dual-stack NLBs needs v2.10.0 or later, so this "
                      f"cannot work until the controller is upgraded")
        return
    yield Finding(*_where(doc, IP_TYPE),
                  f"{doc.object_name}: a UDP listener on a dual-stack NLB needs IPv6 source NAT prefixes "
                  f"(`{SNAT}: \"on\"`, controller v2.10.0 or later); without them the listener cannot be created",
                  Fix.safe(f"Add `{SNAT}: \"on\"`", set_annotation(doc, SNAT, "on")))


@rule("LB009", "ipv6-addresses-not-dual-stack", "error",
      yaml_gate=contains("ipv6-addresses"), fix="none", kinds=SERVICE, platforms=AWS, references=(LBC_DOCS,))
def ipv6_addresses_not_dual_stack(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`aws-load-balancer-ipv6-addresses` on a non-dual-stack NLB, or a count differing from the subnets.

    Why:
        Static IPv6 addresses need a dual-stack NLB and one address per subnet.

    Example:
        service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack
    """
    node = doc.annotations.get(IPV6_ADDRESSES)
    if node is None:
        return
    if ann(doc, IP_TYPE) != "dualstack":
        yield Finding(node.start, node.end, f"{doc.object_name}: `{IPV6_ADDRESSES}` needs a dual-stack NLB "
                                            f"(`{IP_TYPE}: dualstack`)")
    subnets = _list(ann(doc, SUBNETS))
    if subnets and len(_list(node.text)) != len(subnets):
        yield Finding(node.start, node.end, f"{doc.object_name}: {len(_list(node.text))} IPv6 addresses for "
                                            f"{len(subnets)} subnets; give one per subnet")


def _ipv6_cidrs(doc: Document) -> Iterator[Node]:
    spec = _spec(doc)
    ranges = spec.get("loadBalancerSourceRanges") if spec is not None else None
    nodes = list(ranges.items()) if ranges is not None and ranges.kind == SEQ else []
    for key in (SOURCE_RANGES, ALB_CIDRS):
        if doc.annotations.get(key) is not None:
            nodes.append(doc.annotations[key])
    for node in nodes:
        if any(":" in part for part in _list(node.text)):
            yield node


@rule("LB010", "ipv6-source-range-not-dual-stack", "error",
      yaml_gate=LOAD_BALANCER, fix="unsafe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
def ipv6_source_range_not_dual_stack(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An IPv6 CIDR in source ranges / inbound CIDRs of a load balancer that is not dual-stack.

    Why:
        An IPv4-only load balancer never sees IPv6 clients, and the controller rejects IPv6 CIDRs for it.

    Example:
        loadBalancerSourceRanges: ["2001:db8::/32"]   # needs ip-address-type: dualstack

    Fix:
        set `ip-address-type: dualstack`
    """
    if owner(doc) is None or is_dualstack(doc):
        return
    key = ip_type_key(doc)
    for node in _ipv6_cidrs(doc):
        yield Finding(node.start, node.end,
                      f"{doc.object_name}: an IPv6 source range on a load balancer that is not dual-stack never "
                      f"matches (and the controller rejects it)",
                      Fix.unsafe(f"Set `{key}: dualstack`", set_annotation(doc, key, "dualstack")))
        return


def _scheme_pairs(doc: Document) -> list[tuple[str, str]]:
    """The scheme annotation a hand-over to the controller needs to keep the load balancer's scheme:
    the in-tree provider defaults to internet-facing and reads `aws-load-balancer-internal` as
    internal unless it is "false"; the controller defaults to internal and parses that annotation as
    a bool, so the scheme is written out explicitly."""
    if ann(doc, SCHEME) is not None:
        return []
    internal = ann(doc, INTERNAL)
    asked_internal = internal is not None and internal.strip().lower() != "false"
    return [(SCHEME, "internal" if asked_internal else "internet-facing")]


@rule("LB011", "in-tree-lb-on-ipv6", "error",
      yaml_gate=contains("LoadBalancer"), fix="unsafe", kinds=SERVICE, profiles=("ipv6",), platforms=AWS,
      references=(EKS_IPV6_LB, LBC_DOCS, LBC_WEBHOOK, LBC_OWNER, AUTO_MODE_DOCS))
def in_tree_lb_on_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A `type: LoadBalancer` Service with no loadBalancerClass and no AWS Load Balancer Controller annotations
    on an IPv6 cluster on AWS.

    Why:
        Such a Service goes to the in-tree AWS provider, which has no IPv6 support, unless the AWS Load
        Balancer Controller v2.5+ (its Service webhook, on by default) or EKS Auto Mode gives it their class
        when it is created; they then build it with their defaults, an IPv4 NLB with instance targets, which
        they refuse for IPv6 backends ("lb not dual-stack"). Either way it needs the controller's annotations.
        The fix keeps the scheme: the in-tree provider defaults to internet-facing and the controller to
        internal, so it writes `aws-load-balancer-scheme` (internal only where the Service asked for it with
        `aws-load-balancer-internal`). Services with `service.k8s.aws/nlb` or `eks.amazonaws.com/nlb` are the
        controller's or Auto Mode's and judged by LB003/LB004.

    Example:
        service.beta.kubernetes.io/aws-load-balancer-type: external
        service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
        service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack

    Fix:
        hand the Service to the controller (type, target type, dualstack and the scheme it had)
    """
    if owner(doc) != "default":
        return
    spec = _spec(doc)
    node = spec.get("type") if spec is not None else None
    assert node is not None  # (the owner is "default" for `type: LoadBalancer` only)
    old = _old_controller(profile, WEBHOOK_VERSION)
    if old is not None:
        who = (f"the project's AWS Load Balancer Controller v{old[0]} ({old[1]}) predates the v2.5.0 Service "
               f"webhook, so the in-tree AWS provider takes it, and it has no IPv6 support")
    else:
        who = ("the in-tree AWS provider takes it and has no IPv6 support; where the AWS Load Balancer "
               "Controller v2.5+ (its Service webhook is on by default) or EKS Auto Mode takes it instead, "
               "their defaults (an IPv4 NLB, instance targets) cannot serve IPv6 pods either")
    pairs = [(TYPE, "external"), (TARGET, "ip"), (IP_TYPE, "dualstack")] + _scheme_pairs(doc)
    scheme = pairs[-1][1] if pairs[-1][0] == SCHEME else None
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: a LoadBalancer Service with no loadBalancerClass and no AWS Load Balancer "
                  f"Controller annotations on an IPv6 cluster: {who}",
                  Fix.unsafe("Hand it to the AWS Load Balancer Controller (external, ip targets, dualstack"
                       + (f", scheme {scheme}" if scheme else "") + ")", set_annotations(doc, pairs)))


@rule("LB012", "ingress-group-ip-type-conflict", "error",
      yaml_gate=contains("group.name"), fix="none", kinds=INGRESS, platforms=AWS, references=(LBC_INGRESS_DOCS,))
def ingress_group_ip_type_conflict(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Ingresses of one `group.name` with different `ip-address-type`.

    Why:
        An IngressGroup is one ALB; members that disagree on ip-address-type make the controller fail the
        whole group ("conflicting IPAddressType").

    Example:
        alb.ingress.kubernetes.io/group.name: shop
        alb.ingress.kubernetes.io/ip-address-type: dualstack  # all members
    """
    facts = profile.facts
    group = ann(doc, ALB_GROUP)
    if facts is None or not group:
        return
    members = facts.ingress_groups.get(group, [])
    types = {t for _where, t in members}
    if len(types) < 2:
        return
    mine = ann(doc, ALB_IP_TYPE) or "ipv4"
    others = sorted({f"{w} ({t})" for w, t in members if t != mine})
    node = doc.annotations.get(ALB_GROUP)
    assert node is not None  # (`group` is its text)
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: Ingress group `{group}` mixes ip-address-types ({mine} here; "
                  f"{', '.join(others)}); the controller fails the group with \"conflicting IPAddressType\"")


@rule("LB013", "ipv4-only-lb-on-ipv6", "error",
      yaml_gate=contains("ip-address-type"), fix="safe", kinds=SERVICE + INGRESS, profiles=("ipv6",), platforms=AWS,
      references=(LBC_DOCS, LBC_INGRESS_DOCS))
def ipv4_only_lb_on_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An explicit `ip-address-type: ipv4` on an IPv6 cluster.

    Why:
        On an IPv6 cluster the backends are IPv6 pods; an IPv4-only load balancer cannot reach them.

    Example:
        alb.ingress.kubernetes.io/ip-address-type: dualstack

    Fix:
        `dualstack`
    """
    key = ip_type_key(doc)
    node = doc.annotations.get(key)
    if node is None or node.text != "ipv4" or not controller_managed(doc, profile):
        return
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: `{key}: ipv4` on an IPv6 cluster; the controller cannot register IPv6 "
                  f"targets behind an IPv4-only load balancer",
                  Fix.safe("Use `dualstack`", replace_scalar(node, "dualstack")))
