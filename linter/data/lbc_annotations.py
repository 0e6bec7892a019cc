"""Known load balancer annotation keys, kept as data. Regenerate the LBC part with
`python -m v6lint.data.lbc_annotations ../shared/data/lbc-annotations.csv`.

AWS Load Balancer Controller keys: shared/data/lbc-annotations.csv, taken from kubernetes-sigs/
aws-load-balancer-controller pkg/annotations/constants.go at 225f44568848eb25f13e304a5f1cc68c0cd9415d.
In-tree keys: the cloud provider's Service annotations (kubernetes/cloud-provider-aws
pkg/providers/v1/aws.go, `ServiceAnnotationLoadBalancer*`).
"""
from __future__ import annotations

import csv
import sys

IN_TREE = (
    "service.beta.kubernetes.io/aws-load-balancer-type",
    "service.beta.kubernetes.io/aws-load-balancer-internal",
    "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-emit-interval",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-enabled",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-name",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-prefix",
    "service.beta.kubernetes.io/aws-load-balancer-connection-draining-enabled",
    "service.beta.kubernetes.io/aws-load-balancer-connection-draining-timeout",
    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled",
    "service.beta.kubernetes.io/aws-load-balancer-extra-security-groups",
    "service.beta.kubernetes.io/aws-load-balancer-security-groups",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-ports",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy",
    "service.beta.kubernetes.io/aws-load-balancer-backend-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-eip-allocations",
    "service.beta.kubernetes.io/aws-load-balancer-private-ipv4-addresses",
    "service.beta.kubernetes.io/aws-load-balancer-target-node-labels",
    "service.beta.kubernetes.io/aws-load-balancer-subnets",
    "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules",
)

# generated from lbc-annotations.csv: do not edit by hand (see the module docstring)
LBC_EXACT = (
    "alb.ingress.kubernetes.io/acm-pca-arn",
    "alb.ingress.kubernetes.io/auth-idp-cognito",
    "alb.ingress.kubernetes.io/auth-idp-oidc",
    "alb.ingress.kubernetes.io/auth-on-unauthenticated-request",
    "alb.ingress.kubernetes.io/auth-scope",
    "alb.ingress.kubernetes.io/auth-session-cookie",
    "alb.ingress.kubernetes.io/auth-session-timeout",
    "alb.ingress.kubernetes.io/auth-type",
    "alb.ingress.kubernetes.io/backend-protocol",
    "alb.ingress.kubernetes.io/backend-protocol-version",
    "alb.ingress.kubernetes.io/certificate-arn",
    "alb.ingress.kubernetes.io/create-acm-cert",
    "alb.ingress.kubernetes.io/customer-owned-ipv4-pool",
    "alb.ingress.kubernetes.io/dry-run-plan",
    "alb.ingress.kubernetes.io/enable-frontend-nlb",
    "alb.ingress.kubernetes.io/frontend-nlb-attributes",
    "alb.ingress.kubernetes.io/frontend-nlb-eip-allocations",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-healthy-threshold-count",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-interval-seconds",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-path",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-port",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-protocol",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-success-codes",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-timeout-seconds",
    "alb.ingress.kubernetes.io/frontend-nlb-healthcheck-unhealthy-threshold-count",
    "alb.ingress.kubernetes.io/frontend-nlb-listener-port-mapping",
    "alb.ingress.kubernetes.io/frontend-nlb-scheme",
    "alb.ingress.kubernetes.io/frontend-nlb-security-groups",
    "alb.ingress.kubernetes.io/frontend-nlb-subnets",
    "alb.ingress.kubernetes.io/frontend-nlb-tags",
    "alb.ingress.kubernetes.io/group.name",
    "alb.ingress.kubernetes.io/group.order",
    "alb.ingress.kubernetes.io/healthcheck-interval-seconds",
    "alb.ingress.kubernetes.io/healthcheck-path",
    "alb.ingress.kubernetes.io/healthcheck-port",
    "alb.ingress.kubernetes.io/healthcheck-protocol",
    "alb.ingress.kubernetes.io/healthcheck-timeout-seconds",
    "alb.ingress.kubernetes.io/healthy-threshold-count",
    "alb.ingress.kubernetes.io/inbound-cidrs",
    "alb.ingress.kubernetes.io/ip-address-type",
    "alb.ingress.kubernetes.io/ipam-ipv4-pool-id",
    "alb.ingress.kubernetes.io/jwt-validation",
    "alb.ingress.kubernetes.io/listen-ports",
    "alb.ingress.kubernetes.io/load-balancer-attributes",
    "alb.ingress.kubernetes.io/load-balancer-name",
    "alb.ingress.kubernetes.io/manage-backend-security-group-rules",
    "alb.ingress.kubernetes.io/minimum-load-balancer-capacity",
    "alb.ingress.kubernetes.io/multi-cluster-target-group",
    "alb.ingress.kubernetes.io/mutual-authentication",
    "alb.ingress.kubernetes.io/scheme",
    "alb.ingress.kubernetes.io/security-group-prefix-lists",
    "alb.ingress.kubernetes.io/security-groups",
    "alb.ingress.kubernetes.io/shield-advanced-protection",
    "alb.ingress.kubernetes.io/ssl-policy",
    "alb.ingress.kubernetes.io/ssl-redirect",
    "alb.ingress.kubernetes.io/subnets",
    "alb.ingress.kubernetes.io/success-codes",
    "alb.ingress.kubernetes.io/tags",
    "alb.ingress.kubernetes.io/target-group-attributes",
    "alb.ingress.kubernetes.io/target-node-labels",
    "alb.ingress.kubernetes.io/target-type",
    "alb.ingress.kubernetes.io/unhealthy-threshold-count",
    "alb.ingress.kubernetes.io/use-regex-path-match",
    "alb.ingress.kubernetes.io/waf-acl-id",
    "alb.ingress.kubernetes.io/wafv2-acl-arn",
    "alb.ingress.kubernetes.io/wafv2-acl-name",
    "alb.ingress.kubernetes.io/web-acl-id",
    "kubernetes.io/ingress.class",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-enabled",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-name",
    "service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-prefix",
    "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags",
    "service.beta.kubernetes.io/aws-load-balancer-alpn-policy",
    "service.beta.kubernetes.io/aws-load-balancer-attributes",
    "service.beta.kubernetes.io/aws-load-balancer-backend-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled",
    "service.beta.kubernetes.io/aws-load-balancer-disable-nlb-sg",
    "service.beta.kubernetes.io/aws-load-balancer-eip-allocations",
    "service.beta.kubernetes.io/aws-load-balancer-enable-icmp-for-path-mtu-discovery",
    "service.beta.kubernetes.io/aws-load-balancer-enable-prefix-for-ipv6-source-nat",
    "service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout",
    "service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold",
    "service.beta.kubernetes.io/aws-load-balancer-inbound-sg-rules-on-private-link-traffic",
    "service.beta.kubernetes.io/aws-load-balancer-internal",
    "service.beta.kubernetes.io/aws-load-balancer-ip-address-type",
    "service.beta.kubernetes.io/aws-load-balancer-ipv6-addresses",
    "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules",
    "service.beta.kubernetes.io/aws-load-balancer-minimum-load-balancer-capacity",
    "service.beta.kubernetes.io/aws-load-balancer-multi-cluster-target-group",
    "service.beta.kubernetes.io/aws-load-balancer-name",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
    "service.beta.kubernetes.io/aws-load-balancer-private-ipv4-addresses",
    "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol",
    "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol-per-target-group",
    "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers",
    "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports",
    "service.beta.kubernetes.io/aws-load-balancer-scheme",
    "service.beta.kubernetes.io/aws-load-balancer-security-group-prefix-lists",
    "service.beta.kubernetes.io/aws-load-balancer-security-groups",
    "service.beta.kubernetes.io/aws-load-balancer-source-nat-ipv6-prefixes",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-ports",
    "service.beta.kubernetes.io/aws-load-balancer-subnets",
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
    "service.beta.kubernetes.io/aws-load-balancer-target-node-labels",
    "service.beta.kubernetes.io/aws-load-balancer-type",
    "service.beta.kubernetes.io/load-balancer-source-ranges",
)
LBC_PATTERNS = (
    "alb.ingress.kubernetes.io/actions.{name}",
    "alb.ingress.kubernetes.io/conditions.{name}",
    "alb.ingress.kubernetes.io/listener-attributes.{Protocol}-{Port}",
    "alb.ingress.kubernetes.io/target-control-port.{serviceName}.{servicePort}",
    "alb.ingress.kubernetes.io/transforms.{name}",
    "service.beta.kubernetes.io/actions.{PROTOCOL}-{port}",
    "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.{Protocol}-{Port}",
)


def generate(csv_path: str) -> str:
    rows = list(csv.DictReader(open(csv_path, encoding="utf-8")))
    exact = sorted({r["annotation_key"] for r in rows if r["match"] == "exact"})
    patterns = sorted({r["annotation_key"] for r in rows if r["match"] == "pattern"})
    out = "\n# generated from lbc-annotations.csv: do not edit by hand (see the module docstring)\n"
    out += "LBC_EXACT = (\n" + "".join(f'    "{k}",\n' for k in exact) + ")\n"
    out += "LBC_PATTERNS = (\n" + "".join(f'    "{k}",\n' for k in patterns) + ")\n"
    return out


if __name__ == "__main__":
    here = __file__
    source = open(here, encoding="utf-8").read()
    head = source.split("\n# generated from lbc-annotations.csv")[0]
    tail = source[source.index("\n\ndef generate("):]
    open(here, "w", encoding="utf-8").write(head + generate(sys.argv[1]) + tail)
