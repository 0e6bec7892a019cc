"""LB: Services and Ingresses handed to the AWS Load Balancer Controller (and the in-tree cloud provider) on IPv6
and dual-stack clusters."""
from __future__ import annotations

from v6lint.rules.lb.annotation_values import (misspelled_lb_annotation, invalid_ip_address_type,
    invalid_target_type, bad_source_nat_prefixes)
from v6lint.rules.lb.ipv6 import (lb_not_dual_stack, ipv6_instance_targets, orphan_external_lb,
    udp_dual_stack_nlb, ipv6_addresses_not_dual_stack, ipv6_source_range_not_dual_stack, in_tree_lb_on_ipv6,
    ingress_group_ip_type_conflict, ipv4_only_lb_on_ipv6)

RULES = [
    misspelled_lb_annotation,
    invalid_ip_address_type,
    lb_not_dual_stack,
    ipv6_instance_targets,
    invalid_target_type,
    orphan_external_lb,
    udp_dual_stack_nlb,
    bad_source_nat_prefixes,
    ipv6_addresses_not_dual_stack,
    ipv6_source_range_not_dual_stack,
    in_tree_lb_on_ipv6,
    ingress_group_ip_type_conflict,
    ipv4_only_lb_on_ipv6,
]
