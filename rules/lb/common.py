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

import re

from v6lint.data.lbc_annotations import IN_TREE, LBC_EXACT, LBC_PATTERNS
from v6lint.diagnostics import Edit
from v6lint.document import MAP, Document, Node
from v6lint.rule import Profile, contains
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


# owner() is not None only for a `type: LoadBalancer` Service or an Ingress: the gate of the rules
# that judge a load balancer someone builds.
LOAD_BALANCER = contains("LoadBalancer", "Ingress")


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


def controller_managed(doc: Document, profile: Profile) -> bool:
    """The controller (or Auto Mode) builds it: its class or annotations say so, or `external` without a
    target type, which the v2.5+ Service webhook hands to the controller. Where the project pins an
    older controller nobody builds that one (LB006 says so), so no other rule judges its load balancer."""
    who = owner(doc)
    return who == "lbc" or (who == "webhook" and _old_controller(profile, WEBHOOK_VERSION) is None)


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
    name = doc.tree.path("metadata", "name")
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


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _old_controller(profile: Profile, minimum: tuple[int, int, int]) -> tuple[str, str] | None:
    """The project's AWS Load Balancer Controller (version, "path:line") when it is older than `minimum`."""
    found = profile.facts.lbc_version if profile.facts is not None else None
    if found and tuple(int(p) for p in found[0].split(".")) < minimum:
        return found
    return None
