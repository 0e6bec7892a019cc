"""SPK rules on instance metadata (IMDS): the SDKs' endpoint mode in driver and executor env, and the nodes' IPv6 endpoint."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.document import MAP, Document
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import insert_entries, replace_scalar
from v6lint.rules.views import ROLES, add_env, imds_values
from v6lint.rules.views import IMDS, SPARK_TEXT
from v6lint.rules.spk.common import (DOE_IPV6, EKS_IMDS, ENV_KEYS, LANGS, _jobs, role_env, uses_aws,
    web_identity)


@rule("SPK005", "missing-imds-endpoint-mode", "warning",
      fix="unsafe", languages=LANGS, yaml_gate=SPARK_TEXT, profiles=("ipv6",), platforms=("aws",), maturity="preview",
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
        add the env entry to both roles; uncomment it where the file has it commented out. Unsafe: the
        SDK then calls only the IPv6 endpoint, which answers only on nodes whose metadata options enable
        it (EC2 `HttpProtocolIpv6` defaults to disabled, Karpenter's EC2NodeClass too: SPK007), while
        169.254.169.254 may work today through the node's IPv4 egress
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
                              Fix.unsafe(f"Set {IMDS}=IPv6 for {' and '.join(missing)}",
                                   job.add([(ENV_KEYS[r] + IMDS, "IPv6") for r in missing])))
            continue
        for role in ROLES:
            node = job.role(role)
            if node is None or IMDS in role_env(job, role):
                continue
            key = job.key_of(role)
            yield Finding(key.start, key.end,
                          f"{job.label}: the {role} has no `{IMDS}=IPv6`; the AWS SDK inside Spark then calls IMDS "
                          f"at 169.254.169.254, which IPv6 pods may not reach, and S3 access fails",
                          Fix.unsafe(f"Add {IMDS}=IPv6 to the {role}'s env", add_env(doc, node, IMDS, "IPv6")))


@rule("SPK006", "invalid-imds-endpoint-mode", "error",
      fix="safe", languages=LANGS, yaml_gate=SPARK_TEXT, platforms=("aws",), references=(EKS_IMDS,))
def invalid_imds_endpoint_mode(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` is neither IPv4 nor IPv6.

    Why:
        The SDKs accept IPv4 or IPv6 (case-insensitively) and refuse anything else (boto/botocore@e34b6a36
        botocore/utils.py resolve_imds_endpoint_mode raises InvalidIMDSEndpointModeError).

    Example:
        - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
          value: IP6   # bad: IPv6

    Fix:
        canonical `IPv6`/`IPv4`
    """
    for job in _jobs(doc):
        for node, conf, value in imds_values(job):
            if value.strip().lower() in ("ipv4", "ipv6"):
                continue
            fixed = "IPv6" if "6" in value else "IPv4" if "4" in value else None
            span = node if node is not None else conf
            assert span is not None  # (imds_values gives a node or a conf)
            start, end = span.start, span.end
            edit = None if not fixed else replace_scalar(node, fixed) if node is not None else \
                conf.replace(doc.source, fixed) if conf is not None else None
            yield Finding(start, end, f"{job.label}: `{IMDS}` is {value!r}; the AWS SDKs accept only IPv4 or IPv6 "
                                      f"and refuse anything else", Fix.safe(f"Use `{fixed}`", edit))


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
    spec_entry = doc.root.entry("spec")
    spec = spec_entry[1] if spec_entry is not None else None
    if spec_entry is None or spec is None or spec.kind != MAP:
        return
    options_entry = spec.entry("metadataOptions")
    options = options_entry[1] if options_entry is not None else None
    value = options.get("httpProtocolIPv6") if options is not None and options.kind == MAP else None
    if value is not None and (value.text or "").lower() == "enabled":
        return
    edits: list[Edit] | None
    if value is not None:
        where, edits = (value.start, value.end), [replace_scalar(value, "enabled")]
    elif options_entry is not None and options is not None and options.kind == MAP and options.entries():
        key = options_entry[0]
        where, edits = (key.start, key.end), [insert_entries(doc.source, options, [("httpProtocolIPv6", "enabled")], doc.root)]
    else:
        key = spec_entry[0]
        where = (key.start, key.end)
        edits = [insert_entries(doc.source, spec, [("metadataOptions", {"httpProtocolIPv6": "enabled"})], doc.root)] \
            if options is None else None
    yield Finding(*where, f"{doc.object_name}: IMDS over IPv6 is not enabled (`metadataOptions.httpProtocolIPv6` "
                          f"defaults to disabled), but Spark jobs use the IPv6 IMDS endpoint (e.g. "
                          f"{facts.imds_ipv6_jobs[0]})", Fix.safe("Set `httpProtocolIPv6: enabled`", edits))
