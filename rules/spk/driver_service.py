"""SPK rules on the Spark driver's Service: its IP families, its policy, and Spark versions that cannot set them."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import Document
from v6lint.rule import Profile, rule
from v6lint.rules.views import SPARK_APPS, SPARK_TEXT
from v6lint.rules.spk.common import (ALLOC, DOE_IPV6, FAMILIES, FAMILY_VALUES, LANGS, POLICY, POLICY_VALUES,
    SPARK_CONFIG, SPARK_K8S_DOCS, _canonical, _families, _jobs, _predates_ip_families, _spark_version)


@rule("SPK001", "spark-driver-service-ipv4", "error",
      fix="safe", languages=LANGS, yaml_gate=SPARK_TEXT, profiles=("ipv6",), references=(SPARK_K8S_DOCS, DOE_IPV6))
def spark_driver_service_ipv4(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A Spark job on Kubernetes whose driver Service stays IPv4 (`spark.kubernetes.driver.service.ipFamilies`
    absent or containing IPv4).

    Why:
        Spark creates a headless Service for the driver with `ipFamilies` from this setting, IPv4 by default.
        An EKS IPv6 cluster serves only IPv6 Services, so the API server rejects it and the job never starts.
        Applies where the driver runs in cluster mode: SparkApplications (unless `mode: client`), spark-submit
        with a k8s:// master and `--deploy-mode cluster`, and spark-defaults.conf (unless it says
        `spark.submit.deployMode client`). In client mode (spark-submit's default, and any PySpark
        SparkSession built in code) the submitting process is the driver and Spark creates no driver Service.

    Example:
        sparkConf:
          "spark.kubernetes.driver.service.ipFamilies": "IPv6"
          "spark.kubernetes.driver.service.ipFamilyPolicy": "SingleStack"

    Fix:
        add `IPv6` (and a SingleStack policy), uncommenting the lines where the file has them commented out
    """
    for job in _jobs(doc):
        if not job.on_kubernetes or job.deploy_mode == "client" or _predates_ip_families(job):
            continue  # in client mode Spark creates no driver Service
        conf = job.conf.get(FAMILIES)
        if conf is None:
            pairs = [(FAMILIES, "IPv6")] + ([] if POLICY in job.conf else [(POLICY, "SingleStack")])
            yield Finding(*job.anchor,
                          f"{job.label}: no `{FAMILIES}`, so Spark creates the driver Service as IPv4 (its "
                          f"default), which this IPv6 cluster rejects; set it to `IPv6`",
                          Fix.safe(f"Add `{FAMILIES}: IPv6`" + (" and the SingleStack policy" if len(pairs) > 1 else ""), job.add(pairs)))
        elif "IPv4" in _families(conf.value):
            yield Finding(conf.start, conf.end,
                          f"{job.label}: `{FAMILIES}` is `{conf.value}`; this IPv6 cluster serves no IPv4 Services, "
                          f"so the driver Service is rejected", Fix.safe("Set it to `IPv6`",
                                                                    conf.replace(doc.source, "IPv6")))


@rule("SPK002", "spark-driver-service-policy", "error",
      fix="unsafe", languages=LANGS, yaml_gate=SPARK_TEXT, references=(SPARK_CONFIG, ALLOC))
def spark_driver_service_policy(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Two driver Service families with an effective `SingleStack` policy (set, or Spark's default).

    Why:
        Spark always writes the driver Service's `ipFamilyPolicy`, SingleStack unless configured
        (Config.scala). The API server (alloc.go `initIPFamilyFields`) rejects a SingleStack Service with two
        families: "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
        on any cluster. (A single `IPv6` family without a policy is fine: SingleStack is what it needs.)

    Example:
        "spark.kubernetes.driver.service.ipFamilies": "IPv6,IPv4"
        "spark.kubernetes.driver.service.ipFamilyPolicy": "PreferDualStack"

    Fix:
        `PreferDualStack`
    """
    for job in _jobs(doc):
        families = _families(job.value(FAMILIES))
        if len(families) != 2 or job.value(FAMILIES) not in FAMILY_VALUES:
            continue
        policy = job.conf.get(POLICY)
        if policy is None:
            yield Finding(job.conf[FAMILIES].start, job.conf[FAMILIES].end,
                          f"{job.label}: two driver Service families but no `{POLICY}`; Spark's default is "
                          f"SingleStack, which the API server rejects with two families",
                          Fix.unsafe(f"Add `{POLICY}: PreferDualStack`", job.add([(POLICY, "PreferDualStack")])))
        elif policy.value == "SingleStack":
            yield Finding(policy.start, policy.end,
                          f"{job.label}: `{POLICY}` is SingleStack with two families ({job.value(FAMILIES)}); "
                          f"the API server rejects the driver Service",
                          Fix.unsafe("Set it to `PreferDualStack`", policy.replace(doc.source, "PreferDualStack")))


@rule("SPK003", "invalid-spark-ip-family-value", "error",
      fix="safe", languages=LANGS, yaml_gate=SPARK_TEXT, references=(SPARK_K8S_DOCS, SPARK_CONFIG))
def invalid_spark_ip_family_value(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Driver Service `ipFamilies`/`ipFamilyPolicy` not exactly one of the values Spark accepts.

    Why:
        Spark checks these values exactly (`checkValues`): `ipv6` or `IPv6, IPv4` fail the submission.

    Example:
        "spark.kubernetes.driver.service.ipFamilies": "ipv6"   # bad: IPv6

    Fix:
        fix the case and strip spaces
    """
    for job in _jobs(doc):
        for key, choices in ((FAMILIES, FAMILY_VALUES), (POLICY, POLICY_VALUES)):
            conf = job.conf.get(key)
            if conf is None or conf.value is None or conf.value in choices:
                continue
            fixed = _canonical(conf.value, choices)
            yield Finding(conf.start, conf.end,
                          f"{job.label}: `{key}` is {conf.value!r}; Spark accepts exactly "
                          f"{', '.join(choices)} and fails the submission otherwise",
                          Fix.safe(f"Use `{fixed}`", conf.replace(doc.source, fixed)) if fixed else None)


@rule("SPK004", "spark-version-lacks-ipv6", "error",
      fix="none", kinds=SPARK_APPS, references=(SPARK_K8S_DOCS,))
def spark_version_lacks_ipv6(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Spark older than 3.4.0 with IPv6 settings or on an IPv6 cluster.

    Why:
        IPv6 support and the driver Service IP family settings arrived in Spark 3.4.0; older versions ignore
        the settings and bind IPv4.

    Example:
        sparkVersion: "3.3.2"   # bad: 3.4.0 or later
    """
    for job in _jobs(doc):
        if job.spec is None:
            continue
        settings = FAMILIES in job.conf or POLICY in job.conf
        if not settings and profile.ip_family != "ipv6":
            continue
        found = _spark_version(job.spec)
        if found and found[1] < (3, 4, 0):
            node, version = found
            why = "the driver Service IP family settings need" if settings else "an IPv6 cluster needs"
            yield Finding(node.start, node.end,
                          f"{job.label}: Spark {'.'.join(map(str, version))} predates 3.4.0, which added IPv6 "
                          f"support; {why} Spark 3.4.0 or later")
