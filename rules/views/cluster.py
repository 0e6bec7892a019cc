"""The cluster a file describes: an eksctl config's own IP family, else the project's profile."""
from __future__ import annotations

from v6lint.document import Document
from v6lint.rule import Profile


def ip_family(doc: Document, profile: Profile) -> str | None:
    """The config's own ipFamily when it has one (eksctl compares case-insensitively), else the profile's."""
    value = doc.tree.str_at("kubernetesNetworkConfig", "ipFamily")
    if value:
        return value.strip().lower()
    return profile.ip_family


def is_ipv6(doc: Document, profile: Profile) -> bool:
    """An IPv6 cluster: an eksctl config's own ipFamily when it has one, else the profile."""
    return (ip_family(doc, profile) if doc.kind == "ClusterConfig" else profile.ip_family) == "ipv6"
