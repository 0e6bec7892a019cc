"""`v6lint plan`: what breaks if a project moves to IPv6 or dual-stack.

Each file is parsed once and judged twice (engine.judge): by its project's profile and by the same
profile with the target family; where the project pins an AWS Load Balancer Controller version, a
third time with no pin (as for a current controller). The plan is every finding under the target,
each marked `new` when the current profile does not show it. Findings are grouped by project, then
deployable unit, then class; units come in the order the work must be done (what must change before
the cluster flips, the switch itself, then workloads). Everything here is derived: the class from
the severity and `Rule.rejected_by`, the fix coverage from the finding's fix, the phase from the
rule's family, or "cluster" for a finding the pinned controller causes.
"""
from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from v6lint.diagnostics import FAMILY_LABELS, Diagnostic
from v6lint.discovery import display_path
from v6lint.rules import BY_CODE
from v6lint.sources import language_of

TARGETS = ("ipv6", "dual")
CLASSES = ("rejected", "breaks", "degrades")
CLASS_LABEL = {"rejected": "rejected", "breaks": "breaks at run time", "degrades": "degrades"}
FIXES = ("safe", "unsafe", "manual")
# The order of the work. "cluster": what must change before the cluster flips: its own configuration
# (Terraform, eksctl, kubeadm, the VPC CNI, nodes) and the AWS Load Balancer Controller version.
# "switch": the profile sources that say the family (the tfvars flag...), which PRF001 reports once
# the target disagrees with them: the flip itself. "workloads": what runs on the cluster, changed
# with the flip (a fix for the target is wrong for the family the cluster has until then).
PHASES = ("cluster", "switch", "workloads")
PHASE_LABEL = {"switch": "the switch", "cluster": "before the cluster flips", "workloads": "workloads"}
CONTROLLER = "load balancer controller"  # the unit of findings an old pinned controller causes
_PHASE_OF_FAMILY = {"PRF": "switch", "TF": "cluster", "EKS": "cluster", "KADM": "cluster", "CNI": "cluster",
                    "NODE": "cluster"}
JSON_VERSION = 1
_SPARK_JOB = re.compile(r"^kind:[ \t]*[\"']?(?:Scheduled)?SparkApplication\b", re.MULTILINE)


def target_profile(profile, target: str):
    """The project's profile (platform, facts, sources) with the target family."""
    return replace(profile, ip_family=target, source=f"plan --to {target}")


def without_controller_pin(profile):
    """The profile with no AWS Load Balancer Controller version pinned (`facts.lbc_version`, read from
    its Deployment image or Helm values), so that the LB rules judge as for a current controller; None
    when the project pins none."""
    facts = profile.facts
    if facts is None or facts.lbc_version is None:
        return None
    return replace(profile, facts=replace(facts, lbc_version=None))


def needs_controller(diag: Diagnostic, upgraded: dict[tuple, str] | None) -> bool:
    """Whether a finding is the pinned controller's doing: upgrading it makes the finding go, or makes
    possible a fix the old one rules out. `upgraded`: (code, start, end) -> fix coverage of the
    findings with no pin."""
    if upgraded is None:
        return False
    after = upgraded.get((diag.code, diag.start, diag.end))
    return after is None or (fix_of(diag) == "manual" and after != "manual")


def class_of(diag: Diagnostic) -> str:
    if diag.severity != "error":
        return "degrades"
    rule = BY_CODE.get(diag.code)
    return "rejected" if rule is not None and rule.rejected_by else "breaks"


def fix_of(diag: Diagnostic) -> str:
    if diag.fix is None or not diag.fix.edits:
        return "manual"
    return "unsafe" if diag.fix.applicability == "unsafe" else "safe"


def phase_of(code: str) -> str:
    return _PHASE_OF_FAMILY.get(code.rstrip("0123456789"), "workloads")


def unit_of(relative: str, root: Path, text: str) -> tuple[str, str]:
    """(unit path relative to the project root, kind) for a file. A Terraform stack is its folder; a
    chart or kustomization is the nearest folder holding Chart.yaml / kustomization.yaml; a file of
    Spark jobs (SparkApplication YAML, PySpark code, spark-defaults.conf) is a unit of its own; other
    manifests are grouped by folder."""
    parts = relative.split("/")
    folder = "/".join(parts[:-1]) or "."
    name = parts[-1]
    language = language_of(name)
    if language in ("hcl", "tfvars-json"):
        return folder, "terraform stack"
    for depth in range(len(parts) - 1, -1, -1):
        here = root.joinpath(*parts[:depth])
        if (here / "Chart.yaml").is_file():
            return "/".join(parts[:depth]) or ".", "chart"
        if (here / "kustomization.yaml").is_file() or (here / "kustomization.yml").is_file():
            return "/".join(parts[:depth]) or ".", "kustomization"
    if language in ("python", "notebook", "spark-conf") or _SPARK_JOB.search(text):
        return relative, "spark job"
    return folder, "manifests"


@dataclass
class Item:
    diag: Diagnostic
    new: bool  # only under the target (not under the current profile)
    controller: bool = False  # caused by the project's old AWS Load Balancer Controller (needs_controller)

    @property
    def cls(self) -> str:
        return class_of(self.diag)

    @property
    def fix(self) -> str:
        return fix_of(self.diag)

    @property
    def phase(self) -> str:
        return "cluster" if self.controller else phase_of(self.diag.code)

    def as_json(self) -> dict:
        d = self.diag
        rule = BY_CODE.get(d.code)
        return {"code": d.code, "name": d.name, "class": self.cls, "fix": self.fix, "phase": self.phase,
                "new": self.new, "severity": d.severity, "rejected_by": rule.rejected_by if rule else "",
                "message": d.message, "path": d.path, "line": d.start_line, "column": d.start_column,
                "end_line": d.end_line, "end_column": d.end_column, "url": d.url}


def _counts(items: list[Item]) -> dict:
    return {"findings": len(items), "new": sum(i.new for i in items),
            "classes": {c: sum(i.cls == c for i in items) for c in CLASSES},
            "fixes": {f: sum(i.fix == f for i in items) for f in FIXES}}


@dataclass
class Unit:
    path: str
    kind: str
    items: list[Item] = field(default_factory=list)
    pinned: tuple[str, str] | None = None  # a controller unit: (version, "path:line" of the pin)

    @property
    def phase(self) -> str:
        return min((i.phase for i in self.items), key=PHASES.index, default="workloads")


@dataclass
class ProjectPlan:
    root: Path
    current: str | None  # the family now
    current_source: str | None
    target: str
    platform: str | None
    platform_source: str | None
    units: list[Unit] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)  # files that could not be read or parsed

    @property
    def items(self) -> list[Item]:
        return [i for u in self.units for i in u.items]


def _relative(path: str, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def project_plan(project, target: str, judged) -> ProjectPlan:
    """`judged`: (source, current diagnostics, target diagnostics, target diagnostics with no
    controller pin or None) for each file of the project."""
    profile = project.profile
    plan = ProjectPlan(project.root, profile.ip_family, profile.source, target, profile.platform,
                       profile.platform_source)
    units: dict[tuple[str, str], Unit] = {}
    pin = profile.facts.lbc_version if profile.facts is not None else None
    for source, current, under_target, unpinned in judged:
        if any(d.code in ("V6L900", "V6L902", "V6L904", "V6L905") for d in under_target):
            plan.not_judged.append(source.path if source is not None else "?")
        if source is None:
            continue
        now = {(d.code, d.start, d.end, d.message) for d in current}
        upgraded = None if unpinned is None else {(d.code, d.start, d.end): fix_of(d) for d in unpinned}
        items = [Item(d, (d.code, d.start, d.end, d.message) not in now, needs_controller(d, upgraded))
                 for d in under_target if not d.code.startswith("V6L")]
        if not items:
            continue
        key = unit_of(_relative(source.abspath or source.path, project.root), project.root, source.text)
        for item in items:
            if item.controller:  # the work is on the controller's pin, before the flip
                assert pin is not None  # (only a pinned controller's findings are its doing)
                where = (_relative(pin[1].rsplit(":", 1)[0], project.root), CONTROLLER)
                units.setdefault(where, Unit(*where, pinned=pin)).items.append(item)
            else:
                units.setdefault(key, Unit(*key)).items.append(item)
    for unit in units.values():
        unit.items.sort(key=lambda i: (PHASES.index(i.phase), CLASSES.index(i.cls), i.diag.path, i.diag.start,
                                       i.diag.code))
    plan.units = sorted(units.values(), key=lambda u: (PHASES.index(u.phase), u.path))
    return plan


# --- JSON ---------------------------------------------------------------------------------------
def _applied_json(d: Diagnostic) -> dict:
    return {"code": d.code, "name": d.name, "path": d.path, "line": d.start_line, "column": d.start_column,
            "fix": d.fix.message if d.fix else ""}


def as_json(plans: list[ProjectPlan], target: str, applied: list[Diagnostic] | None = None) -> dict:
    """The documented shape (docs/plan.md); `version` changes when a field changes meaning. With
    `applied` (a `plan --fix` run), the fixes written, and the plans are those made after them."""
    every = [i for p in plans for i in p.items]
    return {
        "version": JSON_VERSION, "target": target,
        "summary": {"projects": len(plans), "units": sum(len(p.units) for p in plans), **_counts(every)},
        "projects": [{
            "root": display_path(p.root), "current": {"ip_family": p.current, "source": p.current_source},
            "target": p.target, "platform": {"platform": p.platform, "source": p.platform_source},
            "summary": _counts(p.items), "not_judged": p.not_judged,
            "units": [{"path": u.path, "kind": u.kind, "phase": u.phase, "step": n,
                       **({"pinned": {"version": u.pinned[0], "at": u.pinned[1]}} if u.pinned else {}),
                       "summary": _counts(u.items), "findings": [i.as_json() for i in u.items]}
                      for n, u in enumerate(p.units, 1)],
        } for p in plans],
        **({"applied": [_applied_json(d) for d in applied]} if applied is not None else {}),
    }


def render_json(plans: list[ProjectPlan], target: str, applied: list[Diagnostic] | None = None) -> str:
    return json.dumps(as_json(plans, target, applied), indent=2) + "\n"


# --- text ---------------------------------------------------------------------------------------
def _line(counts: dict) -> str:
    classes = ", ".join(f"{counts['classes'][c]} {CLASS_LABEL[c]}" for c in CLASSES if counts["classes"][c])
    fixes = ", ".join(f"{counts['fixes'][f]} {f}" for f in FIXES if counts["fixes"][f])
    return f"{classes}; fixes: {fixes}" if classes else "nothing"


def _clean(text: str) -> str:
    """No control characters from files reach the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def render_text(plans: list[ProjectPlan], target: str, fixed: int | None = None) -> str:
    """The plan for a person; `fixed`: the number of fixes `plan --fix` applied (None: not a fix run;
    then what --fix would do ends it, else render_after_fix says what it did)."""
    label = FAMILY_LABELS[target]
    out = [f"Plan: moving to {label}" + (f" (after --fix applied {fixed} fixes)" if fixed is not None else "")]
    for plan in plans:
        counts = _counts(plan.items)
        now = f"{FAMILY_LABELS.get(plan.current or '', 'unknown')}" + (f" per {plan.current_source}" if plan.current_source
                                                                   else "")
        platform = plan.platform or "unknown"
        out += ["", _clean(f"Project {display_path(plan.root)}: now {now}; platform {platform}"),
                f"  {counts['findings']} findings under {label} ({counts['new']} new): {_line(counts)}"]
        if plan.current is None:
            out.append(f"  (no source says the family today: nothing to switch; say it with [cluster] ip-family once "
                       f"the cluster is {label})")
        if plan.platform is None:
            out.append("  (platform unknown: rules about AWS components did not run; give --platform aws)")
        step = 0
        for phase in PHASES:  # in order; per phase one line per rule, not per unit (the JSON has units)
            units = [u for u in plan.units if u.phase == phase]
            if not units:
                continue
            step += 1
            items = [i for u in units for i in u.items]
            kinds = ", ".join(dict.fromkeys(u.kind for u in units))
            out.append(_clean(f"  {step}. {PHASE_LABEL[phase]}: {len(units)} unit(s) ({kinds}): {_line(_counts(items))}"))
            out += [_clean(f"     {_upgrade(u)}") for u in units if u.pinned]
            by_code: dict[str, list[Item]] = {}
            for item in items:
                by_code.setdefault(item.diag.code, []).append(item)
            for code, found in by_code.items():
                first = found[0]
                rule = BY_CODE.get(code)
                where = ", ".join(f"{i.diag.path}:{i.diag.start_line}" for i in found[:3]) + (
                    f" and {len(found) - 3} more" if len(found) > 3 else "")
                new = "new" if all(i.new for i in found) else "now too" if not any(i.new for i in found) else "mixed"
                fixes = "/".join(f for f in FIXES if any(i.fix == f for i in found))
                what = first.diag.message if len(found) == 1 else rule.summary if rule else ""
                out.append(_clean(f"     {code} x{len(found)} {CLASS_LABEL[first.cls]}, {fixes}, {new}: {what} ({where})"))
        if plan.not_judged:
            out.append(_clean(f"  not judged (unreadable or not parsed): {', '.join(plan.not_judged[:5])}"))
    counts = _counts([i for p in plans for i in p.items])
    out.append("")
    if fixed is None:
        out.append(f"{counts['fixes']['safe']} fixable with `v6lint plan --to {target} --fix`, "
                   f"{counts['fixes']['unsafe']} more with --unsafe-fixes, {counts['fixes']['manual']} manual.")
    return "\n".join(out) + "\n"


def _upgrade(unit: Unit) -> str:
    assert unit.pinned is not None  # (called for controller units only)
    codes = ", ".join(dict.fromkeys(i.diag.code for i in unit.items))
    return (f"upgrade the AWS Load Balancer Controller v{unit.pinned[0]} pinned at {unit.pinned[1]} "
            f"({codes} depend on it)")


def render_after_fix(plans: list[ProjectPlan], applied: list[Diagnostic], unsafe: bool) -> str:
    """What `plan --fix` did and did not do: each fix it applied (positions as before the fixes),
    the fixes it left (unsafe ones without --unsafe-fixes, or any that could not be written), and
    what remains manual. `plans`: the plan made again after the fixes."""
    lines = [f"Applied {len(applied)} fix(es) in {len({d.path for d in applied})} file(s)" + (":" if applied else ".")]
    lines += [_clean(f"  {d.path}:{d.start_line}: {d.code} {d.fix.message if d.fix else ''}") for d in applied]
    rest = [i for p in plans for i in p.items]
    for kind, why in (("safe", "not applied (see the messages above)"),
                      ("unsafe", "not applied: unsafe fixes change behaviour; review them, then rerun with "
                                 "--unsafe-fixes" if not unsafe else "not applied (see the messages above)")):
        left = [i for i in rest if i.fix == kind]
        if left:
            lines.append(f"{len(left)} {kind} fix(es) {why}:")
            lines += [_clean(f"  {i.diag.path}:{i.diag.start_line}: {i.diag.code} {i.diag.fix.message}")
                      for i in left if i.diag.fix is not None]  # (all: their fix is safe or unsafe)
    manual = [i for i in rest if i.fix == "manual"]
    if not manual:
        lines.append("Nothing remains to change by hand.")
    else:
        lines.append(f"Remains manual ({len(manual)}):")
        lines += [_clean(f"  {i.diag.path}:{i.diag.start_line}: {i.diag.code} [{CLASS_LABEL[i.cls]}] {i.diag.message}")
                  for i in manual]
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:70em;color:#1d2430;
padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}h3{font-size:1.05em}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ccd;border-radius:6px;padding:.6em 1em;min-width:8em}
.card b{display:block;font-size:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}td,th{border:1px solid #dde;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f3f4f8}
.rejected{color:#a40000}.breaks{color:#b35900}.degrades{color:#5a5a00}.new{font-weight:bold}
code{font-family:ui-monospace,Menlo,Consolas,monospace}details{margin:.3em 0}pre{white-space:pre-wrap}
.phase{font-size:.85em;color:#555}
"""
_COLORS = {"rejected": "#c0392b", "breaks": "#e67e22", "degrades": "#c9b800"}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _chart(plan: ProjectPlan) -> str:
    """Stacked bars, one per unit, of its findings by class: inline SVG."""
    if not plan.units:
        return ""
    top = max(len(u.items) for u in plan.units)
    row, label_w, bar_w = 24, 260, 420
    height = row * len(plan.units) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 60}" height="{height}" '
             f'aria-label="findings per unit and class">']
    for n, unit in enumerate(plan.units):
        y = n * row + 4
        name = unit.path if len(unit.path) <= 36 else "..." + unit.path[-33:]
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{_e(name)}</text>')
        x = label_w
        for cls in CLASSES:
            count = sum(i.cls == cls for i in unit.items)
            if not count:
                continue
            w = max(2, round(bar_w * count / top))
            parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="18" fill="{_COLORS[cls]}">'
                         f'<title>{_e(CLASS_LABEL[cls])}: {count}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6}" y="{y + 14}" font-size="12">{len(unit.items)}</text>')
    legend_y = row * len(plan.units) + 20
    x = label_w
    for cls in CLASSES:
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" fill="{_COLORS[cls]}"/>'
                     f'<text x="{x + 14}" y="{legend_y}" font-size="12">{_e(CLASS_LABEL[cls])}</text>')
        x += 140
    parts.append("</svg>")
    return "".join(parts)


def _file_link(item: Item) -> str:
    d = item.diag
    where = f"{d.path}:{d.start_line}:{d.start_column}"
    absolute = os.path.abspath(d.path)
    return f'<a href="file://{_e(quote(absolute))}">{_e(where)}</a>'


def render_html(plans: list[ProjectPlan], target: str, applied: list[Diagnostic] | None = None) -> str:
    data = as_json(plans, target, applied)
    s = data["summary"]
    cards = [("findings", s["findings"]), ("new", s["new"]),
             *((f"class-{c}", s["classes"][c]) for c in CLASSES), *((f"fix-{f}", s["fixes"][f]) for f in FIXES)]
    titles = {"findings": f"findings under {FAMILY_LABELS[target]}", "new": "new under the target",
              **{f"class-{c}": CLASS_LABEL[c] for c in CLASSES}, **{f"fix-{f}": f"{f} fix" for f in FIXES}}
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "img-src data:\">",
           f"<title>v6lint plan: moving to {_e(FAMILY_LABELS[target])}</title><style>{_CSS}</style></head><body>",
           f"<h1>v6lint plan: what changes when moving to {_e(FAMILY_LABELS[target])}</h1>",
           '<section id="summary"><div class="cards">']
    out += [f'<div class="card"><b data-summary="{key}">{value}</b>{_e(titles[key])}</div>' for key, value in cards]
    out.append(f'</div><p>{s["projects"]} project(s), {s["units"]} unit(s). Units are listed in the order to change '
               f'them: what must change before the cluster flips, then the switch, then workloads.</p>'
               f'</section>')
    if applied is not None:
        out.append(f'<section id="applied"><h2>Applied by --fix: <span data-applied>{len(applied)}</span></h2>'
                   f'<p>The plan below is what remains.</p><table><tr><th>where</th><th>rule</th><th>fix</th></tr>')
        out += [f'<tr><td>{_e(a["path"])}:{a["line"]}:{a["column"]}</td><td>{_e(a["code"])} {_e(a["name"])}</td>'
                f'<td>{_e(a["fix"])}</td></tr>' for a in data["applied"]]
        out.append("</table></section>")
    codes: list[str] = []
    for plan in plans:
        now = FAMILY_LABELS.get(plan.current or "", "unknown") + (f" per {plan.current_source}" if plan.current_source else "")
        out.append(f"<h2>Project {_e(display_path(plan.root))}</h2><p>Now {_e(now)}; platform "
                   f"{_e(plan.platform or 'unknown')}. {_e(_line(_counts(plan.items)))}</p>")
        out.append(_chart(plan))
        for step, unit in enumerate(plan.units, 1):
            c = _counts(unit.items)
            out.append(f'<h3>{step}. {_e(unit.path)} <span class="phase">({_e(unit.kind)}; '
                       f'{_e(PHASE_LABEL[unit.phase])})</span></h3><p>{_e(_line(c))}</p>')
            if unit.pinned:
                out.append(f"<p>{_e(_upgrade(unit)[0].upper() + _upgrade(unit)[1:])}.</p>")
            out.append("<table><tr><th>where</th><th>rule</th><th>class</th><th>fix</th><th>new</th>"
                       "<th>message</th></tr>")
            for item in unit.items:
                d = item.diag
                if d.code not in codes:
                    codes.append(d.code)
                out.append(f'<tr><td>{_file_link(item)}</td><td><a href="#rule-{_e(d.code)}">{_e(d.code)}</a> '
                           f'{_e(d.name)}</td><td class="{item.cls}">{_e(CLASS_LABEL[item.cls])}</td>'
                           f'<td>{_e(item.fix)}</td><td class="{"new" if item.new else ""}">'
                           f'{"new" if item.new else "now too"}</td><td>{_e(d.message)}</td></tr>')
            out.append("</table>")
        if plan.not_judged:
            out.append(f"<p>Not judged (unreadable or not parsed): {_e(', '.join(plan.not_judged))}</p>")
    if codes:
        out.append("<h2>Rules</h2>")
        for code in codes:
            rule = BY_CODE.get(code)
            if rule is not None:
                out.append(f'<details id="rule-{_e(code)}"><summary>{_e(code)} {_e(rule.name)}: '
                           f'{_e(rule.summary)}</summary><pre>{_e(rule.explain())}</pre></details>')
    out.append("</body></html>\n")
    return "\n".join(out)
