"""CNI rules on Windows nodes: unsupported on IPv6, and Linux keys in the Windows ConfigMap."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.document import MAP, Document, walk
from v6lint.rule import Profile, contains, rule
from v6lint.rules.cni.common import (CM_KEYS, EKS_IPV6, _close, _fold)


@rule("CNI012", "windows-on-ipv6", "error",
      fix="none", kinds=("*",), profiles=("ipv6",), platforms=("aws",), references=(EKS_IPV6,),
      yaml_gate=contains("windows", "Windows"))
def windows_on_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Windows nodes or workloads (`kubernetes.io/os: windows`) on an IPv6 cluster.

    Why:
        EKS IPv6 clusters support Linux nodes only.

    Example:
        nodeSelector: {kubernetes.io/os: linux}
    """
    for node in walk(doc.root):
        for key, value in node.entries() if node.kind == MAP else []:
            if key.text == "kubernetes.io/os" and value.text == "windows":
                yield Finding(value.start, value.end, f"{doc.object_name}: Windows nodes or pods on an IPv6 cluster; "
                                                      f"EKS IPv6 supports Linux only")
            elif key.text == "amiFamily" and (value.text or "").startswith("Windows"):
                yield Finding(value.start, value.end, f"{doc.object_name}: a Windows node group on an IPv6 cluster; "
                                                      f"EKS IPv6 supports Linux only")


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
