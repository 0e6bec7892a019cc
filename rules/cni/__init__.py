"""CNI: the Amazon VPC CNI (aws-node) settings, wherever a project writes them, in IPv6 and dual-stack clusters."""
from __future__ import annotations

from v6lint.rules.cni.settings import (cni_dual_family, ipv6_without_prefix_delegation,
    custom_networking_with_ipv6, ipv6_env_not_on_init, misspelled_cni_env, invalid_cni_bool,
    ignored_warm_targets_ipv6, warm_target_conflict, cni_version_too_old, pod_sg_standard_mode_snat)
from v6lint.rules.cni.custom_networking import eniconfig_invalid, custom_networking_unused
from v6lint.rules.cni.windows import windows_on_ipv6, linux_keys_in_windows_configmap

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
