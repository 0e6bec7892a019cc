"""Engine behaviour: byte preservation, suppressions, notices, safe writes."""
from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, settings, strategies as st

from v6lint.config import Settings
from v6lint.diagnostics import Finding
from v6lint.discovery import display_path
from v6lint.engine import Linter, WriteError, write_atomic
from v6lint.rule import Profile, Rule
from v6lint.rules import ALL_RULES
from v6lint.source import SourceFile, decode
from v6lint.yaml_source import parse_yaml


def lint(text: str, *, select=None, ip_family=None, path="t.yaml"):
    settings = Settings(profile=Profile(ip_family, "--ip-family") if ip_family else Profile())
    linter = Linter(settings, select=select)
    return linter, linter.lint_source(SourceFile(path, text))


MESSY = (
    "\ufeff# top comment\r\n"
    "---\r\n"
    "apiVersion: v1\r\n"
    "x-base: &labels {app: web,   tier: 'front'}   # flow map with odd spacing\r\n"
    "kind: Service\r\n"
    "metadata:\r\n"
    "   name: web          # three-space indent\r\n"
    "   labels: *labels\r\n"
    "spec:\r\n"
    "   ipFamilyPolicy:    \"preferDualStack\"   # quoted, wrong case\r\n"
    "   ipFamilies:\r\n"
    "   -    IPv6\r\n"
    "\r\n"
    "   ports: [ {port: 80,  protocol: TCP} ]\r\n"
    "   selector: {app: web}\r\n"
)


def test_fixing_one_value_changes_only_that_value():
    data = MESSY.encode("utf-8")
    text, encoding, bom = decode(data)
    assert bom and encoding == "utf-8"
    linter = Linter(Settings(), select=["SVC002"])
    result = linter.fix_source(SourceFile("messy.yaml", text, encoding, bom))
    assert result.fixed is not None
    out = result.fixed.encode()
    assert out == data.replace(b'"preferDualStack"', b'"PreferDualStack"')
    assert out.startswith(b"\xef\xbb\xbf") and out.count(b"\r\n") == data.count(b"\r\n")


def test_inserted_lines_follow_crlf_and_sequence_indentation():
    text = "apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: web\r\nspec:\r\n  ipFamily: IPv6\r\n" \
           "  ports:\r\n  - port: 80\r\n"
    linter = Linter(Settings(), select=["SVC011"])
    fixed = linter.fix_source(SourceFile("s.yaml", text)).fixed.text
    assert fixed == text.replace("  ipFamily: IPv6\r\n",
                                 "  ipFamilies:\r\n  - IPv6\r\n  ipFamilyPolicy: SingleStack\r\n")


def test_utf16_file_round_trips():
    data = "apiVersion: v1\nkind: Service\nmetadata: {name: w}\nspec: {ipFamilies: [ipv6]}\n".encode("utf-16")
    text, encoding, bom = decode(data)
    linter = Linter(Settings(), select=["SVC001"])
    result = linter.fix_source(SourceFile("u.yaml", text, encoding, bom))
    assert result.fixed.encode() == "apiVersion: v1\nkind: Service\nmetadata: {name: w}\n" \
                                    "spec: {ipFamilies: [IPv6]}\n".encode("utf-16")


def test_ranges_are_exact_for_block_flow_and_quoted_values():
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ipFamilies: ['ipv6', IPV4]\n"
    _, diags = lint(text, select=["SVC001"])
    assert [(d.start_line, d.start_column, d.end_line, d.end_column) for d in diags] == [(6, 16, 6, 22), (6, 24, 6, 28)]
    assert text.splitlines()[5][15:21] == "'ipv6'"


def test_parse_errors_show_under_any_select_unless_ignored():
    text = "apiVersion: v1\nkind: Service\nspec: [\n"
    assert [d.code for d in lint(text, select=["SVC002"])[1]] == ["V6L900"]
    linter = Linter(Settings(ignore=["V6L900"]), select=["SVC002"])
    assert linter.lint_source(SourceFile("t.yaml", text)) == []


def test_non_kubernetes_yaml_gets_no_kubernetes_rules():
    _, diags = lint("spec:\n  ipFamilies: [ipv6]\n  ipFamilyPolicy: SingleStack\n")
    assert diags == []


def test_only_core_services_are_services():
    _, diags = lint("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: f}\n"
                    "spec: {ipFamilies: [ipv6]}\n")
    assert diags == []


def test_kubectl_list_items_are_linted_as_objects():
    text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n" \
           "  spec: {ipFamilies: [ipv6]}\n"
    _, diags = lint(text, select=["SVC001"])
    assert [(d.code, d.start_line) for d in diags] == [("SVC001", 7)]
    assert "Service a" in diags[0].message


def test_profile_rules_are_silent_without_a_profile_and_name_their_source():
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ipFamilies: [IPv4]}\n"
    assert lint(text, select=["SVC009"])[1] == []
    diags = lint(text, select=["SVC009"], ip_family="ipv6")[1]
    assert [d.code for d in diags] == ["SVC009"]
    assert diags[0].profile.ip_family == "ipv6" and diags[0].profile.source == "--ip-family"


SUPPRESSED = """\
# v6lint: file-ignore[SVC002]
apiVersion: v1
kind: Service
metadata:
  name: a
  annotations:
    v6lint.io/ignore: "SVC011"
spec:
  ipFamily: IPv6
  ipFamilyPolicy: dualstack
  # v6lint: ignore[invalid-ip-family]
  ipFamilies: [ipv6, ipv4]
  clusterIP: None  # v6lint: ignore[SVC008] reason text
  type: NodePort
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ipFamily: IPv6}
"""


def test_suppressions_by_comment_line_above_file_and_annotation():
    _, diags = lint(SUPPRESSED)
    # SVC011 on `a` is suppressed by its annotation only: `b` still reports it.
    assert [(d.code, d.start_line) for d in diags] == [("SVC011", 19)]


def test_unused_suppression_respects_rules_that_did_not_run():
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ipFamilies: [IPv6]  # v6lint: ignore[SVC009]\n"
    assert lint(text)[1] == []  # SVC009 needs a profile: it did not run, so nothing is "unused"
    diags = lint(text, ip_family="ipv6")[1]
    assert [d.code for d in diags] == ["V6L001"]


def test_alias_bomb_is_measured_not_expanded():
    levels = ["a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]" for i in range(1, 12)]
    parsed = parse_yaml(SourceFile("bomb.yaml", "\n".join(levels) + "\n"))
    assert parsed.problem.code == "V6L904" and parsed.documents == []


def test_recursive_alias_is_a_notice():
    parsed = parse_yaml(SourceFile("r.yaml", "a: &a [*a]\n"))
    assert parsed.problem.code == "V6L904"


def test_python_tags_are_data_never_constructed():
    parsed = parse_yaml(SourceFile("t.yaml", "a: !!python/object/apply:os.system ['touch /tmp/pwned-v6lint']\n"))
    assert parsed.problem is None and not os.path.exists("/tmp/pwned-v6lint")
    assert parsed.documents[0].root.get("a").tag == "tag:yaml.org,2002:python/object/apply:os.system"


def test_terraform_directive_and_unparsable_interpolation_are_template_notices():
    parsed = parse_yaml(SourceFile("t.yaml", "a: 1\n%{ if enable_ipv6 ~}\nb: 2\n%{ endif ~}\n"))
    assert parsed.problem.code == "V6L901"
    parsed = parse_yaml(SourceFile("t.yaml", "a: ${ var.x }: y\n b: [\n"))
    assert parsed.problem.code == "V6L901"
    # envsubst-style placeholders that parse are linted as YAML
    assert parse_yaml(SourceFile("t.yaml", "subnet: ${SUBNET_AZ_1}\n")).problem is None


def test_unreadable_file_is_a_notice(tmp_path):
    link = tmp_path / "gone.yaml"
    link.symlink_to(tmp_path / "missing.yaml")
    result = Linter(Settings()).check_path(link)
    assert [d.code for d in result.diagnostics] == ["V6L905"]


def test_a_crashing_rule_is_reported_and_the_run_goes_on():
    def boom(doc, profile):
        raise KeyError("oops")
        yield  # pragma: no cover

    crashing = Rule("SVC901", "crashing", "s", "error", why="w", example="e", fix="none", check=boom,
                    kinds=("v1/Service",))
    linter = Linter(Settings(), rules=[crashing, *ALL_RULES], select=["SVC901", "SVC001", "V6L999"])
    diags = linter.lint_source(SourceFile("c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                                                    "spec: {ipFamilies: [ipv6]}\n"))
    assert sorted(d.code for d in diags) == ["SVC001", "V6L999"]
    assert "SVC901 failed on Service a: KeyError" in next(d.message for d in diags if d.code == "V6L999")


def test_fix_that_would_not_parse_is_refused():
    def bad_fix(doc, profile):
        from v6lint.diagnostics import Edit, Fix
        yield Finding(0, 0, "breaks", Fix("break it", "safe", (Edit(0, 0, "[unclosed\n"),)))

    breaker = Rule("SVC902", "breaker", "s", "error", why="w", example="e", fix="safe", check=bad_fix,
                   kinds=("v1/Service",))
    linter = Linter(Settings(), rules=[breaker, *ALL_RULES], select=["SVC902", "V6L906"])
    result = linter.fix_source(SourceFile("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"))
    assert result.fixed is None
    assert "V6L906" in [d.code for d in result.diagnostics]


def test_write_atomic_keeps_mode_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "svc.yaml"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    write_atomic(target, b"old\n", b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["svc.yaml"]


def test_write_atomic_refuses_a_file_changed_on_disk(tmp_path):
    target = tmp_path / "svc.yaml"
    target.write_bytes(b"changed by someone else\n")
    with pytest.raises(WriteError, match="changed on disk"):
        write_atomic(target, b"what we read\n", b"new\n")
    assert target.read_bytes() == b"changed by someone else\n"


def test_write_atomic_follows_symlinks(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_bytes(b"a\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    write_atomic(link, b"a\n", b"b\n")
    assert link.is_symlink() and real.read_bytes() == b"b\n"


def test_insertion_after_a_block_scalar_stays_in_its_mapping():
    text = ("apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata: {name: a}\nspec:\n"
            "  sparkConf: {spark.kubernetes.driver.service.ipFamilies: 'IPv6,IPv4'}\n"
            "  driver:\n    annotations:\n      groups: |-\n        [1, 2]\n\n  executor:\n    cores: 1\n")
    linter = Linter(Settings(profile=Profile("dual", "--ip-family")), select=["SPK008"])
    fixed = linter.fix_source(SourceFile("a.yaml", text)).fixed.text
    assert fixed == text.replace("        [1, 2]\n", "        [1, 2]\n    javaOptions: \"-Djava.net.preferIPv6Addresses=true\"\n") \
                        .replace("    cores: 1\n", "    cores: 1\n    javaOptions: \"-Djava.net.preferIPv6Addresses=true\"\n")


def test_plain_scalars_have_no_style_whichever_loader_composed_them():
    root = parse_yaml(SourceFile("s.yaml", "a: plain\nb: 'single'\nc: \"double\"\n")).documents[0].root
    assert [v.style for _k, v in root.entries()] == [None, "'", '"']


def test_positions_and_the_serialised_form_come_from_one_boundary():
    from v6lint.diagnostics import Diagnostic, Edit, Fix, ProfileRef

    # one line of astral and BMP characters, one CRLF line: people count characters, the editor UTF-16
    text = "a: \U0001F600é\U0001F600x\r\nb: y\n"
    source = SourceFile("s.yaml", text)
    x = text.index("x")
    assert source.point(x) == (1, 7) and source.lsp_point(x) == (0, 8)
    assert source.point(text.index("y")) == (2, 4) and source.lsp_point(len(text)) == (2, 0)
    fix = Fix("Replace", "unsafe", (Edit(x, x + 1, "X"), Edit(text.index("y"), text.index("y"), "z")))
    diag = Diagnostic("SVC001", "invalid-ip-family", "error", "m", "s.yaml", x, text.index("b"), fix, "u",
                      ProfileRef("dual", "t.tfvars:2"), cell=3).place(source)
    assert (diag.start_line, diag.start_column, diag.end_line, diag.end_column) == (1, 7, 2, 1)
    assert diag.profile_note == " (dual-stack cluster per t.tfvars:2)"
    shown = diag.to_json(source)
    assert list(shown) == ["code", "name", "severity", "message", "path", "range", "fix", "url", "profile", "cell"]
    assert shown["fix"]["edits"][1] == {"range": {"start": {"line": 2, "column": 4}, "end": {"line": 2, "column": 4}},
                                        "content": "z"}
    stored = diag.to_json(source, offsets=True)
    assert stored["offsets"] == [x, text.index("b")] and stored["fix"]["edits"][0]["offsets"] == [x, x + 1]
    assert Diagnostic.from_json(stored) == diag
    assert Diagnostic.from_json(stored, "elsewhere.yaml").path == "elsewhere.yaml"
    for broken in (shown, {**stored, "severity": "fatal"}, {**stored, "offsets": [5, 1]}, {**stored, "cell": 0},
                   {**stored, "profile": {"ip_family": "ipx", "source": ""}}, [stored], None):
        with pytest.raises(ValueError):
            Diagnostic.from_json(broken)


def test_one_writer_for_suppression_comments_knows_where_none_can_go():
    from v6lint.suppressions import comment_edit, ignore_edit, parse_comments

    conf = SourceFile("spark-defaults.conf", "spark.a  1\n  spark.driver.host  10.0.0.1\n")
    edit = ignore_edit(conf, "SPK001", conf.text.index("10.0"))
    assert (edit.start, edit.content) == (conf.line_start(1), "# v6lint: ignore[SPK001]\n")  # never after a value
    assert ignore_edit(SourceFile("x.tfvars.json", '{"enable_ipv6": false}\n'), "TF001", 2) is None
    assert ignore_edit(SourceFile("n.ipynb", '{"cells": []}\n'), "SPK001", 2) is None
    yaml = SourceFile("s.yaml", 'a: "# v6lint: ignore[X1]"  # v6lint: ignore[SVC001]\nb: 1\n')
    sups = parse_comments(yaml)
    assert [s.codes for s in sups] == [["SVC001"]]  # the one in the string is data
    assert comment_edit(yaml, 0, ["SVC001"], sups=sups) is None
    added = comment_edit(yaml, 0, ["SVC004", "SVC001"], sups=sups)
    assert yaml.text[:added.start] + added.content + yaml.text[added.end:] == \
        'a: "# v6lint: ignore[X1]"  # v6lint: ignore[SVC001, SVC004]\nb: 1\n'
    added = comment_edit(yaml, 1, ["SVC004"], "legacy")
    assert (added.start, added.content) == (yaml.line_end(1), "  # v6lint: ignore[SVC004] legacy")


def test_a_null_ip_family_leaves_svc006_without_a_reorder_fix_instead_of_crashing():
    # mypy found it: the reorder fix sorted ipFamilies with a null entry beside a family (TypeError).
    text = ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n"
            "  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv6, ~]\n"
            "  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.1, 'fd00::1']\n  selector: {app: web}\n")
    _linter, diags = lint(text, select=["SVC006", "V6L999"], ip_family="dual")
    assert [(d.code, text[d.start:d.end], d.fix) for d in diags] == [("SVC006", "IPv6", None)]
    assert diags[0].message.startswith("Service web: ipFamilies[0] is IPv6 but clusterIPs[0] (10.0.0.1) is IPv4")
    # a complete pair is still reordered by the fix
    _linter, diags = lint(text.replace("[IPv6, ~]", "[IPv6, IPv4]"), select=["SVC006"], ip_family="dual")
    assert [d.fix.message for d in diags if d.fix] == ["Reorder ipFamilies to match clusterIPs"] * 2


_PARTS = st.lists(st.sampled_from(["a", "b", "c", "..", ".", "", "..c", "f.yaml"]), max_size=6)


@settings(max_examples=400, deadline=None)
@given(_PARTS, st.sampled_from(["", "a", "a/b", "a/b/c", "a/..c"]), st.sampled_from(["rel", "abs", "abs/", "//"]))
def test_display_path_is_the_path_from_the_working_directory(tmp_path_factory, parts, cwd, form):
    """display_path works out each folder's relative path once (discovery._relative_folder); what it
    shows is still os.path.relpath of the path from the working directory, or the path as given when
    that climbs two folders or more, also for a path that is a folder above the working directory."""
    root = tmp_path_factory.getbasetemp() / "display"
    (root / "a" / "b" / "c").mkdir(parents=True, exist_ok=True)
    (root / "a" / "..c").mkdir(exist_ok=True)
    path = os.path.join(*parts) if parts else ""
    if form != "rel":
        path = os.path.join(str(root), path) + ("/" if form == "abs/" else "")
        path = path.replace("/", "//") if form == "//" else path
    here = os.getcwd()
    os.chdir(root / cwd)
    try:
        shown = display_path(path)
        if not os.path.isabs(path) and os.path.normpath(path) != "." and not os.path.normpath(path).startswith(".."):
            assert shown == os.path.normpath(path)
        else:
            try:
                expected = os.path.relpath(path)
            except ValueError:  # no path at all
                expected = path
            assert shown == (path if expected.startswith("../..") else expected)
    finally:
        os.chdir(here)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\n\r\u2028é", max_size=40), st.integers(min_value=-2, max_value=45))
def test_positions_count_lines_at_line_feeds_only(text, offset):
    """SourceFile's lines start at 0 and one past each LF (a CR or U+2028 is inside a line): positions
    are (line, column) of that, for any offset, clamped to the text."""
    from v6lint.source import SourceFile

    source = SourceFile("x.yaml", text)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    assert source.line_count == len(starts)
    at = max(0, min(offset, len(text)))
    line = max(i for i, start in enumerate(starts) if start <= at)
    assert source.position(offset) == (line, at - starts[line])
