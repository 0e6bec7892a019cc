"""NET: IPv4 assumptions in workloads."""
from __future__ import annotations

import ipaddress
import re
from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import SCALAR, SEQ, Document, Node, walk
from v6lint.rule import Profile, Rule
from v6lint.rules.k8s import WORKLOADS, containers, env_items
from v6lint.rules.spk import check_ipv4_only_resolution
from v6lint.yaml_edit import Styled, replace_scalar

_WILDCARD = re.compile(r"(?<![\w.])0\.0\.0\.0(?::(\d+))?(?![\w./])")
_LOOPBACK = "127.0.0.1"
IMDS_V4 = "169.254.169.254"
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
NETPOL = ("networking.k8s.io/*/NetworkPolicy",)
EKS_IPV6 = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"
K8S_DUAL = "https://kubernetes.io/docs/concepts/services-networking/dual-stack/"


def _rewrite(node: Node, new: str) -> Fix:
    # A plain scalar that gains brackets or commas must be quoted (it may sit in a flow list).
    value = Styled(new, '"') if node.style is None and any(c in new for c in "[]{},") else new
    return Fix("Bind to the IPv6 wildcard (`::`, which also takes IPv4 on dual-stack hosts)", "unsafe",
               (replace_scalar(node, value),))


def _bind_nodes(doc: Document) -> Iterator[tuple[Node, str]]:
    for container in containers(doc.root):
        for key in ("command", "args"):
            seq = container.get(key)
            for item in seq.items() if seq is not None and seq.kind == SEQ else []:
                yield item, key
        for env in env_items(container):
            value = env.get("value")
            if value is not None:
                yield value, f"env {env.str_at('name')}"


def check_ipv4_wildcard_listen(doc: Document, profile: Profile) -> Iterator[Finding]:
    for node, where in _bind_nodes(doc):
        text = node.text
        if text is None or not _WILDCARD.search(text):
            continue
        new = _WILDCARD.sub(lambda m: f"[::]:{m.group(1)}" if m.group(1) else "::", text)
        yield Finding(node.start, node.end,
                      f"{doc.object_name}: {where} binds 0.0.0.0, the IPv4 wildcard; on an IPv6 pod nothing "
                      f"listens on the pod's address", _rewrite(node, new))


def check_ipv4_loopback(doc: Document, profile: Profile) -> Iterator[Finding]:
    for container in containers(doc.root):
        for probe in PROBES:
            for handler in ("httpGet", "tcpSocket", "grpc"):
                host = container.path(probe, handler, "host")
                if host is not None and host.text == _LOOPBACK:
                    yield Finding(host.start, host.end,
                                  f"{doc.object_name}: the {probe} connects to 127.0.0.1, an IPv4 loopback that "
                                  f"an IPv6-only listener does not answer on",
                                  Fix("Use `localhost`", "unsafe", (replace_scalar(host, "localhost"),)))
        for env in env_items(container):
            value = env.get("value")
            name = env.str_at("name") or ""
            if value is not None and value.text == _LOOPBACK and name.upper().endswith(("HOST", "ADDR", "ADDRESS")):
                yield Finding(value.start, value.end,
                              f"{doc.object_name}: env {name} points clients at 127.0.0.1, the IPv4 loopback",
                              Fix("Use `localhost`", "unsafe", (replace_scalar(value, "localhost"),)))


def _ip_blocks(policy: Node | None) -> list[Node]:
    blocks = []
    spec = policy.get("spec") if policy is not None else None
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction) if spec is not None else None
        for rule in rules.items() if rules is not None and rules.kind == SEQ else []:
            entries = rule.get(peers)
            for peer in entries.items() if entries is not None and entries.kind == SEQ else []:
                cidr = peer.path("ipBlock", "cidr")
                if cidr is not None and cidr.text:
                    blocks.append(cidr)
    return blocks


def check_ipv4_only_network_policy(doc: Document, profile: Profile) -> Iterator[Finding]:
    blocks = _ip_blocks(doc.root)
    if not blocks:
        return
    families = set()
    for cidr in blocks:
        try:
            families.add(ipaddress.ip_network(cidr.text, strict=False).version)
        except ValueError:
            return
    if families == {4}:
        cidrs = ", ".join(c.text for c in blocks)
        yield Finding(blocks[0].start, blocks[0].end,
                      f"{doc.object_name}: every ipBlock is IPv4 ({cidrs}); on an {profile.label} cluster the IPv6 "
                      f"traffic these rules mean to allow or deny is not matched (e.g. add `::/0` beside `0.0.0.0/0`)")


def check_ipv4_imds_address(doc: Document, profile: Profile) -> Iterator[Finding]:
    for node in walk(doc.root):
        if node.kind == SCALAR and node.text and IMDS_V4 in node.text:
            yield Finding(node.start, node.end,
                          f"{doc.object_name}: hard-coded instance metadata address {IMDS_V4}, unreachable from "
                          f"IPv6 pods; the IPv6 endpoint is [fd00:ec2::254] (or set "
                          f"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 for the AWS SDKs)")


RULES = [
    Rule("NET001", "ipv4-wildcard-listen",
         "A container's args, command or env bind `0.0.0.0` (`--bind-address=0.0.0.0`, `HOST=0.0.0.0`, "
         "`--listen=0.0.0.0:8080`).", "warning",
         why="0.0.0.0 is the IPv4 wildcard: a server bound to it accepts no IPv6 connections, and an IPv6 pod "
             "has only an IPv6 address. `::` (or `[::]:port`) listens on IPv6 and, on dual-stack hosts, IPv4 too.",
         example='args: ["--listen=[::]:8080"]', fix="unsafe", fix_note="`::` / `[::]:port`",
         check=check_ipv4_wildcard_listen, kinds=WORKLOADS, profiles=("ipv6",), triggers=("0.0.0.0",),
         references=(EKS_IPV6,)),
    Rule("NET002", "ipv4-loopback-probe", "A probe or client `host` is `127.0.0.1`.", "warning",
         why="127.0.0.1 is IPv4 only; a process listening on `::1` or an IPv6 address does not answer there. "
             "`localhost` resolves to both loopbacks.",
         example="livenessProbe:\n  httpGet: {host: localhost, path: /healthz, port: 8080}", fix="unsafe",
         fix_note="`localhost`", check=check_ipv4_loopback, kinds=WORKLOADS, profiles=("ipv6",),
         triggers=("127.0.0.1",), references=(EKS_IPV6,)),
    Rule("NET003", "ipv4-only-network-policy",
         "A NetworkPolicy whose `ipBlock` peers are all IPv4 on an IPv6 or dual-stack cluster.", "warning",
         why="ipBlock CIDRs match one family; rules written with only IPv4 CIDRs neither allow nor deny IPv6 "
             "traffic, which is usually not what the author meant.",
         example="- ipBlock: {cidr: 0.0.0.0/0}\n- ipBlock: {cidr: ::/0}", fix="none",
         check=check_ipv4_only_network_policy, kinds=NETPOL, profiles=("ipv6", "dual"), triggers=("ipBlock",),
         references=(K8S_DUAL,)),
    Rule("NET004", "ipv4-imds-address", "A hard-coded `169.254.169.254` (the IPv4 instance metadata address).",
         "warning",
         why="IPv6 pods cannot reach the IPv4 metadata address; use the IPv6 endpoint `fd00:ec2::254` (enabled on "
             "the instance) or the SDKs' endpoint mode setting. Checked in workloads and ConfigMaps only: node "
             "user data (EC2NodeClass, launch templates) runs on the node, which keeps IPv4 on EKS.",
         example="- name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n  value: IPv6", fix="none",
         check=check_ipv4_imds_address, kinds=WORKLOADS + ("v1/ConfigMap",), profiles=("ipv6",), triggers=(IMDS_V4,),
         references=("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",)),
    Rule("NET005", "ipv4-only-resolution",
         "`socket.gethostbyname(...)` or `hostname -i/-I` feeding an address in Python code.", "warning",
         why="`gethostbyname` returns IPv4 addresses only, and `hostname -i` prints whatever the resolver "
             "returns first; on an IPv6 pod they yield nothing usable (or an IPv4 address the cluster does not "
             "route). `socket.getaddrinfo` returns both families.",
         example='host = socket.gethostbyname(name)        # bad\n'
                 'host = socket.getaddrinfo(name, None)[0][4][0]   # good',
         fix="none", check=check_ipv4_only_resolution, profiles=("ipv6", "dual"), languages=("python",),
         triggers=("gethostbyname", "hostname -"),
         references=("https://docs.python.org/3/library/socket.html#socket.gethostbyname",)),
]
