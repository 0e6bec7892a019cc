"""Views: what rules read of a document, built once per document and shared by every rule that asks
(each builder is memoised on the document with `document.per_document`). Rules of every family
import views and Kubernetes helpers from here, never from another family's module."""
from __future__ import annotations

from v6lint.rules.views.cluster import ip_family, is_ipv6
from v6lint.rules.views.cni import CNI_TEXT, FALSE_VALUES, TRUE_VALUES, CniSettings, EnvVar, cni_settings
from v6lint.rules.views.kube import WORKLOADS, add_env, containers, env_items
from v6lint.rules.views.service import (ALLOC, FAMILIES, POLICIES, SERVICE, ServiceSpec, canonical,
                                        effective_policy, family_of, ipv6_only, service_spec)
from v6lint.rules.views.spark import (IMDS, ROLES, SPARK_APPS, SPARK_TEXT, SparkJob, imds_values, spark_jobs,
                                      uses_ipv6_imds)

__all__ = ["ALLOC", "CNI_TEXT", "FALSE_VALUES", "FAMILIES", "IMDS", "POLICIES", "ROLES", "SERVICE", "SPARK_APPS", "SPARK_TEXT", "TRUE_VALUES",
           "WORKLOADS", "CniSettings", "EnvVar", "ServiceSpec", "SparkJob", "add_env", "canonical", "cni_settings",
           "containers", "effective_policy", "env_items", "family_of", "imds_values", "ip_family", "ipv6_only",
           "is_ipv6", "service_spec", "spark_jobs", "uses_ipv6_imds"]
