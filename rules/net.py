"""NET: IPv4 assumptions in workloads."""
from __future__ import annotations

import ipaddress
import re
from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, SCALAR, SEQ, Document, Node, walk
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import Styled, replace_scalar
from v6lint.rules.views import WORKLOADS, containers, env_items

_WILDCARD = re.compile(r"(?<![\w.:\[])0\.0\.0\.0(?::(\d+))?(?![\w./])")
_LOOPBACK = "127.0.0.1"
IMDS_V4 = "169.254.169.254"
NETPOL = ("networking.k8s.io/*/NetworkPolicy",)
EKS_IPV6 = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"
K8S_DUAL = "https://kubernetes.io/docs/concepts/services-networking/dual-stack/"
# favoriteAddrFamily, case 2: a "tcp" listen on "0.0.0.0" uses an AF_INET6 socket with IPV6_V6ONLY=0.
GO_WILDCARD = "https://github.com/golang/go/blob/1341a50cfd7382ddac4dbbd36f4b1fe9177b6f29/src/net/ipsock_posix.go"
JDK_WILDCARD = "https://github.com/openjdk/jdk/blob/master/src/java.base/unix/native/libnet/net_util_md.c"
K8S_BIND_FLAG = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/"  # --bind-address
K8S_PROBE_HOST = ("https://kubernetes.io/docs/tasks/configure-pod-container/"
                  "configure-liveness-readiness-startup-probes/#http-probes")

# Runtimes whose servers open an IPv4 (AF_INET) socket for 0.0.0.0. Go's net.Listen and the JDK open
# an IPv6 socket that also takes IPv4 for the IPv4 wildcard, so a Go or Java `--bind-address=0.0.0.0`
# listens on both families; binaries of unknown language are not judged.
_IPV4_ONLY = {
    "python": "Python", "python3": "Python", "gunicorn": "Python (gunicorn)", "uvicorn": "Python (uvicorn)",
    "hypercorn": "Python (hypercorn)", "flask": "Python (Flask)", "daphne": "Python (daphne)",
    "node": "Node.js", "npm": "Node.js", "npx": "Node.js", "yarn": "Node.js", "pnpm": "Node.js",
    "nginx": "nginx", "openresty": "nginx", "redis-server": "Redis", "memcached": "memcached",
    "puma": "Ruby (puma)", "rails": "Ruby (rails)", "unicorn": "Ruby (unicorn)", "php": "PHP",
}
_IMAGES = {"python": "Python", "node": "Node.js", "nginx": "nginx", "openresty": "nginx", "redis": "Redis",
           "memcached": "memcached", "ruby": "Ruby", "php": "PHP"}
_WORD = re.compile(r"[A-Za-z0-9_.\-/]+")
_SHELL_COMMENT = re.compile(r"(?:^|(?<=\s))#[^\n]*")  # a `#` that starts a word, to the end of its line
# (program, flag) pairs whose value is parsed as a host (or host:port) and accepts the IPv6 wildcard:
# gunicorn's --bind takes `[::]:8000`; uvicorn, hypercorn and `flask run` take `--host ::`;
# `python -m http.server --bind ::`. Anything else (an env var, an app's own flag) may be joined into
# "host:port" by code that breaks on `::`, so it gets no fix.
_FIXABLE = {("gunicorn", "--bind"): "hostport", ("gunicorn", "-b"): "hostport",
            ("hypercorn", "--bind"): "hostport", ("hypercorn", "-b"): "hostport",
            ("uvicorn", "--host"): "host", ("flask", "--host"): "host", ("flask", "-h"): "host",
            ("http.server", "--bind"): "host", ("http.server", "-b"): "host"}


def _runtime(container: Node) -> tuple[str | None, set[str]]:
    """(the IPv4-only runtime the container evidently runs, or None; the program words seen)."""
    words = []
    for key in ("command", "args"):
        seq = container.get(key)
        for item in seq.items() if seq is not None and seq.kind == SEQ else []:
            # (a shell script's comments are prose: "the first node of the cluster" runs no Node.js)
            text = _SHELL_COMMENT.sub(" ", item.text or "") if "\n" in (item.text or "") else item.text or ""
            for word in _WORD.findall(text):
                words.append(re.sub(r"^(python)[\d.]+$", r"\1", word.rsplit("/", 1)[-1]))  # python3.12
    programs = set(words)
    for word in words:
        if word in _IPV4_ONLY:
            return _IPV4_ONLY[word], programs
        if word in ("java", "jar") or word.endswith(".jar"):
            return None, programs  # a JVM: dual-stack for 0.0.0.0
    image = (container.str_at("image") or "").split("@")[0]
    name = image.rsplit("/", 1)[-1].split(":")[0]
    return _IMAGES.get(name), programs


def _bind_nodes(container: Node) -> Iterator[tuple[Node, str, Node | None]]:
    """(value node, where, the item before it in its list) for args, command and env values."""
    for key in ("command", "args"):
        seq = container.get(key)
        previous = None
        for item in seq.items() if seq is not None and seq.kind == SEQ else []:
            yield item, key, previous
            previous = item
    for env in env_items(container):
        value = env.get("value")
        if value is not None:
            yield value, f"env {env.str_at('name')}", None


def _flag_of(text: str, at: int, previous: Node | None) -> str | None:
    """The flag a wildcard at `at` in `text` is the value of: `--flag=0.0.0.0`, `--flag 0.0.0.0` inside
    one string, or a flag that is the previous list item."""
    before = text[:at]
    if before.endswith("="):
        return before[:-1].split()[-1] if before[:-1].split() else None
    words = before.split()
    if words and before[-1:].isspace():
        return words[-1]
    if not before and previous is not None and (previous.text or "").startswith("-"):
        return previous.text
    return None


def _wildcard_fix(node: Node, previous: Node | None, programs: set[str]) -> Fix | None:
    """`[::]:port` / `::` for every wildcard in the value, only where each is the value of a flag the
    program is known to parse as a host (see _FIXABLE); else no fix."""
    text = node.text or ""
    if any(c.isspace() for c in text):
        return None  # inside a shell line `[::]` is a glob pattern: leave it to the user
    new = text
    for match in reversed(list(_WILDCARD.finditer(text))):
        flag = _flag_of(text, match.start(), previous)
        shapes = {_FIXABLE.get((program, flag)) for program in programs} - {None} if flag is not None else set()
        if len(shapes) != 1:
            return None
        shape = shapes.pop()
        if shape == "host" and match.group(1):
            return None  # a port where a host is expected: leave it to the user
        wildcard = f"[::]:{match.group(1)}" if match.group(1) else ("[::]" if shape == "hostport" else "::")
        new = new[:match.start()] + wildcard + new[match.end():]
    return _rewrite(node, new)


def _rewrite(node: Node, new: str) -> Fix | None:
    # A plain scalar that gains brackets, colons or commas must be quoted (it may sit in a flow list).
    value = Styled(new, '"') if node.style is None and any(c in new for c in "[]{},:") else new
    return Fix.unsafe("Bind to the IPv6 wildcard (`::`, which also takes IPv4 on dual-stack hosts)",
               replace_scalar(node, value))


@rule("NET001", "ipv4-wildcard-listen", "warning",
      fix="unsafe", kinds=WORKLOADS + ("v1/ConfigMap",), profiles=("ipv6",), maturity="preview",
      references=(EKS_IPV6, GO_WILDCARD, JDK_WILDCARD, K8S_BIND_FLAG))
def ipv4_wildcard_listen(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A Python, Node.js, nginx, Redis, Ruby or PHP server bound to `0.0.0.0` (args, command, env, or an nginx
    `listen` in a ConfigMap).

    Why:
        For 0.0.0.0 these runtimes open an IPv4 socket, which accepts no IPv6 connections, and an IPv6 pod has
        only an IPv6 address. Go's net.Listen (net/ipsock_posix.go favoriteAddrFamily) and the JDK open a
        dual-stack IPv6 socket for the IPv4 wildcard, and Kubernetes documents `--bind-address=0.0.0.0` as all
        interfaces and IP families, so a Go or Java server (or a binary of unknown language) is not judged:
        the rule fires only where the container evidently runs an IPv4-only runtime (its command or image).
        Preview: the runtime is inferred from names.

    Example:
        command: ["gunicorn", "--bind", "[::]:8000", "app:app"]

    Fix:
        `[::]:port` / `::` only for flags known to parse a host (gunicorn/hypercorn --bind, uvicorn and flask
        --host, http.server --bind); never for env values or an app's own flags, which code may join into
        "host:port"
    """
    if doc.matches(("v1/ConfigMap",)):
        yield from _nginx_listen(doc)
        return
    for container in containers(doc.root):
        runtime, programs = _runtime(container)
        if runtime is None:
            continue
        for node, where, previous in _bind_nodes(container):
            text = node.text
            if not _WILDCARD.search(text or ""):
                continue
            fix = _wildcard_fix(node, previous, programs) if where in ("command", "args") else None
            yield Finding(node.start, node.end,
                          f"{doc.object_name}: {where} binds 0.0.0.0 in a {runtime} container, which listens on "
                          f"IPv4 only for the IPv4 wildcard; on an IPv6 pod nothing answers on the pod's address",
                          fix)


_NGINX_LISTEN = re.compile(r"\blisten\s+(0\.0\.0\.0(?::\d+)?)\s*[; ]")


def _nginx_listen(doc: Document) -> Iterator[Finding]:
    """`listen 0.0.0.0:80;` in an nginx configuration held by a ConfigMap (nginx binds IPv4 only)."""
    data = doc.root.get("data") if doc.root is not None else None
    for key, value in data.entries() if data is not None and data.kind == MAP else []:
        text = value.text or ""
        if value.kind != SCALAR or "server" not in text or "listen" not in text:
            continue
        raw = doc.source.text[value.start:value.end]  # block scalars keep their characters, indented
        for match in _NGINX_LISTEN.finditer(raw):
            yield Finding(value.start + match.start(1), value.start + match.end(1),
                          f"{doc.object_name}: nginx configuration `{key.text}` listens on {match.group(1)}, "
                          f"IPv4 only; add `listen [::]:PORT;` (or listen on `[::]:PORT ipv6only=off`)")


def _binds_ipv6_loopback_only(pod_containers: list[Node]) -> bool:
    """Some container of the pod binds the IPv6 loopback `::1` (and so does not answer on 127.0.0.1)."""
    return any("::1" in (node.text or "") for c in pod_containers for node, _w, _p in _bind_nodes(c))


def _host_network(doc: Document) -> bool:
    for node in walk(doc.root):
        if node.kind == MAP and (node.str_at("hostNetwork") or "").lower() == "true":
            return True
    return False


@rule("NET002", "ipv4-loopback-probe", "warning",
      fix="unsafe", kinds=WORKLOADS, profiles=("ipv6",), maturity="preview",
      references=(EKS_IPV6, K8S_PROBE_HOST))
def ipv4_loopback_probe(doc: Document, profile: Profile) -> Iterator[Finding]:
    # 127.0.0.1 exists in every pod, IPv6 clusters included, and a host-network pod shares the node's
    # loopback: only a listener that the same pod binds to `::1` alone does not answer there. Probe
    # hosts are dialled by the kubelet from the node, not from the pod, so they are not judged here.
    """A client address env (`*_HOST`, `*_ADDR`) of `127.0.0.1` in a pod whose listener binds only the IPv6
    loopback `::1`.

    Why:
        127.0.0.1 exists in every pod, IPv6 clusters included, and a host-network pod shares the node's
        loopback; only a listener bound to `::1` alone does not answer on it. `localhost` resolves to both
        loopbacks. Probe `host` values are not judged: the kubelet dials them from the node. Preview: which
        listener a client means is inferred.

    Example:
        env:
          - name: MEMCACHED_HOST
            value: localhost   # the sidecar listens on ::1

    Fix:
        `localhost`
    """
    pod_containers = containers(doc.root)
    if _host_network(doc) or not _binds_ipv6_loopback_only(pod_containers):
        return
    for container in pod_containers:
        for env in env_items(container):
            value = env.get("value")
            name = env.str_at("name") or ""
            if value is not None and value.text == _LOOPBACK and name.upper().endswith(("HOST", "ADDR", "ADDRESS")):
                yield Finding(value.start, value.end,
                              f"{doc.object_name}: env {name} points clients at 127.0.0.1, but this pod's listener "
                              f"binds the IPv6 loopback `::1`",
                              Fix.unsafe("Use `localhost`", replace_scalar(value, "localhost")))


def _ip_blocks(policy: Node | None) -> list[Node]:
    blocks = []
    spec = policy.get("spec") if policy is not None else None
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction) if spec is not None else None
        for policy_rule in rules.items() if rules is not None and rules.kind == SEQ else []:
            entries = policy_rule.get(peers)
            for peer in entries.items() if entries is not None and entries.kind == SEQ else []:
                cidr = peer.path("ipBlock", "cidr")
                if cidr is not None and cidr.text:
                    blocks.append(cidr)
    return blocks


@rule("NET003", "ipv4-only-network-policy", "warning",
      fix="none", kinds=NETPOL, profiles=("ipv6", "dual"), maturity="preview", references=(K8S_DUAL,))
def ipv4_only_network_policy(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A NetworkPolicy whose `ipBlock` peers are all IPv4 on an IPv6 or dual-stack cluster.

    Why:
        ipBlock CIDRs match one family; rules written with only IPv4 CIDRs neither allow nor deny IPv6
        traffic, which is usually not what the author meant. Preview: the author's intent is a guess.

    Example:
        - ipBlock: {cidr: 0.0.0.0/0}
        - ipBlock: {cidr: ::/0}
    """
    blocks = _ip_blocks(doc.root)
    if not blocks:
        return
    families = set()
    for cidr in blocks:
        try:
            families.add(ipaddress.ip_network(cidr.text or "", strict=False).version)  # (None, "": ValueError)
        except ValueError:
            return
    if families == {4}:
        cidrs = ", ".join(c.text or "" for c in blocks)  # (every one parsed, so has text)
        yield Finding(blocks[0].start, blocks[0].end,
                      f"{doc.object_name}: every ipBlock is IPv4 ({cidrs}); on an {profile.label} cluster the IPv6 "
                      f"traffic these rules mean to allow or deny is not matched (e.g. add `::/0` beside `0.0.0.0/0`)")


@rule("NET004", "ipv4-imds-address", "warning",
      fix="none", kinds=WORKLOADS + ("v1/ConfigMap",), profiles=("ipv6",), platforms=("aws",),
      maturity="preview",
      references=("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",))
def ipv4_imds_address(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A hard-coded `169.254.169.254` (the IPv4 instance metadata address).

    Why:
        IPv6 pods reach the IPv4 metadata address only through the VPC CNI's IPv4 egress NAT (and only with an
        IMDS hop limit of 2 or more); the IPv6 endpoint `fd00:ec2::254` (enabled on the instance) or the SDKs'
        endpoint mode setting avoid both. Checked in workloads and ConfigMaps only: node user data
        (EC2NodeClass, launch templates) runs on the node, which keeps IPv4 on EKS. Preview: whether the
        address is actually called, and how, is a guess.

    Example:
        - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
          value: IPv6
    """
    for node in walk(doc.root):
        if node.kind == SCALAR and node.text and IMDS_V4 in node.text:
            yield Finding(node.start, node.end,
                          f"{doc.object_name}: hard-coded instance metadata address {IMDS_V4}, which IPv6 pods reach "
                          f"only through the node's IPv4 egress NAT; the IPv6 endpoint is [fd00:ec2::254] (or set "
                          f"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 for the AWS SDKs)")


@rule("NET005", "ipv4-only-resolution", "warning",
      fix="none", languages=("python",), profiles=("ipv6",), maturity="preview",
      references=("https://docs.python.org/3/library/socket.html#socket.gethostbyname",))
def ipv4_only_resolution(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`socket.gethostbyname(...)` or `hostname -i/-I` feeding an address in Python code.

    Why:
        `gethostbyname` returns IPv4 addresses only, and `hostname -i` prints whatever the resolver returns
        first; on an IPv6 pod they yield nothing usable (or an IPv4 address the cluster does not route).
        `socket.getaddrinfo` returns both families. On a dual-stack pod /etc/hosts and DNS still give an IPv4
        address that works, so only IPv6 clusters are judged. Preview: whether the result is used as an
        address is inferred.

    Example:
        host = socket.gethostbyname(name)        # bad
        host = socket.getaddrinfo(name, None)[0][4][0]   # good
    """
    facts = doc.payload
    for start, end, what in facts.resolution_calls if facts is not None else []:
        yield Finding(start, end, f"`{what}` returns IPv4 addresses only; on an {profile.label} cluster use "
                                  f"`socket.getaddrinfo` (or bind to `::`) instead")


RULES = [
    ipv4_wildcard_listen,
    ipv4_loopback_probe,
    ipv4_only_network_policy,
    ipv4_imds_address,
    ipv4_only_resolution,
]
