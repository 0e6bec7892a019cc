"""CNI: Amazon VPC CNI settings (aws-node DaemonSet env, aws-vpc-cni Helm values, EKS add-on
configuration values in eksctl and Terraform, ENIConfig, the amazon-vpc-cni ConfigMap).

Facts: aws/amazon-vpc-cni-k8s (README "CNI Configuration Variables", config/master/aws-k8s-cni.yaml,
charts/aws-vpc-cni/values.yaml; ipamd: "VPC CNI currently does not support dual stack mode", IPv6
needs prefix delegation and ignores warm targets, custom networking is rejected in IPv6 mode).
Booleans are read with Go's strconv.ParseBool.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.document import MAP, SEQ, Document, Node, per_document, walk
from v6lint.hcl_source import EXPR, walk_blocks
from v6lint.rule import Profile, rule
from v6lint.rules.eks import is_ipv6
from v6lint.rules.k8s import containers, env_items
from v6lint.yaml_edit import delete_entry, delete_item, insert_entries, replace_scalar

KNOWN_ENV = (
    "ADDITIONAL_ENI_TAGS", "ANNOTATE_POD_IP", "AWS_MANAGE_ENIS_NON_SCHEDULABLE", "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_ENI_MTU", "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
    "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS", "AWS_VPC_K8S_CNI_EXTERNALSNAT", "AWS_VPC_K8S_CNI_LOGLEVEL",
    "AWS_VPC_K8S_CNI_LOG_FILE", "AWS_VPC_K8S_CNI_RANDOMIZESNAT", "AWS_VPC_K8S_CNI_VETHPREFIX",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE", "AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "CLUSTER_ENDPOINT", "CLUSTER_NAME",
    "DISABLE_INTROSPECTION", "DISABLE_LEAKED_ENI_CLEANUP", "DISABLE_METRICS", "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "DISABLE_POD_V6", "DISABLE_TCP_EARLY_DEMUX", "ENABLE_BANDWIDTH_PLUGIN", "ENABLE_IMDS_ONLY_MODE", "ENABLE_IPv4",
    "ENABLE_IPv6", "ENABLE_MULTI_NIC", "ENABLE_NFTABLES", "ENABLE_POD_ENI", "ENABLE_PREFIX_DELEGATION",
    "ENABLE_SUBNET_DISCOVERY", "ENABLE_V4_EGRESS", "ENABLE_V6_EGRESS", "ENI_CONFIG_ANNOTATION_DEF",
    "ENI_CONFIG_LABEL_DEF", "INTROSPECTION_BIND_ADDRESS", "IP_COOLDOWN_PERIOD", "MAX_ENI", "MINIMUM_IP_TARGET",
    "MY_NODE_NAME", "MY_POD_NAME", "NETWORK_POLICY_ENFORCING_MODE", "POD_SECURITY_GROUP_ENFORCING_MODE",
    "VPC_CNI_VERSION", "WARM_ENI_TARGET", "WARM_IP_TARGET", "WARM_PREFIX_TARGET",
)
BOOL_ENV = (
    "ANNOTATE_POD_IP", "AWS_MANAGE_ENIS_NON_SCHEDULABLE", "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "AWS_VPC_K8S_CNI_EXTERNALSNAT",
    "DISABLE_INTROSPECTION", "DISABLE_LEAKED_ENI_CLEANUP", "DISABLE_METRICS", "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "DISABLE_POD_V6", "DISABLE_TCP_EARLY_DEMUX", "ENABLE_BANDWIDTH_PLUGIN", "ENABLE_IMDS_ONLY_MODE", "ENABLE_IPv4",
    "ENABLE_IPv6", "ENABLE_MULTI_NIC", "ENABLE_NFTABLES", "ENABLE_POD_ENI", "ENABLE_PREFIX_DELEGATION",
    "ENABLE_SUBNET_DISCOVERY", "ENABLE_V4_EGRESS", "ENABLE_V6_EGRESS",
)
_TRUE, _FALSE = ("1", "t", "T", "TRUE", "true", "True"), ("0", "f", "F", "FALSE", "false", "False")
_LOOSE = {"yes": "true", "y": "true", "on": "true", "enabled": "true", "enable": "true",
          "no": "false", "n": "false", "off": "false", "disabled": "false", "disable": "false"}
WARM = ("WARM_ENI_TARGET", "WARM_IP_TARGET", "WARM_PREFIX_TARGET", "MINIMUM_IP_TARGET")
CNI_README = "https://github.com/aws/amazon-vpc-cni-k8s#cni-configuration-variables"
# The one place for the VPC CNI's minimum versions: its README (aws/amazon-vpc-cni-k8s@b52188387f2e,
# "ENABLE_IPv6 (v1.10.0+)", "ENABLE_PREFIX_DELEGATION (v1.9.0+)"); eksctl's minimumVPCCNIVersionForIPv6
# (pkg/apis/eksctl.io/v1alpha5/addon.go) agrees on 1.10.0.
MIN_IPV6, MIN_PREFIX_DELEGATION = (1, 10, 0), (1, 9, 0)
EKS_IPV6 = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"
CUSTOM_NET = "https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html"


@dataclass
class EnvVar:
    name: str
    value: str | None
    name_node: Node
    value_node: Node | None
    entry: Node | None = None  # the `- name:/value:` item (DaemonSet) or None (maps)


@dataclass
class CniSettings:
    """The VPC CNI env, wherever it is written. Edits are offered where the file form allows."""

    doc: Document
    label: str
    anchor: tuple[int, int]
    env: dict[str, EnvVar] = field(default_factory=dict)
    init_env: dict[str, EnvVar] | None = None
    image: Node | None = None  # aws-node image (version checks)
    version: Node | None = None  # add-on version
    add: Callable[[str, str], list[Edit] | None] = lambda name, value: None
    remove: Callable[[EnvVar], Edit | None] = lambda var: None
    add_init: Callable[[str, str], list[Edit] | None] = lambda name, value: None

    def value(self, name: str) -> str | None:
        var = self.env.get(name)
        return var.value if var else None

    def flag(self, name: str) -> bool | None:
        value = self.value(name)
        return True if value in _TRUE else False if value in _FALSE else None


def _list_env(items: list[Node]) -> dict[str, EnvVar]:
    out = {}
    for item in items:
        name = item.get("name")
        if name is not None and name.text:
            value = item.get("value")
            out[name.text] = EnvVar(name.text, value.text if value is not None else None, name, value, item)
    return out


def _map_env(mapping: Node | None) -> dict[str, EnvVar]:
    out = {}
    for key, value in mapping.entries() if mapping is not None and mapping.kind == MAP else []:
        if key.text:
            out[key.text] = EnvVar(key.text, value.text if value.kind == "scalar" and value.tag != EXPR else None,
                                   key, value)
    return out


def _daemonset(doc: Document) -> CniSettings | None:
    if doc.kind != "DaemonSet" or doc.name != "aws-node":
        return None
    main = next((c for c in containers(doc.root) if c.str_at("name") == "aws-node"), None)
    if main is None:
        return None
    init = next((c for c in containers(doc.root) if c.str_at("name") == "aws-vpc-cni-init"), None)
    name_node = doc.root.path("metadata", "name")
    settings = CniSettings(doc, f"{doc.object_name}", (name_node.start, name_node.end), _list_env(env_items(main)),
                           _list_env(env_items(init)) if init is not None else None, image=main.get("image"))

    def adder(container: Node) -> Callable[[str, str], list[Edit] | None]:
        def add(name: str, value: str):
            from v6lint.rules.spk import add_env
            return add_env(doc, container, name, value)
        return add

    settings.add = adder(main)
    if init is not None:
        settings.add_init = adder(init)

    def remove(var: EnvVar) -> Edit | None:
        env = main.get("env")
        items = env.items() if env is not None else []
        return delete_item(doc.source, env, items.index(var.entry)) if var.entry in items and len(items) > 1 else None

    settings.remove = remove
    return settings


def _helm_values(doc: Document) -> CniSettings | None:
    root = doc.root
    if doc.is_kubernetes or root is None or root.kind != MAP:
        return None
    env = root.get("env")
    if env is None or env.kind != MAP or not any(k.text and k.text.startswith(("AWS_VPC_", "ENABLE_", "WARM_"))
                                                 for k, _v in env.entries()):
        return None
    key = root.entry("env")[0]
    init = root.path("init", "env")
    settings = CniSettings(doc, "aws-vpc-cni values", (key.start, key.end), _map_env(env),
                           _map_env(init) if init is not None else None, image=root.path("image", "tag"))
    settings.add = lambda name, value: [insert_entries(doc.source, env, [(name, value)], root)]
    if init is not None and init.kind == MAP and init.entries():
        settings.add_init = lambda name, value: [insert_entries(doc.source, init, [(name, value)], root)]
    settings.remove = lambda var: delete_entry(doc.source, env, var.name) if len(env.entries()) > 1 else None
    return settings


def _json_env(node: Node) -> dict[str, EnvVar]:
    try:
        env = json.loads(node.text or "").get("env", {})
    except (ValueError, AttributeError):
        return {}
    return {k: EnvVar(k, str(v).lower() if isinstance(v, bool) else str(v), node, node) for k, v in env.items()}


def _eksctl(doc: Document) -> list[CniSettings]:
    if doc.kind != "ClusterConfig" or doc.root is None:
        return []
    out = []
    addons = doc.root.get("addons")
    for addon in addons.items() if addons is not None and addons.kind == SEQ else []:
        if addon.str_at("name") != "vpc-cni":
            continue
        values = addon.get("configurationValues")
        settings = CniSettings(doc, "eksctl vpc-cni add-on", (addon.start, addon.start), version=addon.get("version"))
        if values is not None and values.text:
            settings.env = _json_env(values)  # JSON inside a YAML string: reported at the string, no edits
            settings.anchor = (values.start, values.end)
        out.append(settings)
    return out


def _terraform(doc: Document) -> list[CniSettings]:
    out = []
    for block in walk_blocks(doc.blocks):
        body = block.body
        candidates = []
        if block.type == "resource" and block.labels[:1] == ["aws_eks_addon"] and body.str_at("addon_name") == "vpc-cni":
            candidates.append(body)
        addons = body.get("cluster_addons") or body.get("addons")
        if addons is not None and addons.kind == MAP:
            candidates.extend(v for k, v in addons.entries() if k.text == "vpc-cni" and v.kind == MAP)
        for addon in candidates:
            config = addon.get("configuration_values")
            env = config.get("env") if config is not None and config.kind == MAP else None  # jsonencode({...})
            settings = CniSettings(doc, "Terraform vpc-cni add-on", (addon.start, addon.start), _map_env(env),
                                   version=addon.get("addon_version"))
            if config is not None and config.kind == "scalar" and config.tag != EXPR:
                settings.env = _json_env(config)  # a JSON string: reported at the string, no edits
            if config is not None:
                settings.anchor = (config.start, config.end)
            out.append(settings)
    return out


@per_document
def cni_settings(doc: Document) -> list[CniSettings]:
    if doc.language == "hcl":
        return _terraform(doc)
    found = _daemonset(doc) or _helm_values(doc)
    return [found] if found else _eksctl(doc)


def _editable(var: EnvVar) -> bool:
    """A value we can rewrite in place (not JSON inside an eksctl string, not a computed expression)."""
    return var.value_node is not None and var.value_node is not var.name_node and var.value_node.tag != EXPR


def _set(settings: CniSettings, name: str, value: str) -> list[Edit] | None:
    var = settings.env.get(name)
    if var is not None:
        return [replace_scalar(var.value_node, value)] if _editable(var) else None
    return settings.add(name, value)


def _at(settings: CniSettings, name: str) -> tuple[int, int]:
    var = settings.env.get(name)
    node = (var.value_node or var.name_node) if var is not None else None
    return (node.start, node.end) if node is not None else settings.anchor


@rule("CNI001", "cni-dual-family", "error",
      fix="safe", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def cni_dual_family(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`ENABLE_IPv6=true` with `ENABLE_IPv4=true`.

    Why:
        The VPC CNI runs pods in one family; ipamd refuses to start with both ("VPC CNI currently does not
        support dual stack mode"). IPv6 mode needs ENABLE_IPv4=false.

    Example:
        - name: ENABLE_IPv6
          value: "true"
        - name: ENABLE_IPv4
          value: "false"

    Fix:
        `ENABLE_IPv4="false"`
    """
    for s in cni_settings(doc):
        if s.flag("ENABLE_IPv6") and s.flag("ENABLE_IPv4"):
            yield Finding(*_at(s, "ENABLE_IPv4"),
                          f"{s.label}: ENABLE_IPv6 and ENABLE_IPv4 are both true; ipamd refuses to start (\"VPC CNI "
                          f"currently does not support dual stack mode\")",
                          Fix.safe("Set ENABLE_IPv4 to \"false\"", _set(s, "ENABLE_IPv4", "false")))


@rule("CNI002", "ipv6-without-prefix-delegation", "error",
      fix="safe", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def ipv6_without_prefix_delegation(doc: Document, profile: Profile) -> Iterator[Finding]:
    """IPv6 mode without `ENABLE_PREFIX_DELEGATION=true`.

    Why:
        In IPv6 mode the CNI assigns each node an IPv6 /80 prefix; it requires prefix delegation.

    Example:
        - name: ENABLE_PREFIX_DELEGATION
          value: "true"

    Fix:
        add or set it
    """
    for s in cni_settings(doc):
        if s.flag("ENABLE_IPv6") and not s.flag("ENABLE_PREFIX_DELEGATION"):
            yield Finding(*_at(s, "ENABLE_PREFIX_DELEGATION" if "ENABLE_PREFIX_DELEGATION" in s.env else "ENABLE_IPv6"),
                          f"{s.label}: IPv6 mode needs ENABLE_PREFIX_DELEGATION=true (each node gets an IPv6 /80 "
                          f"prefix); without it ipamd fails to initialise",
                          Fix.safe("Set ENABLE_PREFIX_DELEGATION to \"true\"",
                               _set(s, "ENABLE_PREFIX_DELEGATION", "true")))


@rule("CNI003", "custom-networking-with-ipv6", "error",
      fix="unsafe", languages=("yaml", "hcl"), profiles=("ipv6",), platforms=("aws",),
      references=(CUSTOM_NET, EKS_IPV6))
def custom_networking_with_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true`, or ENIConfig objects, on an IPv6 cluster.

    Why:
        ipamd rejects custom networking in IPv6 mode; and IPv6 removes its usual reason (IPv4 exhaustion).

    Example:
        - name: AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG
          value: "false"

    Fix:
        set it false (ENIConfigs: none)
    """
    if doc.kind == "ENIConfig":
        name = doc.root.path("metadata", "name") or doc.root
        yield Finding(name.start, name.end, f"{doc.object_name}: custom networking (ENIConfig) on an IPv6 cluster; "
                                            f"ipamd rejects it in IPv6 mode, and IPv6 removes its reason (IPv4 "
                                            f"exhaustion)")
        return
    for s in cni_settings(doc):
        if s.flag("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"):
            yield Finding(*_at(s, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"),
                          f"{s.label}: custom networking on an IPv6 cluster; ipamd rejects it in IPv6 mode",
                          Fix.unsafe("Set AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG to \"false\"",
                               _set(s, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "false")))


@rule("CNI004", "ipv6-env-not-on-init", "error",
      fix="safe", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def ipv6_env_not_on_init(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`ENABLE_IPv6` differs between aws-node and the aws-vpc-cni-init container.

    Why:
        The init container sets the node's IPv6 sysctls only when it sees ENABLE_IPv6=true; a mismatch leaves
        nodes without IPv6 forwarding.

    Example:
        initContainers:
          - name: aws-vpc-cni-init
            env: [{name: ENABLE_IPv6, value: "true"}]

    Fix:
        copy aws-node's value
    """
    for s in cni_settings(doc):
        if s.init_env is None:
            continue
        main, init = s.value("ENABLE_IPv6"), (s.init_env.get("ENABLE_IPv6").value if "ENABLE_IPv6" in s.init_env else None)
        if (main or "false").lower() == (init or "false").lower():
            continue
        var = s.init_env.get("ENABLE_IPv6")
        edits = [replace_scalar(var.value_node, main or "false")] if var is not None and _editable(var) \
            else s.add_init("ENABLE_IPv6", main or "false")
        where = (var.value_node.start, var.value_node.end) if var is not None and var.value_node is not None else _at(s, "ENABLE_IPv6")
        yield Finding(*where, f"{s.label}: ENABLE_IPv6 is {main or 'unset'} for aws-node but {init or 'unset'} for the "
                              f"aws-vpc-cni-init container, which sets up the node's IPv6 sysctls",
                      Fix.safe("Copy aws-node's ENABLE_IPv6 to the init container", edits))


def _fold(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", name.upper())


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 2 or len(a) < 8:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 2


@rule("CNI005", "misspelled-cni-env", "error",
      fix="safe", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def misspelled_cni_env(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An env name the VPC CNI does not read but that is close to one it does.

    Why:
        The CNI reads env names exactly (`ENABLE_IPv6`, not `ENABLE_IPV6`); a near miss silently leaves the
        default.

    Example:
        ENABLE_IPV6: "true"   # bad: ENABLE_IPv6

    Fix:
        rename (same value, same place)
    """
    for s in cni_settings(doc):
        for name, var in s.env.items():
            if name in KNOWN_ENV:
                continue
            # A name that differs only in case or underscores is that setting; else the near misses.
            matches = [k for k in KNOWN_ENV if _fold(k) == _fold(name)] or \
                [k for k in KNOWN_ENV if _close(_fold(name), _fold(k))]
            if not matches:
                continue
            fix = Fix.safe(f"Rename to {matches[0]}", replace_scalar(var.name_node, matches[0])) \
                if len(matches) == 1 and _editable(var) else None
            yield Finding(var.name_node.start, var.name_node.end,
                          f"{s.label}: the VPC CNI does not read `{name}`; did you mean `{matches[0]}`? (env names "
                          f"are case-sensitive: the setting silently has no effect)", fix)


@rule("CNI006", "invalid-cni-bool", "error",
      fix="safe", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def invalid_cni_bool(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A boolean CNI env whose value Go's ParseBool rejects (`yes`, `enabled`).

    Why:
        Values other than 1/t/T/TRUE/true/True/0/f/F/FALSE/false/False are silently the default.

    Example:
        ENABLE_PREFIX_DELEGATION: "yes"   # bad: "true"

    Fix:
        `"true"`/`"false"`
    """
    for s in cni_settings(doc):
        for name in BOOL_ENV:
            var = s.env.get(name)
            if var is None or var.value is None or var.value in _TRUE + _FALSE:
                continue
            fixed = _LOOSE.get(var.value.strip().lower())
            yield Finding(*_at(s, name),
                          f"{s.label}: {name}={var.value!r} is not a boolean Go's ParseBool accepts; the CNI silently "
                          f"uses the default",
                          Fix.safe(f'Use "{fixed}"', replace_scalar(var.value_node, fixed))
                          if fixed and _editable(var) else None)


@rule("CNI007", "ignored-warm-targets-ipv6", "warning",
      fix="safe", languages=("yaml", "hcl"), profiles=("ipv6",), platforms=("aws",),
      references=(CNI_README, EKS_IPV6))
def ignored_warm_targets_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`WARM_*_TARGET`, `MINIMUM_IP_TARGET` or `AWS_VPC_K8S_CNI_EXTERNALSNAT=true` in IPv6 mode.

    Why:
        In IPv6 mode each node gets one /80 prefix and pods are not SNATed: these settings are ignored and
        mislead readers.

    Example:
        (remove WARM_ENI_TARGET)

    Fix:
        remove
    """
    for s in cni_settings(doc):
        if s.flag("ENABLE_IPv6") is False:
            continue
        for name in WARM + ("AWS_VPC_K8S_CNI_EXTERNALSNAT",):
            var = s.env.get(name)
            if var is None or (name == "AWS_VPC_K8S_CNI_EXTERNALSNAT" and not s.flag(name)):
                continue
            yield Finding(*_at(s, name), f"{s.label}: {name} has no effect in IPv6 mode (each node gets one /80 prefix; "
                                         f"pods are not SNATed)",
                          Fix.safe(f"Remove {name}", s.remove(var)))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@rule("CNI008", "warm-target-conflict", "warning",
      fix="none", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def warm_target_conflict(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Warm targets that override or miss each other (IP targets with WARM_PREFIX_TARGET, MINIMUM_IP_TARGET
    alone, prefix delegation with a zero target).

    Why:
        WARM_IP_TARGET/MINIMUM_IP_TARGET take precedence over WARM_PREFIX_TARGET; MINIMUM_IP_TARGET is meant
        to pair with WARM_IP_TARGET; zero warm prefixes make pod starts wait.

    Example:
        WARM_PREFIX_TARGET: "1"
    """
    for s in cni_settings(doc):
        ip, minimum, prefix = (_int(s.value(n)) for n in ("WARM_IP_TARGET", "MINIMUM_IP_TARGET", "WARM_PREFIX_TARGET"))
        if prefix is not None and (ip is not None or minimum is not None):
            yield Finding(*_at(s, "WARM_PREFIX_TARGET"),
                          f"{s.label}: WARM_IP_TARGET/MINIMUM_IP_TARGET are set, so WARM_PREFIX_TARGET is ignored")
        if minimum is not None and ip is None:
            yield Finding(*_at(s, "MINIMUM_IP_TARGET"),
                          f"{s.label}: MINIMUM_IP_TARGET without WARM_IP_TARGET; set both (the CNI pairs them)")
        if s.flag("ENABLE_PREFIX_DELEGATION") and (prefix == 0 and not ip and not minimum):
            yield Finding(*_at(s, "WARM_PREFIX_TARGET"),
                          f"{s.label}: prefix delegation with a zero warm target keeps no spare prefix; pod starts "
                          f"wait for an allocation")


_IMAGE_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def _cni_version(s: CniSettings) -> tuple[Node, tuple[int, int, int]] | None:
    for node in (s.version, s.image):
        text = node.text if node is not None else None
        match = _IMAGE_VERSION.search(text.rsplit(":", 1)[-1]) if text else None
        if match:
            return node, tuple(int(g) for g in match.groups())
    return None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


@rule("CNI009", "cni-version-too-old", "error",
      fix="none", languages=("yaml", "hcl"), platforms=("aws",), references=(CNI_README, EKS_IPV6))
def cni_version_too_old(doc: Document, profile: Profile) -> Iterator[Finding]:
    """aws-node image or vpc-cni add-on (DaemonSet, Helm values, eksctl, Terraform) older than 1.10.0 with IPv6,
    or than 1.9.0 with prefix delegation.

    Why:
        The VPC CNI README marks ENABLE_IPv6 as v1.10.0+ and ENABLE_PREFIX_DELEGATION as v1.9.0+; eksctl's
        minimumVPCCNIVersionForIPv6 is 1.10.0 too ("vpc-cni version must be at least version 1.10.0 for
        IPv6"). This is the one rule for the CNI version, also in eksctl configs.

    Example:
        image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0
    """
    for s in cni_settings(doc):
        found = _cni_version(s)
        if found is None:
            continue
        node, version = found
        shown = ".".join(map(str, version))
        if (s.flag("ENABLE_IPv6") or is_ipv6(doc, profile)) and version < MIN_IPV6:
            yield Finding(node.start, node.end, f"{s.label}: VPC CNI {shown} predates {_dotted(MIN_IPV6)}, the first "
                                                f"release with IPv6 support")
        elif s.flag("ENABLE_PREFIX_DELEGATION") and version < MIN_PREFIX_DELEGATION:
            yield Finding(node.start, node.end, f"{s.label}: VPC CNI {shown} predates {_dotted(MIN_PREFIX_DELEGATION)}, "
                                                f"which added prefix delegation")


def _placeholder(text: str | None) -> bool:
    return bool(text) and ("${" in text or text.startswith("$") or "{{" in text)


@rule("CNI010", "eniconfig-invalid", "error",
      fix="safe", kinds=("crd.k8s.amazonaws.com/*/ENIConfig",), platforms=("aws",), references=(CUSTOM_NET,))
def eniconfig_invalid(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An ENIConfig without `spec.subnet`, with a namespace, or with ids that are not subnet-/sg-.

    Why:
        ENIConfig is cluster-scoped and needs a subnet ID; names are not resolved to IDs.

    Example:
        apiVersion: crd.k8s.amazonaws.com/v1alpha1
        kind: ENIConfig
        metadata: {name: eu-west-1a}
        spec: {subnet: subnet-0123, securityGroups: [sg-0123]}

    Fix:
        drop the namespace
    """
    root = doc.root
    spec = root.get("spec")
    subnet = spec.get("subnet") if spec is not None and spec.kind == MAP else None
    namespace = root.path("metadata", "namespace")
    if namespace is not None:
        metadata = root.get("metadata")
        key = metadata.entry("namespace")[0]
        yield Finding(key.start, namespace.end, f"{doc.object_name}: ENIConfig is cluster-scoped; a namespace is "
                                                f"ignored by some tools and rejected by others",
                      Fix.safe("Remove the namespace", delete_entry(doc.source, metadata, "namespace")))
    if subnet is None or not subnet.text:
        name = root.path("metadata", "name") or root
        yield Finding(name.start, name.end, f"{doc.object_name}: ENIConfig without `spec.subnet`; pods on nodes "
                                            f"using it get no secondary ENI")
    elif not subnet.text.startswith("subnet-") and not _placeholder(subnet.text):
        yield Finding(subnet.start, subnet.end, f"{doc.object_name}: `spec.subnet` {subnet.text!r} is not a subnet ID "
                                                f"(subnet-...)")
    groups = spec.get("securityGroups") if spec is not None and spec.kind == MAP else None
    for group in groups.items() if groups is not None and groups.kind == SEQ else []:
        if group.text and not group.text.startswith("sg-") and not _placeholder(group.text):
            yield Finding(group.start, group.end, f"{doc.object_name}: security group {group.text!r} is not an ID (sg-...)")


@rule("CNI011", "custom-networking-unused", "warning",
      fix="none", languages=("yaml", "hcl"), profiles=("ipv4",), platforms=("aws",), maturity="preview",
      references=(CUSTOM_NET,))
def custom_networking_unused(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Custom networking on, but no ENIConfig and no ENI_CONFIG_LABEL_DEF/ANNOTATION_DEF in the project.

    Why:
        With custom networking on and nothing selecting an ENIConfig, nodes attach no pod ENIs.

    Example:
        ENI_CONFIG_LABEL_DEF: topology.kubernetes.io/zone
    """
    facts = profile.facts
    for s in cni_settings(doc):
        if not s.flag("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"):
            continue
        # With custom networking the primary ENI carries no pods, so max pods must come down.
        groups = doc.root.get("managedNodeGroups") if doc.kind == "ClusterConfig" else None
        for group in groups.items() if groups is not None and groups.kind == SEQ else []:
            if group.get("maxPodsPerNode") is None:
                name = group.get("name") or group
                yield Finding(name.start, name.end,
                              f"{s.label}: custom networking is on but managed node group "
                              f"{group.str_at('name') or '?'} keeps the default max pods, which counts the "
                              f"primary ENI's addresses that pods can no longer use; set maxPodsPerNode")
        if s.value("ENI_CONFIG_LABEL_DEF") or s.value("ENI_CONFIG_ANNOTATION_DEF"):
            continue
        if facts is not None and facts.eniconfigs:
            continue
        yield Finding(*_at(s, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"),
                      f"{s.label}: custom networking is on but the project has no ENIConfig and no "
                      f"ENI_CONFIG_LABEL_DEF/ANNOTATION_DEF; nodes get no pod ENIs")


@rule("CNI012", "windows-on-ipv6", "error",
      fix="none", kinds=("*",), profiles=("ipv6",), platforms=("aws",), references=(EKS_IPV6,))
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


CM_KEYS = ("enable-windows-ipam", "enable-network-policy-controller", "enable-windows-prefix-delegation",
           "warm-prefix-target", "warm-ip-target", "minimum-ip-target", "branch-eni-cooldown")


@rule("CNI013", "linux-keys-in-windows-configmap", "warning",
      fix="safe", kinds=("v1/ConfigMap",), platforms=("aws",),
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
    data = doc.root.get("data")
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


SOURCES = "aws-node DaemonSet, aws-vpc-cni values, eksctl/Terraform vpc-cni add-on"


# --- security groups for pods ---------------------------------------------------------------------
SG_FOR_PODS = "https://docs.aws.amazon.com/eks/latest/userguide/security-groups-pods-deployment.html"


@rule("CNI014", "pod-sg-standard-mode-snat", "warning",
      fix="none", languages=("yaml", "hcl"), platforms=("aws",), maturity="preview",
      references=(CNI_README, SG_FOR_PODS))
def pod_sg_standard_mode_snat(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Security groups for pods in `standard` mode while external SNAT is off.

    Why:
        The VPC CNI README (`POD_SECURITY_GROUP_ENFORCING_MODE`, v1.11.0+): in `standard` mode, traffic from a
        pod with a security group to an address outside the VPC is SNATed via eth0 when externalSNAT is
        disabled (the default), "thus will only be enforced by the security group associated with eth0". Set
        AWS_VPC_K8S_CNI_EXTERNALSNAT=true (with a NAT gateway) or use `strict` mode for the pod's groups to
        apply. IPv4 only: IPv6 pods are not SNATed. Preview: the behaviour is exact, but it is a documented
        trade-off some clusters choose on purpose.

    Example:
        - name: POD_SECURITY_GROUP_ENFORCING_MODE
          value: standard
        - name: AWS_VPC_K8S_CNI_EXTERNALSNAT
          value: "true"
    """
    if profile.ip_family == "ipv6":
        return  # IPv6 pods are not SNATed
    for s in cni_settings(doc):
        mode = s.value("POD_SECURITY_GROUP_ENFORCING_MODE")
        if not s.flag("ENABLE_POD_ENI") or s.flag("ENABLE_IPv6") or (mode or "").strip() != "standard" \
                or s.flag("AWS_VPC_K8S_CNI_EXTERNALSNAT"):
            continue
        snat = s.value("AWS_VPC_K8S_CNI_EXTERNALSNAT")
        yield Finding(*_at(s, "POD_SECURITY_GROUP_ENFORCING_MODE"),
                      f"{s.label}: POD_SECURITY_GROUP_ENFORCING_MODE=standard with AWS_VPC_K8S_CNI_EXTERNALSNAT="
                      f"{snat or 'false (the default)'}: traffic from pods with security groups to addresses outside "
                      f"the VPC is SNATed via eth0, so only the node's primary ENI security group applies to it, not "
                      f"the pod's")


RULES = [
    cni_dual_family,
    ipv6_without_prefix_delegation,
    custom_networking_with_ipv6,
    ipv6_env_not_on_init,
    misspelled_cni_env,
    invalid_cni_bool,
    ignored_warm_targets_ipv6,
    warm_target_conflict,
    cni_version_too_old,
    eniconfig_invalid,
    custom_networking_unused,
    windows_on_ipv6,
    linux_keys_in_windows_configmap,
    pod_sg_standard_mode_snat,
]
