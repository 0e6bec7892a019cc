"""One way through the data: read -> parse -> rules -> suppressions -> diagnostics (-> fixes)."""
from __future__ import annotations

import gc
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator, Sequence

from v6lint.cache import NO_FINDINGS, Entry
from v6lint.config import Settings, enabled_codes
from v6lint.diagnostics import Diagnostic, Edit, Finding, Fix, ProfileRef
from v6lint.discovery import (compile_globs, display_path, ignored_by, read_regular, real_path, settled_and_real,
                              stat_signature)
from v6lint.document import Document, release
from v6lint.rule import AnyGate, FileGates, Gate, Rule
from v6lint.rules import ALL_RULES, BY_CODE, lookup
from v6lint.source import DecodeError, SourceFile, decode
from v6lint.suppressions import Spans, data_spans, parse_annotations, parse_comments, removal_fix, suppression_line
from v6lint.sources import SHARED, language_of, parse_source
from v6lint.yaml_source import ParsedYaml, ParseProblem, parses_clean

MAX_FIX_PASSES = 10
MAX_PROJECT_PASSES = 5  # --fix rounds over all files while a round changes the project facts
# What a warm run's probe knows of a file (Linter.known): nothing, unchanged by its stat with no
# findings or with findings held, or the same bytes (read, as its stat could not vouch).
KNOWN_CLEAN, KNOWN_HELD, KNOWN_READ = 1, 2, 3
# Notices that say a file was skipped on purpose; they never fail a run.
_SKIP_NOTICES = {"V6L901", "V6L903", "V6L909"}


@dataclass
class FileResult:
    path: str
    source: SourceFile | None
    diagnostics: list[Diagnostic]
    fixed: SourceFile | None = None  # the fixed text, when --fix/--diff changed something
    fixes_applied: list[Diagnostic] = field(default_factory=list)  # the findings whose fixes were applied
    # (real path, digest, stat key) to store in the result cache when freshly linted
    cache_entry: tuple[str, str, str | None] | None = None
    passes: list[tuple[str, list[Edit]]] = field(default_factory=list)  # (text before, edits) per fix pass
    # A checked file keeps no source when nothing shows it (no findings) or its findings keep what the
    # report shows (see drop_source); when a build places findings there after all, or reads the file
    # itself, the file is read again (see reread).
    dropped: bool = False
    abspath: str | None = None  # the real path of a file with findings shown without its text

    def drop_source(self, shows: frozenset[str] | None = None) -> None:
        """Let the text go when nothing reads it: a file with no findings, or one whose findings keep
        what the report reads of it (`shows`, see output.reads and output.excerpt; None: all of it)."""
        if self.source is None or self.fixed is not None:
            return
        if self.diagnostics:
            from v6lint.output import excerpt

            if shows is None or not excerpt(self.diagnostics, self.source, shows):
                return
            self.abspath = self.source.abspath
        self.source, self.dropped = None, True


def judge(source: SourceFile, linters: "list[Linter]") -> list[list[Diagnostic]]:
    """Parse the file once and judge it by each linter (`v6lint plan` judges by the project's profile
    and by the target's); one list of diagnostics per linter. A notebook's code cells are judged as
    one Python file, with findings and fixes mapped back to the JSON.

    The cyclic garbage collector waits while a file is judged: a parse allocates a tree of objects
    that all stay alive until the file is done, and collections in the middle only walk them (a
    10,000-line manifest in the editor: p90 from ~180 to ~85 ms). Whatever is garbage is collected
    after, at the next collection."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _judge(source, linters)
    finally:
        if paused:
            gc.enable()


def _judge(source: SourceFile, linters: "list[Linter]") -> list[list[Diagnostic]]:
    language = source.language or language_of(source.abspath or source.path)
    parsed = SHARED.take(source)  # the profile scan's parse of this very text, when it kept it
    if parsed is None and language == "yaml" and all(linter.quiet(source) for linter in linters) \
            and parses_clean(source):
        # No rule can find anything here and libyaml accepts it: the documents are not built.
        parsed = ParsedYaml([])
    if parsed is not None or language != "notebook":
        if parsed is None:
            parsed = parse_source(source, any(linter.needs_python_facts(source) for linter in linters))
        try:
            return [linter._lint_parsed(source, parsed) for linter in linters]
        finally:
            release(parsed.documents)  # judged: no one reads them again (see release)
    from v6lint.notebook import NotebookError, notebook_view

    try:
        view = notebook_view(source)
    except NotebookError as exc:
        problem = ParseProblem("V6L900", f"notebook could not be read: {exc}", exc.offset, exc.offset)
        return [linter._lint_parsed(source, ParsedYaml([], problem)) for linter in linters]
    parsed = parse_source(view.python, any(linter.needs_python_facts(view.python) for linter in linters))
    try:
        return [sorted((view.map_diagnostic(d) for d in linter._lint_parsed(view.python, parsed)),
                       key=lambda d: d.sort_key) for linter in linters]
    finally:
        release(parsed.documents)


def counts_as_failure(diag: Diagnostic) -> bool:
    return diag.code not in _SKIP_NOTICES or diag.severity != "info"


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (sorted by position) to text."""
    out = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos:edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Edits that cannot both apply: they share text, insert at one point, or insert inside the other."""
    (s1, e1), (s2, e2) = a, b
    if s1 < e2 and s2 < e1:
        return True
    if s1 == e1 == s2 == e2:
        return True
    return (s1 == e1 and s2 < s1 < e2) or (s2 == e2 and s1 < s2 < e1)


def choose_fixes(diagnostics: list[Diagnostic], unsafe: bool) -> list[Diagnostic]:
    """Findings whose fixes apply in one pass: allowed by applicability, each whole, none overlapping
    another. Findings sharing one fix are all returned; the fix is applied once."""
    chosen: list[Diagnostic] = []
    fixes: list[Fix] = []
    taken: list[tuple[int, int]] = []
    for diag in sorted(diagnostics, key=lambda d: (d.start, d.code)):
        fix = diag.fix
        if fix is None or not fix.edits or (fix.applicability == "unsafe" and not unsafe):
            continue
        if fix in fixes:
            chosen.append(diag)
            continue
        spans = [(e.start, e.end) for e in fix.edits]
        if any(_overlaps(span, other) for span in spans for other in taken):
            continue  # the next pass re-lints and offers it again
        chosen.append(diag)
        fixes.append(fix)
        taken.extend(spans)
    return chosen


def _edits(chosen: list[Diagnostic]) -> list[Edit]:
    fixes: list[Fix] = []
    for diag in chosen:
        if diag.fix is not None and diag.fix not in fixes:  # (chosen findings all have one)
            fixes.append(diag.fix)
    return [e for fix in fixes for e in fix.edits]


class Linter:
    def __init__(self, settings: Settings, rules: list[Rule] | None = None,
                 select: list[str] | None = None, extend_select: Sequence[str] = (), ignore: Sequence[str] = ()):
        self.settings = settings
        self.rules = rules if rules is not None else ALL_RULES
        ignores = [*settings.ignore, *ignore]
        self.enabled = enabled_codes(self.rules, select or settings.select,
                                     [*settings.extend_select, *extend_select], ignores, settings.preview)
        # File notices (V6L9xx: unparsable, skipped...) show under any --select, like a
        # syntax error in ruff; only an explicit ignore hides them.
        self.enabled |= enabled_codes([r for r in self.rules if r.code.startswith("V6L9")], ["ALL"], [],
                                      [i for i in ignores if i.upper() != "ALL"])
        self.profile = settings.profile
        self._per_file = [
            (compile_globs([pattern]), enabled_codes(self.rules, sels, [], [], True))
            for pattern, sels in settings.per_file_ignores.items()
        ]
        self._spark_conf = compile_globs(list(settings.spark_conf)) if settings.spark_conf else None
        self._severity = {rule.code: v for k, v in settings.severity.items() if (rule := lookup(k)) is not None}
        self.document_rules = [r for r in self.rules if r.check is not None and r.applies_to(self.profile)]
        self._by_type: dict[tuple[str, str | None], list[Rule]] = {}
        self._runs_on: dict[tuple[str, str | None], list[tuple[Rule, Gate | None]]] = {}  # see runs_on
        # Python files get their Spark facts read only when an enabled rule of this profile reads them.
        self._python_rules = {r.code for r in self.document_rules if "python" in r.languages}
        # YAML file gates (Rule.gate): each rule's, and the distinct gates with the codes they close.
        gates: dict[str, Gate | None] = {r.code: r.gate for r in self.document_rules}
        yaml_rules = [r for r in self.document_rules if "yaml" in r.languages]
        self._ungated = {r.code for r in yaml_rules if gates[r.code] is None}
        self._gated: dict[Gate, set[str]] = {}
        for r in yaml_rules:
            gate = gates[r.code]
            if gate is not None:
                self._gated.setdefault(gate, set()).add(r.code)
        self._quiet_gates: AnyGate | None = None  # the gates of self.enabled's rules (None: one is ungated)
        if not self._ungated & self.enabled:
            self._quiet_gates = AnyGate(gate for gate, codes in self._gated.items() if codes & self.enabled)
        self._file_gates: FileGates | None = None  # the last file's (quiet asks, then _lint_parsed)
        self._ran: dict[bool, set[str]] = {}  # see ran_rules
        self._real_dirs: dict[str, str] = {}  # folder -> real path (see discovery.real_path)

    def wanting_profile(self) -> tuple[int, int]:
        """(rules needing the IP family, rules needing the platform) that are enabled but do not run
        because the profile does not say it (section 5: say what was not checked)."""
        profile = self.profile
        enabled = [r for r in self.rules if r.check is not None and r.code in self.enabled]
        family = [r for r in enabled if r.profiles and profile.ip_family is None]
        platform = [r for r in enabled if r.platforms and profile.platform is None and r not in family]
        return len(family), len(platform)

    def rules_for(self, doc: Document) -> list[Rule]:
        """The rules that read this kind of document (cached per language and apiVersion/kind)."""
        key = (doc.language, doc.type_key if doc.is_kubernetes else None)
        found = self._by_type.get(key)
        if found is None:
            found = self._by_type[key] = [r for r in self.document_rules if r.reads(doc)]
        return found

    def runs_on(self, doc: Document) -> list[tuple[Rule, Gate | None]]:
        """rules_for(doc), each with the gate left to ask of the file (Rule.matched_gate; YAML only)."""
        key = (doc.language, doc.type_key if doc.is_kubernetes else None)
        found = self._runs_on.get(key)
        if found is None:
            yaml = doc.language == "yaml"
            found = self._runs_on[key] = [(r, r.matched_gate if yaml else None) for r in self.rules_for(doc)]
        return found

    # --- reading -------------------------------------------------------------------
    def read(self, path: Path | str, real: str | None = None) -> tuple[SourceFile | None, list[Diagnostic], bytes | None]:
        """(source, notices, raw bytes): the bytes also key the result cache. `real`: the file's real
        path when the caller knows it."""
        shown = display_path(path)
        try:
            size, data = read_regular(path, self.settings.max_file_size)
            if data is None:
                return None, self.notice(shown, "V6L903", f"file is {size} bytes, over max-file-size "
                                                            f"({self.settings.max_file_size}); skipped"), None
        except OSError as exc:
            return None, self.notice(shown, "V6L905", f"cannot read file: {exc.strerror or exc}"), None
        try:
            text, encoding, bom = decode(data)
        except DecodeError as exc:
            return None, self.notice(shown, "V6L902", f"cannot decode: {exc}"), data
        language = "spark-conf" if self._spark_conf is not None and ignored_by(
            self._spark_conf, tuple(p for p in self._relative(str(path)).split("/") if p not in ("", ".")), False) \
            else None
        return SourceFile(shown, text, encoding, bom, real or real_path(path, self._real_dirs), language), [], data

    def notice(self, path: str, code: str, message: str) -> list[Diagnostic]:
        if code not in self.enabled:
            return []
        rule = BY_CODE[code]
        return [Diagnostic(code, rule.name, self._severity.get(code, rule.severity), message, path, 0, 0,
                           url=rule.url).place(None)]

    # --- linting -------------------------------------------------------------------
    def _relative(self, path: str) -> str:
        """A path as the config's globs see it: relative to the config's folder."""
        try:
            return Path(path).resolve().relative_to(self.settings.root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def enabled_for(self, path: str) -> set[str]:
        enabled = self.enabled
        if self._per_file:
            parts = tuple(p for p in self._relative(path).split("/") if p not in ("", "."))
            for globs, codes in self._per_file:
                if ignored_by(globs, parts, False):
                    enabled = enabled - codes
        return enabled

    def is_partial(self, source: SourceFile) -> bool:
        """A file a kustomization lists as a patch: its documents are fragments of objects defined
        elsewhere, so no rule that reads Kubernetes objects judges them (a patch that only sets
        `type: LoadBalancer` is not a Service lacking everything else). Judging even its own fields
        needs the base it merges into: that is for a rendered build, not the fragment."""
        facts = self.profile.facts
        patches = facts.kustomize_patches if facts is not None else {}
        return bool(patches) and (source.abspath or "") in patches

    def lint_source(self, source: SourceFile, parsed: ParsedYaml | None = None) -> list[Diagnostic]:
        """`parsed`: the file's parse when the caller has it (the language server re-parses only
        the edited documents of a YAML file)."""
        if parsed is not None:
            return self._lint_parsed(source, parsed)
        return judge(source, [self])[0]

    def needs_python_facts(self, source: SourceFile) -> bool:
        """Whether an enabled rule of this profile reads Python facts in this file (else only their syntax is checked)."""
        return bool(self._python_rules & self.enabled_for(source.abspath or source.path))

    def quiet(self, source: SourceFile) -> bool:
        """Whether no enabled rule can find anything in this YAML file's documents (every rule's gate
        is closed) and it holds no suppression comment or annotation: then its documents need not be
        built, only its syntax checked."""
        if "v6lint" in source.text:
            return False
        enabled = self.enabled_for(source.abspath or source.path)
        if enabled is self.enabled:
            gates = self._quiet_gates
        else:
            gates = None if self._ungated & enabled else AnyGate(g for g, codes in self._gated.items() if codes & enabled)
        if gates is None:
            return False
        return not gates.open(self.gates_of(source))

    def gates_of(self, source: SourceFile) -> FileGates:
        """The file's gate answers (kept for the last file: `quiet` and `_lint_parsed` share them)."""
        found = self._file_gates
        if found is None or found.source is not source or found.profile is not self.profile:
            found = self._file_gates = FileGates(source, self.profile)
        return found

    def ran_rules(self, enabled: set[str], partial: bool) -> set[str]:
        """The rules that ran on a file, for unused-suppression purposes: every enabled rule of this
        profile, also those that met no document they read (kinds rules skip partial files)."""
        if enabled is not self.enabled:
            return {r.code for r in self.document_rules if r.code in enabled and not (partial and r.kinds)}
        ran = self._ran.get(partial)
        if ran is None:
            ran = self._ran[partial] = {r.code for r in self.document_rules
                                        if r.code in enabled and not (partial and r.kinds)}
        return ran

    def _lint_parsed(self, source: SourceFile, parsed: ParsedYaml) -> list[Diagnostic]:
        enabled = self.enabled_for(source.abspath or source.path)
        partial = self.is_partial(source)
        raw: list[tuple[Rule, Finding, tuple[int, int] | None]] = []
        if parsed.problem is not None:
            p = parsed.problem
            raw.append((BY_CODE[p.code], Finding(p.start, p.end, p.message), None))
        answers = self.gates_of(source) if parsed.documents else None
        for doc in parsed.documents:
            for rule, gate in self.runs_on(doc):
                if rule.code not in enabled or (partial and rule.kinds):
                    continue
                if gate is not None and answers is not None and not answers.open(gate):
                    continue  # the rule cannot find anything in this file
                assert rule.check is not None  # (rules_for gives rules with a check only)
                try:
                    for finding in rule.check(doc, self.profile):
                        raw.append((rule, finding, (doc.start, doc.end)))
                except Exception as exc:  # a rule bug must not end the run: report it
                    raw.append((BY_CODE["V6L999"], Finding(doc.start, doc.start,
                               f"rule {rule.code} failed on {doc.object_name}: {type(exc).__name__}: {exc} "
                               f"(please report this)"), None))
        ran = self.ran_rules(enabled, partial)
        diagnostics = [d.place(source) for d in self._suppress(source, parsed.documents, raw, enabled, ran)]
        return sorted(diagnostics, key=lambda d: d.sort_key)

    def _suppress(self, source: SourceFile, documents: list[Document], raw, enabled: set[str],
                  ran: set[str]) -> list[Diagnostic]:
        sups = parse_comments(source, documents) + parse_annotations(source, documents)
        out: list[Diagnostic] = []
        spans = Spans(data_spans(source, documents)) if sups else None
        for rule, finding, doc_span in raw:
            if rule.code not in enabled and rule.code != "V6L999":
                continue
            line = suppression_line(source, spans, finding.start) if spans is not None else 0
            suppressed = False
            for sup in sups:
                if not sup.covers(line, doc_span):
                    continue
                for code in sup.codes:
                    if lookup(code) is rule:
                        sup.used.add(code)
                        suppressed = True
            if not suppressed:
                out.append(self._diagnostic(source.path, rule, finding))
        if "V6L001" in enabled:
            unused_rule = BY_CODE["V6L001"]
            for sup in sups:
                unused = []
                for code in sup.codes:
                    rule = lookup(code)
                    if code not in sup.used and (rule is None or rule.code in ran):
                        unused.append(code)
                if not unused:
                    continue
                unknown = [c for c in unused if lookup(c) is None]
                what = ", ".join(unused)
                message = (f"unused suppression: nothing to ignore for {what}" if not unknown else
                           f"suppression names unknown rule code(s) {', '.join(unknown)}")
                out.append(self._diagnostic(source.path, unused_rule,
                                            Finding(sup.start, sup.end, message, removal_fix(source, sup, unused))))
        return out

    def _diagnostic(self, path: str, rule: Rule, finding: Finding) -> Diagnostic:
        profile = None
        if rule.profile_dependent and self.profile.ip_family:
            profile = ProfileRef(self.profile.ip_family, self.profile.source or "")
        return Diagnostic(rule.code, rule.name, self._severity.get(rule.code, rule.severity), finding.message,
                          path, finding.start, finding.end, finding.fix, rule.url, profile)

    # --- fixing --------------------------------------------------------------------
    def fix_source(self, source: SourceFile, unsafe: bool = False) -> FileResult:
        """Apply fixes to a fixed point; the result must still parse or nothing is changed."""
        diagnostics = self.lint_source(source)
        if any(d.code in ("V6L900", "V6L901", "V6L904") for d in diagnostics):
            return FileResult(source.path, source, diagnostics)
        current = source
        applied: list[Diagnostic] = []
        passes: list[tuple[str, list[Edit]]] = []
        for _ in range(MAX_FIX_PASSES):
            fixes = choose_fixes(diagnostics, unsafe)
            if not fixes:
                break
            edits = _edits(fixes)
            passes.append((current.text, edits))
            text = apply_edits(current.text, edits)
            if text == current.text:
                break
            candidate = source.with_text(text)
            if parse_source(candidate).problem is not None:
                return FileResult(source.path, source, self.lint_source(source) + self.notice(
                    source.path, "V6L906", f"fixes not applied: the result would not parse "
                                           f"({', '.join(sorted({d.fix.message for d in fixes if d.fix is not None}))})"))
            current = candidate
            applied.extend(fixes)
            diagnostics = self.lint_source(current)
        else:
            if choose_fixes(diagnostics, unsafe):
                return FileResult(source.path, source, self.lint_source(source) + self.notice(
                    source.path, "V6L906", f"fixes not applied: they did not converge in {MAX_FIX_PASSES} passes"))
        fixed = current if current is not source else None
        result = FileResult(source.path, source, diagnostics, fixed, applied)
        result.passes = passes
        return result

    def add_ignores(self, source: SourceFile, reason: str = "") -> FileResult:
        """`--add-ignore`: suppress every current finding in place (see v6lint.ignores). Like a fix,
        the result must parse, and must show exactly the findings that could not be suppressed."""
        from v6lint.ignores import ignore_edits

        diagnostics = self.lint_source(source)
        if any(d.code in ("V6L900", "V6L901", "V6L904") for d in diagnostics):
            return FileResult(source.path, source, diagnostics)
        targets = [d for d in diagnostics if not d.code.startswith("V6L")]
        if not targets:
            return FileResult(source.path, source, diagnostics)
        language = source.language or language_of(source.abspath or source.path)
        if language == "notebook":
            from v6lint.notebook import notebook_view

            view = notebook_view(source)
            found = [d for d in self._lint_parsed(view.python, parse_source(view.python))
                     if not d.code.startswith("V6L")]
            edits, left_virtual = ignore_edits(view.python, parse_source(view.python), "python", found, reason)
            mapped = view.map_fix(Fix("", "safe", tuple(edits))) if edits else None
            edits = list(mapped.edits) if mapped is not None else []
            if mapped is None:
                left_virtual = found
            left_keys = {(d.code, d.start_line, d.start_column) for d in left_virtual}
            left = [d for d in targets if (d.code, d.start_line, d.start_column) in left_keys]
        else:
            edits, left = ignore_edits(source, parse_source(source), language, targets, reason)
        if not edits:
            return FileResult(source.path, source, diagnostics)
        candidate = source.with_text(apply_edits(source.text, edits))
        after = self.lint_source(candidate) if parse_source(candidate).problem is None else None
        remaining = None if after is None else [d for d in after if not d.code.startswith("V6L")]
        if after is None or remaining is None or len(remaining) != len(left):
            return FileResult(source.path, source, diagnostics + self.notice(
                source.path, "V6L906", "suppressions not added: the result would not parse or still had findings"))
        suppressed = [d for d in targets if d not in left]
        return FileResult(source.path, source, after, candidate, suppressed)

    def known(self, path: Path | str, cache) -> int:
        """Whether the result cache holds this file's result: KNOWN_CLEAN or KNOWN_HELD when its stat
        says it is unchanged (clean: with no findings), KNOWN_READ when a stat that cannot vouch
        (written just now, touched) left its digest to tell, else 0."""
        stat, real, entry = self._cached(path, cache)
        if entry is None:
            return 0
        if entry.fresh(stat):
            return KNOWN_CLEAN if entry.findings == NO_FINDINGS else KNOWN_HELD
        try:
            data = read_regular(path, self.settings.max_file_size)[1]
        except OSError:
            return 0
        return KNOWN_READ if data is not None and entry.digest == cache.digest(data) else 0

    def _cached(self, path: Path | str, cache) -> tuple[str | None, str, Entry | None]:
        """(the file's settled stat, its real path, its row in the result cache): one stat, one look-up."""
        signature, real = settled_and_real(path, self._real_dirs)
        return cache.stat_text(signature), real, cache.entry(real)

    def check_path(self, path: Path | str, *, fix: bool = False, unsafe: bool = False, cache=None,
                   ignore_reason: str | None = None, text: bool = True) -> FileResult:
        """The file's result. A file the cache knows had no findings, unchanged by its stat, is not
        even read; nor (`text` False: the report shows no source text) one whose findings it holds."""
        stat = entry = real = None
        if cache is not None and not fix and ignore_reason is None:
            stat, real, entry = self._cached(path, cache)
            if entry is not None and entry.fresh(stat):
                if entry.findings == NO_FINDINGS:
                    return FileResult(display_path(path), None, [], dropped=True)
                if not text:
                    shown = display_path(path)
                    held = cache.findings(entry, shown)
                    if held is not None:
                        return FileResult(shown, None, held, dropped=True, abspath=real)
        source, notices, data = self.read(path, real)
        if source is None:
            return FileResult(display_path(path), None, notices)
        if ignore_reason is not None:
            return self.add_ignores(source, ignore_reason)
        if fix:
            return self.fix_source(source, unsafe)
        if cache is not None:
            assert source.abspath is not None  # (read() sets it)
            digest = cache.digest(data)
            hit = cache.findings(entry, source.path) if entry is not None and entry.digest == digest else None
            if hit is not None:
                result = FileResult(source.path, source, hit)
                if entry is not None and entry.stat != stat:  # stored again only when its stat is new
                    result.cache_entry = (source.abspath, digest, stat)
                return result
            result = FileResult(source.path, source, self.lint_source(source))
            result.cache_entry = (source.abspath, digest, stat)
            return result
        return FileResult(source.path, source, self.lint_source(source))

    def reread(self, path: Path | str, result: FileResult) -> FileResult:
        """A result whose source was dropped, with its source read again: a build placed findings on
        the file after all (the build read the file itself; its findings are shown on this text)."""
        source, notices, _data = self.read(path)
        if source is None:
            return FileResult(result.path, None, result.diagnostics + notices)
        return FileResult(source.path, source, result.diagnostics)


# --- running many files: one process, or several for large runs ---------------------------------
PARALLEL_MIN_FILES = 200
# A file's linter (its project's settings and profile) and result cache (or None).
Route = Callable[[Path | str], "tuple[Linter, object]"]


def _has_entries(route: Route, files: Sequence[Path | str]) -> bool:
    """Whether a result cache of these files holds anything (a cold run skips the probe pass)."""
    caches = {id(c): c for c in (route(path)[1] for path in files) if c is not None}
    return any(getattr(c, "has_entries", False) for c in caches.values())


def check_files(linter: Linter | Route, files: Sequence[Path | str], *, fix: bool, unsafe: bool, cache=None, jobs: int = 0,
                progress=None, ignore_reason: str | None = None) -> list[FileResult]:
    """FileResults in file order, as a list (see stream_files)."""
    return list(stream_files(linter, files, fix=fix, unsafe=unsafe, cache=cache, jobs=jobs, progress=progress,
                             ignore_reason=ignore_reason))


def stream_files(linter: Linter | Route, files: Sequence[Path | str], *, fix: bool, unsafe: bool, cache=None, jobs: int = 0,
                 progress=None, ignore_reason: str | None = None, shows: frozenset[str] | None = None,
                 workers=None) -> Generator[FileResult, None, None]:
    """FileResults in file order, each as soon as it and those before it are known (the caller
    writes it out and lets it go: nothing here holds the results of a run).
    jobs: 0 = automatic (all cores for large runs), 1 = this process.
    `linter` is one Linter (with `cache`) for every file, or a Route giving each file its own.
    `ignore_reason` (not None): --add-ignore instead of linting (see Linter.add_ignores).
    `shows`: what the report reads of each file's text (output.reads; None: all of it): the results
    keep that much (see FileResult.drop_source; nothing: see Linter.check_path's `text`).
    `workers`: the run's worker processes (workers.Workers; they may keep the profile scan's parses),
    used and ended here when this run lints in workers; else workers of this pass alone."""
    from v6lint.workers import Workers, fork_context

    route: Route = (lambda _path: (linter, cache)) if isinstance(linter, Linter) else linter
    if fix:  # temp files an earlier, killed --fix left next to these files
        for directory in sorted({os.path.dirname(os.path.realpath(p)) for p in files}):
            remove_stale_temps(directory)
    if jobs == 0:
        jobs = min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_MIN_FILES else 1
    pooled = files
    known: bytearray | None = None
    if jobs > 1 and not fix and ignore_reason is None and _has_entries(route, files):
        # A warm run: files the cache knows are taken here, in order (those unchanged by their stat
        # with no findings without another look); only the rest go to workers (none when nothing
        # changed, and then no pool starts).
        known = bytearray(len(files))
        for index, path in enumerate(files):
            one, its_cache = route(path)
            if its_cache is not None:
                known[index] = one.known(path, its_cache)
        pooled = [path for path, state in zip(files, known) if not state]
        if len(pooled) < PARALLEL_MIN_FILES:
            jobs = 1
    if jobs <= 1 or fork_context() is None:  # (no fork on this platform: one process)
        for index, path in enumerate(files):
            yield _here(route, path, fix, unsafe, ignore_reason, shows, known[index] if known is not None else 0)
            if progress is not None:
                progress(1)
        return
    if workers is None or workers.closed:
        workers = Workers(jobs)
    finished = False
    try:
        linted = workers.map(pooled, route, fix, unsafe, ignore_reason, shows)
        for index, path in enumerate(files):
            state = known[index] if known is not None else 0
            yield _here(route, path, fix, unsafe, ignore_reason, shows, state) if state else next(linted)
            if progress is not None:
                progress(1)
        finished = True
    finally:
        # A reader that stops early (an error, a closed pipe) does not wait for the files left
        workers.close(wait=finished)


def _here(route: Route, path: Path | str, fix: bool, unsafe: bool, ignore_reason: str | None,
          shows: frozenset[str] | None,
          known: int = 0) -> FileResult:
    """A file's result made in this process, a worker's or the run's (`known`: what the warm probe
    found, see Linter.known; `shows`: see stream_files)."""
    if known == KNOWN_CLEAN:
        return FileResult(display_path(path), None, [], dropped=True)
    one, its_cache = route(path)
    checked = one.check_path(path, fix=fix, unsafe=unsafe, cache=its_cache, ignore_reason=ignore_reason,
                             text=shows is None or bool(shows))
    if not fix and ignore_reason is None:
        checked.drop_source(shows)
    return checked


def fix_files(files: Sequence[Path | str], rebuild: Callable[[dict[str, str]], tuple[Route, str]], *, unsafe: bool,
              jobs: int = 0, progress=None) -> list[FileResult]:
    """--fix (and --diff) across files. A fix in one file can change the project facts another file
    is judged by (an IMDS mode set on a job makes the node class need IPv6 IMDS), so after each round
    the projects are rebuilt from the fixed texts and, while their facts changed, every file is fixed
    again, until a round changes nothing. Nothing is written here: each result holds the file as read
    and its final text, so a second --fix finds nothing to do.

    `rebuild(overlay)` returns the routes for the files given unsaved texts (real path -> text) and a
    key of every project's facts."""
    overlay: dict[str, str] = {}
    route, key = rebuild(overlay)
    results = check_files(route, files, fix=True, unsafe=unsafe, jobs=jobs, progress=progress)
    for _ in range(MAX_PROJECT_PASSES - 1):
        changed = {r.source.abspath: r.fixed.text for r in results if r.fixed is not None and r.source is not None
                   and r.source.abspath is not None and overlay.get(r.source.abspath) != r.fixed.text}
        if not changed:
            break
        overlay.update(changed)
        route, new_key = rebuild(dict(overlay))
        if new_key == key:
            break
        key = new_key
        for index, (path, result) in enumerate(zip(files, results)):
            if result.source is None:
                continue
            linter, _cache = route(path)
            again = linter.fix_source(result.fixed or result.source, unsafe)
            if again.fixed is not None:
                result.fixed = again.fixed
                result.fixes_applied = result.fixes_applied + again.fixes_applied
                result.passes = result.passes + again.passes
            result.diagnostics = again.diagnostics
    return results


class WriteError(Exception):
    pass


def raise_on_sigterm():
    """Until the returned function is called, SIGTERM raises SystemExit(143) like Ctrl-C raises
    KeyboardInterrupt, so a write in progress removes its temp file before the process ends."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def terminated(signum, _frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminated)
    return lambda: signal.signal(signal.SIGTERM, previous)


TEMP_SUFFIX = ".v6lint-tmp"
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+" + re.escape(TEMP_SUFFIX) + "$")


def remove_stale_temps(directory: str) -> None:
    """Delete temp files an interrupted (even SIGKILLed) --fix left in `directory`: ours by name and
    owner, and written by a process that no longer exists. A live run's temp files are never touched."""
    try:
        names = [n for n in os.listdir(directory) if n.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
                continue
            pid = int(match.group(1))
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
                continue  # that process is alive: maybe a concurrent run mid-write
            except ProcessLookupError:
                pass
            except (PermissionError, OverflowError):
                continue
            os.unlink(path)
        except (OSError, ValueError):
            continue


def _keep_owner(tmp: str, st: os.stat_result) -> None:
    """Give the temp file the original's owner and group, or refuse (the rename would change them)."""
    here = os.stat(tmp)
    if (here.st_uid, here.st_gid) == (st.st_uid, st.st_gid) or not hasattr(os, "chown"):
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except OSError:
        raise WriteError(f"it belongs to uid {st.st_uid} gid {st.st_gid}, which this user cannot keep on a "
                         f"rewritten file; not written") from None


def _keep_xattrs(source_fd: int, tmp: str) -> None:
    """Copy extended attributes (ACLs, SELinux labels, ...) or refuse when one cannot be kept."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source_fd)
    except OSError:
        return  # the file system has none
    for name in names:
        try:
            os.setxattr(tmp, name, os.getxattr(source_fd, name))
        except OSError as exc:
            raise WriteError(f"cannot keep its extended attribute {name} ({exc.strerror}); not written") from None


def _hold_signals():
    """Hold Ctrl-C/SIGTERM back (until _release) while a temp file is created and its name stored,
    so an interruption always finds the name and removes the file."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _release(held) -> None:
    if held is not None:
        import signal

        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def write_atomic(path: Path | str, original: bytes, data: bytes) -> None:
    """Replace the file's content via a temp file + rename, keeping mode, owner, group and extended
    attributes; refuse a read-only file, a file with several hard links (a rename would split them;
    writing in place would give up atomicity), and a file that changed on disk since it was read.

    The last check (inode, size, mtime and ctime) runs right before the rename; a write that lands
    between that check and the rename itself is lost: no portable call renames only if unchanged.
    A temp file is never left behind, also when a signal interrupts the write."""
    target = Path(os.path.realpath(path))
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise WriteError(f"cannot write: {exc.strerror or exc}") from None
    tmp = None
    try:
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise WriteError("not a regular file; not written")
            mode = stat.S_IMODE(before.st_mode)
            if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
                raise WriteError(f"the file is read-only (mode {mode:04o}); not written")
            if before.st_nlink > 1:
                raise WriteError(f"the file has {before.st_nlink} hard links, which a rewrite would split; "
                                 f"not written")
            with open(fd, "rb", closefd=False) as handle:
                if handle.read() != original:
                    raise WriteError("the file changed on disk since it was read; not written")
            held = _hold_signals()
            try:  # the name is stored before a held signal can interrupt
                tmp_fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                                               suffix=TEMP_SUFFIX)
            finally:
                _release(held)
            with os.fdopen(tmp_fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            _keep_owner(tmp, before)
            _keep_xattrs(fd, tmp)
            now = os.stat(target)
            if stat_signature(now) != stat_signature(before):
                raise WriteError("the file changed on disk while the fix was written; not written")
            os.replace(tmp, target)
            tmp = None
        except OSError as exc:
            raise WriteError(f"cannot write: {exc.strerror or exc}") from None
    finally:  # also on KeyboardInterrupt / SystemExit from a signal
        os.close(fd)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
