"""SPK rules on the Spark operator: env that needs its webhook, and its deprecated env fields."""
from __future__ import annotations

from typing import Iterator

from v6lint.diagnostics import Finding, Fix
from v6lint.document import MAP, Document
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import delete_entry, entry_index, insert_entries
from v6lint.rules.views import SPARK_APPS
from v6lint.rules.spk.common import (OPERATOR_API, _roles)


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
