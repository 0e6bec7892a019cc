"""SPK: Spark on Kubernetes (SparkApplication, spark-defaults.conf, spark-submit, PySpark).

Facts: Spark's running-on-kubernetes.md and Config.scala (`spark.kubernetes.driver.service.
ipFamilies` defaults to IPv4 and `ipFamilyPolicy` to SingleStack, both since 3.4.0, values
checked exactly); the AWS SDKs' IMDS endpoint mode; the Spark operator's v1beta2 API.
"""
from __future__ import annotations

import re
from typing import Iterator

from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.document import MAP, SEQ, Document, Node
from v6lint.rule import Profile, rule
from v6lint.rules.spark_model import ROLES, SPARK_APPS, SparkJob, commented_block, spark_jobs
from v6lint.yaml_edit import Styled, append_item, delete_entry, entry_index, insert_entries, replace_scalar

FAMILIES = "spark.kubernetes.driver.service.ipFamilies"
POLICY = "spark.kubernetes.driver.service.ipFamilyPolicy"
FAMILY_VALUES = ("IPv4", "IPv6", "IPv4,IPv6", "IPv6,IPv4")
POLICY_VALUES = ("SingleStack", "PreferDualStack", "RequireDualStack")
IMDS = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
PREFER_V6 = "-Djava.net.preferIPv6Addresses=true"
ENV_KEYS = {"driver": "spark.kubernetes.driverEnv.", "executor": "spark.executorEnv."}
JAVA_KEYS = {"driver": "spark.driver.extraJavaOptions", "executor": "spark.executor.extraJavaOptions"}
BIND_KEYS = ("spark.driver.bindAddress", "spark.blockManager.bindAddress")
SPARK_K8S_DOCS = "https://spark.apache.org/docs/latest/running-on-kubernetes.html#ipv4-and-ipv6"
SPARK_CONFIG = "https://github.com/apache/spark/blob/master/resource-managers/kubernetes/core/src/main/scala/org/apache/spark/deploy/k8s/Config.scala"
OPERATOR_API = "https://github.com/kubeflow/spark-operator/blob/master/docs/api-docs.md"
EKS_IMDS = "https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-credentials.html"
ALLOC = ("https://github.com/kubernetes/kubernetes/blob/b0d609f08083d7a8aa3426540d6d5f9090944906/"
         "pkg/registry/core/service/storage/alloc.go")
DOE_IPV6 = "https://awslabs.github.io/data-on-eks/docs/datastacks/processing/spark-on-eks/spark-ipv6"
LANGS = ("yaml", "python", "spark-conf")  # spark-conf: standalone spark-defaults.conf


def _jobs(doc: Document) -> list[SparkJob]:
    return spark_jobs(doc)


def _roles(doc: Document) -> Iterator[tuple[SparkJob, str, Node]]:
    """(job, "driver"|"executor", role mapping) for every role a SparkApplication spells out."""
    for job in _jobs(doc):
        for role in ROLES:
            node = job.role(role)
            if node is not None:
                yield job, role, node


def _families(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",")] if value else []


def _predates_ip_families(job: SparkJob) -> bool:
    """A job whose Spark version (sparkVersion, or the image tag) is older than 3.4.0: that Spark ignores the
    driver Service IP family settings (SPK004 reports the version of SparkApplications)."""
    if job.spec is not None:
        found = _spark_version(job.spec)
        version = found[1] if found else None
    else:  # spark-submit, spark-defaults.conf, PySpark: the container image's tag
        version = _image_version(job.value("spark.kubernetes.container.image"))
    return version is not None and version < (3, 4, 0)


@rule("SPK001", "spark-driver-service-ipv4", "error",
      fix="safe", languages=LANGS, profiles=("ipv6",), references=(SPARK_K8S_DOCS, DOE_IPV6))
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
      fix="unsafe", languages=LANGS, references=(SPARK_CONFIG, ALLOC))
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


def _canonical(value: str, choices: tuple[str, ...]) -> str | None:
    squeezed = ",".join(p.strip() for p in value.split(",")).lower()
    return next((c for c in choices if c.lower() == squeezed), None)


@rule("SPK003", "invalid-spark-ip-family-value", "error",
      fix="safe", languages=LANGS, references=(SPARK_K8S_DOCS, SPARK_CONFIG))
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


_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?![\d.])")


def _version(text: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(text or "")
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)) if match else None


def _spark_version(spec: Node) -> tuple[Node, tuple[int, int, int]] | None:
    """`sparkVersion` when given; else a Spark image's tag when it starts with a version (`3.3.2-...`)."""
    declared = spec.get("sparkVersion")
    if declared is not None:
        found = _version(declared.text)
        return (declared, found) if found else None
    image = spec.get("image")
    found = _image_version(image.text if image is not None else None)
    return (image, found) if found else None


def _image_version(image: str | None) -> tuple[int, int, int] | None:
    """The Spark version of an image whose name says spark and whose tag starts with one (`apache/spark:3.3.2`)."""
    name, _, tag = (image or "").rpartition(":")
    if "spark" not in name.rsplit("/", 1)[-1] or "/" in tag:
        return None
    found = _version(tag)
    return found if found and found[0] >= 2 else None


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


def role_env(job: SparkJob, role: str) -> dict[str, str | None]:
    """A role's environment from `env`, `envVars` and the sparkConf env keys."""
    out: dict[str, str | None] = {}
    node = job.role(role)
    if node is not None:
        env = node.get("env")
        for item in env.items() if env is not None and env.kind == SEQ else []:
            if item.str_at("name"):
                out[item.str_at("name")] = item.str_at("value")
        env_vars = node.get("envVars")
        for k, v in env_vars.entries() if env_vars is not None and env_vars.kind == MAP else []:
            out[k.value] = v.text
    prefix = ENV_KEYS[role]
    for key, conf in job.conf.items():
        if key.startswith(prefix):
            out[key[len(prefix):]] = conf.value
    return out


def add_env(doc: Document, mapping: Node, name: str, value: str) -> list[Edit] | None:
    """Add NAME=value to a mapping's `env` list: uncomment a commented-out `env:` block that has it,
    else append in the list's style, else create the list."""
    source = doc.source
    env = mapping.get("env")
    if env is None:
        commented = commented_block(source, mapping, "env")
        if commented and name in commented[1] and re.search(rf"value:\s*['\"]?{re.escape(value)}", commented[1]):
            return commented[0]
        return [insert_entries(source, mapping, [("env", [{"name": name, "value": value}])], doc.root)]
    if env.kind != SEQ:
        return None
    edit = append_item(source, env, {"name": name, "value": value})
    return [edit] if edit is not None else None


WEB_IDENTITY_ENV = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
CREDENTIALS_PROVIDER = "spark.hadoop.fs.s3a.aws.credentials.provider"


# S3A credentials providers that never ask the instance metadata service: web identity (IRSA), the
# container endpoint (EKS Pod Identity), static and session keys.
_NOT_IMDS_PROVIDERS = ("WebIdentity", "ContainerCredentials", "SimpleAWSCredentialsProvider",
                       "TemporaryAWSCredentialsProvider", "StaticCredentialsProvider")
# What an AWS SDK call in a Spark job looks like: S3 paths, S3A settings, the SDK's packages.
_AWS_USE = re.compile(r"\bs3[an]?://|fs\.s3a\.|com\.amazonaws|software\.amazon\.awssdk|boto3")


def uses_aws(job: SparkJob) -> bool:
    """The job evidently calls AWS (reads S3, configures S3A, uses an AWS SDK): only then does the
    SDK look for credentials and a region."""
    doc = job.doc
    text = doc.source.text[doc.start:doc.end] if doc.language == "yaml" else doc.source.text
    return bool(_AWS_USE.search(text))


def _service_accounts(job: SparkJob) -> set[str]:
    names = {job.value("spark.kubernetes.authenticate.driver.serviceAccountName"),
             job.value("spark.kubernetes.authenticate.executor.serviceAccountName")}
    for role in ROLES:
        node = job.role(role)
        names.add(node.str_at("serviceAccount") if node is not None else None)
    return {n for n in names if n}


def web_identity(job: SparkJob, profile: Profile) -> str | None:
    """How the job gets AWS credentials without the instance metadata service, if it evidently does:
    IRSA or EKS Pod Identity env, an S3A web-identity/container credentials provider, or a service
    account the project annotates with `eks.amazonaws.com/role-arn` (the pod identity webhook then
    injects AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_REGION)."""
    for role in ROLES:
        env = role_env(job, role)
        found = next((name for name in WEB_IDENTITY_ENV if name in env), None)
        if found:
            return f"the {role} sets {found}"
    provider = job.value(CREDENTIALS_PROVIDER) or ""
    if any(name in provider for name in _NOT_IMDS_PROVIDERS):
        return f"`{CREDENTIALS_PROVIDER}` is {provider}"
    facts = profile.facts
    irsa = facts.irsa_service_accounts if facts is not None else {}
    for name in sorted(_service_accounts(job)):
        if name in irsa:
            return f"service account {name} has an IAM role ({irsa[name]})"
    return None


@rule("SPK005", "missing-imds-endpoint-mode", "warning",
      fix="safe", languages=LANGS, profiles=("ipv6",), platforms=("aws",), maturity="preview",
      references=(EKS_IMDS, DOE_IPV6))
def missing_imds_endpoint_mode(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Driver or executor without `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` on an IPv6 cluster, for a job
    that takes its AWS credentials from the instance metadata service.

    Why:
        Without other credentials, the AWS SDK inside Spark (S3A, credentials, region) calls the instance
        metadata service at 169.254.169.254 unless told to use the IPv6 endpoint, which IPv6 pods reach only
        through the node's IPv4 egress NAT. Jobs with web-identity credentials (IRSA:
        AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN, a service account annotated with
        `eks.amazonaws.com/role-arn`, a WebIdentity S3A credentials provider) or EKS Pod Identity do not use
        IMDS for credentials and are not reported. The env can be set in `env`, `envVars` or the
        `spark.kubernetes.driverEnv.*` / `spark.executorEnv.*` settings. Preview: how the SDK is configured at
        run time is a guess.

    Example:
        driver:
          env:
            - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
              value: IPv6

    Fix:
        add the env entry to both roles; uncomment it where the file has it commented out
    """
    for job in _jobs(doc):
        if not job.on_kubernetes or not uses_aws(job) or web_identity(job, profile):
            continue  # no AWS call, or credentials (and region) that do not come from IMDS
        if job.spec is None:  # settings only: the sparkConf env keys
            missing = [r for r in ROLES if IMDS not in role_env(job, r)]
            if missing:
                yield Finding(*job.anchor,
                              f"{job.label}: {' and '.join(missing)} lack `{IMDS}=IPv6`; the AWS SDK then calls "
                              f"IMDS at 169.254.169.254, which IPv6 pods may not reach, and S3 access fails",
                              Fix.safe(f"Set {IMDS}=IPv6 for {' and '.join(missing)}",
                                   job.add([(ENV_KEYS[r] + IMDS, "IPv6") for r in missing])))
            continue
        for role in ROLES:
            node = job.role(role)
            if node is None or IMDS in role_env(job, role):
                continue
            key = job.spec.entry(role)[0]
            yield Finding(key.start, key.end,
                          f"{job.label}: the {role} has no `{IMDS}=IPv6`; the AWS SDK inside Spark then calls IMDS "
                          f"at 169.254.169.254, which IPv6 pods may not reach, and S3 access fails",
                          Fix.safe(f"Add {IMDS}=IPv6 to the {role}'s env", add_env(doc, node, IMDS, "IPv6")))


def _imds_values(job: SparkJob) -> Iterator[tuple[Node | None, object, str]]:
    """(yaml node or None, conf or None, value) of every IMDS mode setting of a job."""
    for role in ROLES:
        node = job.role(role)
        env = node.get("env") if node is not None else None
        for item in env.items() if env is not None and env.kind == SEQ else []:
            if item.str_at("name") == IMDS and item.get("value") is not None:
                yield item.get("value"), None, item.str_at("value") or ""
        env_vars = node.get("envVars") if node is not None else None
        if env_vars is not None and env_vars.get(IMDS) is not None:
            yield env_vars.get(IMDS), None, env_vars.str_at(IMDS) or ""
    for key, conf in job.conf.items():
        if key.endswith("." + IMDS):
            yield None, conf, conf.value or ""


def uses_ipv6_imds(job: SparkJob) -> bool:
    """The job's driver or executor env sets the IPv6 IMDS endpoint mode (the SDKs read it
    case-insensitively)."""
    return any(value.strip().lower() == "ipv6" for _node, _conf, value in _imds_values(job))


@rule("SPK006", "invalid-imds-endpoint-mode", "error",
      fix="safe", languages=LANGS, platforms=("aws",), references=(EKS_IMDS,))
def invalid_imds_endpoint_mode(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` is neither IPv4 nor IPv6.

    Why:
        The SDKs accept IPv4 or IPv6 (case-insensitively); anything else is an error or ignored.

    Example:
        - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
          value: IP6   # bad: IPv6

    Fix:
        canonical `IPv6`/`IPv4`
    """
    for job in _jobs(doc):
        for node, conf, value in _imds_values(job):
            if value.strip().lower() in ("ipv4", "ipv6"):
                continue
            fixed = "IPv6" if "6" in value else "IPv4" if "4" in value else None
            start, end = (node.start, node.end) if node is not None else (conf.start, conf.end)
            edit = (replace_scalar(node, fixed) if node is not None else conf.replace(doc.source, fixed)) if fixed else None
            yield Finding(start, end, f"{job.label}: `{IMDS}` is {value!r}; the AWS SDKs accept only IPv4 or IPv6 "
                                      f"and fall back to IPv4", Fix.safe(f"Use `{fixed}`", edit))


@rule("SPK007", "imds-ipv6-not-enabled-on-nodes", "error",
      fix="safe", kinds=("karpenter.k8s.aws/*/EC2NodeClass",), profiles=("ipv6",), platforms=("aws",),
      references=("https://karpenter.sh/docs/concepts/nodeclasses/#specmetadataoptions",))
def imds_ipv6_not_enabled_on_nodes(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Jobs use the IPv6 IMDS endpoint but a Karpenter EC2NodeClass leaves `httpProtocolIPv6` disabled.

    Why:
        The IPv6 IMDS endpoint exists only when the instance's metadata options enable it; Karpenter's
        EC2NodeClass defaults `httpProtocolIPv6` to disabled.

    Example:
        spec:
          metadataOptions:
            httpProtocolIPv6: enabled

    Fix:
        set `enabled` in the node class
    """
    facts = profile.facts
    if facts is None or not facts.imds_ipv6_jobs or doc.root is None:
        return
    spec = doc.root.get("spec")
    if spec is None or spec.kind != MAP:
        return
    options = spec.get("metadataOptions")
    value = options.get("httpProtocolIPv6") if options is not None and options.kind == MAP else None
    if value is not None and (value.text or "").lower() == "enabled":
        return
    if value is not None:
        where, edits = (value.start, value.end), [replace_scalar(value, "enabled")]
    elif options is not None and options.kind == MAP and options.entries():
        key = spec.entry("metadataOptions")[0]
        where, edits = (key.start, key.end), [insert_entries(doc.source, options, [("httpProtocolIPv6", "enabled")], doc.root)]
    else:
        key = doc.root.entry("spec")[0]
        where = (key.start, key.end)
        edits = [insert_entries(doc.source, spec, [("metadataOptions", {"httpProtocolIPv6": "enabled"})], doc.root)] \
            if options is None else None
    yield Finding(*where, f"{doc.object_name}: IMDS over IPv6 is not enabled (`metadataOptions.httpProtocolIPv6` "
                          f"defaults to disabled), but Spark jobs use the IPv6 IMDS endpoint (e.g. "
                          f"{facts.imds_ipv6_jobs[0]})", Fix.safe("Set `httpProtocolIPv6: enabled`", edits))


def _java_options(job: SparkJob, role: str) -> str:
    node = job.role(role)
    java = node.str_at("javaOptions") if node is not None else None
    return " ".join(filter(None, [java, job.value(JAVA_KEYS[role])]))


def _wants_ipv6_first(job: SparkJob) -> bool:
    """The job's driver Service puts IPv6 first: on a dual-stack cluster it means to use IPv6."""
    families = _families(job.value(FAMILIES))
    return bool(families) and families[0] == "IPv6"


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
        key = job.spec.entry(role)[0]
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
        key = job.spec.entry("driver")[0]
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
        if java is None or extra is None or java.text is None:
            continue
        merged = java.text.split() + [t for t in (extra.value or "").split() if t not in java.text.split()]
        yield Finding(extra.entry_start, extra.entry_end,
                      f"{job.label}: `{JAVA_KEYS[role]}` is set while the {role} has javaOptions; the operator "
                      f"writes javaOptions into the same property and this value is lost",
                      Fix.safe("Merge it into javaOptions",
                           replace_scalar(java, " ".join(merged)),
                            delete_entry(doc.source, job.spec.get("sparkConf"), JAVA_KEYS[role])))


@rule("SPK011", "env-without-webhook", "error", fix="none", kinds=SPARK_APPS, references=(OPERATOR_API,))
def env_without_webhook(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`driver.env`/`executor.env` while the operator's Helm values disable the webhook.

    Why:
        The Spark operator applies `env` through its mutating admission webhook; with `webhook.enable: false`
        the variables (the IMDS endpoint mode among them) are silently dropped.

    Example:
        # values.yaml
        webhook:
          enable: true
    """
    facts = profile.facts
    if facts is None or not facts.webhook_disabled:
        return
    for job, role, node in _roles(doc):
        found = node.entry("env")
        if found is not None:
            yield Finding(found[0].start, found[0].end,
                          f"{job.label}: the {role}'s `env` is applied by the operator's mutating webhook, "
                          f"which is disabled ({facts.webhook_disabled}); these variables are silently dropped")


def _is_operator_values(doc: Document) -> bool:
    root = doc.root
    return (doc.language == "yaml" and not doc.is_kubernetes and root is not None and root.kind == MAP
            and root.get("controller") is not None and root.get("webhook") is not None
            and root.get("spark") is not None)


@rule("SPK012", "operator-jvm-prefers-ipv4", "warning",
      fix="safe", profiles=("dual",), maturity="preview",
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
    controller = doc.root.get("controller")
    if controller.kind != MAP:
        return
    env = controller.get("env")
    for item in env.items() if env is not None and env.kind == SEQ else []:
        if item.str_at("name") in ("_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS") and PREFER_V6 in (item.str_at("value") or ""):
            return
    key = doc.root.entry("controller")[0]
    edits = add_env(doc, controller, "JAVA_TOOL_OPTIONS", Styled(PREFER_V6, '"')) if controller.entries() else None
    yield Finding(key.start, key.end,
                  f"spark-operator values: the `spark-submit` JVMs the controller launches do not prefer IPv6 (no "
                  f"`{PREFER_V6}` in `controller.env` `_JAVA_OPTIONS`/`JAVA_TOOL_OPTIONS`); on this dual-stack "
                  f"cluster their Kubernetes client may pick IPv4",
                  Fix.safe("Add JAVA_TOOL_OPTIONS to controller.env", edits))


@rule("SPK013", "deprecated-env-vars", "info", fix="unsafe", kinds=SPARK_APPS, references=(OPERATOR_API,))
def deprecated_env_vars(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`envVars` / `envSecretKeyRefs` (deprecated in v1beta2).

    Why:
        These fields are deprecated in favour of `env`, which is where IPv6 settings such as the IMDS endpoint
        mode belong.

    Example:
        envVars:
          A: b        # becomes
        env:
          - name: A
            value: b

    Fix:
        convert `envVars` to `env` (when there is no `env` yet)
    """
    for job, role, node in _roles(doc):
        for key_name in ("envVars", "envSecretKeyRefs"):
            found = node.entry(key_name)
            if found is None:
                continue
            key, value = found
            fix = None
            if key_name == "envVars" and node.get("env") is None and value.kind == MAP and value.entries():
                env = [{"name": k.value, "value": v.text or ""} for k, v in value.entries()]
                at = entry_index(node, "envVars")
                fix = Fix.unsafe("Convert envVars to env",
                           delete_entry(doc.source, node, "envVars"),
                            insert_entries(doc.source, node, [("env", env)], doc.root, at=at))
            yield Finding(key.start, key.end,
                          f"{job.label}: the {role}'s `{key_name}` is deprecated in v1beta2; use `env`", fix)


IPV4_STACK = "-Djava.net.preferIPv4Stack=true"


@rule("SPK014", "ipv4-wildcard-bind", "warning",
      fix="none", languages=LANGS, profiles=("ipv6", "dual"), maturity="preview",
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
