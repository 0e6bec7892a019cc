"""LB: AWS Load Balancer Controller and the in-tree cloud provider's load balancers.

Facts: kubernetes-sigs/aws-load-balancer-controller (pkg/annotations, pkg/service model builder:
"unsupported IPv6 configuration, lb not dual-stack", ip-address-type values, source NAT prefixes
for UDP on dual-stack NLBs since v2.10.0); EKS docs (IPv6 load balancing only to IP targets; the
in-tree provider has no IPv6 support).

Who owns a Service (controller at commit 225f44568848eb25f13e304a5f1cc68c0cd9415d):
- pkg/service/service_utils.go IsServiceSupported: a Service with a loadBalancerClass belongs to
  the controller only when the class is its own (`service.k8s.aws/nlb`, pkg/config/service_config.go);
  without a class, only when `aws-load-balancer-type` is `nlb-ip`, or `external` with an
  `nlb-target-type` of ip or instance.
- webhooks/core/service_mutator.go MutateCreate (v2.5.0+, helm `enableServiceMutatorWebhook`, true
  by default): every new `type: LoadBalancer` Service without a class gets `service.k8s.aws/nlb`,
  whatever its annotations. EKS Auto Mode likewise defaults new Services to `eks.amazonaws.com/nlb`
  and reads the same annotations (https://docs.aws.amazon.com/eks/latest/userguide/auto-configure-nlb.html).
- pkg/service/model_build_load_balancer.go buildLoadBalancerScheme: the controller's default scheme
  is internal (the in-tree provider's is internet-facing); the legacy `aws-load-balancer-internal`
  annotation is parsed as a bool.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Iterator

from v6lint.data.lbc_annotations import IN_TREE, LBC_EXACT, LBC_PATTERNS
from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.document import MAP, SEQ, Document, Node
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import Styled, insert_entries, replace_scalar

SVC = "service.beta.kubernetes.io/"
NLB = SVC + "aws-load-balancer-"
ALB = "alb.ingress.kubernetes.io/"
TYPE, TARGET, IP_TYPE = NLB + "type", NLB + "nlb-target-type", NLB + "ip-address-type"
SNAT, SNAT_PREFIXES = NLB + "enable-prefix-for-ipv6-source-nat", NLB + "source-nat-ipv6-prefixes"
IPV6_ADDRESSES, SUBNETS = NLB + "ipv6-addresses", NLB + "subnets"
SOURCE_RANGES = SVC + "load-balancer-source-ranges"
ALB_IP_TYPE, ALB_TARGET, ALB_CIDRS, ALB_GROUP = ALB + "ip-address-type", ALB + "target-type", ALB + "inbound-cidrs", ALB + "group.name"
SCHEME, INTERNAL = NLB + "scheme", SVC + "aws-load-balancer-internal"
NLB_CLASS = "service.k8s.aws/nlb"  # the AWS Load Balancer Controller's own class
AUTO_MODE_CLASS = "eks.amazonaws.com/nlb"  # EKS Auto Mode's built-in load balancing
AWS_CLASSES = (NLB_CLASS, AUTO_MODE_CLASS)
WEBHOOK_VERSION = (2, 5, 0)  # the controller's Service mutator webhook
SERVICE, INGRESS = ("v1/Service",), ("networking.k8s.io/*/Ingress", "extensions/*/Ingress")
LBC_DOCS = "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/"
LBC_INGRESS_DOCS = "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/"
EKS_IPV6_LB = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"
LBC_COMMIT = "https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/225f44568848eb25f13e304a5f1cc68c0cd9415d/"
LBC_CODE = LBC_COMMIT + "pkg/service/model_build_target_group.go"
LBC_WEBHOOK = LBC_COMMIT + "webhooks/core/service_mutator.go"
LBC_OWNER = LBC_COMMIT + "pkg/service/service_utils.go"
AUTO_MODE_DOCS = "https://docs.aws.amazon.com/eks/latest/userguide/auto-configure-nlb.html"
KNOWN = frozenset(LBC_EXACT) | frozenset(IN_TREE)
_PATTERNS = [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in LBC_PATTERNS]


# --- reading -----------------------------------------------------------------------------------
AWS = ("aws",)  # every LB rule is about an AWS load balancer


def ann(doc: Document, key: str) -> str | None:
    node = doc.annotations.get(key)
    return node.text if node is not None else None


def _spec(doc: Document) -> Node | None:
    spec = doc.root.get("spec") if doc.root is not None else None
    return spec if spec is not None and spec.kind == MAP else None


def owner(doc: Document) -> str | None:
    """Who reconciles this Service's or Ingress's load balancer, as far as the object says:
    "lbc" (the AWS Load Balancer Controller, or EKS Auto Mode, which reads the same annotations),
    "default" (no class and no controller annotation: the in-tree provider, unless the controller's
    v2.5+ webhook or Auto Mode gives it their class when it is created), "webhook" (`external`
    without a target type: only the webhook's class makes anyone take it) or None (not a load
    balancer, or another class)."""
    if doc.matches(INGRESS):
        spec = _spec(doc)
        cls = spec.str_at("ingressClassName") if spec is not None else None
        if cls == "alb" or ann(doc, "kubernetes.io/ingress.class") == "alb" or any(k.startswith(ALB) for k in doc.annotations):
            return "lbc"
        return None
    spec = _spec(doc)
    if spec is None or spec.str_at("type") != "LoadBalancer":
        return None
    cls = spec.str_at("loadBalancerClass")
    if cls is not None:
        return "lbc" if cls in AWS_CLASSES else None
    kind = ann(doc, TYPE)
    if kind == "nlb-ip" or (kind == "external" and ann(doc, TARGET) in ("ip", "instance")):
        return "lbc"
    if kind == "external":
        return "webhook"
    return "default"


def controller_managed(doc: Document) -> bool:
    """The controller (or Auto Mode) builds it: its class or annotations say so, or `external` without a
    target type, which the v2.5+ Service webhook hands to the controller (LB006 covers older ones)."""
    return owner(doc) in ("lbc", "webhook")


def ip_type_key(doc: Document) -> str:
    return ALB_IP_TYPE if doc.matches(INGRESS) else IP_TYPE


def is_dualstack(doc: Document) -> bool:
    return (ann(doc, ip_type_key(doc)) or "").startswith("dualstack")


def ipv6_backends(doc: Document, profile: Profile) -> bool:
    if profile.ip_family == "ipv6":
        return True
    spec = _spec(doc)
    families = spec.get("ipFamilies") if spec is not None and doc.matches(SERVICE) else None
    return families is not None and "IPv6" in families.scalars()


# --- writing -----------------------------------------------------------------------------------
def set_annotations(doc: Document, pairs: list[tuple[str, str]]) -> list[Edit] | None:
    """Set annotations in one fix: replace existing values; repair a near-miss spelling of a missing key
    in place (renaming it and setting its value, so no duplicate in effect is left behind); add the rest
    after the others in their quoting style, or create `metadata.annotations` in the file's indentation."""
    edits, missing = [], []
    for key, value in pairs:
        node = doc.annotations.get(key)
        misspelled = _misspelling_of(doc, key) if node is None else None
        if misspelled is not None:
            name, found = misspelled
            edits.append(replace_scalar(name, key))
            if found.text != value:
                edits.append(replace_scalar(found, value))
        elif node is None:
            missing.append((key, value))
        elif node.text != value:
            edits.append(replace_scalar(node, value))
    if not missing:
        return edits
    metadata = doc.root.get("metadata") if doc.root is not None else None
    annotations = metadata.get("annotations") if metadata is not None and metadata.kind == MAP else None
    if annotations is not None and annotations.kind == MAP and annotations.entries():
        style = annotations.entries()[-1][1].style
        edits.append(insert_entries(doc.source, annotations, [(k, Styled(v, style)) for k, v in missing], doc.root))
    elif annotations is None and metadata is not None and metadata.kind == MAP:
        edits.append(insert_entries(doc.source, metadata, [("annotations", dict(missing))], doc.root))
    else:
        return None
    return edits


def _misspelling_of(doc: Document, key: str) -> tuple[Node, Node] | None:
    """(key node, value node) of the annotation that is a near miss of `key` (LB001's judgement: no
    controller reads it and `key` is the one known key close to it)."""
    annotations = doc.root.path("metadata", "annotations") if doc.root is not None else None
    for name, value in annotations.entries() if annotations is not None and annotations.kind == MAP else []:
        if near_misses(name.text or "") == [key] and value.kind == "scalar":
            return name, value
    return None


def set_annotation(doc: Document, key: str, value: str) -> list[Edit] | None:
    return set_annotations(doc, [(key, value)])


def _where(doc: Document, key: str) -> tuple[int, int]:
    node = doc.annotations.get(key)
    if node is not None:
        return node.start, node.end
    name = doc.root.path("metadata", "name")
    return (name.start, name.end) if name is not None else (doc.start, doc.start)


# --- LB001 -------------------------------------------------------------------------------------
def _fold(key: str) -> str:
    return key.lower().replace(" ", "-").replace("_", "-")


def _distance(a: str, b: str, limit: int = 2) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _known(key: str) -> bool:
    return key in KNOWN or any(p.match(key) for p in _PATTERNS)


def near_misses(name: str) -> list[str]:
    """The known annotation keys within two edits of `name`, when no controller reads `name` itself."""
    folded = _fold(name)
    if not folded.startswith(("service.beta.kubernetes.io/aws", "alb.ingress.kubernetes.io")) or _known(name):
        return []
    return sorted(k for k in KNOWN if _distance(folded, _fold(k)) <= 2)


@rule("LB001", "misspelled-lb-annotation", "warning",
      fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
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
      fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
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


@rule("LB003", "lb-not-dual-stack", "error",
      fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_CODE, EKS_IPV6_LB))
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
    if not controller_managed(doc) or not ipv6_backends(doc, profile) or is_dualstack(doc):
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
      fix="safe", kinds=SERVICE + INGRESS, profiles=("ipv6",), platforms=AWS,
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
    if not controller_managed(doc):
        return
    key = _target_key(doc)
    value = ann(doc, key)
    if value not in (None, "instance") or (value is None and ann(doc, TYPE) == "nlb-ip"):
        return  # `nlb-ip` means IP targets
    what = "instance targets" if value == "instance" else "the default instance targets"
    yield Finding(*_where(doc, key),
                  f"{doc.object_name}: {what} on an IPv6 cluster; EKS load balancers reach IPv6 pods only as IP "
                  f"targets", Fix.safe(f"Set `{key}: ip`", set_annotation(doc, key, "ip")))


@rule("LB005", "invalid-target-type", "error",
      fix="safe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
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
        if node is None or node.text in (None, "ip", "instance"):
            continue
        lower = node.text.strip().lower()
        fix = Fix.safe(f"Use `{lower}`", replace_scalar(node, lower)) if lower in ("ip", "instance") else None
        yield Finding(node.start, node.end, f"{doc.object_name}: `{key}` is {node.text!r}; only `ip` and `instance` "
                                            f"are understood (anything else is silently treated as instance)", fix)


@rule("LB006", "orphan-external-lb", "error",
      fix="unsafe", kinds=SERVICE, platforms=AWS, references=(LBC_OWNER, LBC_WEBHOOK))
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


def _old_controller(profile: Profile, minimum: tuple[int, int, int]) -> tuple[str, str] | None:
    """The project's AWS Load Balancer Controller (version, "path:line") when it is older than `minimum`."""
    found = profile.facts.lbc_version if profile.facts is not None else None
    if found and tuple(int(p) for p in found[0].split(".")) < minimum:
        return found
    return None


@rule("LB007", "udp-dual-stack-nlb", "error",
      fix="safe", kinds=SERVICE, platforms=AWS, references=(LBC_DOCS,))
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
    if not controller_managed(doc) or not _udp(doc) or ann(doc, IP_TYPE) != "dualstack" or ann(doc, SNAT) == "on":
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


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@rule("LB008", "bad-source-nat-prefixes", "error",
      fix="none", kinds=SERVICE, platforms=AWS, references=(LBC_DOCS,))
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


@rule("LB009", "ipv6-addresses-not-dual-stack", "error",
      fix="none", kinds=SERVICE, platforms=AWS, references=(LBC_DOCS,))
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
      fix="unsafe", kinds=SERVICE + INGRESS, platforms=AWS, references=(LBC_DOCS, LBC_INGRESS_DOCS))
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
      fix="unsafe", kinds=SERVICE, profiles=("ipv6",), platforms=AWS,
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
    node = _spec(doc).get("type")
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
      fix="none", kinds=INGRESS, platforms=AWS, references=(LBC_INGRESS_DOCS,))
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
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: Ingress group `{group}` mixes ip-address-types ({mine} here; "
                  f"{', '.join(others)}); the controller fails the group with \"conflicting IPAddressType\"")


@rule("LB013", "ipv4-only-lb-on-ipv6", "error",
      fix="safe", kinds=SERVICE + INGRESS, profiles=("ipv6",), platforms=AWS,
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
    if node is None or node.text != "ipv4" or not controller_managed(doc):
        return
    yield Finding(node.start, node.end,
                  f"{doc.object_name}: `{key}: ipv4` on an IPv6 cluster; the controller cannot register IPv6 "
                  f"targets behind an IPv4-only load balancer",
                  Fix.safe("Use `dualstack`", replace_scalar(node, "dualstack")))


RULES = [
    misspelled_lb_annotation,
    invalid_ip_address_type,
    lb_not_dual_stack,
    ipv6_instance_targets,
    invalid_target_type,
    orphan_external_lb,
    udp_dual_stack_nlb,
    bad_source_nat_prefixes,
    ipv6_addresses_not_dual_stack,
    ipv6_source_range_not_dual_stack,
    in_tree_lb_on_ipv6,
    ingress_group_ip_type_conflict,
    ipv4_only_lb_on_ipv6,
]
