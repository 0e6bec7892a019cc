"""SPK rules on the JVM and Python stacks: IPv4 preferences, overridden java options, and IPv4-only wildcard binds."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, SEQ, Document
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import Styled, delete_entry, insert_entries, replace_scalar
from v6lint.rules.views import ROLES, SPARK_APPS, SPARK_TEXT, add_env
from v6lint.rules.spk.common import (BIND_KEYS, IPV4_STACK, JAVA_KEYS, LANGS, OPERATOR_API, PREFER_V6,
    OPERATOR_VALUES_TEXT, SPARK_CONFIG, SPARK_K8S_DOCS, _is_operator_values, _java_options, _jobs, _roles, _wants_ipv6_first,
    role_env)


@rule("SPK008", "jvm-prefers-ipv4", "warning",
      fix="safe", kinds=SPARK_APPS, profiles=("dual",), maturity="preview",
      references=(SPARK_K8S_DOCS, OPERATOR_API))
def jvm_prefers_ipv4(doc: Document, profile: Profile) -> Iterator[Finding]:
    # Spark's docs ask only `ipFamilies=IPv6` for IPv6-only clusters (names resolve to IPv6 alone
    # there), and say that on dual-stack the JVM "may" need preferIPv6Addresses to use IPv6.
    """On a dual-stack cluster, a job whose driver Service puts IPv6 first, with a driver or executor JVM without
    `-Djava.net.preferIPv6Addresses=true`.

    Why:
        Spark's Kubernetes guide asks only `spark.kubernetes.driver.service.ipFamilies=IPv6` for IPv6-only
        clusters, where names resolve to IPv6 alone; on dual-stack it says the JVM may additionally need
        `java.net.preferIPv6Addresses=true` to use IPv6, since Java otherwise picks the IPv4 address of a name
        that has both. So this fires only on dual-stack, for jobs that ask for IPv6 first. Preview: "may" is
        the source's word.

    Example:
        driver:
          javaOptions: "-XX:+UseG1GC -Djava.net.preferIPv6Addresses=true"

    Fix:
        append to javaOptions, keeping what is there
    """
    for job, role, node in _roles(doc):
        if PREFER_V6 in _java_options(job, role) or not _wants_ipv6_first(job):
            continue
        java = node.get("javaOptions")
        if java is not None and java.text is not None:
            edits = [replace_scalar(java, f"{java.text.rstrip()} {PREFER_V6}".strip())]
        elif java is None:
            edits = [insert_entries(doc.source, node, [("javaOptions", Styled(PREFER_V6, '"'))], doc.root)]
        else:
            edits = None
        key = job.key_of(role)
        yield Finding(key.start, key.end,
                      f"{job.label}: the driver Service puts IPv6 first, but the {role} JVM is not told to prefer "
                      f"IPv6 (`{PREFER_V6}`); on this dual-stack cluster Java then picks the IPv4 address of a "
                      f"name that has both",
                      Fix.safe(f"Append `{PREFER_V6}` to the {role}'s javaOptions", edits))


@rule("SPK009", "pyspark-prefers-ipv4", "warning",
      fix="safe", kinds=SPARK_APPS, profiles=("dual",), maturity="preview",
      references=(SPARK_K8S_DOCS, OPERATOR_API))
def pyspark_prefers_ipv4(doc: Document, profile: Profile) -> Iterator[Finding]:
    """On a dual-stack cluster, a Python application whose driver Service puts IPv6 first and whose driver env
    lacks `SPARK_PREFER_IPV6=true`.

    Why:
        Spark's Kubernetes guide says that on dual-stack Python may additionally need SPARK_PREFER_IPV6=true
        to use IPv6; on IPv6-only clusters it asks nothing beyond the driver Service family. Preview: "may" is
        the source's word.

    Example:
        driver:
          env:
            - name: SPARK_PREFER_IPV6
              value: "true"
    """
    for job in _jobs(doc):
        if job.spec is None or (job.spec.str_at("type") or "").lower() != "python":
            continue
        driver = job.role("driver")
        if driver is None or (role_env(job, "driver").get("SPARK_PREFER_IPV6") or "").lower() == "true" \
                or not _wants_ipv6_first(job):
            continue
        key = job.key_of("driver")
        yield Finding(key.start, key.end,
                      f"{job.label}: a Python application whose driver lacks `SPARK_PREFER_IPV6=true`; PySpark's "
                      f"gateway then binds and connects over IPv4 on a dual-stack cluster",
                      Fix.safe("Add SPARK_PREFER_IPV6=true to the driver's env",
                           add_env(doc, driver, "SPARK_PREFER_IPV6", "true")))


@rule("SPK010", "java-options-overridden", "warning",
      fix="safe", kinds=SPARK_APPS, references=(OPERATOR_API,))
def java_options_overridden(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`javaOptions` and `sparkConf[spark.<role>.extraJavaOptions]` are both set.

    Why:
        The operator writes a role's javaOptions into `spark.<role>.extraJavaOptions`, replacing the sparkConf
        value: whatever was there (an IPv6 flag, GC settings) is silently lost.

    Example:
        driver:
          javaOptions: "-Dx=1"
        sparkConf:
          spark.driver.extraJavaOptions: "-Dy=2"   # lost

    Fix:
        merge the sparkConf value into javaOptions
    """
    for job, role, node in _roles(doc):
        java = node.get("javaOptions")
        extra = job.conf.get(JAVA_KEYS[role])
        spark_conf = job.spec.get("sparkConf") if job.spec is not None else None
        if java is None or extra is None or java.text is None or spark_conf is None:  # (extra is in sparkConf)
            continue
        merged = java.text.split() + [t for t in (extra.value or "").split() if t not in java.text.split()]
        yield Finding(extra.entry_start, extra.entry_end,
                      f"{job.label}: `{JAVA_KEYS[role]}` is set while the {role} has javaOptions; the operator "
                      f"writes javaOptions into the same property and this value is lost",
                      Fix.safe("Merge it into javaOptions",
                           replace_scalar(java, " ".join(merged)),
                            delete_entry(doc.source, spark_conf, JAVA_KEYS[role])))


@rule("SPK012", "operator-jvm-prefers-ipv4", "warning",
      fix="safe", profiles=("dual",), maturity="preview", yaml_gate=OPERATOR_VALUES_TEXT,
      references=("https://github.com/kubeflow/spark-operator/blob/master/charts/spark-operator-chart/values.yaml",))
def operator_jvm_prefers_ipv4(doc: Document, profile: Profile) -> Iterator[Finding]:
    """spark-operator Helm values without `-Djava.net.preferIPv6Addresses=true` for the `spark-submit` the
    controller runs.

    Why:
        The Kubeflow Spark operator's controller is a Go program, but for each SparkApplication it runs
        `spark-submit`, a JVM, in its own pod, and that JVM talks to the API server to create the driver. The
        JVM inherits the controller container's environment, so on a dual-stack cluster tell it to prefer IPv6
        through `_JAVA_OPTIONS` or `JAVA_TOOL_OPTIONS` in `controller.env`. Not on IPv6-only clusters: there
        the API server address is an IPv6 literal and names resolve to AAAA only, so there is nothing to
        prefer. Preview: whether IPv4 is wrong on dual-stack depends on the cluster.

    Example:
        controller:
          env:
            - name: JAVA_TOOL_OPTIONS
              value: "-Djava.net.preferIPv6Addresses=true"

    Fix:
        add the env entry
    """
    if not _is_operator_values(doc):
        return
    found = doc.tree.entry("controller")
    if found is None or found[1].kind != MAP:  # (the values have a controller)
        return
    key, controller = found
    env = controller.get("env")
    for item in env.items() if env is not None and env.kind == SEQ else []:
        if item.str_at("name") in ("_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS") and PREFER_V6 in (item.str_at("value") or ""):
            return
    edits = add_env(doc, controller, "JAVA_TOOL_OPTIONS", Styled(PREFER_V6, '"')) if controller.entries() else None
    yield Finding(key.start, key.end,
                  f"spark-operator values: the `spark-submit` JVMs the controller launches do not prefer IPv6 (no "
                  f"`{PREFER_V6}` in `controller.env` `_JAVA_OPTIONS`/`JAVA_TOOL_OPTIONS`); on this dual-stack "
                  f"cluster their Kubernetes client may pick IPv4",
                  Fix.safe("Add JAVA_TOOL_OPTIONS to controller.env", edits))


@rule("SPK014", "ipv4-wildcard-bind", "warning",
      fix="none", languages=LANGS, yaml_gate=SPARK_TEXT, profiles=("ipv6", "dual"), maturity="preview",
      references=(SPARK_K8S_DOCS, SPARK_CONFIG,
                                     "https://github.com/openjdk/jdk/blob/master/src/java.base/unix/native/libnet/net_util_md.c"))
def ipv4_wildcard_bind(doc: Document, profile: Profile) -> Iterator[Finding]:
    # For 0.0.0.0 the JDK opens an IPv6 socket bound to the IPv6 wildcard, which also takes IPv4
    # (net_util_md.c NET_InetAddressToSockaddr): a Spark JVM bound to 0.0.0.0 is dual-stack, unless
    # the JVM runs with preferIPv4Stack=true, which makes every socket IPv4.
    """`spark.driver.bindAddress` (or the block manager's) is `0.0.0.0` in a JVM run with
    `-Djava.net.preferIPv4Stack=true`.

    Why:
        For the IPv4 wildcard the JDK opens an IPv6 socket on the IPv6 wildcard that also takes IPv4 (openjdk
        src/java.base/unix/native/libnet/net_util_md.c, NET_InetAddressToSockaddr), so a Spark driver bound to
        0.0.0.0 is dual-stack. Only `-Djava.net.preferIPv4Stack=true` makes the JVM's sockets IPv4, and then
        IPv6 executors cannot connect.

    Example:
        driver:
          javaOptions: "-XX:+UseG1GC"   # no preferIPv4Stack
    """
    for job in _jobs(doc):
        roles = {"spark.driver.bindAddress": ("driver",), "spark.blockManager.bindAddress": ROLES}
        for key in BIND_KEYS:
            conf = job.conf.get(key)
            if conf is None or conf.value != "0.0.0.0":
                continue
            ipv4 = [r for r in roles[key] if IPV4_STACK in _java_options(job, r)]
            if ipv4:
                yield Finding(conf.start, conf.end,
                              f"{job.label}: `{key}` is 0.0.0.0 and the {' and '.join(ipv4)} JVM runs with "
                              f"`{IPV4_STACK}`, so it listens on IPv4 only; IPv6 peers cannot connect (drop "
                              f"the flag: without it the JVM binds 0.0.0.0 as a dual-stack socket)")
