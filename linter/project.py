"""The project's cluster profile, from every source in STRENGTH, before any rule runs.

Sources, strongest first: v6lint config; Terraform tfvars; literal `ip_family` in `.tf` module or
resource blocks; Terraform variable defaults (only when no tfvars sets the variable); eksctl
ClusterConfig; kubeadm ClusterConfiguration and kind Cluster; the aws-node DaemonSet's
ENABLE_IPv6. The strongest source wins; every source that disagrees with it is a PRF001 finding.
Files are read cheaply: only those containing a trigger string are parsed.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from v6lint.config import CONFIG_FILES
from v6lint.discovery import discover, display_path
from v6lint.document import MAP, Document, Node
from v6lint.hcl_source import walk_blocks
from v6lint.rule import Profile, ProfileSource
from v6lint.source import DecodeError, SourceFile, decode
from v6lint.sources import parse_source

PROFILE_SUFFIXES = (".yaml", ".yml", ".tf", ".tfvars", ".tfvars.json")
# Only files that can hold a profile source or a cross-file fact are parsed.
_HCL_TRIGGERS = ("enable_ipv6", "ip_family", "variable", "AmazonEKS_CNI_IPv6_Policy", "create_cni_ipv6_iam_policy")
_YAML_TRIGGERS = ("ClusterConfig", "ClusterConfiguration", "KubeadmControlPlane", "kind.x-k8s.io", "aws-node",
                  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "group.name", "ENIConfig", "enable_ipv6", "ip_family",
                  "aws-load-balancer-controller")
STRENGTH = {"config": 100, "tfvars": 90, "terraform": 80, "variable-default": 70, "eksctl": 60, "kubeadm": 50,
            "kind": 50, "aws-node": 40}
_FAMILY_VARS = ("enable_ipv6", "ip_family", "cluster_ip_family")
MAX_PROFILE_FILE = 2 * 1024 * 1024


def find_project_root(start: Path) -> Path:
    """The nearest directory upward holding .git or a v6lint config; else `start` itself."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        if (folder / ".git").exists() or any((folder / name).is_file() and
                                             (name != "pyproject.toml" or "tool.v6lint" in _read(folder / name))
                                             for name in CONFIG_FILES):
            return folder
    return directory


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


@dataclass
class VariableDecl:
    name: str
    type: str | None  # the type expression's text: "bool", "string", "list(string)"...
    default: Node | None
    path: str
    directory: str


@dataclass
class ProjectFacts:
    """Cross-file facts that rules read (they never open other files themselves)."""

    variables: dict[str, dict[str, VariableDecl]] = field(default_factory=dict)  # directory -> name -> decl
    tfvars_set: set[str] = field(default_factory=set)  # variable names some tfvars sets
    imds_ipv6_jobs: list[str] = field(default_factory=list)  # "path:line" of jobs using the IPv6 IMDS endpoint
    webhook_disabled: str | None = None  # "path:line" of spark-operator values with webhook.enable: false
    cni_policy_refs: list[tuple[str, int, int]] = field(default_factory=list)  # (abspath, start, end)
    cni_policy_creators: list[tuple[str, int, int]] = field(default_factory=list)
    # Terraform directories whose .tf files use a `var.X` or `module.X` they do not declare: their
    # declarations live in a file we cannot see, so "undeclared" cannot be judged there.
    incomplete_stacks: set[str] = field(default_factory=set)
    ingress_groups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # group -> (where, ip type)
    eniconfigs: int = 0
    kubeadm_pod_subnet: tuple[str, str] | None = None  # (podSubnet, "path:line")
    # directory -> (kubernetesVersion or KubeadmControlPlane spec.version, "path:line"): the kubelet flags
    # of a kubeadm config are judged only against a version declared in the same directory.
    kubeadm_versions: dict[str, tuple[str, str]] = field(default_factory=dict)
    lbc_version: tuple[str, str] | None = None  # AWS Load Balancer Controller image tag, "path:line"
    prefix_delegation: str | None = None  # "path:line" where ENABLE_PREFIX_DELEGATION is turned on
    _refs: dict[str, set[str]] = field(default_factory=dict)
    _decls: dict[str, set[str]] = field(default_factory=dict)

    def note_terraform_text(self, directory: str, text: str) -> None:
        self._refs.setdefault(directory, set()).update(_REF.findall(text))
        self._decls.setdefault(directory, set()).update(
            f"{kind}.{name}" for kind, name in _DECL.findall(text))

    def settle(self) -> None:
        for directory, refs in self._refs.items():
            if refs - self._decls.get(directory, set()):
                self.incomplete_stacks.add(directory)


# ENABLE_PREFIX_DELEGATION set to true as an env entry, a map key (YAML, HCL) or JSON.
_PD_ON = re.compile(r"""ENABLE_PREFIX_DELEGATION["']?\s*[:=]?\s*(?:\n\s*value:\s*)?["']?true""")
_REF = re.compile(r"\b((?:var|module)\.[A-Za-z_][A-Za-z0-9_-]*)")
_DECL = re.compile(r'^\s*(variable|module)\s+"([^"]+)"', re.MULTILINE)


def _line_ref(source: SourceFile, offset: int) -> str:
    return f"{source.path}:{source.position(offset)[0] + 1}"


def _truthy(node: Node | None) -> bool | None:
    if node is None or node.text is None:
        return None
    return {"true": True, "false": False}.get(node.text.strip().strip('"').lower())


def _family_of_cidrs(text: str) -> str | None:
    families = set()
    for part in text.split(","):
        try:
            families.add(ipaddress.ip_network(part.strip(), strict=False).version)
        except ValueError:
            return None
    return "dual" if families == {4, 6} else "ipv6" if families == {6} else "ipv4" if families == {4} else None


class _Collector:
    def __init__(self) -> None:
        self.sources: list[ProfileSource] = []
        self.facts = ProjectFacts()
        self._pending_defaults: list[tuple[str, ProfileSource]] = []

    def add(self, family: str | None, kind: str, source: SourceFile, node: Node, what: str) -> None:
        if family in ("ipv4", "ipv6", "dual"):
            self.sources.append(ProfileSource(family, kind, _line_ref(source, node.start), source.abspath or "",
                                              node.start, node.end, what))

    # --- Terraform ------------------------------------------------------------------
    def hcl(self, doc: Document) -> None:
        source = doc.source
        path = source.abspath or source.path
        if path.endswith((".tfvars", ".tfvars.json")):
            for key, value in doc.root.entries():
                self.facts.tfvars_set.add(key.value)
                if key.value == "enable_ipv6":
                    flag = _truthy(value)
                    if flag is not None:
                        self.add("ipv6" if flag else "ipv4", "tfvars", source, value, f"enable_ipv6 = {value.text}")
                elif key.value in ("ip_family", "cluster_ip_family") and value.text:
                    self.add(value.text.lower(), "tfvars", source, value, f"{key.value} = \"{value.text}\"")
            return
        directory = os.path.dirname(path)
        for block in walk_blocks(doc.blocks):
            if block.type == "variable" and block.labels:
                name = block.labels[0]
                type_node, default = block.body.get("type"), block.body.get("default")
                self.facts.variables.setdefault(directory, {})[name] = VariableDecl(
                    name, type_node.value if type_node is not None else None, default, source.path, directory)
                if name in _FAMILY_VARS and default is not None:
                    flag = _truthy(default) if name == "enable_ipv6" else None
                    family = ("ipv6" if flag else "ipv4") if flag is not None else (default.text or "").lower()
                    if family in ("ipv4", "ipv6"):
                        self._pending_defaults.append((name, ProfileSource(
                            family, "variable-default", _line_ref(source, default.start), path, default.start,
                            default.end, f'variable "{name}" default')))
            elif block.type in ("module", "resource", "kubernetes_network_config"):
                for attr in ("ip_family", "cluster_ip_family"):
                    value = block.body.get(attr)
                    if value is not None and value.tag != "hcl:expr" and value.text:
                        self.add(value.text.lower(), "terraform", source, value, f"{attr} = \"{value.text}\"")
            for key, value in block.body.entries():
                if key.value == "create_cni_ipv6_iam_policy" and _truthy(value):
                    self.facts.cni_policy_creators.append((path, key.start, value.end))
        self._policy_refs(doc)

    def _policy_refs(self, doc: Document) -> None:
        text = doc.source.text
        at = text.find("AmazonEKS_CNI_IPv6_Policy")
        while at != -1:
            self.facts.cni_policy_refs.append((doc.source.abspath or "", at, at + len("AmazonEKS_CNI_IPv6_Policy")))
            at = text.find("AmazonEKS_CNI_IPv6_Policy", at + 1)

    # --- Kubernetes-style YAML -------------------------------------------------------
    def yaml(self, doc: Document) -> None:
        root, source = doc.root, doc.source
        if root is None:
            return
        if doc.kind == "ClusterConfig" and (doc.api_version or "").startswith("eksctl.io/"):
            value = root.path("kubernetesNetworkConfig", "ipFamily")
            if value is not None and value.text:
                self.add(value.text.lower(), "eksctl", source, value, f"ipFamily: {value.text}")
        elif doc.kind in ("ClusterConfiguration", "KubeadmControlPlane"):
            version = root.get("kubernetesVersion") if doc.kind == "ClusterConfiguration" else root.path("spec", "version")
            if version is not None and version.text:
                self.facts.kubeadm_versions.setdefault(os.path.dirname(source.abspath or source.path),
                                                       (version.text, _line_ref(source, version.start)))
            networking = root.get("networking") if doc.kind == "ClusterConfiguration" else \
                root.path("spec", "kubeadmConfigSpec", "clusterConfiguration", "networking")
            for key in ("podSubnet", "serviceSubnet"):
                value = networking.get(key) if networking is not None else None
                if value is not None and value.text:
                    if key == "podSubnet" and self.facts.kubeadm_pod_subnet is None:
                        self.facts.kubeadm_pod_subnet = (value.text, _line_ref(source, value.start))
                    self.add(_family_of_cidrs(value.text), "kubeadm", source, value, f"{key}: {value.text}")
                    break
        elif doc.kind == "Cluster" and (doc.api_version or "").startswith("kind.x-k8s.io/"):
            value = root.path("networking", "ipFamily")
            if value is not None and value.text:
                self.add(value.text.lower(), "kind", source, value, f"ipFamily: {value.text}")
        elif doc.kind == "DaemonSet" and doc.name == "aws-node":
            for container in (root.path("spec", "template", "spec", "containers") or Node("seq", [], "", None, False, 0, 0)).items():
                for env in (container.get("env").items() if container.get("env") is not None else []):
                    if env.str_at("name") == "ENABLE_IPv6" and _truthy(env.get("value")):
                        self.add("ipv6", "aws-node", source, env.get("value"), "aws-node ENABLE_IPv6=true")
        if doc.kind == "ENIConfig":
            self.facts.eniconfigs += 1
        self._lbc_version(doc)
        group = doc.annotations.get("alb.ingress.kubernetes.io/group.name")
        if doc.kind == "Ingress" and group is not None and group.text:
            ip_type = doc.annotations.get("alb.ingress.kubernetes.io/ip-address-type")
            self.facts.ingress_groups.setdefault(group.text, []).append(
                (f"{doc.object_name} at {_line_ref(source, doc.start)}", (ip_type.text if ip_type else None) or "ipv4"))
        if "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" in source.text and doc.kind in (
                "SparkApplication", "ScheduledSparkApplication"):
            self.facts.imds_ipv6_jobs.append(_line_ref(source, doc.start))

    def _lbc_version(self, doc: Document) -> None:
        """The controller's version from its Deployment image or its chart values (image.tag)."""
        root = doc.root
        candidates = []
        if doc.kind == "Deployment" and "aws-load-balancer-controller" in (doc.name or ""):
            stack = [root.path("spec", "template", "spec", "containers")]
            candidates = [c.get("image") for c in (stack[0].items() if stack[0] is not None else [])]
        elif not doc.is_kubernetes and root.kind == MAP and root.get("clusterName") is not None and \
                "aws-load-balancer-controller" in (root.str_at("image", "repository") or ""):
            candidates = [root.path("image", "tag")]
        for node in candidates:
            match = re.search(r"v?(\d+\.\d+\.\d+)", (node.text or "").rsplit(":", 1)[-1]) if node is not None else None
            if match and self.facts.lbc_version is None:
                self.facts.lbc_version = (match.group(1), _line_ref(doc.source, node.start))

    def values_file(self, doc: Document) -> None:
        """spark-operator Helm values: `webhook.enable: false` drops driver/executor env."""
        root = doc.root
        if root is None or doc.is_kubernetes or root.get("controller") is None:
            return
        webhook = root.get("webhook")
        enable = webhook.get("enable") if webhook is not None else None
        if enable is not None and _truthy(enable) is False and "spark" in doc.source.text:
            self.facts.webhook_disabled = _line_ref(doc.source, enable.start)

    def finish(self) -> None:
        self.facts.settle()
        for name, source in self._pending_defaults:
            if name not in self.facts.tfvars_set:
                self.sources.append(source)


def collect(files: list[Path], overlay: dict[str, str] | None = None) -> _Collector:
    """Facts from `files`; `overlay` maps real paths to unsaved editor text that replaces the disk's."""
    collector = _Collector()
    overlay = overlay or {}
    for path in files:
        try:
            real = os.path.realpath(path)
            if real in overlay:
                text, encoding, bom = overlay[real], "utf-8", b""
            else:
                if path.stat().st_size > MAX_PROFILE_FILE:
                    continue
                text, encoding, bom = decode(path.read_bytes())
        except (OSError, DecodeError):
            continue
        if path.suffix == ".tf":
            collector.facts.note_terraform_text(os.path.dirname(os.path.realpath(path)), text)
        pd = _PD_ON.search(text)
        if pd and collector.facts.prefix_delegation is None:
            collector.facts.prefix_delegation = f"{display_path(path)}:{text.count(chr(10), 0, pd.start()) + 1}"
        is_yaml = path.suffix in (".yaml", ".yml")
        if is_yaml and "webhook" in text and "controller" in text:
            pass  # spark-operator Helm values
        elif not any(trigger in text for trigger in (_YAML_TRIGGERS if is_yaml else _HCL_TRIGGERS)):
            continue
        source = SourceFile(display_path(path), text, encoding, bom, os.path.realpath(path))
        try:
            parsed = parse_source(source)
        except Exception:  # the lint pass reports what cannot be parsed
            continue
        for doc in parsed.documents:
            if doc.language == "hcl":
                collector.hcl(doc)
            elif doc.language == "yaml":
                collector.yaml(doc)
                collector.values_file(doc)
    collector.finish()
    return collector


def build_profile(root: Path, exclude: list[str], configured: Profile,
                  overlay: dict[str, str] | None = None, use_cache: bool = False) -> Profile:
    """The profile of the project at `root`: strongest source wins, the rest are kept for PRF001.
    With use_cache it is reused while no candidate file changed (path, size, mtime)."""
    files = discover([str(root)], exclude, root, PROFILE_SUFFIXES).files
    key = None
    if use_cache and not overlay:
        from v6lint import cache

        stats = []
        for path in files:
            try:
                st = path.stat()
                stats.append((str(path), st.st_size, st.st_mtime_ns))
            except OSError:
                stats.append((str(path), -1, -1))
        key = cache.fingerprint(stats, configured, exclude)
        cached = cache.load_profile(root, key)
        if isinstance(cached, Profile):
            return cached
    profile = _build(root, files, configured, overlay)
    if key is not None:
        from v6lint import cache

        cache.save_profile(root, key, profile)
    return profile


def _build(root: Path, files: list[Path], configured: Profile, overlay: dict[str, str] | None) -> Profile:
    collector = collect(files, overlay)
    sources = list(collector.sources)
    if configured.ip_family and configured.source and configured.source != "--ip-family":
        sources.append(ProfileSource(configured.ip_family, "config", configured.source, "", 0, 0,
                                     f"cluster.ip-family = \"{configured.ip_family}\""))
    sources.sort(key=lambda s: (-STRENGTH[s.kind], s.location))
    if configured.source == "--ip-family":
        chosen_family, chosen_source = configured.ip_family, "--ip-family"
    elif sources:
        chosen_family, chosen_source = sources[0].ip_family, sources[0].location
    else:
        chosen_family, chosen_source = None, None
    return Profile(chosen_family, chosen_source, tuple(sources), collector.facts, str(root),
                   platform=configured.platform, platform_source=configured.platform_source)
