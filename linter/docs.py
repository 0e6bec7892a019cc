"""Render docs/rules.md from rule metadata: `python -m v6lint.docs > docs/rules.md`."""
from __future__ import annotations

from v6lint.rule import Rule
from v6lint.rules import ALL_RULES

FAMILIES = {
    "SVC": "Kubernetes Service dual-stack API",
    "LB": "AWS Load Balancer Controller and in-tree load balancers",
    "SPK": "Spark on Kubernetes",
    "CNI": "Amazon VPC CNI",
    "NODE": "Instances, Nitro and max pods",
    "EKS": "eksctl ClusterConfig",
    "KADM": "kubeadm and kind dual-stack configuration",
    "NET": "IPv4 assumptions in workloads",
    "TF": "Terraform variables and modules",
    "PRF": "The cluster profile",
    "V6L": "Notices from v6lint itself",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _section(rule: Rule) -> list[str]:
    fix = rule.fix + (f": {rule.fix_note}" if rule.fix_note else "")
    lines = [
        f"### {rule.code} {rule.name}", "", rule.summary, "",
        f"- Severity: {rule.severity}",
        f"- Fix: {fix}",
        f"- Cluster profile: {', '.join(rule.profiles) or 'any'}",
        f"- Platform: {', '.join(rule.platforms) or 'any'}",
        f"- Maturity: {rule.maturity}" + (" (opt-in: `--preview`, or select it by exact code)"
                                           if rule.maturity == "preview" else ""),
    ]
    if rule.rejected_by:
        lines.append(f"- Rejected by: {rule.rejected_by} (`v6lint plan` classes its errors as rejected)")
    if rule.kinds:
        lines.append(f"- Applies to: {', '.join(f'`{k}`' for k in rule.kinds)}")
    lines += ["", rule.why.strip(), "", "```yaml", rule.example.strip("\n"), "```"]
    if rule.references:
        lines += ["", "References: " + ", ".join(f"<{ref}>" for ref in rule.references)]
    return lines


def render_reference() -> str:
    out = ["# v6lint rule reference", "",
           "Generated from the rules' metadata by `python -m v6lint.docs > docs/rules.md` (a test fails when "
           "it is out of date); `v6lint rule CODE` prints the same facts.", "",
           "Preview rules (maturity `preview`) run only with `--preview` (config `preview = true`) or when "
           "selected by exact code.", "",
           "| code | name | maturity | severity | fix | profile | summary |", "|---|---|---|---|---|---|---|"]
    for rule in ALL_RULES:
        out.append(f"| [{rule.code}](#{rule.code.lower()}-{rule.name}) | {rule.name} | {rule.maturity} | {rule.severity} | "
                   f"{rule.fix} | {', '.join(rule.profiles) or 'any'} | {_cell(rule.summary)} |")
    family = None
    for rule in ALL_RULES:
        if rule.family != family:
            family = rule.family
            out += ["", f"## {family}: {FAMILIES.get(family, family)}"]
        out += [""] + _section(rule)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
