"""Rules as units (a check, its metadata and its docs in one place) and the cluster profile they read.

A rule is written as a check function under `@rule(...)`; the decorator's arguments are the metadata
tools read (code, severity, where it applies, fix applicability, upstream references) and the
function's docstring is the documentation people read, in fixed sections:

    One-line summary (may wrap).

    Why:
        What goes wrong and who says so (wrapped prose).

    Example:
        Lines shown verbatim.

    Fix:
        What the fix does (optional).

The engine reports a few notices itself; `notice(...)` gives them the same docstring format.
"""
from __future__ import annotations

import collections
import functools
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, TypedDict

from v6lint.diagnostics import FAMILY_LABELS, Finding, Severity
from v6lint.document import Document
from v6lint.source import SourceFile

if TYPE_CHECKING:  # project.py builds Profiles (it imports this module): a type-only import, no cycle
    from v6lint.project import ProjectFacts

RULES_URL = "https://github.com/v6lint/v6lint/blob/main/docs/rules.md"
IP_FAMILIES = ("ipv4", "ipv6", "dual")
PLATFORMS = ("aws", "other")  # "aws": EKS or self-managed Kubernetes on EC2; "other": kind, bare metal, GKE...


@dataclass(frozen=True)
class ProfileSource:
    """One place in the project that says what the cluster's IP family is."""

    ip_family: str
    kind: str  # "config", "tfvars", "terraform", "variable-default", "eksctl", "kubeadm", "kind", "aws-node"
    location: str  # "path:line" as shown to the user
    abspath: str
    start: int
    end: int
    what: str  # the setting, e.g. `enable_ipv6 = true`


@dataclass(frozen=True)
class PlatformSource:
    """One place in the project that says where the cluster runs ("aws" or "other")."""

    platform: str
    kind: str  # see project.PLATFORM_STRENGTH
    location: str  # "path:line"
    what: str  # the evidence, e.g. `resource "aws_eks_cluster"`


@dataclass(frozen=True)
class Profile:
    """What v6lint knows of the cluster: its IP family, where that came from, and project facts."""

    ip_family: str | None = None  # "ipv4" | "ipv6" | "dual" | None (unknown)
    source: str | None = None  # "path:line" or "--ip-family"
    sources: tuple[ProfileSource, ...] = ()
    facts: ProjectFacts | None = field(default=None, compare=False)
    root: str | None = None
    # Where the cluster runs: "aws", "other" or None (unknown). Rules about AWS components (the VPC
    # CNI, the Load Balancer Controller, EC2 instances, IMDS) run only when it is "aws".
    platform: str | None = None
    platform_source: str | None = None  # "path:line", "--platform" or the config key that decided it
    platform_sources: tuple[PlatformSource, ...] = ()  # every piece of evidence found, strongest first

    @property
    def conflicts(self) -> list[ProfileSource]:
        """Sources that disagree with the chosen family."""
        return [s for s in self.sources if self.ip_family and s.ip_family != self.ip_family]

    def conflicts_in(self, abspath: str | None) -> list[ProfileSource]:
        """The conflicts found in one file, in `conflicts` order; indexed once per profile, so a rule
        asking per document costs no more than its own file's share (not the whole project's)."""
        index = self.__dict__.get("_conflicts_by_path")
        if index is None:
            index = {}
            for conflict in self.conflicts:
                index.setdefault(conflict.abspath, []).append(conflict)
            object.__setattr__(self, "_conflicts_by_path", index)  # a memo, not a field: never saved
        return index.get(abspath, []) if abspath else []

    @property
    def label(self) -> str:
        return FAMILY_LABELS.get(self.ip_family or "", "unknown")

    @property
    def service_families(self) -> tuple[str, ...]:
        """Service IP families the cluster serves (EKS IPv6 is single-stack IPv6 for Services)."""
        return {"ipv4": ("IPv4",), "ipv6": ("IPv6",), "dual": ("IPv4", "IPv6")}.get(self.ip_family or "", ())


Check = Callable[[Document, Profile], Iterable[Finding]]


@dataclass(frozen=True)
class Needles:
    """A necessary condition on a file's text for a rule to find anything in its YAML documents: the
    text holds every string of at least one alternative. A backslash anywhere passes every test: a
    double-quoted YAML scalar can spell any character with an escape. (Without one, a scalar's
    non-blank run is written contiguously: folding turns line breaks into spaces, `''` is a quote.)"""

    alternatives: tuple[tuple[str, ...], ...]

    def __call__(self, source: SourceFile, profile: Profile) -> bool:
        return FileGates(source, profile).open(self)

    def __or__(self, other: Needles) -> Needles:
        return Needles(self.alternatives + other.alternatives)

    def __and__(self, other: Needles) -> Needles:
        return Needles(tuple(a + b for a in self.alternatives for b in other.alternatives))


def contains(*needles: str) -> Needles:
    """The rule finds nothing in a YAML file that holds none of `needles`."""
    return Needles(tuple((n,) for n in needles))


class AnyCase(str):
    """A needle the text holds in any mix of upper and lower case: searched for once, lower-cased, in
    the lower-cased text (where `ipv6` was sixteen searches, one per way of writing it). An ASCII
    word is in the lower-cased text wherever one of its case variants is in the text; the converse
    fails only for the rare characters that lower to ASCII letters (the Kelvin sign), where the gate
    then opens for nothing: a gate may open more often, never less. Never equal to a plain needle of
    the same text (the gates' memos and pools tell them apart)."""

    def __eq__(self, other: object) -> bool:
        return other.__class__ is AnyCase and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((AnyCase, str(self)))


def any_case(word: str) -> Needles:
    """The rule finds nothing in a YAML file without `word` (ASCII) in some mix of upper and lower case
    (it compares values case-insensitively)."""
    assert word.isascii()
    return Needles(((AnyCase(word.lower()),),))


def _within(part: str, needle: str) -> bool:
    """Whether a text holding `needle` surely holds `part` (for AnyGate's pooling)."""
    if needle.__class__ is AnyCase:  # written in any case: so may `part` be
        return part.__class__ is AnyCase and part in needle
    if part.__class__ is AnyCase:
        return needle.isascii() and part in needle.lower()
    return part in needle


@functools.lru_cache(maxsize=None)
def _kind_needles(kinds: tuple[str, ...]) -> Needles | None:
    """A document matches an `apiVersion/kind` pattern only when its text holds each literal part of
    the pattern (`apps/*/Deployment`: `apps` and `Deployment`); None when a pattern has none (`*`)."""
    alternatives = []
    for pattern in kinds:
        parts = tuple(p for p in pattern.split("/") if p and not any(c in p for c in "*?[]"))
        if not parts:
            return None
        alternatives.append(parts)
    return Needles(tuple(alternatives))


# A rule's file gate: False only when the rule cannot find anything in the file's YAML documents.
Gate = Callable[[SourceFile, Profile], bool]


class FileGates:
    """One file's gate answers: each gate asked once, each needle searched for once."""

    __slots__ = ("source", "profile", "escaped", "_found", "_answers", "_lowered")

    def __init__(self, source: SourceFile, profile: Profile):
        self.source, self.profile = source, profile
        self.escaped = "\\" in source.text  # see Needles
        self._found: dict[str, bool] = {}
        self._answers: dict[int, bool] = {}  # by id: gates live as long as the rules
        self._lowered: str | None = None  # the text lower-cased, for AnyCase needles

    def open(self, gate: Gate) -> bool:
        answer = self._answers.get(id(gate))
        if answer is None:
            if gate.__class__ is Needles:
                answer = self.escaped or self.holds(gate.alternatives)
            else:
                answer = bool(gate(self.source, self.profile))
            self._answers[id(gate)] = answer
        return answer

    def holds(self, alternatives: tuple[tuple[str, ...], ...]) -> bool:
        """Whether the text holds every needle of some alternative (escapes aside)."""
        found, text = self._found, self.source.text
        for alternative in alternatives:
            for needle in alternative:
                there = found.get(needle)
                if there is None:
                    if needle.__class__ is AnyCase:
                        if self._lowered is None:
                            self._lowered = text.lower()
                        there = found[needle] = needle in self._lowered
                    else:
                        there = found[needle] = needle in text
                if not there:
                    break
            else:
                return True
        return False


class AnyGate:
    """Whether any of some gates is open in a file, asked of every YAML file (engine.Linter.quiet). The
    Needles gates are asked as one: their alternatives pooled, less one where another asks for less
    (each of whose needles is part of one of its needles: that one holds wherever it does), and each
    asks first for the needles most alternatives share, so that one search ends many of them."""

    def __init__(self, gates: Iterable[Gate]):
        gates = tuple(gates)
        pooled = {frozenset(alternative) for gate in gates if isinstance(gate, Needles)
                  for alternative in gate.alternatives}
        kept: list[frozenset[str]] = []
        for a in sorted(pooled, key=lambda a: (len(a), sum(map(len, a)), sorted(a))):  # the smaller first
            if not any(all(any(_within(n, m) for m in a) for n in b) for b in kept):  # b holds wherever a does
                kept.append(a)
        shared = collections.Counter(n for a in kept for n in a)

        def order(alternative):
            return sorted(alternative, key=lambda n: (-shared[n], -len(n), n))

        # The most shared needles first, alternatives sharing them next to each other.
        self.alternatives = tuple(sorted((tuple(order(a)) for a in kept),
                                         key=lambda a: ([-shared[n] for n in a], a)))
        self.others = tuple(gate for gate in gates if not isinstance(gate, Needles))

    def open(self, answers: FileGates) -> bool:
        if self.alternatives and (answers.escaped or answers.holds(self.alternatives)):
            return True
        return any(answers.open(gate) for gate in self.others)


@functools.lru_cache(maxsize=None)
def _gate_of(kinds: tuple[str, ...], own: Gate | None) -> Gate | None:
    by_kind = _kind_needles(kinds) if kinds else None
    if by_kind is None:
        return own
    if own is None:
        return by_kind
    return by_kind & own if isinstance(own, Needles) else own


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    severity: Severity
    why: str
    example: str
    fix: str  # "safe", "unsafe", "safe|unsafe" (depends on the case) or "none"
    fix_note: str = ""
    check: Check | None = None  # None: reported by the engine itself (V6L notices)
    kinds: tuple[str, ...] = ()  # `apiVersion/kind` patterns the check applies to (YAML)
    languages: tuple[str, ...] = ("yaml",)  # which documents it reads: "yaml", "hcl", "python"
    profiles: tuple[str, ...] = ()  # empty: any profile; else runs only on these
    platforms: tuple[str, ...] = ()  # empty: any platform; ("aws",): only where the cluster is on AWS
    # "stable": on by default. "preview": a guess about run-time behaviour not yet shown precise on
    # real code; runs only with --preview (config `preview = true`) or when selected by exact code.
    maturity: str = "stable"
    references: tuple[str, ...] = ()
    # Who refuses the object when the rule's condition holds ("the API server", "eksctl", "kubeadm",
    # "Terraform ..."): set only on rules that mirror that tool's own validation. Empty: the object is
    # accepted and the problem shows at run time (an error) or as a degradation (a warning).
    rejected_by: str = ""
    # A cheap necessary condition for finding anything in a file's YAML documents (Needles: text the
    # file must hold, e.g. the fields the rule reads; or a function of the file and profile), on top
    # of the kinds' own (see `gate`). The engine runs the rule on a YAML file only when its gate holds,
    # and skips building documents for a file no enabled rule can find anything in.
    # tests/test_gates.py runs every rule on every fixture and corpus file and checks that no finding
    # escapes its gate.
    yaml_gate: Gate | None = None

    @property
    def gate(self) -> Gate | None:
        """This rule's file gate for YAML documents (its kinds' literal parts and its `yaml_gate`, both
        must hold), or None when it reads every YAML document."""
        return _gate_of(self.kinds, self.yaml_gate)

    @property
    def matched_gate(self) -> Gate | None:
        """The gate left for a document that matched the rule's kinds: the match puts the kinds'
        literal parts in the file's text (a backslash opens every gate anyway), so only `yaml_gate` is
        left to ask; None when `gate` is."""
        return self.yaml_gate if self.gate is not None else None

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")

    @property
    def url(self) -> str:
        return f"{RULES_URL}#{self.code.lower()}-{self.name}"

    @property
    def profile_dependent(self) -> bool:
        return bool(self.profiles)

    def applies_to(self, profile: Profile) -> bool:
        return ((not self.profiles or profile.ip_family in self.profiles)
                and (not self.platforms or profile.platform in self.platforms))

    def reads(self, doc: Document) -> bool:
        if doc.language not in self.languages:
            return False
        # `kinds` narrow the YAML documents a rule reads; other languages have no kinds.
        return doc.matches(self.kinds) if self.kinds and doc.language == "yaml" else True

    def as_json(self) -> dict:
        """What `v6lint rule --output-format json` prints."""
        return {"code": self.code, "name": self.name, "summary": self.summary, "severity": self.severity,
                "fix": self.fix, "fix_note": self.fix_note, "maturity": self.maturity,
                "profiles": list(self.profiles), "platforms": list(self.platforms), "kinds": list(self.kinds),
                "languages": list(self.languages), "why": self.why.strip(), "example": self.example,
                "references": list(self.references), "rejected_by": self.rejected_by, "url": self.url}

    def explain(self) -> str:
        """The text `v6lint rule CODE` prints and the rule reference shows."""
        lines = [
            f"{self.code} ({self.name})",
            "",
            self.summary,
            "",
            f"Severity: {self.severity}",
            f"Fix: {self.fix}" + (f" - {self.fix_note}" if self.fix_note else ""),
            "Cluster profile: " + (", ".join(self.profiles) if self.profiles else "any"),
            "Platform: " + (", ".join(self.platforms) if self.platforms else "any"),
            "Maturity: " + self.maturity + (" (opt-in: --preview or select it by code)" if self.maturity == "preview" else ""),
        ]
        if self.rejected_by:
            lines.append(f"Rejected by: {self.rejected_by}")
        if self.kinds:
            lines.append("Applies to: " + ", ".join(self.kinds))
        lines += ["", "Why", self.why.strip(), "", "Example", self.example.strip("\n")]
        if self.references:
            lines += ["", "References"] + [f"- {ref}" for ref in self.references]
        return "\n".join(lines) + "\n"


SECTIONS = ("Why", "Example", "Fix")


class RuleDoc(TypedDict):
    """The `Rule` fields a docstring gives."""

    summary: str
    why: str
    example: str
    fix_note: str


def parse_doc(doc: str | None, where: str) -> RuleDoc:
    """A rule docstring's summary and sections: prose sections are joined into one line each (they
    are wrapped only for the source), the example keeps its lines."""
    parts: dict[str, list[str]] = {"summary": []}
    current = "summary"
    for line in inspect.cleandoc(doc or "").splitlines():
        if line.endswith(":") and line[:-1] in SECTIONS:
            current = line[:-1]
            if current in parts:
                raise ValueError(f"{where}: section {current!r} appears twice in the docstring")
            parts[current] = []
        else:
            parts[current].append(line)

    def prose(lines: list[str]) -> str:
        return " ".join(line.strip() for line in lines if line.strip())

    missing = [name for name in ("Why", "Example") if name not in parts]
    if missing or not prose(parts["summary"]):
        raise ValueError(f"{where}: the docstring needs a summary and the sections " + ", ".join(missing or ["Why", "Example"]))
    return {"summary": prose(parts["summary"]), "why": prose(parts["Why"]),
            "example": textwrap.dedent("\n".join(parts["Example"])).strip("\n"),
            "fix_note": prose(parts.get("Fix", []))}


def rule(code: str, name: str, severity: Severity, *, fix: str = "none", **meta) -> Callable[[Check], Rule]:
    """Make the decorated check a `Rule`; its docstring is the rule's documentation (see above)."""
    def make(check: Check) -> Rule:
        return Rule(code, name, severity=severity, fix=fix, check=check, **parse_doc(check.__doc__, code), **meta)
    return make


def notice(code: str, name: str, severity: Severity, *, doc: str, fix: str = "none", **meta) -> Rule:
    """A notice the engine reports itself (no check), documented in the same format as a rule."""
    return Rule(code, name, severity=severity, fix=fix, **parse_doc(doc, code), **meta)
