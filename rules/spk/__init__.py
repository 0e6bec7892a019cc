"""SPK: Spark on Kubernetes (spark-submit, the Spark operator, PySpark sessions and notebooks, spark-
defaults.conf) on IPv6 and dual-stack clusters."""
from __future__ import annotations

from v6lint.rules.spk.driver_service import (spark_driver_service_ipv4, spark_driver_service_policy,
    invalid_spark_ip_family_value, spark_version_lacks_ipv6)
from v6lint.rules.spk.imds import (missing_imds_endpoint_mode, invalid_imds_endpoint_mode,
    imds_ipv6_not_enabled_on_nodes)
from v6lint.rules.spk.jvm import (jvm_prefers_ipv4, pyspark_prefers_ipv4, java_options_overridden,
    operator_jvm_prefers_ipv4, ipv4_wildcard_bind)
from v6lint.rules.spk.operator import env_without_webhook, deprecated_env_vars

RULES = [
    spark_driver_service_ipv4,
    spark_driver_service_policy,
    invalid_spark_ip_family_value,
    spark_version_lacks_ipv6,
    missing_imds_endpoint_mode,
    invalid_imds_endpoint_mode,
    imds_ipv6_not_enabled_on_nodes,
    jvm_prefers_ipv4,
    pyspark_prefers_ipv4,
    java_options_overridden,
    env_without_webhook,
    operator_jvm_prefers_ipv4,
    deprecated_env_vars,
    ipv4_wildcard_bind,
]
