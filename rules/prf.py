"""PRF: the cluster profile itself."""
from __future__ import annotations

from v6lint.rule import Rule
from v6lint.rules.svc import ALLOC, SERVICE, check_ipv6_service_on_ipv4

RULES = [
    Rule("PRF002", "ipv6-config-on-ipv4-cluster",
         "IPv6-only settings (a SingleStack IPv6 Service, ...) in a project whose cluster profile is IPv4.", "error",
         why="Either the detected profile is wrong (fix the tfvars, eksctl or v6lint config it came from) or the "
             "object was written for another cluster: an IPv4 cluster rejects an IPv6-only Service with "
             "\"not configured on this cluster\". The diagnostic names the profile's source so you can tell "
             "which.",
         example="# profile: IPv4\nipFamilies: [IPv6]           # bad\nipFamilyPolicy: SingleStack",
         fix="none", check=check_ipv6_service_on_ipv4, kinds=SERVICE, profiles=("ipv4",),
         triggers=("IPv6",), references=(ALLOC,)),
]
