"""The project's cluster profile, from every source in STRENGTH, before any rule runs.

Sources, strongest first: v6lint config; Terraform tfvars; literal `ip_family` in `.tf` module or
resource blocks; Terraform variable defaults (only when no tfvars sets the variable); eksctl
ClusterConfig; kubeadm ClusterConfiguration and kind Cluster; the aws-node DaemonSet's
ENABLE_IPv6. The strongest source wins; every source that disagrees with it is a PRF001 finding.
An inferred (not configured) IPv6 or dual-stack family is dropped when the project also defines
clusters that are IPv4 by their tool's default (an eksctl ClusterConfig of another name without
ipFamily, an EKS module or aws_eks_cluster without ip_family): a folder of examples or patterns, one
cluster each, has no one family (`clusters_of_other_families`).
The platform (AWS or not) is decided the same way from its own evidence (PLATFORM_STRENGTH).
Files are read cheaply: only those containing a trigger string are parsed.

A run may hold many projects: every file is judged by the settings and profile of its own
project root (`Projects`), and a project's profile never reads the files of a project nested in it.
"""
from __future__ import annotations

import errno
import hashlib
import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from v6lint import replay
from v6lint.config import Settings, config_in
from v6lint.discovery import (CONFIG_SUFFIXES, SUFFIXES, Discovered, Files, Judge, discover, display_path,
                              read_regular, real_folder, real_path, stat_signature)
from v6lint.document import MAP, Document, Node, release
from v6lint.hcl_source import walk_blocks
from v6lint.rule import PlatformSource, Profile, ProfileSource
from v6lint.source import DecodeError, SourceFile, decode
from v6lint.sources import SHARED, parse_source
from v6lint.yaml_source import ParsedYaml

PROFILE_SUFFIXES = CONFIG_SUFFIXES  # the files that can hold a profile source or a cross-file fact
# Only files that can hold a profile source or a cross-file fact are parsed.
_HCL_TRIGGERS = ("enable_ipv6", "ip_family", "variable", "AmazonEKS_CNI_IPv6_Policy", "create_cni_ipv6_iam_policy",
                 "aws_eks_", "eks/aws", "eks-blueprints", "terraform-aws-eks", "_kubernetes_cluster", "google_container_cluster",
                 "AssignIpv6Addresses", "eks.amazonaws.com/role-arn")
_YAML_TRIGGERS = ("ClusterConfig", "ClusterConfiguration", "KubeadmControlPlane", "kind.x-k8s.io", "aws-node",
                  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "group.name", "ENIConfig", "enable_ipv6", "ip_family",
                  "aws-load-balancer", "cluster.x-k8s.io", "karpenter.k8s.aws", "eks.amazonaws.com/role-arn",
                  "alb.ingress.kubernetes.io")
# YAML triggers whose files can give nothing but platform evidence of one kind (the kind's other
# facts have triggers of their own): AWS annotations, Karpenter objects. Only the first
# _PLATFORM_EVIDENCE_KEPT pieces of a kind (by location) are kept, so once that many are held at
# locations before a file's path, a file with only these triggers is not parsed (in a monorepo,
# most load-balanced Services carry an AWS annotation).
_EVIDENCE_ONLY_TRIGGERS = {"aws-load-balancer": "aws-annotation", "alb.ingress.kubernetes.io": "aws-annotation",
                           "karpenter.k8s.aws": "karpenter"}
_EVIDENCE_ONLY_UNLESS = "aws-load-balancer-controller"  # its Deployment or values: a version and its own kind
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml")
STRENGTH = {"config": 100, "tfvars": 90, "terraform": 80, "variable-default": 70, "eksctl": 60, "kubeadm": 50,
            "kind": 50, "aws-node": 40}
_FAMILY_VARS = ("enable_ipv6", "ip_family", "cluster_ip_family")
CNI_IPV6_POLICY = "AmazonEKS_CNI_IPv6_Policy"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
MAX_PROFILE_FILE = 2 * 1024 * 1024
# Where the cluster runs, strongest evidence first. A cluster definition says more than a component
# that runs in it, and a component more than an annotation that only means something there.
PLATFORM_STRENGTH = {"config": 100, "terraform": 60, "eksctl": 60, "cluster-api": 55, "kubeadm": 50, "kind": 50,
                     "aws-node": 40, "karpenter": 40, "aws-load-balancer-controller": 40, "aws-annotation": 30}
_PLATFORM_EVIDENCE_KEPT = 3  # per kind and platform: the rest repeat what these say
# Terraform resources and data sources that define (or read) a Kubernetes cluster, by platform.
_TF_CLUSTERS = {"aws_eks_cluster": "aws", "aws_eks_node_group": "aws", "aws_eks_fargate_profile": "aws",
                "aws_eks_cluster_auth": "aws", "google_container_cluster": "other",
                "azurerm_kubernetes_cluster": "other", "digitalocean_kubernetes_cluster": "other",
                "linode_lke_cluster": "other", "oci_containerengine_cluster": "other"}
_TF_EKS_MODULES = ("terraform-aws-modules/eks/aws", "aws-ia/eks-blueprints", "terraform-aws-eks")
_AWS_ANNOTATIONS = ("service.beta.kubernetes.io/aws-load-balancer-", "eks.amazonaws.com/role-arn",
                    "alb.ingress.kubernetes.io/")


def _is_marked(folder: Path | str, configs: dict[str, Path | None] | None = None) -> bool:
    """Whether the folder holds .git or a v6lint config (`configs`: see config.config_in). (Asked of
    every folder of a run, twice: no Path is made for it.)"""
    git = os.path.join(folder, ".git")
    if replay.WITNESS is not None:
        replay.WITNESS.looked_for(git)
    try:
        os.stat(git)
    except OSError as exc:  # (as Path.exists: a folder that cannot be looked into is an error)
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
    except ValueError:
        pass
    else:
        return True
    return config_in(folder, configs) is not None


def marked_root(start: Path, marked: dict[Path, bool] | None = None) -> Path | None:
    """The nearest directory upward holding .git or a v6lint config, or None. `marked` (folder ->
    whether it is marked) spares the stat calls for folders an earlier call of the same run looked at."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        found: bool | None
        if marked is None:
            found = _is_marked(folder)
        else:
            found = marked.get(folder)
            if found is None:
                found = marked[folder] = _is_marked(folder)
        if found:
            return folder
    return None


def find_project_root(start: Path) -> Path:
    """The nearest directory upward holding .git or a v6lint config; else `start` itself."""
    found = marked_root(start)
    if found is not None:
        return found
    start = start.resolve()
    return start if start.is_dir() else start.parent


def _shared(text):
    """One string object for equal names and types of variables (the facts hold one per declaration of
    the project, most of them repeated: `region`, `string`): sys.intern's, kept as pickling keeps them."""
    return sys.intern(text) if type(text) is str else text


@dataclass(slots=True)
class VariableDecl:
    """A `variable` block as the rules see it (TF002/TF003): its name and type. The facts hold one
    per declaration of the project, so nothing else is kept (its default is read where it is
    found, for the profile)."""
    name: str
    type: str | None  # the type expression's text: "bool", "string", "list(string)"...


@dataclass
class ProjectFacts:
    """Cross-file facts that rules read (they never open other files themselves)."""

    variables: dict[str, dict[str, VariableDecl]] = field(default_factory=dict)  # directory -> name -> decl
    tfvars_set: set[str] = field(default_factory=set)  # variable names some tfvars sets
    imds_ipv6_jobs: list[str] = field(default_factory=list)  # "path:line" of jobs using the IPv6 IMDS endpoint
    webhook_disabled: str | None = None  # "path:line" of spark-operator values with webhook.enable: false
    cni_policy_refs: list[tuple[str, int, int]] = field(default_factory=list)  # (abspath, start, end)
    # Stacks creating the policy under its fixed name (`create_cni_ipv6_iam_policy = true`, or an
    # aws_iam_policy named AmazonEKS_CNI_IPv6_Policy), and aws_iam_policy resources of any other name
    # that grant ec2:AssignIpv6Addresses (the same permissions, attached by reference).
    cni_policy_creators: list[tuple[str, int, int]] = field(default_factory=list)
    cni_policy_own: list[tuple[str, int, int]] = field(default_factory=list)
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
    # Every place that turns it on: (real directory of the file, "path:line"), for rules that need the
    # evidence from the same stack or cluster configuration as the file they judge.
    prefix_delegation_all: list[tuple[str, str]] = field(default_factory=list)
    # Service accounts annotated with an IAM role (IRSA): name -> "path:line" (ServiceAccount YAML, or
    # Terraform kubernetes_service_account with a literal name).
    irsa_service_accounts: dict[str, str] = field(default_factory=dict)
    # Files a kustomization lists as patches (real path -> "kustomization.yaml:line"): partial objects
    # that the engine does not judge as whole ones.
    kustomize_patches: dict[str, str] = field(default_factory=dict)
    # Terraform directory -> "MODULE.KIND" (e.g. "vpc.private") for each `module.MODULE.KIND_subnets`
    # an EKS cluster, node group, Fargate profile or EKS module of that directory uses: the subnets
    # that must carry IPv6 in an IPv6 cluster.
    eks_subnet_refs: dict[str, set[str]] = field(default_factory=dict)
    # The clusters the project defines, with the IP family each one's own definition gives:
    # (identity, family or None, "path:line"). The identity is `eksctl:NAME` (a ClusterConfig's
    # metadata.name) or `terraform:DIR` (an EKS module or aws_eks_cluster of that directory); None is a
    # definition that leaves the family to its tool's default, IPv4 (eksctl DefaultIPFamily;
    # terraform-aws-modules/eks `ip_family` default "ipv4"; the EKS API's default).
    clusters: list[tuple[str, str | None, str]] = field(default_factory=list)
    _refs: dict[str, set[str]] = field(default_factory=dict)
    _decls: dict[str, set[str]] = field(default_factory=dict)

    def note_terraform_text(self, directory: str, text: str) -> None:
        self._refs.setdefault(directory, set()).update(_references(text))
        self._decls.setdefault(directory, set()).update(
            f"{kind}.{name}" for kind, name in _DECL.findall(text))

    def settle(self) -> None:
        """The facts of a whole project are known: the stacks using what they do not declare are
        noted, and the references and declarations behind that let go (one per `var.`/`module.`
        use of the project: they are no fact a rule reads)."""
        for directory, refs in self._refs.items():
            if refs - self._decls.get(directory, set()):
                self.incomplete_stacks.add(directory)
        self._refs, self._decls = {}, {}

    def prefix_delegation_near(self, directory: str) -> str | None:
        """The first place (in prefix_delegation_all order) that turns prefix delegation on in
        `directory`, in a folder above it or in one below it: one stack or cluster configuration.
        Indexed once per facts (a memo, not a field: never saved), so each file asking costs the
        depth of its folder, not the number of places (that was quadratic in corpus size)."""
        index = self.__dict__.get("_pd_index")
        if index is None:
            here: dict[str, int] = {}  # directory -> first place in it
            below: dict[str, int] = {}  # directory -> first place in a folder below it
            for number, (place, _where) in enumerate(self.prefix_delegation_all):
                here.setdefault(place, number)
                for above in _ancestors(place):
                    below.setdefault(above, number)
            index = self.__dict__["_pd_index"] = (here, below)
        here, below = index
        found = [n for n in (here.get(directory), below.get(directory), *(here.get(a) for a in _ancestors(directory)))
                 if n is not None]
        return self.prefix_delegation_all[min(found)][1] if found else None


def _references(text: str) -> Iterator[str]:
    """The `var.x`/`module.x` references of a Terraform text (`\b` before them: no word character)."""
    search = _REF.search
    match = search(text)
    while match is not None:
        at = match.start()
        if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):  # (re's `\w` in a str pattern)
            yield match.group()
            match = search(text, match.end())
        else:  # inside a word: a reference may still start later in this match
            match = search(text, at + 1)


def _ancestors(directory: str) -> list[str]:
    """Every `other` with directory.startswith(other + os.sep), as strings (no file system)."""
    found, at = [], directory.find(os.sep)
    while at != -1:
        found.append(directory[:at])
        at = directory.find(os.sep, at + 1)
    return found


_SUBNET_REF = re.compile(r"\bmodule\.([A-Za-z_][A-Za-z0-9_-]*)\.([a-z]+)_subnets\b")
# A `var.`/`module.` reference: the words at a word boundary (checked by _references: a pattern that
# starts with the literal words is searched for at C speed, where one that starts with `\b` is tried at
# every offset).
_REF = re.compile(r"(?:var|module)\.[A-Za-z_][A-Za-z0-9_-]*")
# A block header on one line. `[ \t]`, never `\s`: `^\s*` restarts on every line of a run of blank
# lines (quadratic), and `[^"]` must not run across lines.
_DECL = re.compile(r'^[ \t]*(variable|module)[ \t]+"([^"\n]+)"', re.MULTILINE)
_PD_NAME = "ENABLE_PREFIX_DELEGATION"


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n\f\v":
        at += 1
    return at


def prefix_delegation_on(text: str) -> int:
    """Offset of ENABLE_PREFIX_DELEGATION set to true as an env entry (`name: X` then `value: "true"`),
    a map key (YAML, HCL) or JSON; -1 if none. A scan, not a regex: every character is looked at a
    bounded number of times, whatever the whitespace (the old pattern was cubic in blank lines)."""
    at = text.find(_PD_NAME)
    while at != -1:
        pos = at + len(_PD_NAME)
        if text[pos:pos + 1] in ('"', "'"):
            pos += 1
        pos = _skip_space(text, pos)
        if text[pos:pos + 1] in (":", "="):
            pos = _skip_space(text, pos + 1)
        if text.startswith("value:", pos) and "\n" in text[at:pos]:  # the env entry's next line
            pos = _skip_space(text, pos + len("value:"))
        if text[pos:pos + 1] in ('"', "'"):
            pos += 1
        if text.startswith("true", pos):
            return at
        at = text.find(_PD_NAME, at + 1)
    return -1


_EKS_CLUSTER_MODULE = re.compile(r"^(?:terraform-aws-modules/eks/aws|(?:git::)?(?:https://)?github\.com/"
                                 r"terraform-aws-modules/terraform-aws-eks(?:\.git)?)(?:\?.*)?$")
_TF_FAMILY = re.compile(r'\b(?:cluster_)?ip_family\s*=\s*"(ipv4|ipv6)"\s*$', re.MULTILINE)


def _defines_eks_cluster(block) -> bool:
    """A top-level Terraform block that creates an EKS cluster: `resource "aws_eks_cluster"` or the
    terraform-aws-modules/eks root module (not its submodules: node groups, Karpenter, ...)."""
    if block.type == "resource":
        return block.labels[:1] == ["aws_eks_cluster"]
    return block.type == "module" and bool(_EKS_CLUSTER_MODULE.match(block.body.str_at("source") or ""))


def _cluster_family(text: str) -> str | None:
    """The family a cluster block's own text gives: a literal `ip_family` ("ipv4"/"ipv6"), None when it
    sets none (the default, IPv4), "" when it is an expression (decided elsewhere: not known here)."""
    if "ip_family" not in text:
        return None
    found = _TF_FAMILY.findall(text)
    return found[0] if len(set(found)) == 1 and text.count("ip_family") == len(found) else ""


def clusters_of_other_families(facts: ProjectFacts | None, family: str | None) -> list[str]:
    """The clusters the project defines that are IPv4 by their tool's default, when `family` is another
    ("path:line"), one per identity. An eksctl cluster whose name another ClusterConfig gives a family is
    of that family (a node-group config of an IPv6 cluster is not an IPv4 cluster), and a stated family
    is a profile source (a disagreeing one is PRF001's). A project that also defines clusters that are
    IPv4 by default has no one family to infer: its clusters differ."""
    if facts is None or family in (None, "ipv4"):
        return []
    stated = {identity for identity, given, _ in facts.clusters if given}
    found: dict[str, str] = {}
    for identity, given, where in facts.clusters:
        if identity not in stated:
            found.setdefault(identity, where)
    return sorted(found.values())


def _line_ref(source: SourceFile, offset: int) -> str:
    return f"{source.path}:{source.point(offset)[0]}"


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
    """Facts of one file (FileFacts: what file_facts gives, small and picklable, so workers can
    send it), or of a whole project: the files' shares folded in the project's file order by
    `merge`, which gives exactly what collecting the files one after the other gave."""

    def __init__(self) -> None:
        self.sources: list[ProfileSource] = []
        self.platforms: list[PlatformSource] = []
        self.facts = ProjectFacts()
        self._pending_defaults: list[tuple[str, ProfileSource]] = []
        self._first: dict[tuple[str, str], list[str]] = {}  # (kind, platform) -> its first locations, sorted
        # A file's share only: the evidence kinds of a YAML file whose parse was skipped because it
        # could add nothing kept (nothing_to_add); its share then holds the facts of its text only.
        self.skipped: frozenset[str] | None = None

    def platform(self, platform: str | None, kind: str, source: SourceFile, offset: int, what: str) -> None:
        if platform in ("aws", "other"):
            self._keep(PlatformSource(platform, kind, _line_ref(source, offset), what))

    def _keep(self, evidence: PlatformSource) -> None:
        self.platforms.append(evidence)
        self._note_first(evidence)

    def _note_first(self, evidence: PlatformSource) -> None:
        location = evidence.location
        first = self._first.setdefault((evidence.kind, evidence.platform), [])
        if len(first) < _PLATFORM_EVIDENCE_KEPT or location < first[-1]:
            first.append(location)
            first.sort()
            del first[_PLATFORM_EVIDENCE_KEPT:]

    def nothing_to_add(self, shown: str, kinds: frozenset[str] | None) -> bool:
        """Whether a YAML file (`shown` as in locations) whose only triggers give evidence of `kinds`
        (evidence_only_kinds) can add nothing that is kept: those kinds already have their kept
        pieces, all at locations sorting before any location in this file. Exact with any subset
        of the project's other files collected (a worker's own share of them, too)."""
        if kinds is None:
            return False
        prefix = f"{shown}:"
        for kind in kinds:
            first = self._first.get((kind, "aws"), [])
            if len(first) < _PLATFORM_EVIDENCE_KEPT or not first[-1] < prefix:
                return False
        return True

    def adds_nothing(self) -> bool:
        """Whether merging this share changes nothing (most files' shares: no need to send them)."""
        return not (self.sources or self.platforms or self._pending_defaults) and self.facts == ProjectFacts()

    def merge(self, part: "_Collector") -> None:
        """Fold the next file's share in (files in the project's order): lists extend, the first
        value of a first-wins fact stays, the last `webhook.enable: false` wins, as when one
        collector read the files in turn."""
        self.sources += part.sources
        for evidence in part.platforms:
            self._keep(evidence)
        self._pending_defaults += part._pending_defaults
        mine, theirs = self.facts, part.facts
        for directory, decls in theirs.variables.items():
            mine.variables.setdefault(directory, {}).update(decls)
        mine.tfvars_set |= theirs.tfvars_set
        mine.imds_ipv6_jobs += theirs.imds_ipv6_jobs
        mine.webhook_disabled = theirs.webhook_disabled or mine.webhook_disabled
        mine.cni_policy_refs += theirs.cni_policy_refs
        mine.cni_policy_creators += theirs.cni_policy_creators
        mine.cni_policy_own += theirs.cni_policy_own
        for group, members in theirs.ingress_groups.items():
            mine.ingress_groups.setdefault(group, []).extend(members)
        mine.eniconfigs += theirs.eniconfigs
        mine.kubeadm_pod_subnet = mine.kubeadm_pod_subnet or theirs.kubeadm_pod_subnet
        for directory, version in theirs.kubeadm_versions.items():
            mine.kubeadm_versions.setdefault(directory, version)
        mine.lbc_version = mine.lbc_version or theirs.lbc_version
        mine.prefix_delegation = mine.prefix_delegation or theirs.prefix_delegation
        mine.prefix_delegation_all += theirs.prefix_delegation_all
        for name, where in theirs.irsa_service_accounts.items():
            mine.irsa_service_accounts.setdefault(name, where)
        for real, where in theirs.kustomize_patches.items():
            mine.kustomize_patches.setdefault(real, where)
        for directory, refs in theirs.eks_subnet_refs.items():
            mine.eks_subnet_refs.setdefault(directory, set()).update(refs)
        mine.clusters += theirs.clusters
        for directory, refs in theirs._refs.items():
            mine._refs.setdefault(directory, set()).update(refs)
        for directory, names in theirs._decls.items():
            mine._decls.setdefault(directory, set()).update(names)

    def add(self, family: str | None, kind: str, source: SourceFile, node: Node, what: str) -> None:
        if family in ("ipv4", "ipv6", "dual"):
            self.sources.append(ProfileSource(family, kind, _line_ref(source, node.start), source.abspath or "",
                                              node.start, node.end, what))

    # --- Terraform ------------------------------------------------------------------
    def hcl(self, doc: Document) -> None:
        source = doc.source
        path = source.abspath or source.path
        if path.endswith((".tfvars", ".tfvars.json")) and doc.root is not None:
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
                    _shared(name), _shared(type_node.value) if type_node is not None else None)
                if name in _FAMILY_VARS and default is not None:
                    flag = _truthy(default) if name == "enable_ipv6" else None
                    family = ("ipv6" if flag else "ipv4") if flag is not None else (default.text or "").lower()
                    if family in ("ipv4", "ipv6"):
                        self._pending_defaults.append((name, ProfileSource(
                            family, "variable-default", _line_ref(source, default.start), path, default.start,
                            default.end, f'variable "{name}" default')))
            if block.type in ("resource", "data") and block.labels and block.labels[0] in _TF_CLUSTERS:
                self.platform(_TF_CLUSTERS[block.labels[0]], "terraform", source, block.start,
                              f'{block.type} "{block.labels[0]}"')
            elif block.type == "module" and any(m in (block.body.str_at("source") or "") for m in _TF_EKS_MODULES):
                self.platform("aws", "terraform", source, block.start, f'module source "{block.body.str_at("source")}"')
            if ((block.type == "resource" and block.labels[:1] in (["aws_eks_cluster"], ["aws_eks_node_group"],
                                                                   ["aws_eks_fargate_profile"]))
                    or (block.type == "module"
                        and any(m in (block.body.str_at("source") or "") for m in _TF_EKS_MODULES))):
                self.facts.eks_subnet_refs.setdefault(directory, set()).update(
                    f"{module}.{kind}" for module, kind in _SUBNET_REF.findall(source.text[block.start:block.end]))
            if _defines_eks_cluster(block):
                family = _cluster_family(source.text[block.start:block.end])
                if family != "":
                    self.facts.clusters.append((f"terraform:{directory}", family, _line_ref(source, block.start)))
            if block.type in ("module", "resource", "kubernetes_network_config"):
                for attr in ("ip_family", "cluster_ip_family"):
                    value = block.body.get(attr)
                    if value is not None and value.tag != "hcl:expr" and value.text:
                        self.add(value.text.lower(), "terraform", source, value, f"{attr} = \"{value.text}\"")
            for key, value in block.body.entries():
                if key.value == "create_cni_ipv6_iam_policy" and _truthy(value):
                    self.facts.cni_policy_creators.append((path, key.start, value.end))
        self._policy_refs(doc, path)
        for block in doc.blocks:
            if block.type == "resource" and block.labels[:1] in (["kubernetes_service_account"],
                                                                 ["kubernetes_service_account_v1"]):
                text = source.text[block.start:block.end]
                name = re.search(r'\bname\s*=\s*"([a-z0-9.-]+)"', text)
                if name and IRSA_ANNOTATION in text:
                    self.facts.irsa_service_accounts.setdefault(name.group(1), _line_ref(source, block.start))

    def _policy_refs(self, doc: Document, path: str) -> None:
        text = doc.source.text
        created = []  # spans of aws_iam_policy resources that create the IPv6 CNI policy themselves
        # Policy documents granting the IPv6 action, referenced as data.aws_iam_policy_document.NAME.json
        granting = [f"data.aws_iam_policy_document.{b.labels[1]}." for b in doc.blocks
                    if b.type == "data" and b.labels[:1] == ["aws_iam_policy_document"] and len(b.labels) > 1
                    and "ec2:AssignIpv6Addresses" in text[b.start:b.end]]
        for block in doc.blocks:
            if block.type == "resource" and block.labels[:1] == ["aws_iam_policy"]:
                body = text[block.start:block.end]
                fixed = block.body.str_at("name") == CNI_IPV6_POLICY
                if fixed or "ec2:AssignIpv6Addresses" in body or any(ref in body for ref in granting):
                    created.append((block.start, block.end))
                    (self.facts.cni_policy_creators if fixed else self.facts.cni_policy_own).append(
                        (path, block.type_start, block.body.start))
        at = text.find(CNI_IPV6_POLICY)
        while at != -1:
            if not any(start <= at < end for start, end in created):
                self.facts.cni_policy_refs.append((doc.source.abspath or "", at, at + len(CNI_IPV6_POLICY)))
            at = text.find(CNI_IPV6_POLICY, at + 1)

    # --- Kubernetes-style YAML -------------------------------------------------------
    def yaml(self, doc: Document) -> None:
        root, source = doc.root, doc.source
        if root is None:
            return
        self._platform_of(doc)
        if doc.kind == "ClusterConfig" and (doc.api_version or "").startswith("eksctl.io/"):
            value = root.path("kubernetesNetworkConfig", "ipFamily")
            if value is not None and value.text:
                self.add(value.text.lower(), "eksctl", source, value, f"ipFamily: {value.text}")
            name = root.str_at("metadata", "name")
            family = (value.text or "").strip().lower() if value is not None else ""
            if name and family in ("", "ipv4", "ipv6"):
                self.facts.clusters.append((f"eksctl:{name}", family or None, _line_ref(source, doc.start)))
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
                for env in (envs.items() if (envs := container.get("env")) is not None else []):
                    flag = env.get("value")
                    if env.str_at("name") == "ENABLE_IPv6" and flag is not None and _truthy(flag):
                        self.add("ipv6", "aws-node", source, flag, "aws-node ENABLE_IPv6=true")
        if doc.kind == "ENIConfig":
            self.facts.eniconfigs += 1
        if doc.kind == "ServiceAccount" and doc.name and doc.annotations.get(IRSA_ANNOTATION) is not None:
            self.facts.irsa_service_accounts.setdefault(doc.name, _line_ref(source, doc.start))
        self._lbc_version(doc)
        group = doc.annotations.get("alb.ingress.kubernetes.io/group.name")
        if doc.kind == "Ingress" and group is not None and group.text:
            ip_type = doc.annotations.get("alb.ingress.kubernetes.io/ip-address-type")
            self.facts.ingress_groups.setdefault(group.text, []).append(
                (f"{doc.object_name} at {_line_ref(source, doc.start)}", (ip_type.text if ip_type else None) or "ipv4"))
        if "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE" in source.text and doc.kind in (
                "SparkApplication", "ScheduledSparkApplication"):
            # Only a job whose driver or executor env really sets the IPv6 endpoint mode (not a
            # commented-out line, not IPv4, not another document of the file).
            from v6lint.rules.views import spark_jobs, uses_ipv6_imds

            if any(uses_ipv6_imds(job) for job in spark_jobs(doc)):
                self.facts.imds_ipv6_jobs.append(_line_ref(source, doc.start))

    def _platform_of(self, doc: Document) -> None:
        """Evidence of where the cluster runs: what defines it, what runs only there, AWS-only annotations."""
        root, source, api = doc.root, doc.source, doc.api_version or ""
        if not doc.is_kubernetes or root is None or root.kind != MAP:
            return
        kind = doc.kind or ""
        if kind == "ClusterConfig" and api.startswith("eksctl.io/"):
            self.platform("aws", "eksctl", source, doc.start, "eksctl ClusterConfig")
        elif kind == "Cluster" and api.startswith("kind.x-k8s.io/"):
            self.platform("other", "kind", source, doc.start, "kind Cluster")
        elif api.startswith(("cluster.x-k8s.io/", "infrastructure.cluster.x-k8s.io/",
                             "controlplane.cluster.x-k8s.io/")) and kind != "KubeadmControlPlane":
            # Cluster API: the infrastructure provider's kinds say where (AWSCluster, AWSManagedControlPlane,
            # DockerCluster, VSphereCluster, Metal3Cluster...).
            infra = root.str_at("spec", "infrastructureRef", "kind") if kind == "Cluster" else kind
            if infra and infra.endswith(("Cluster", "ControlPlane")) and kind.endswith(("Cluster", "ControlPlane")):
                self.platform("aws" if infra.startswith("AWS") else "other", "cluster-api", source, doc.start,
                              f"Cluster API {infra}")
        elif kind in ("ClusterConfiguration", "KubeadmControlPlane"):
            infra = root.str_at("spec", "machineTemplate", "infrastructureRef", "kind")
            config = root if kind == "ClusterConfiguration" else \
                root.path("spec", "kubeadmConfigSpec", "clusterConfiguration")
            provider = _kubeadm_cloud_provider(config)
            if infra:
                self.platform("aws" if infra.startswith("AWS") else "other", "cluster-api", source, doc.start,
                              f"Cluster API {infra}")
            elif provider == "aws":
                self.platform("aws", "kubeadm", source, doc.start, "kubeadm with cloud-provider aws")
            elif provider is None:  # `external` may be any cloud's controller manager: no evidence
                self.platform("other", "kubeadm", source, doc.start, f"kubeadm {kind} without a cloud provider")
        elif kind == "DaemonSet" and doc.name == "aws-node":
            self.platform("aws", "aws-node", source, doc.start, "aws-node DaemonSet (Amazon VPC CNI)")
        elif api.startswith("karpenter.k8s.aws/"):
            self.platform("aws", "karpenter", source, doc.start, f"Karpenter {kind}")
        elif kind == "Deployment" and "aws-load-balancer-controller" in (doc.name or ""):
            self.platform("aws", "aws-load-balancer-controller", source, doc.start,
                          "AWS Load Balancer Controller Deployment")
        for key, value in doc.annotations.items():
            if key.startswith(_AWS_ANNOTATIONS):
                self.platform("aws", "aws-annotation", source, value.start, f"{doc.object_name} annotation {key}")
                break

    def _lbc_version(self, doc: Document) -> None:
        """The controller's version from its Deployment image or its chart values (image.tag)."""
        root = doc.root
        assert root is not None  # (yaml() reads only documents with a root)
        candidates: list[Node | None] = []
        if doc.kind == "Deployment" and "aws-load-balancer-controller" in (doc.name or ""):
            stack = [root.path("spec", "template", "spec", "containers")]
            candidates = [c.get("image") for c in (stack[0].items() if stack[0] is not None else [])]
        elif not doc.is_kubernetes and root.kind == MAP and root.get("clusterName") is not None and \
                "aws-load-balancer-controller" in (root.str_at("image", "repository") or ""):
            candidates = [root.path("image", "tag")]
        for node in candidates:
            match = re.search(r"v?(\d+\.\d+\.\d+)", (node.text or "").rsplit(":", 1)[-1]) if node is not None else None
            if match and node is not None and self.facts.lbc_version is None:
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


def not_checked_message(root: str, family_rules: int, platform_rules: int,
                        family_how: str = "`--ip-family ipv4|ipv6|dual`", platform_how: str = "`--platform aws|other`") -> str:
    """Section 5: what was not checked for want of a cluster profile, and how to give one (the
    command line's flags, or what the caller names instead: the editor's settings)."""
    if not family_rules and not platform_rules:
        return ""

    def rules(n: int) -> str:
        return f"{n} rule{'s' if n != 1 else ''}"

    wants = ([f"the cluster's IP family ({rules(family_rules)})"] if family_rules else []) + \
        ([f"its platform, aws or other ({rules(platform_rules)})"] if platform_rules else [])
    flags = ([family_how] if family_rules else []) + ([platform_how] if platform_rules else [])
    them = "them" if len(flags) > 1 else "it"
    return (f"Not checked in {root}: {rules(family_rules + platform_rules)}, because nothing in the project states "
            f"{' or '.join(wants)}. Give {them} with {' and '.join(flags)}, or write {them} to a "
            f"config with `v6lint init`.")


def _kubeadm_cloud_provider(config: Node | None) -> str | None:
    """The `cloud-provider` extra arg of the API server or controller manager ("" when it is unset):
    a map in kubeadm v1beta3, a list of name/value pairs in v1beta4."""
    found = ""
    for component in ("apiServer", "controllerManager"):
        args = config.path(component, "extraArgs") if config is not None else None
        if args is None:
            continue
        value = args.str_at("cloud-provider") if args.kind == MAP else next(
            (a.str_at("value") for a in args.items() if a.str_at("name") == "cloud-provider"), None)
        if value:
            found = value.strip().lower()
    return found or None


def _kustomize_patches(collector: _Collector, source: SourceFile, root: Node | None) -> None:
    """Record the files a kustomization lists as patches. Their paths are only compared, never opened."""
    if root is None or root.kind != MAP:
        return
    directory = os.path.dirname(source.abspath or "")
    where = f"{source.path}:{{}}"
    for key in ("patchesStrategicMerge", "patchesJson6902", "patches"):
        for item in (listed.items() if (listed := root.get(key)) is not None else []):
            node = item if item.kind != MAP else item.get("path")
            text = node.text if node is not None else None
            if node is None or not text or "\n" in text or ":" in text:  # an inline patch, not a file
                continue
            real = os.path.realpath(os.path.join(directory, text))
            collector.facts.kustomize_patches.setdefault(real, where.format(source.point(node.start)[0]))


def _is_tf(name: str) -> bool:
    """Whether a file's name has the suffix .tf (as Path.suffix says: `.tf` alone has none)."""
    return name.endswith(".tf") and len(name) > 3


def _worth_parsing(path: Path | str, text: str) -> bool:
    """Whether a file can hold a profile source or a cross-file fact, judged from its name and text."""
    name = os.path.basename(path)
    is_yaml = name.endswith(SUFFIXES["yaml"])
    if is_yaml and (name in KUSTOMIZATION_FILES or ("webhook" in text and "controller" in text)):
        return True  # kustomizations (their patches) and spark-operator Helm values
    return any(trigger in text for trigger in (_YAML_TRIGGERS if is_yaml else _HCL_TRIGGERS))


def evidence_only_kinds(path: Path | str, text: str) -> frozenset[str] | None:
    """The platform-evidence kinds of a YAML file (not a kustomization) whose every trigger gives
    nothing but evidence of one kind (_EVIDENCE_ONLY_TRIGGERS); None for any other file."""
    name = os.path.basename(path)
    if not name.endswith(SUFFIXES["yaml"]) or name in KUSTOMIZATION_FILES:
        return None
    if _EVIDENCE_ONLY_UNLESS in text or ("webhook" in text and "controller" in text):
        return None
    kinds = set()
    for trigger in _YAML_TRIGGERS:
        if trigger in text:
            kind = _EVIDENCE_ONLY_TRIGGERS.get(trigger)
            if kind is None:
                return None
            kinds.add(kind)
    return frozenset(kinds)


def affects_profile(path: Path | str, text: str) -> bool:
    """Whether editing this file can change its project's profile or facts: exactly what collect()
    reads, so the language server re-profiles on every fact the command line uses."""
    name = os.path.basename(path)
    if not name.endswith(PROFILE_SUFFIXES):
        return False
    return (_is_tf(name) or prefix_delegation_on(text) != -1 or name in KUSTOMIZATION_FILES
            or _worth_parsing(path, text))


FileFacts = _Collector  # one file's share of its project's facts (see _Collector)


def _never(_kinds: frozenset[str]) -> bool:
    return False


def file_facts(path: Path | str, real: str, text: str, encoding: str = "utf-8", bom: bytes = b"",
               skip: Callable[[frozenset[str]], bool] = _never, share: bool = False) -> tuple[FileFacts, ParsedYaml | None]:
    """What one file (its text as read, `real` its real path) contributes to its project's profile
    and facts, and its parse when it was parsed. Only a file holding a trigger is parsed;
    `skip(kinds)` says whether a YAML file with evidence of `kinds` only may be left unparsed
    (the collector's nothing_to_add). `share`: offer the parse to this process's lint pass
    (sources.SHARED), so the file is not parsed again there."""
    part = _Collector()
    name = os.path.basename(path)
    if _is_tf(name):
        part.facts.note_terraform_text(os.path.dirname(real), text)
    pd = prefix_delegation_on(text)
    if pd != -1:
        where = f"{display_path(path)}:{text.count(chr(10), 0, pd) + 1}"
        part.facts.prefix_delegation = where
        part.facts.prefix_delegation_all.append((os.path.dirname(real), where))
    if not _worth_parsing(path, text):
        return part, None
    kinds = evidence_only_kinds(path, text)
    if kinds is not None and skip(kinds):
        part.skipped = kinds
        return part, None
    source = SourceFile(display_path(path), text, encoding, bom, real)
    try:
        parsed = parse_source(source)
    except Exception:  # the lint pass reports what cannot be parsed
        return part, None
    kept = share and SHARED.offer(source, parsed)
    for doc in parsed.documents:
        if doc.language == "hcl":
            part.hcl(doc)
        elif doc.language == "yaml":
            part.yaml(doc)
            part.values_file(doc)
            if name in KUSTOMIZATION_FILES:
                _kustomize_patches(part, doc.source, doc.root)
    if not kept:
        release(parsed.documents)  # read: the lint pass parses the file again (see document.release)
    return part, parsed


class ParseMemo:
    """The language server's memo of one project's profile-source files, kept between re-profiles
    (a tfvars keystroke): each file's share of the facts (FileFacts), by its real path and content.
    A file whose stat signature is unchanged is not read again, one whose text is unchanged is not
    decoded, parsed or looked at again: only the changed file's facts are recomputed. `read`,
    `parsed` and `extracted` (files whose facts were computed) count the last collect's work."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], FileFacts] = {}  # (real path, content key) -> its facts
        self.stats: dict[str, tuple[tuple[int, ...], tuple[str, str]]] = {}  # real path -> (stat signature, key)
        self.read = 0
        self.parsed = 0
        self.extracted = 0

    def forget(self, real: str) -> None:
        """Drop what is known of a file (the editor said it changed on disk)."""
        self.stats.pop(real, None)


def _signature(real: str) -> tuple[int, ...] | None:
    """The editor memo's test for "unchanged on disk" (watched-file events also drop entries)."""
    try:
        return stat_signature(os.stat(real))
    except OSError:
        return None


def _share_of(path: Path | str, real_dirs: dict[str, str], held: _Collector, keep=()) -> FileFacts | None:
    """One file's share read from disk (None when it cannot be read or adds nothing); `held`: the
    evidence this process has seen of the project, for nothing_to_add. The parse of a file whose
    real path's hash is in `keep` (the lint pass reads it) is offered to this process's lint pass."""
    try:
        data = read_regular(path, MAX_PROFILE_FILE)[1]  # never blocks on a FIFO
        if data is None:
            return None
        text, encoding, bom = decode(data)
        real = real_path(path, real_dirs)
        part, _parsed = file_facts(path, real, text, encoding, bom,  # (shown only when asked: rarely)
                                   lambda kinds: held.nothing_to_add(display_path(path), kinds), hash(real) in keep)
    except (OSError, DecodeError):
        return None
    for evidence in part.platforms:
        held._note_first(evidence)
    return None if part.adds_nothing() else part


PARALLEL_MIN_FILES = 200  # as engine.PARALLEL_MIN_FILES: fewer are read faster by this process alone


def collect(files: Sequence[Path | str], overlay: dict[str, str] | None = None,
            memo: ParseMemo | None = None, jobs: int = 1, workers=None) -> _Collector:
    """Facts from `files`: each file's share (file_facts) folded in, in this order. `overlay` maps
    real paths to unsaved editor text that replaces the disk's. With `memo` (the language server's,
    per project), a file whose stat signature did not change is not read again and one whose
    content did not change keeps its share; the memo then holds this call's files only. `jobs`
    worker processes (0: all cores) read 200 files or more when there is no memo or overlay:
    the run's `workers` (workers.Workers, which then keep the parses for their lint pass), or
    workers of this scan alone. Each worker skips the evidence-only files its own earlier files
    make redundant (exact: see nothing_to_add); the shares are folded in file order, as one
    process would."""
    from v6lint.workers import Workers, fork_context

    collector = _Collector()
    if jobs == 0:
        jobs = min(os.cpu_count() or 1, 8)
    parallel = jobs > 1 and len(files) >= PARALLEL_MIN_FILES and memo is None and not overlay \
        and fork_context() is not None
    shares = None
    if parallel and workers is not None and not workers.closed:
        shares = workers.shares(files)
    elif parallel:
        own = Workers(jobs)
        try:
            shares = own.shares(files)
        finally:
            own.close()
    if shares is not None:
        for share in shares:
            if share is not None:
                collector.merge(share)
        collector.finish()
        return collector
    overlay = overlay or {}
    kept: dict[tuple[str, str], FileFacts] = {}
    stats: dict[str, tuple[tuple[int, ...], tuple[str, str]]] = {}
    if memo is not None:
        memo.read = memo.parsed = memo.extracted = 0
    real_dirs: dict[str, str] = {}
    for path in files:
        def skip(kinds: frozenset[str]) -> bool:  # (the path shown only when asked: rarely)
            return collector.nothing_to_add(display_path(path), kinds)

        def usable(part: FileFacts | None) -> FileFacts | None:
            """A kept share, unless its parse was skipped and now it may add something."""
            return None if part is None or (part.skipped is not None and not skip(part.skipped)) else part

        try:
            real = real_path(path, real_dirs)
            part = signature = None
            if memo is not None and real not in overlay:
                signature = _signature(real)
                seen = memo.stats.get(real)
                if seen is not None and seen[0] == signature:  # unchanged on disk (None never matches)
                    part = usable(memo.entries.get(seen[1]))
                    key = seen[1]
            if part is None:
                data = None
                if real not in overlay:
                    data = read_regular(path, MAX_PROFILE_FILE)[1]  # never blocks on a FIFO
                    if data is None:
                        continue
                if memo is not None:
                    if data is None:
                        key = (real, "text:" + hashlib.blake2b(overlay[real].encode("utf-8", "surrogatepass")).hexdigest())
                    else:
                        memo.read += 1
                        key = (real, "bytes:" + hashlib.blake2b(data).hexdigest())
                    part = usable(memo.entries.get(key))
                if part is None:
                    text, encoding, bom = (overlay[real], "utf-8", b"") if data is None else decode(data)
                    part, parsed = file_facts(path, real, text, encoding, bom, skip, memo is None and not overlay)
                    if memo is not None:
                        memo.extracted += 1
                        memo.parsed += parsed is not None
        except (OSError, DecodeError):
            continue
        if memo is not None:
            kept[key] = part
            if signature is not None:
                stats[real] = (signature, key)
        collector.merge(part)
    if memo is not None:
        memo.entries = kept
        memo.stats = stats
    collector.finish()
    return collector


def build_profile(root: Path, exclude: list[str], configured: Profile,
                  overlay: dict[str, str] | None = None, use_cache: bool = False,
                  memo: dict[str, ParseMemo] | None = None, jobs: int = 1, workers=None,
                  configs: dict[str, Path | None] | None = None, walk: Discovered | None = None) -> Profile:
    """The profile of the project at `root`: strongest source wins, the rest are kept for PRF001.
    With use_cache it is reused while no candidate file changed (path, size, mtime).
    Files of a project nested below `root` (a folder with its own .git or config) are not its.
    `walk`: what the run found (see _profile_files)."""
    root = root.resolve()
    files = _owned_files(root, _profile_files(root, exclude, walk), configs)
    key = None
    if use_cache and not overlay:
        from v6lint import cache

        def stats():
            witness = replay.WITNESS
            for path in files:
                name = str(path)
                if witness is not None:
                    witness.read(name)
                try:
                    st = os.stat(name)
                    yield name, st.st_size, st.st_mtime_ns
                except OSError:
                    yield name, -1, -1

        # (with the working folder: the sources' locations are shown relative to it)
        key = cache.fingerprint_of(stats(), configured, exclude, os.getcwd())
        cached = cache.load_profile(root, key)
        if isinstance(cached, Profile):
            return cached
    profile = _build(root, files, configured, overlay, memo.setdefault(str(root), ParseMemo()) if memo is not None else None,
                     jobs, workers)
    if key is not None:
        from v6lint import cache

        cache.save_profile(root, key, profile)
    return profile


def _profile_files(root: Path, exclude: list[str], walk: Discovered | None) -> Iterator[tuple[str, str]]:
    """(folder, name) of each file below `root` that may hold profile evidence, as a walk of `root`
    (a resolved folder) judged by `exclude` finds them. When the run walked that very folder (`walk`:
    given as `root` or relative to the working folder, which is no symlink) and judged its files by
    the same excludes from the same folder, they are the run's files with these suffixes, named from
    `root`: a second walk would list the same folders again (with a config nested below `root`, the
    run judges that project's files by its own excludes: they are not `root`'s, see _owned_files)."""
    if walk is not None and walk.walked is not None:
        given, judge = walk.walked
        mine = Judge.of(exclude, root)
        if os.path.abspath(given) == str(root) and [g.text for g in judge.exclude] == [g.text for g in mine.exclude] \
                and (judge.base == mine.base or not mine.exclude):  # (no exclude: no matter whose folder)
            if replay.WITNESS is not None:
                replay.WITNESS.looked_for(str(root))
            walked, named = str(Path(given) / "_")[:-1], str(root / "_")[:-1]  # (each folder's part of its files' paths)
            return ((named + folder[len(walked):], name) for folder, name in walk.files.entries()
                    if name.endswith(PROFILE_SUFFIXES))
    return discover([str(root)], exclude, root, PROFILE_SUFFIXES, templates=False).files.entries()


def _owned_files(root: Path, found: Iterable[tuple[str, str]], configs: dict[str, Path | None] | None) -> Files:
    """The files of `found` ((folder, name) of each, below `root`) that no project nested below
    `root` owns (see _owned_by), each folder asked once."""
    owned: dict[str, bool] = {}  # folder -> its answer, and for the folders between it and root

    def mine() -> Iterator[tuple[str, str]]:
        folder, answer = None, True
        for entry in found:
            if entry[0] != folder:
                folder, answer = entry[0], _owned_by(root, "".join(entry), owned, configs)
            if answer:
                yield entry

    return Files(mine())


def nested_projects(root: Path, exclude: list[str], judges=None) -> list[Path]:
    """Project roots below `root` (folders with their own .git or config) that hold files v6lint reads:
    their files are judged by their own profiles, never by `root`'s. `judges`: see discovery.discover."""
    root = root.resolve()
    found: set[Path] = set()
    marked: dict[Path, bool] = {}
    for path in discover([str(root)], exclude, root, judges=judges).files:
        owner = marked_root(Path(path), marked)
        if owner is not None and owner != root and root in owner.parents:
            found.add(owner)
    return sorted(found)


def _owned_by(root: Path, path: Path | str, owned: dict[str, bool], configs: dict[str, Path | None] | None = None) -> bool:
    """Whether no folder between `path` and `root` (root excluded) starts a project of its own.
    `owned` (folder -> that answer for the files in it) is shared by the calls of one build: each
    folder is looked at once."""
    top = str(root)
    inside = top.rstrip(os.sep) + os.sep
    folder = os.path.dirname(os.path.abspath(path))
    chain = []
    answer = True
    while folder != top and folder.startswith(inside):
        known = owned.get(folder)
        if known is not None:
            answer = known
            break
        chain.append(folder)
        if _is_marked(folder, configs):
            answer = False
            break
        folder = os.path.dirname(folder)
    for below in chain:
        owned[below] = answer
    return answer


def _choose_platform(collected: list[PlatformSource], configured: Profile) -> tuple[tuple[PlatformSource, ...],
                                                                                     str | None, str | None]:
    """(evidence kept, platform, its source). The strongest evidence decides; evidence of equal
    strength that disagrees leaves the platform unknown rather than guess."""
    ranked = sorted(collected, key=lambda s: (-PLATFORM_STRENGTH[s.kind], s.location))
    kept: list[PlatformSource] = []
    count: dict[tuple[str, str], int] = {}
    for item in ranked:
        key = (item.kind, item.platform)
        count[key] = count.get(key, 0) + 1
        if count[key] <= _PLATFORM_EVIDENCE_KEPT:
            kept.append(item)
    if configured.platform:
        return tuple(kept), configured.platform, configured.platform_source
    if not kept:
        return (), None, None
    top = PLATFORM_STRENGTH[kept[0].kind]
    if len({s.platform for s in kept if PLATFORM_STRENGTH[s.kind] == top}) > 1:
        return tuple(kept), None, None
    return tuple(kept), kept[0].platform, kept[0].location


def _build(root: Path, files: Sequence[Path | str], configured: Profile, overlay: dict[str, str] | None,
           memo: ParseMemo | None = None, jobs: int = 1, workers=None) -> Profile:
    collector = collect(files, overlay, memo, jobs, workers)
    sources = list(collector.sources)
    if configured.ip_family and configured.source and configured.source != "--ip-family":
        sources.append(ProfileSource(configured.ip_family, "config", configured.source, "", 0, 0,
                                     f"cluster.ip-family = \"{configured.ip_family}\""))
    sources.sort(key=lambda s: (-STRENGTH[s.kind], s.location))
    if configured.source == "--ip-family":
        chosen_family, chosen_source = configured.ip_family, "--ip-family"
    elif sources and (sources[0].kind == "config"
                      or not clusters_of_other_families(collector.facts, sources[0].ip_family)):
        chosen_family, chosen_source = sources[0].ip_family, sources[0].location
    else:
        chosen_family, chosen_source = None, None
    evidence, platform, platform_source = _choose_platform(collector.platforms, configured)
    return Profile(chosen_family, chosen_source, tuple(sources), collector.facts, str(root),
                   platform=platform, platform_source=platform_source, platform_sources=evidence)


@dataclass
class Project:
    """One project of a run: its root, and the settings (with its profile) its files are judged by."""

    root: Path
    settings: Settings

    @property
    def profile(self) -> Profile:
        return self.settings.profile


class Projects:
    """Project root -> Project, for one run (CLI) or one editor session (language server).

    A file belongs to the nearest folder upward holding .git or a v6lint config; a file with none
    above it belongs to `fallback` (the common folder of the paths given). `settings_for(root)`
    returns fresh settings for a root (its config, with command-line overrides applied); the
    profile is built here, from that root's files only, unless `given` holds it (root -> Profile:
    a worker process judging files by the profiles its parent built; see workers.Workers)."""

    def __init__(self, settings_for: Callable[[Path], Settings], fallback: Path, *,
                 overlay: dict[str, str] | None = None, use_cache: bool = False, memo: dict | None = None,
                 jobs: int = 1, workers=None, given: dict[Path, Profile] | None = None,
                 configs: dict[str, Path | None] | None = None, walk: Discovered | None = None):
        self._settings_for = settings_for
        self.memo = memo  # the language server's parse memo (see collect)
        self.fallback = fallback.resolve()
        self.overlay = overlay
        self.use_cache = use_cache
        self.jobs = jobs  # worker processes reading the profile sources (see collect)
        self.workers = workers  # the run's worker processes (workers.Workers), or None
        self.given = given
        self.configs = configs  # folder -> its v6lint config, for this run (see config.config_in)
        self.walk = walk  # what the run found (see _profile_files)
        self._roots: dict[str, Path] = {}  # directory -> project root
        self._marked: dict[str, Path | None] = {}  # real folder -> its marked_root
        self._reals: dict[str, str] = {}  # folder -> its real path (see discovery.real_folder)
        self.by_root: dict[Path, Project] = {}
        if given is None:
            SHARED.clear()  # a new run (or fix round): parses an earlier one kept are not for it

    def root_of(self, path: Path | str, is_file: bool = False) -> Path:
        """The project root of `path` (`is_file`: the caller knows it is a file, not a folder)."""
        absolute = os.path.abspath(path)
        directory = os.path.dirname(absolute) if is_file or not os.path.isdir(absolute) else absolute
        found = self._roots.get(directory)
        if found is None:
            found = self._roots[directory] = self._marked_above(real_folder(directory, self._reals)) or self.fallback
        return found

    def _marked_above(self, real: str) -> Path | None:
        """marked_root of a real folder, each folder looked at once per run."""
        chain = []
        at = real
        while at not in self._marked:
            chain.append(at)
            if _is_marked(at, self.configs):
                self._marked[at] = Path(at)
                chain.pop()
                break
            parent = os.path.dirname(at)
            if parent == at:
                self._marked[at] = None
                chain.pop()
                break
            at = parent
        found = self._marked[at]
        for below in chain:
            self._marked[below] = found
        return found

    def of(self, path: Path | str, is_file: bool = False) -> Project:
        return self.at(self.root_of(path, is_file))

    def at(self, root: Path) -> Project:
        project = self.by_root.get(root)  # a resolved root: no need to resolve it again
        if project is not None:
            return project
        root = root.resolve()
        project = self.by_root.get(root)
        if project is None:
            settings = self._settings_for(root)
            given = self.given.get(root) if self.given is not None else None
            settings.profile = given if given is not None else build_profile(
                root, settings.exclude, settings.profile, self.overlay, self.use_cache, self.memo, self.jobs,
                self.workers, self.configs, self.walk)
            project = self.by_root[root] = Project(root, settings)
        return project
