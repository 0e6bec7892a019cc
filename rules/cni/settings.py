"""CNI rules on the aws-node env settings: families, prefix delegation, custom networking, names, values, warm targets, versions."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import Document
from v6lint.rule import Profile, contains, rule
from v6lint.yaml_edit import replace_scalar
from v6lint.rules.views import CNI_TEXT, cni_settings, is_ipv6
from v6lint.rules.views import FALSE_VALUES, TRUE_VALUES
from v6lint.rules.cni.common import (BOOL_ENV, CNI_README, CUSTOM_NET, EKS_IPV6, KNOWN_ENV, MIN_IPV6,
    MIN_PREFIX_DELEGATION, SG_FOR_PODS, WARM, _LOOSE, _at, _close, _cni_version, _dotted, _editable, _fold,
    _int, _set)


@rule("CNI001", "cni-dual-family", "error",
      fix="safe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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
      fix="safe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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
      fix="unsafe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT | contains("ENIConfig"), profiles=("ipv6",), platforms=("aws",),
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
        name = doc.tree.path("metadata", "name") or doc.tree
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
      fix="safe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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
        var = s.init_env.get("ENABLE_IPv6")
        main, init = s.value("ENABLE_IPv6"), (var.value if var is not None else None)
        if (main or "false").lower() == (init or "false").lower():
            continue
        edits = [replace_scalar(node, main or "false")] if var is not None and (node := _editable(var)) is not None \
            else s.add_init("ENABLE_IPv6", main or "false")
        where = (var.value_node.start, var.value_node.end) if var is not None and var.value_node is not None else _at(s, "ENABLE_IPv6")
        yield Finding(*where, f"{s.label}: ENABLE_IPv6 is {main or 'unset'} for aws-node but {init or 'unset'} for the "
                              f"aws-vpc-cni-init container, which sets up the node's IPv6 sysctls",
                      Fix.safe("Copy aws-node's ENABLE_IPv6 to the init container", edits))


@rule("CNI005", "misspelled-cni-env", "error",
      fix="safe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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
                if len(matches) == 1 and _editable(var) is not None else None
            yield Finding(var.name_node.start, var.name_node.end,
                          f"{s.label}: the VPC CNI does not read `{name}`; did you mean `{matches[0]}`? (env names "
                          f"are case-sensitive: the setting silently has no effect)", fix)


@rule("CNI006", "invalid-cni-bool", "error",
      fix="safe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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
            if var is None or var.value is None or var.value in TRUE_VALUES + FALSE_VALUES:
                continue
            fixed = _LOOSE.get(var.value.strip().lower())
            yield Finding(*_at(s, name),
                          f"{s.label}: {name}={var.value!r} is not a boolean Go's ParseBool accepts; the CNI silently "
                          f"uses the default",
                          Fix.safe(f'Use "{fixed}"', replace_scalar(node, fixed))
                          if fixed and (node := _editable(var)) is not None else None)


@rule("CNI007", "ignored-warm-targets-ipv6", "warning",
      fix="safe", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, profiles=("ipv6",), platforms=("aws",),
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


@rule("CNI008", "warm-target-conflict", "warning",
      fix="none", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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


@rule("CNI009", "cni-version-too-old", "error",
      fix="none", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), references=(CNI_README, EKS_IPV6))
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


@rule("CNI014", "pod-sg-standard-mode-snat", "warning",
      fix="none", languages=("yaml", "hcl"), yaml_gate=CNI_TEXT, platforms=("aws",), maturity="preview",
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
