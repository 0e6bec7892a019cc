"""CNI rules on Windows nodes: unsupported on IPv6, and Linux keys in the Windows ConfigMap."""
from __future__ import annotations

import re
from typing import Iterator

from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.document import MAP, SEQ, Document, Node, walk
from v6lint.rule import Profile, contains, rule
from v6lint.rules.cni.common import (CM_KEYS, EKS_IPV6, _close, _fold)

KARPENTER_V1 = "https://karpenter.sh/docs/concepts/nodeclasses/#specamiselectorterms"


@rule("CNI012", "windows-on-ipv6", "error",
      fix="none", kinds=("*",), profiles=("ipv6",), platforms=("aws",), references=(EKS_IPV6, KARPENTER_V1),
      yaml_gate=contains("windows", "Windows"))
def windows_on_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Windows nodes or workloads (`kubernetes.io/os: windows`) on an IPv6 cluster.

    Why:
        EKS IPv6 clusters support Linux nodes only. Found as the `kubernetes.io/os: windows` label, a
        Windows `amiFamily` (eksctl, Karpenter), a Karpenter v1 Windows AMI alias (`windows2022@latest`:
        the family is the alias's part before `@`, aws/karpenter-provider-aws@1d927085
        pkg/apis/v1/ec2nodeclass.go amiFamilyFromAlias) and a node selector requirement that admits only
        Windows (`kubernetes.io/os In [windows]`: a Karpenter NodePool's requirements, a Pod's required
        node affinity in every one of its nodeSelectorTerms; a preferred affinity is not a requirement).

    Example:
        nodeSelector: {kubernetes.io/os: linux}
    """
    skip = _not_required(doc.root)
    for node in walk(doc.root):
        if node.kind != MAP:
            continue
        if id(node) not in skip and (values := _requires_windows(node)) is not None:
            yield Finding(values.start, values.end, f"{doc.object_name}: requires Windows nodes on an IPv6 cluster; "
                                                    f"EKS IPv6 supports Linux only")
        for key, value in node.entries():
            if key.text == "kubernetes.io/os" and value.text == "windows":
                yield Finding(value.start, value.end, f"{doc.object_name}: Windows nodes or pods on an IPv6 cluster; "
                                                      f"EKS IPv6 supports Linux only")
            elif key.text == "amiFamily" and (value.text or "").startswith("Windows"):
                yield Finding(value.start, value.end, f"{doc.object_name}: a Windows node group on an IPv6 cluster; "
                                                      f"EKS IPv6 supports Linux only")
            elif key.text == "amiSelectorTerms" and not (node.str_at("amiFamily") or "").startswith("Windows"):
                for term in value.items():
                    alias = term.get("alias") if term.kind == MAP else None
                    if alias is not None and _WINDOWS_ALIAS.match(alias.text or ""):
                        yield Finding(alias.start, alias.end, f"{doc.object_name}: a Windows AMI ({alias.text}) on an "
                                                              f"IPv6 cluster; EKS IPv6 supports Linux only")


_WINDOWS_ALIAS = re.compile(r"windows[0-9]+@")


def _requires_windows(node: Node) -> Node | None:
    """The `values` of a node selector requirement `kubernetes.io/os In [windows, ...]` (every value windows)."""
    if node.str_at("key") != "kubernetes.io/os" or node.str_at("operator") != "In":
        return None
    values = node.get("values")
    if values is None or values.kind != SEQ or not values.value:
        return None
    return values if all(v.text == "windows" for v in values.value) else None


def _not_required(root: Node | None) -> set[int]:
    """Nodes whose requirements do not bind: under a preferred node affinity, or in nodeSelectorTerms
    where some term (they are ORed) does not require Windows."""
    skip: set[int] = set()
    for node in walk(root):
        for key, value in node.entries() if node.kind == MAP else []:
            if key.text == "preferredDuringSchedulingIgnoredDuringExecution" or (
                    key.text == "nodeSelectorTerms" and not all(
                        term.kind == MAP and (exprs := term.get("matchExpressions")) is not None
                        and any(e.kind == MAP and _requires_windows(e) is not None for e in exprs.items())
                        for term in value.items())):
                skip.update(id(n) for n in walk(value))
    return skip


@rule("CNI013", "linux-keys-in-windows-configmap", "warning",
      fix="safe", kinds=("v1/ConfigMap",), platforms=("aws",), yaml_gate=contains("amazon-vpc-cni"),
      references=("https://docs.aws.amazon.com/eks/latest/userguide/windows-support.html",))
def linux_keys_in_windows_configmap(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`amazon-vpc-cni` ConfigMap keys that are unknown, or boolean keys not the strings "true"/"false".

    Why:
        The VPC resource controller reads a fixed set of keys, with string booleans.

    Example:
        data:
          enable-windows-ipam: "true"

    Fix:
        quote the boolean
    """
    if doc.name != "amazon-vpc-cni":
        return
    data = doc.tree.get("data")
    for key, value in data.entries() if data is not None and data.kind == MAP else []:
        if key.text not in CM_KEYS:
            close = [k for k in CM_KEYS if _close(_fold(key.text or ""), _fold(k))]
            yield Finding(key.start, key.end, f"{doc.object_name}: `{key.text}` is not a key the VPC resource controller "
                                              f"reads" + (f" (did you mean `{close[0]}`?)" if close else ""))
        elif key.text in ("enable-windows-ipam", "enable-network-policy-controller", "enable-windows-prefix-delegation") \
                and (value.style is None or value.text not in ("true", "false")):
            text = (value.text or "").strip().lower()
            fixed = "true" if text in ("true", "yes", "on") else "false" if text in ("false", "no", "off") else None
            yield Finding(value.start, value.end, f"{doc.object_name}: `{key.text}` must be the string \"true\" or "
                                                  f"\"false\"",
                          Fix.safe(f'Use "{fixed}"', Edit(value.start, value.end, f'"{fixed}"')) if fixed else None)
