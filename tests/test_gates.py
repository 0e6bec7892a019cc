"""Rule gates and the YAML pre-filter: a file no enabled rule can find anything in is only syntax-
checked (engine.Linter.quiet + yaml_source.parses_clean), and ends exactly as before: findings,
a notice (V6L900/V6L901/V6L904), an unused suppression, or nothing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from v6lint import engine
from v6lint.bench import realistic_corpus
from v6lint.cli import main
from v6lint.config import Settings
from v6lint.engine import Linter
from v6lint.rule import AnyCase, AnyGate, FileGates, Needles, Profile, Rule, any_case, contains
from v6lint.rules import ALL_RULES
from v6lint.source import SourceFile, decode
from v6lint.sources import language_of, parse_source
from v6lint.yaml_source import parse_yaml, parses_clean
from fixturelib import shared

ROOT = Path(__file__).resolve().parent.parent
CORPUS = shared("corpus")
YAML_RULES = [r for r in ALL_RULES if r.check is not None and "yaml" in r.languages]
PROFILES = [Profile(family, "--ip-family", platform=platform)
            for family in ("ipv4", "ipv6", "dual", None) for platform in ("aws", None)]


def _sources(tmp_path: Path) -> list[SourceFile]:
    """Every YAML file of the fixtures, the test charts, the shared corpus and a generated realistic corpus."""
    generated = tmp_path / "generated"
    realistic_corpus(generated, 400)
    roots = [ROOT / "fixtures", ROOT / "tests" / "charts", generated] + [CORPUS]
    out = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".yml", ".json") and language_of(str(path)) == "yaml":
                try:
                    text = decode(path.read_bytes())[0]
                except Exception:  # noqa: BLE001 - binary fixtures
                    continue
                out.append(SourceFile(str(path), text, abspath=str(path)))
    assert len(out) > 800
    return out


def test_no_rule_finds_anything_in_a_file_its_gate_closes(tmp_path):
    """Every rule reading YAML, run on every document under every profile (gates not applied): a
    finding, or a crash, only ever comes where the rule's gate is open."""
    checked = found = 0
    for source in _sources(tmp_path):
        documents = [d for d in parse_source(source).documents if d.language == "yaml"]
        for profile in PROFILES:
            for rule in YAML_RULES:
                assert rule.check is not None
                gate = rule.gate
                for doc in documents:
                    if not rule.reads(doc):  # (as the engine: a kinds rule reads its kinds only)
                        continue
                    checked += 1
                    try:
                        findings = list(rule.check(doc, profile))
                    except Exception:  # noqa: BLE001 - a crash (V6L999) must not hide behind a gate either
                        findings = [None]
                    if findings:
                        found += 1
                        assert gate is None or gate(source, profile), (rule.code, source.path, doc.index)
    assert found > 1000 and checked > 50_000, (found, checked)


def test_gates_are_derived_from_kinds_and_views():
    by_code = {r.code: r for r in ALL_RULES}
    service = SourceFile("s.yaml", "apiVersion: v1\nkind: Service\nspec:\n  ipFamilies: [IPv6]\n")
    cluster_ip = SourceFile("c.yaml", "apiVersion: v1\nkind: Service\nspec:\n  ports: [{port: 80}]\n")
    deployment = SourceFile("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  ipFamilies: [IPv6]\n")
    escaped = SourceFile("e.yaml", 'apiVersion: v1\nkind: "Serv\\x69ce"\n')
    profile = Profile("ipv6", "--ip-family", platform="aws")
    svc = by_code["SVC001"].gate  # the kind's parts and the field it reads
    assert svc is not None and svc(service, profile)
    assert not svc(deployment, profile) and not svc(cluster_ip, profile)
    assert svc(escaped, profile)  # an escape can spell the kind: the gate stays open
    assert by_code["CNI012"].kinds == ("*",) and by_code["CNI012"].gate is not None  # its own needles
    assert by_code["V6L900"].gate is None  # a notice: no check, no gate
    spk = by_code["SPK001"].gate
    assert spk is not None and spk(SourceFile("c.yaml", "args: [spark-submit]\n"), profile)
    assert not spk(deployment, profile)


_LINTERS = list({tuple(map(id, linter._gated)): linter for linter in (
    Linter(Settings(profile=profile, preview=preview)) for profile in PROFILES for preview in (False, True))}.values())


_NEEDLES = sorted({n for r in YAML_RULES if isinstance(r.gate, Needles) for a in r.gate.alternatives for n in a})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NEEDLES + ["\n", " ", "x", "\\", "v6lint", "Servic", "ipFamil", "IPv6", "iPV6", "IPV", "\u212a"]),
                max_size=12).map("".join),
       st.data())
def test_any_gate_answers_as_each_gate_asked_in_turn(text, data):
    """AnyGate (Linter.quiet's one question: is any enabled rule's gate open?) pools and trims the
    gates' alternatives; it answers exactly as asking every gate in turn would, on texts made of the
    rules' needles and parts of them (a part alone opens nothing), under every profile."""
    source = SourceFile("x.yaml", text)
    for linter in _LINTERS:
        gates = [g for g, codes in linter._gated.items() if codes & linter.enabled]
        some = data.draw(st.lists(st.sampled_from(gates), unique_by=id)) if gates else []
        for chosen in (gates, some):
            expected = any(FileGates(source, linter.profile).open(g) for g in chosen)
            assert AnyGate(chosen).open(FileGates(source, linter.profile)) is expected, (text, chosen)


def test_any_gate_keeps_one_of_two_alternatives_that_hold_together():
    """An alternative is dropped only for another one that holds wherever it does, never both of two
    that hold exactly together; a needle that is part of another's makes that one redundant."""
    both = AnyGate([contains("ab"), Needles((("ab", "a"),))])
    assert both.alternatives == (("ab",),)
    assert both.open(FileGates(SourceFile("x.yaml", "ab"), Profile()))
    assert not both.open(FileGates(SourceFile("x.yaml", "a b"), Profile()))
    assert AnyGate([contains("clusterIPs"), contains("clusterIP")]).alternatives == (("clusterIP",),)
    assert len(AnyGate([contains("ipFamily"), contains("ipFamilies")]).alternatives) == 2  # -y, -ies
    assert AnyGate([]).open(FileGates(SourceFile("x.yaml", "\\"), Profile())) is False


def test_a_word_in_any_case_is_one_needle_kept_apart_from_plain_ones():
    """any_case's word is searched for once in the lower-cased text; it is never the plain needle of the
    same letters (in a file's memo or in AnyGate's pool), and a plain needle inside it does not stand for it."""
    gate = any_case("IPv6")
    assert gate.alternatives == ((AnyCase("ipv6"),),)
    for text, expected in (("ipFamilies: [IPv6]", True), ("mode: iPV6", True), ("IPv4 ipv 6", False)):
        assert FileGates(SourceFile("x.yaml", text), Profile()).open(gate) is expected
    answers = FileGates(SourceFile("x.yaml", "IPv6"), Profile())
    assert answers.open(gate) and not answers.open(contains("ipv6"))
    pooled = AnyGate([gate, contains("ipv")])
    assert len(pooled.alternatives) == 2 and pooled.open(FileGates(SourceFile("x.yaml", "IPV6"), Profile()))
    assert AnyGate([gate, contains("x-IPv6-y")]).alternatives == ((AnyCase("ipv6"),),)  # it holds wherever that does


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "fixtures", root)
    realistic_corpus(root / "realistic", 600)
    shutil.copytree(CORPUS, root / "corpus")
    (root / ".git").mkdir()
    return root


def _check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "--exit-zero", "--no-cache", "--jobs", "1", "--output-format",
                                       "json", *args], catch_exceptions=False)
    return result.output


def test_gates_and_the_pre_filter_change_no_finding(tmp_path, monkeypatch):
    """The fixtures, a realistic corpus and the shared corpus, under their own profiles and under
    each family with --preview: the same JSON with every gate open (no pre-filter) as with gates,
    and the pre-filter does skip files."""
    monkeypatch.chdir(_project(tmp_path))
    skipped = []
    real = engine.parses_clean

    def counting(source):
        clean = real(source)
        if clean:
            skipped.append(source.path)
        return clean

    monkeypatch.setattr(engine, "parses_clean", counting)
    runs = [(), ("--preview",)] + [("--preview", "--ip-family", f, "--platform", "aws") for f in ("ipv4", "ipv6", "dual")]
    gated = [_check(*args) for args in runs]
    assert len(skipped) > 500
    monkeypatch.setattr(Rule, "gate", property(lambda self: None))
    for args, expected in zip(runs, gated):
        assert _check(*args) == expected, args
    assert len(json.loads(gated[0])) > 100


def test_a_quiet_file_is_only_syntax_checked(monkeypatch):
    linter = Linter(Settings(profile=Profile("ipv6", "--ip-family", platform="aws")))

    def no_parse(*_args, **_kwargs):
        raise AssertionError("documents were built")

    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  schedule: '1 * * * *'\n"
    broken = deployment + "  bad: [unclosed\n"
    undefined = deployment + "  alias: *nowhere\n"
    expected = {text: linter.lint_source(SourceFile("d.yaml", text)) for text in (broken, undefined)}
    assert [d.code for d in expected[broken]] == ["V6L900"]
    assert [d.code for d in expected[undefined]] == ["V6L900"]
    monkeypatch.setattr(engine, "parse_source", no_parse)
    assert linter.lint_source(SourceFile("d.yaml", deployment)) == []
    with pytest.raises(AssertionError):  # a suppression comment needs the documents
        linter.lint_source(SourceFile("d.yaml", deployment + "# v6lint: ignore[SVC001]\n"))
    with pytest.raises(AssertionError):  # a syntax error is reported by the full parse, as always
        linter.lint_source(SourceFile("d.yaml", broken))
    with pytest.raises(AssertionError):  # an alias: the composer decides
        linter.lint_source(SourceFile("d.yaml", undefined))


_YAMLISH = st.lists(st.sampled_from(
    ["a", "b: ", "- ", "\n", "  ", "[", "]", "{", "}", ",", "&x ", "*x", "*y", "!t ", "!!str ", "'", '"', "#", "|",
     ">", "? ", ":", "---\n", "...\n", "%YAML 1.2\n", "%TAG ! tag:x,2000:\n", "\t", "{{ x }}", "\\", "\ufeff", "@",
     "`", "1 3 * * *", "&", "*", "kind: Service\n", "!a%25b ", "!a%zz ", "!<tag:x%41> ", "%", "!e!x "]),
    max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_YAMLISH)
def test_parses_clean_only_when_parse_yaml_finds_no_problem(text):
    source = SourceFile("x.yaml", text)
    if parses_clean(source):
        assert parse_yaml(source).problem is None


def test_parses_clean_agrees_with_parse_yaml_on_real_and_broken_files(tmp_path):
    """Real files and, for each, truncations and one-character damages: parses_clean says clean only
    when parse_yaml finds no problem (and does say clean for most real files)."""
    clean = total = 0
    for source in _sources(tmp_path)[::3]:
        text = source.text
        variants = [text] + [text[:n] for n in (len(text) // 3, len(text) // 2)] + \
            [text[:n] + ch + text[n:] for n, ch in ((len(text) // 4, "\t"), (len(text) // 2, "["), (len(text) // 5, "*a"))]
        for variant in variants:
            one = SourceFile(source.path, variant)
            total += 1
            if parses_clean(one):
                clean += 1
                assert parse_yaml(one).problem is None, (source.path, variant[:200])
    assert clean > total // 3
