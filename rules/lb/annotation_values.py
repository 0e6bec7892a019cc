"""LB rules on the values of the controller's annotations: names, address types, target types, SNAT prefixes."""
from __future__ import annotations

import ipaddress
from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, Document
from v6lint.rule import Profile, contains, rule
from v6lint.yaml_edit import replace_scalar
from v6lint.rules.lb.common import (ALB_TARGET, AWS, INGRESS, IP_TYPE, LBC_DOCS, LBC_INGRESS_DOCS, SERVICE,
                                    SNAT, SNAT_PREFIXES, SUBNETS, TARGET, _list, ann, ip_type_key, near_misses)


@rule("LB001", "misspelled-lb-annotation", "warning",
      yaml_gate=contains("annotations"), fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
def misspelled_lb_annotation(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A load balancer annotation no controller reads, within edit distance 2 of a known key.

    Why:
        The AWS Load Balancer Controller and the in-tree provider look annotations up by exact key: a typo
        such as `alb.ingress.kubernetes.io/ip-address type` is silently ignored and the default applies. Known
        keys come from the controller's constants (lbc-annotations.csv) and the in-tree provider; unknown keys
        with no close known key are left alone.

    Example:
        alb.ingress.kubernetes.io/ip-address type: dualstack   # bad
        alb.ingress.kubernetes.io/ip-address-type: dualstack   # good

    Fix:
        rename when exactly one known key is close
    """
    annotations = doc.root.path("metadata", "annotations") if doc.root is not None else None
    for key, _value in annotations.entries() if annotations is not None and annotations.kind == MAP else []:
        name = key.text or ""
        close = near_misses(name)
        if not close:
            continue
        fix = Fix.safe(f"Rename to `{close[0]}`", replace_scalar(key, close[0])) if len(close) == 1 else None
        yield Finding(key.start, key.end,
                      f"{doc.object_name}: no controller reads the annotation `{name}` (lookups are exact); did you "
                      f"mean {' or '.join(f'`{c}`' for c in close)}?", fix)


# --- LB002 to LB013 -----------------------------------------------------------------------------
@rule("LB002", "invalid-ip-address-type", "error",
      yaml_gate=contains("ip-address-type"), fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
def invalid_ip_address_type(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`ip-address-type` is not a value the controller accepts.

    Why:
        NLBs (Services) accept exactly `ipv4` and `dualstack`; ALBs (Ingress) also
        `dualstack-without-public-ipv4`. Other values fail reconciliation.

    Example:
        service.beta.kubernetes.io/aws-load-balancer-ip-address-type: DualStack   # bad: dualstack

    Fix:
        lower-case
    """
    key = ip_type_key(doc)
    node = doc.annotations.get(key)
    if node is None or node.text is None:
        return
    allowed = ("ipv4", "dualstack", "dualstack-without-public-ipv4") if doc.matches(INGRESS) else ("ipv4", "dualstack")
    value = node.text
    if value in allowed:
        return
    lower = value.strip().lower()
    fix = Fix.safe(f"Use `{lower}`", replace_scalar(node, lower)) if lower in allowed else None
    extra = " (`dualstack-without-public-ipv4` exists for ALBs only)" if lower == "dualstack-without-public-ipv4" else ""
    yield Finding(node.start, node.end, f"{doc.object_name}: `{key}` is {value!r}; the controller accepts exactly "
                                        f"{', '.join(allowed)}{extra}", fix)


@rule("LB005", "invalid-target-type", "error",
      yaml_gate=contains("target-type"), fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
def invalid_target_type(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`nlb-target-type` / `target-type` is not exactly `ip` or `instance`.

    Why:
        The controller compares the value exactly; `IP` is not `ip` and the target group silently becomes
        instance-mode.

    Example:
        alb.ingress.kubernetes.io/target-type: IP   # bad: ip

    Fix:
        lower-case
    """
    for key in (TARGET, ALB_TARGET):
        node = doc.annotations.get(key)
        text = node.text if node is not None else None
        if node is None or text is None or text in ("ip", "instance"):
            continue
        lower = text.strip().lower()
        fix = Fix.safe(f"Use `{lower}`", replace_scalar(node, lower)) if lower in ("ip", "instance") else None
        yield Finding(node.start, node.end, f"{doc.object_name}: `{key}` is {node.text!r}; only `ip` and `instance` "
                                            f"are understood (anything else is silently treated as instance)", fix)


@rule("LB008", "bad-source-nat-prefixes", "error",
      yaml_gate=contains("source-nat-ipv6-prefixes"), fix="none", kinds=SERVICE, platforms=AWS, references=(LBC_DOCS,))
def bad_source_nat_prefixes(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`source-nat-ipv6-prefixes` without source NAT on, on a non-dual-stack NLB, with a bad item, or a count
    differing from the subnets.

    Why:
        Each item must be `auto_assigned` or an IPv6 /80 from its subnet, one per subnet, and only on a
        dual-stack NLB with source NAT enabled; the controller rejects anything else.

    Example:
        service.beta.kubernetes.io/aws-load-balancer-source-nat-ipv6-prefixes: "auto_assigned, auto_assigned"
    """
    node = doc.annotations.get(SNAT_PREFIXES)
    if node is None:
        return
    where = (node.start, node.end)
    if ann(doc, SNAT) != "on":
        yield Finding(*where, f"{doc.object_name}: `{SNAT_PREFIXES}` without `{SNAT}: \"on\"` is rejected")
    if ann(doc, IP_TYPE) != "dualstack":
        yield Finding(*where, f"{doc.object_name}: source NAT prefixes need a dual-stack NLB (`{IP_TYPE}: dualstack`)")
    items = _list(node.text)
    for item in items:
        if item == "auto_assigned":
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            network = None
        if network is None or network.version != 6 or network.prefixlen != 80:
            yield Finding(*where, f"{doc.object_name}: source NAT prefix {item!r} is neither `auto_assigned` nor "
                                  f"an IPv6 /80")
    subnets = _list(ann(doc, SUBNETS))
    if subnets and len(items) != len(subnets):
        yield Finding(*where, f"{doc.object_name}: {len(items)} source NAT prefixes for {len(subnets)} subnets; "
                              f"give one per subnet")
