"""SPK: Spark on Kubernetes (SparkApplication, spark-defaults.conf, spark-submit, PySpark).

Facts: Spark's running-on-kubernetes.md and Config.scala (`spark.kubernetes.driver.service.
ipFamilies` defaults to IPv4 and `ipFamilyPolicy` to SingleStack, both since 3.4.0, values
checked exactly); the AWS SDKs' IMDS endpoint mode; the Spark operator's v1beta2 API.
"""
from __future__ import annotations

import re
from typing import Iterator

from v6lint.document import MAP, SEQ, Document, Node
from v6lint.rule import Needles, Profile
from v6lint.rules.views import ROLES, SparkJob, spark_jobs

FAMILIES = "spark.kubernetes.driver.service.ipFamilies"
POLICY = "spark.kubernetes.driver.service.ipFamilyPolicy"
FAMILY_VALUES = ("IPv4", "IPv6", "IPv4,IPv6", "IPv6,IPv4")
POLICY_VALUES = ("SingleStack", "PreferDualStack", "RequireDualStack")
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


def _canonical(value: str, choices: tuple[str, ...]) -> str | None:
    squeezed = ",".join(p.strip() for p in value.split(",")).lower()
    return next((c for c in choices if c.lower() == squeezed), None)


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
    return (image, found) if found and image is not None else None


def _image_version(image: str | None) -> tuple[int, int, int] | None:
    """The Spark version of an image whose name says spark and whose tag starts with one (`apache/spark:3.3.2`)."""
    name, _, tag = (image or "").rpartition(":")
    if "spark" not in name.rsplit("/", 1)[-1] or "/" in tag:
        return None
    found = _version(tag)
    return found if found and found[0] >= 2 else None


def role_env(job: SparkJob, role: str) -> dict[str, str | None]:
    """A role's environment from `env`, `envVars` and the sparkConf env keys."""
    out: dict[str, str | None] = {}
    node = job.role(role)
    if node is not None:
        env = node.get("env")
        for item in env.items() if env is not None and env.kind == SEQ else []:
            if name := item.str_at("name"):
                out[name] = item.str_at("value")
        env_vars = node.get("envVars")
        for k, v in env_vars.entries() if env_vars is not None and env_vars.kind == MAP else []:
            out[k.value] = v.text
    prefix = ENV_KEYS[role]
    for key, conf in job.conf.items():
        if key.startswith(prefix):
            out[key[len(prefix):]] = conf.value
    return out


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


def _java_options(job: SparkJob, role: str) -> str:
    node = job.role(role)
    java = node.str_at("javaOptions") if node is not None else None
    return " ".join(filter(None, [java, job.value(JAVA_KEYS[role])]))


def _wants_ipv6_first(job: SparkJob) -> bool:
    """The job's driver Service puts IPv6 first: on a dual-stack cluster it means to use IPv6."""
    families = _families(job.value(FAMILIES))
    return bool(families) and families[0] == "IPv6"


# _is_operator_values needs all three root keys written in the file.
OPERATOR_VALUES_TEXT = Needles((("controller", "webhook", "spark"),))


def _is_operator_values(doc: Document) -> bool:
    root = doc.root
    return (doc.language == "yaml" and not doc.is_kubernetes and root is not None and root.kind == MAP
            and root.get("controller") is not None and root.get("webhook") is not None
            and root.get("spark") is not None)


IPV4_STACK = "-Djava.net.preferIPv4Stack=true"


