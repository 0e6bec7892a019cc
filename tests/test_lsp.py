"""End-to-end tests of `v6lint server` with a real LSP client over stdio (pytest-lsp)."""
from __future__ import annotations

import asyncio
import time
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from fixturelib import needs_renderer

ROOT = Path(__file__).resolve().parent.parent
SVC = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: SingleStack   # keep me
  ipFamilies: [ipv6, IPv4]
"""
JOB = """\
apiVersion: "sparkoperator.k8s.io/v1beta2"
kind: SparkApplication
metadata:
  name: etl
spec:
  sparkConf:
    "spark.eventLog.enabled": "true"
  driver:
    cores: 1
"""


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    (root / "terraform").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "terraform" / "stack.tfvars").write_text("enable_ipv6 = false\n")
    (root / "svc.yaml").write_text(SVC)
    (root / "job.yaml").write_text(JOB)
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "v6lint", "server"]))
async def client(lsp_client: LanguageClient, workspace):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=from_fs_path(str(workspace)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(workspace)), name="ws")],
        initialization_options={"ip-family": None},
    ))
    yield
    await lsp_client.shutdown_session()


def uri_of(workspace: Path, name: str) -> str:
    return from_fs_path(str(workspace / name))


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "yaml", version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))


def change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics_for(client: LanguageClient, uri: str, predicate=lambda d: True, timeout: float = 10):
    async def wait():
        while not (uri in client.diagnostics and predicate(client.diagnostics[uri])):
            await client.wait_for_notification("textDocument/publishDiagnostics")
        return client.diagnostics[uri]
    return await asyncio.wait_for(wait(), timeout)


def codes(diags) -> list[str]:
    return sorted(d.code for d in diags)


async def actions_for(client: LanguageClient, uri: str, diag: types.Diagnostic) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    def off(p):
        return offsets[p.line] + p.character if p.line < len(offsets) else len(text)
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:off(e.range.start)] + e.new_text + text[off(e.range.end):]
    return text


async def test_diagnostics_on_open_with_ranges_codes_and_links(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    diags = await diagnostics_for(client, uri)
    assert codes(diags) == ["SVC001", "SVC004", "SVC009"]
    svc001 = next(d for d in diags if d.code == "SVC001")
    assert svc001.range == types.Range(start=types.Position(line=6, character=15),
                                       end=types.Position(line=6, character=19))
    assert svc001.severity == types.DiagnosticSeverity.Error and svc001.source == "v6lint"
    assert svc001.code_description.href.endswith("#svc001-invalid-ip-family")
    svc009 = next(d for d in diags if d.code == "SVC009")
    assert svc009.message.endswith("(IPv4 cluster per terraform/stack.tfvars:1)")
    assert any("cluster profile ipv4 per terraform/stack.tfvars:1" in m.message for m in client.log_messages)


async def test_quick_fix_removes_the_finding_and_unsafe_fixes_say_so(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    diags = await diagnostics_for(client, uri)
    svc001 = next(d for d in diags if d.code == "SVC001")
    actions = await actions_for(client, uri, svc001)
    titles = [a.title for a in actions]
    assert "Replace with `IPv6` (SVC001)" in titles and "Ignore SVC001 on this line" in titles
    fix = next(a for a in actions if a.title == "Replace with `IPv6` (SVC001)")
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    fixed = apply(SVC, fix.edit.changes[uri])
    assert fixed == SVC.replace("[ipv6, IPv4]", "[IPv6, IPv4]")
    change(client, uri, fixed, 2)
    diags = await diagnostics_for(client, uri, lambda ds: "SVC001" not in codes(ds))
    assert codes(diags) == ["SVC004", "SVC009"]
    svc004 = next(d for d in diags if d.code == "SVC004")
    actions = await actions_for(client, uri, svc004)
    assert "Set ipFamilyPolicy to `PreferDualStack` (SVC004, unsafe)" in [a.title for a in actions]


async def test_ignore_action_inserts_a_suppression_comment(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    diags = await diagnostics_for(client, uri)
    svc004 = next(d for d in diags if d.code == "SVC004")
    actions = await actions_for(client, uri, svc004)
    ignore = next(a for a in actions if a.title == "Ignore SVC004 on this line")
    text = apply(SVC, ignore.edit.changes[uri])
    assert "  ipFamilyPolicy: SingleStack   # keep me  # v6lint: ignore[SVC004]\n" in text
    change(client, uri, text, 2)
    diags = await diagnostics_for(client, uri, lambda ds: "SVC004" not in codes(ds))
    assert codes(diags) == ["SVC001", "SVC009"]


async def test_fix_all_applies_every_safe_fix(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll])))
    assert [a.kind for a in actions] == ["source.fixAll.v6lint"]
    assert apply(SVC, actions[0].edit.changes[uri]) == SVC.replace("[ipv6, IPv4]", "[IPv6, IPv4]")


async def test_hover_shows_the_rule_explanation(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=5, character=22)))
    assert "SVC004 (single-stack-two-families)" in hover.contents.value
    from v6lint.rules import lookup
    assert lookup("SVC004").explain() in hover.contents.value
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)))
    assert nothing is None


async def test_half_typed_documents_get_a_parse_diagnostic_and_the_server_goes_on(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, "apiVersion: v1\nkind: Service\nspec:\n  ipFamilies: [ipv6\n")
    diags = await diagnostics_for(client, uri)
    assert codes(diags) == ["V6L900"] and diags[0].range.start.line == 4
    tf = uri_of(workspace, "main.tf")
    open_doc(client, tf, 'module "eks" {\n  cluster_ip_family = "IPv6"\n  broken = [\n', "terraform")
    assert "V6L900" in codes(await diagnostics_for(client, tf))
    py = uri_of(workspace, "job.py")
    open_doc(client, py, "from pyspark.sql import SparkSession\nspark = SparkSession.builder.config(\n", "python")
    assert codes(await diagnostics_for(client, py)) == ["V6L900"]
    change(client, uri, SVC, 2)
    assert "SVC001" in codes(await diagnostics_for(client, uri, lambda ds: "SVC001" in codes(ds)))


async def test_a_burst_of_changes_is_linted_once_at_its_latest_version(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri)
    seen: list[int] = []
    for version in range(2, 42):
        change(client, uri, SVC.replace("[ipv6, IPv4]", f"[ipv6-{version}, IPv4]"), version)

    def marker(ds):
        for d in ds:
            if d.code == "SVC001" and "ipv6-" in d.message:
                seen.append(int(d.message.split("ipv6-")[1].split("'")[0]))
                return seen[-1] == 41
        return False
    await diagnostics_for(client, uri, marker)
    assert seen == sorted(seen) and seen[-1] == 41
    assert len(seen) <= 3  # debounced: not one lint per keystroke


async def test_close_clears_diagnostics(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri, lambda ds: len(ds) > 0)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert list(await diagnostics_for(client, uri, lambda ds: len(ds) == 0)) == []


async def test_editing_the_tfvars_changes_the_profile_of_open_documents(client: LanguageClient, workspace):
    job = uri_of(workspace, "job.yaml")
    open_doc(client, job, JOB)
    assert "SPK001" not in codes(await diagnostics_for(client, job))
    tfvars = uri_of(workspace, "terraform/stack.tfvars")
    open_doc(client, tfvars, "enable_ipv6 = false\n", "terraform")
    change(client, tfvars, "enable_ipv6 = true\n", 2)  # unsaved: the editor's text counts
    diags = await diagnostics_for(client, job, lambda ds: "SPK001" in codes(ds))
    spk001 = next(d for d in diags if d.code == "SPK001")
    assert spk001.message.endswith("(IPv6 cluster per terraform/stack.tfvars:1)")


async def test_configuration_sets_ip_family_select_and_ignore(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"v6lint": {"ip-family": "ipv6", "ignore": ["SVC001"]}}))
    diags = await diagnostics_for(client, uri, lambda ds: "SVC001" not in codes(ds))
    assert codes(diags) == ["SVC004", "SVC009"]
    assert next(d for d in diags if d.code == "SVC009").message.endswith(
        "(IPv6 cluster per editor setting ip-family)")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"v6lint": {"select": "SVC004"}}))
    assert codes(await diagnostics_for(client, uri, lambda ds: codes(ds) == ["SVC004"])) == ["SVC004"]


async def test_unsafe_fixes_setting_extends_fix_all(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"v6lint": {"unsafe-fixes": True}}))
    await diagnostics_for(client, uri)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll])))
    fixed = apply(SVC, actions[0].edit.changes[uri])
    # SVC004 and SVC009 are unsafe: on this IPv4 cluster the IPv6 family goes and the policy relaxes
    assert fixed == SVC.replace("SingleStack", "PreferDualStack").replace("[ipv6, IPv4]", "[IPv4]")


async def test_a_flood_of_changes_with_malformed_ones_ends_on_the_final_version(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    await diagnostics_for(client, uri)
    for version in range(2, 502):
        text = "apiVersion: v1\nkind: Service\nspec: [\n" if version % 3 == 0 else \
            SVC.replace("[ipv6, IPv4]", f"[ipv6-{version}, IPv4]")
        change(client, uri, text, version)
    final = SVC.replace("[ipv6, IPv4]", "[ipv6-final, IPv4]")
    change(client, uri, final, 502)

    def final_published(ds):
        return any(d.code == "SVC001" and "ipv6-final" in d.message for d in ds)
    await diagnostics_for(client, uri, final_published, timeout=30)
    await asyncio.sleep(0.5)  # nothing older may arrive afterwards
    assert final_published(client.diagnostics[uri])
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=6, character=16)))
    assert "SVC001" in hover.contents.value  # and the server still answers


async def test_safe_fixes_come_first_one_preferred_unsafe_after_labelled(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    diags = await diagnostics_for(client, uri)
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=7, character=0))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=whole,
        context=types.CodeActionContext(diagnostics=diags, only=[types.CodeActionKind.QuickFix])))
    titles = [a.title for a in actions]
    kinds = ["ignore" if t.startswith("Ignore ") else "unsafe" if t.endswith(", unsafe)") else "safe" for t in titles]
    # SVC004's unsafe fix sits above SVC001's safe one in the file, yet is offered after it
    assert titles[0] == "Replace with `IPv6` (SVC001)"
    assert "Set ipFamilyPolicy to `PreferDualStack` (SVC004, unsafe)" in titles
    assert kinds == sorted(kinds, key=["safe", "unsafe", "ignore"].index), titles
    assert [a.is_preferred for a in actions] == [True] + [None] * (len(actions) - 1)


V4_SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  ipFamilies: [IPv4]\n"


async def test_each_repository_in_the_workspace_has_its_own_profile(client: LanguageClient, workspace):
    for name, flag in (("legacy", "false"), ("v6", "true")):
        (workspace / name / ".git").mkdir(parents=True)
        (workspace / name / "stack.tfvars").write_text(f"enable_ipv6 = {flag}\n")
        (workspace / name / "api.yaml").write_text(V4_SERVICE)
    legacy, v6 = uri_of(workspace, "legacy/api.yaml"), uri_of(workspace, "v6/api.yaml")
    open_doc(client, legacy, V4_SERVICE)
    open_doc(client, v6, V4_SERVICE)
    assert codes(await diagnostics_for(client, v6, lambda ds: bool(ds))) == ["SVC009"]
    assert codes(await diagnostics_for(client, legacy)) == []
    assert client.diagnostics[v6][0].message.endswith("(IPv6 cluster per v6/stack.tfvars:1)")


async def test_a_project_without_a_profile_is_logged_once(client: LanguageClient, workspace):
    scratch = workspace / "scratch"
    (scratch / ".git").mkdir(parents=True)
    for index, name in enumerate(("a.yaml", "b.yaml")):
        uri = uri_of(workspace, f"scratch/{name}")
        open_doc(client, uri, V4_SERVICE)
        await diagnostics_for(client, uri)
        if index == 0:  # a change of settings rebuilds the linters; the note is still not repeated
            client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"v6lint": {}}))
    notes = [m for m in client.log_messages if m.message.startswith(f"Not checked in {scratch}:")]
    assert len(notes) == 1 and notes[0].type == types.MessageType.Warning
    assert "the `ip-family` setting (or `--ip-family`)" in notes[0].message


async def test_listing_a_file_as_a_kustomize_patch_stops_judging_it_as_a_whole_object(client: LanguageClient, workspace):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"v6lint": {"ip-family": "ipv6", "select": "SVC009"}}))
    patch = uri_of(workspace, "overlays/prod/api-patch.yaml")
    (workspace / "overlays/prod").mkdir(parents=True)
    (workspace / "overlays/prod/api-patch.yaml").write_text(V4_SERVICE)
    open_doc(client, patch, V4_SERVICE)
    assert codes(await diagnostics_for(client, patch, lambda ds: bool(ds))) == ["SVC009"]
    kustomization = uri_of(workspace, "overlays/prod/kustomization.yaml")
    (workspace / "overlays/prod/kustomization.yaml").write_text("resources:\n  - ../../base\n")
    open_doc(client, kustomization, "resources:\n  - ../../base\n")
    change(client, kustomization, "resources:\n  - ../../base\npatches:\n  - path: api-patch.yaml\n", 2)
    assert codes(await diagnostics_for(client, patch, lambda ds: not ds)) == []


async def test_security_15_bad_settings_are_reported_and_the_last_good_ones_kept(client: LanguageClient, workspace):
    uri = uri_of(workspace, "svc.yaml")
    open_doc(client, uri, SVC)
    before = codes(await diagnostics_for(client, uri))
    assert before
    for bad in ({"select": ["NOPE"]}, {"select": 5}, "select everything", {"ip-family": "ipv5"}):
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"v6lint": bad}))
    async def told():
        while len(client.messages) < 4:
            await client.wait_for_notification("window/showMessage")
    await asyncio.wait_for(told(), 10)
    assert all(m.type == types.MessageType.Error and "invalid settings" in m.message for m in client.messages)
    assert "'NOPE' matches no rule" in client.messages[0].message
    change(client, uri, SVC + "# edited\n", 2)
    assert codes(await diagnostics_for(client, uri, lambda ds: True)) == before  # not emptied


async def test_security_15_nul_uris_unopened_hover_and_debounced_profile(client: LanguageClient, workspace):
    poisoned = from_fs_path(str(workspace / "x.yaml")).replace("x.yaml", "x%00.yaml")
    open_doc(client, poisoned, SVC)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri_of(workspace, "never-opened.yaml")),
        position=types.Position(line=0, character=0)))
    assert hover is None
    job = uri_of(workspace, "job.yaml")
    open_doc(client, job, JOB)
    assert "SPK001" not in codes(await diagnostics_for(client, job))
    builds = sum("cluster profile" in m.message for m in client.log_messages)
    tfvars = uri_of(workspace, "terraform/stack.tfvars")
    open_doc(client, tfvars, "enable_ipv6 = false\n", "terraform")
    for version in range(2, 22):  # 20 keystrokes: one rebuild, after the burst, with the last text
        change(client, tfvars, "enable_ipv6 = true\n" if version % 2 else "enable_ipv6 = fals\n", version)
    assert "SPK001" in codes(await diagnostics_for(client, job, lambda ds: "SPK001" in codes(ds)))
    await asyncio.sleep(0.5)
    assert sum("cluster profile" in m.message for m in client.log_messages) == builds + 1




def web_chart(workspace: Path) -> Path:
    """An empty chart `web` (Chart.yaml and templates/); each test writes its values and template."""
    chart = workspace / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    return chart


@needs_renderer
async def test_editing_a_charts_values_rerenders_it_and_reports_on_the_values_line(client: LanguageClient, workspace):
    chart = web_chart(workspace)
    values = "families: [IPv6]\n"
    (chart / "values.yaml").write_text(values)
    template = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ipFamilies:\n"
                "  {{- toYaml .Values.families | nindent 4 }}\n")
    (chart / "templates" / "service.yaml").write_text(template)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"v6lint": {"ip-family": "ipv6", "select": "SVC009"}}))
    uri, template_uri = uri_of(workspace, "web/values.yaml"), uri_of(workspace, "web/templates/service.yaml")
    open_doc(client, template_uri, template)
    assert codes(await diagnostics_for(client, template_uri)) == []  # rendered: no V6L901 either
    open_doc(client, uri, values)
    assert codes(await diagnostics_for(client, uri)) == []
    change(client, uri, "families: [IPv4]\n", 2)  # unsaved: rendered from the editor's text
    found = await diagnostics_for(client, uri, lambda ds: bool(ds))
    assert codes(found) == ["SVC009"] and found[0].range.start.line == 0 and found[0].range.start.character == 11


@needs_renderer
async def test_editing_a_template_rerenders_the_unsaved_text_and_republishes_the_values_file(
        client: LanguageClient, workspace):
    chart = web_chart(workspace)
    values = "policy: SingleStack\n"
    (chart / "values.yaml").write_text(values)
    template = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
                "  ipFamilyPolicy: {{ .Values.policy }}\n  ipFamilies:\n    - IPv6\n")
    (chart / "templates" / "service.yaml").write_text(template)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"v6lint": {"ip-family": "ipv6", "select": "SVC004,SVC009"}}))
    uri, template_uri = uri_of(workspace, "web/values.yaml"), uri_of(workspace, "web/templates/service.yaml")
    open_doc(client, uri, values)
    open_doc(client, template_uri, template)
    assert codes(await diagnostics_for(client, template_uri)) == []
    assert codes(await diagnostics_for(client, uri)) == []
    # Unsaved, in two keystrokes: rendered once settled, from the buffer (the file is not written).
    change(client, template_uri, template + "    - IPv", 2)
    change(client, template_uri, template + "    - IPv4\n", 3)
    found = await diagnostics_for(client, template_uri, lambda ds: bool(ds))
    assert [(d.code, d.range.start.line, d.range.start.character) for d in found] == [("SVC009", 7, 4)]
    # the template's edit makes `policy: SingleStack` wrong (two families): the values file is republished
    on_values = await diagnostics_for(client, uri, lambda ds: bool(ds))
    assert [(d.code, d.range.start.line, d.range.start.character) for d in on_values] == [("SVC004", 0, 8)]
    assert "(Service web from chart web; set by policy in web/values.yaml)" in on_values[0].message
    assert (chart / "templates" / "service.yaml").read_text() == template
    change(client, template_uri, template, 4)  # undone: both clean again
    assert codes(await diagnostics_for(client, uri, lambda ds: not ds)) == []
    assert codes(await diagnostics_for(client, template_uri, lambda ds: not ds)) == []


def _ingress(name: str, ip_type: str) -> str:
    return (f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  annotations:\n"
            f"    alb.ingress.kubernetes.io/group.name: shop\n"
            f"    alb.ingress.kubernetes.io/ip-address-type: {ip_type}\n"
            f"spec:\n  ingressClassName: alb\n  defaultBackend: {{service: {{name: {name}, port: {{number: 80}}}}}}\n")


async def test_editing_an_ingress_group_member_refreshes_its_siblings(client: LanguageClient, workspace):
    # The server used to keep its own, shorter list of profile triggers (no `group.name`): editing one
    # member of an IngressGroup left LB012 stale on the others. It now asks project.affects_profile,
    # the predicate the profile scan itself uses.
    (workspace / ".v6lint.toml").write_text('[cluster]\nplatform = "aws"\n')
    (workspace / "cart.yaml").write_text(_ingress("cart", "dualstack"))
    (workspace / "web.yaml").write_text(_ingress("web", "dualstack"))
    cart, web = uri_of(workspace, "cart.yaml"), uri_of(workspace, "web.yaml")
    open_doc(client, cart, _ingress("cart", "dualstack"))
    assert "LB012" not in codes(await diagnostics_for(client, cart))
    open_doc(client, web, _ingress("web", "dualstack"))
    change(client, web, _ingress("web", "ipv4"), 2)  # unsaved
    diags = await diagnostics_for(client, cart, lambda ds: "LB012" in codes(ds))
    assert [d.range.start.line for d in diags if d.code == "LB012"] == [5]  # at group.name


def test_the_server_reprofiles_on_every_fact_the_profile_scan_reads():
    from v6lint.project import _HCL_TRIGGERS, _YAML_TRIGGERS, affects_profile

    for trigger in _YAML_TRIGGERS:
        assert affects_profile(Path("x.yaml"), f"metadata:\n  name: {trigger}\n"), trigger
    for trigger in _HCL_TRIGGERS:
        assert affects_profile(Path("x.tfvars"), f'x = "{trigger}"\n'), trigger
    assert affects_profile(Path("kustomization.yaml"), "resources: []\n")
    assert affects_profile(Path("main.tf"), "locals {}\n")  # declarations decide complete stacks
    assert affects_profile(Path("env.yaml"), "- name: ENABLE_PREFIX_DELEGATION\n  value: 'true'\n")
    assert not affects_profile(Path("svc.yaml"), "kind: Service\n")
    assert not affects_profile(Path("job.py"), "ClusterConfig\n")  # not a profile source file


async def test_a_file_the_config_excludes_gets_no_diagnostics(client: LanguageClient, workspace):
    (workspace / ".v6lint.toml").write_text('exclude = ["vendor/"]\n')
    (workspace / "vendor").mkdir()
    vendored, own = uri_of(workspace, "vendor/svc.yaml"), uri_of(workspace, "svc.yaml")
    open_doc(client, own, SVC)
    assert "SVC001" in codes(await diagnostics_for(client, own))
    open_doc(client, vendored, SVC)
    assert list(await diagnostics_for(client, vendored)) == []


# --- the worker: lints, renders and profile builds never hold up requests ------------------------

def _manifest(services: int) -> str:
    """Services (IPv6 only: PRF002 on an IPv4 cluster) with their Deployments, as one long file."""
    return "".join(
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-{i}\n  namespace: shop\nspec:\n"
        f"  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv6]\n  selector:\n    app: web-{i}\n  ports:\n"
        f"    - name: http\n      port: 80\n      targetPort: 8080\n---\napiVersion: apps/v1\nkind: Deployment\n"
        f"metadata:\n  name: web-{i}\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n"
        f"    matchLabels: {{app: web-{i}}}\n  template:\n    metadata:\n      labels: {{app: web-{i}}}\n"
        f"    spec:\n      containers:\n        - name: main\n          image: registry.example.com/web:{i}\n"
        f"          args: [\"--listen=[::]:8080\"]\n" for i in range(services))


class Timeline:
    """What the client received, in arrival order: `$/logTrace` lines and publishDiagnostics
    (uri, version), with the time each arrived; the server traces only when asked (setTrace)."""

    def __init__(self, client: LanguageClient) -> None:
        self.events: list[tuple[float, str, object]] = []
        original = client.protocol._handle_notification

        def spy(method, params):
            now = time.perf_counter()
            if method == "$/logTrace":
                self.events.append((now, "trace", params.message))
            elif method == "textDocument/publishDiagnostics":
                self.events.append((now, "publish", (params.uri, params.version)))
            return original(method, params)

        client.protocol._handle_notification = spy
        client.set_trace(types.SetTraceParams(value=types.TraceValue.Verbose))
        self.client = client

    def when(self, text: str) -> float | None:
        return next((t for t, kind, what in self.events if kind == "trace" and what == text), None)

    async def trace(self, text: str, timeout: float = 60) -> float:
        async def wait():
            while self.when(text) is None:
                await asyncio.sleep(0.001)
            return self.when(text)
        return await asyncio.wait_for(wait(), timeout)

    def published(self, uri: str) -> list:
        return [what[1] for _t, kind, what in self.events if kind == "publish" and what[0] == uri]


async def _timed(coroutine):
    result = await coroutine
    return result, time.perf_counter()


async def test_requests_are_answered_while_a_long_lint_runs(client: LanguageClient, workspace):
    timeline = Timeline(client)
    big, small = uri_of(workspace, "big.yaml"), uri_of(workspace, "svc.yaml")
    text = _manifest(1000)  # 32,000 lines: the lint must outlast the three requests (CI on a loaded machine)
    open_doc(client, big, text)
    open_doc(client, small, SVC)
    assert "PRF002" in codes(await diagnostics_for(client, big, lambda ds: bool(ds), timeout=60))
    await diagnostics_for(client, small)
    change(client, big, text.replace("namespace: shop", "namespace: store"), 2)  # every document re-parsed
    started = await timeline.trace(f"lint {big} version 2: start")
    svc001 = types.Range(start=types.Position(line=6, character=15), end=types.Position(line=6, character=19))
    hover_small, hover_big, actions = await asyncio.gather(
        _timed(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=small), position=types.Position(line=6, character=16)))),
        _timed(client.text_document_hover_async(types.HoverParams(  # from version 1's findings
            text_document=types.TextDocumentIdentifier(uri=big), position=types.Position(line=8, character=18)))),
        _timed(client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=small), range=svc001,
            context=types.CodeActionContext(diagnostics=[])))))
    done = await timeline.trace(f"lint {big} version 2: done")
    assert "SVC001" in hover_small[0].contents.value and "PRF002" in hover_big[0].contents.value
    assert "Replace with `IPv6` (SVC001)" in [a.title for a in actions[0]]
    # all three answered while the lint of version 2 was still running, in this same run
    assert started < max(hover_small[1], hover_big[1], actions[1]) < done
    await diagnostics_for(client, big, lambda ds: timeline.published(big)[-1:] == [2])


async def test_a_result_overtaken_by_an_edit_or_a_close_is_never_published(client: LanguageClient, workspace):
    timeline = Timeline(client)
    big = uri_of(workspace, "big.yaml")
    text = _manifest(1000)  # (as above: version 3 must arrive while version 2 is linted)
    open_doc(client, big, text)
    await diagnostics_for(client, big, lambda ds: bool(ds), timeout=60)
    change(client, big, text.replace("namespace: shop", "namespace: store"), 2)  # every document re-parsed
    await timeline.trace(f"lint {big} version 2: start")
    change(client, big, text + "# 3\n", 3)  # arrives while version 2 is linted
    await timeline.trace(f"lint {big} version 2: done")
    await timeline.trace(f"lint {big} version 3: done")
    await diagnostics_for(client, big, lambda ds: 3 in timeline.published(big))
    change(client, big, text + "# 4\n", 4)
    await timeline.trace(f"lint {big} version 4: start")
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=big)))
    await timeline.trace(f"lint {big} version 4: done")
    await asyncio.sleep(0.3)
    assert timeline.published(big) == [1, 3, None]  # the close's empty list last; versions 2 and 4 dropped
    assert list(client.diagnostics[big]) == []


async def test_a_tfvars_edit_in_a_3000_file_workspace_recomputes_only_that_files_facts(client: LanguageClient, workspace):
    timeline = Timeline(client)
    for i in range(2900):  # a monorepo: apps, a few of them behind an ALB, and Terraform stacks
        app = workspace / "apps" / f"app-{i // 10}"
        app.mkdir(parents=True, exist_ok=True)
        ingress = i % 10 == 0
        (app / f"part-{i}.yaml").write_text(_ingress(f"app-{i}", "dualstack") if ingress else
                                            V4_SERVICE.replace("name: api", f"name: app-{i}"))
    for i in range(99):
        stack = workspace / "stacks" / f"s{i // 3}"
        stack.mkdir(parents=True, exist_ok=True)
        (stack / f"f{i}.tf").write_text(f'variable "v{i}" {{\n  type = string\n}}\n')
    job, tfvars = uri_of(workspace, "job.yaml"), uri_of(workspace, "terraform/stack.tfvars")
    open_doc(client, job, JOB)
    assert "SPK001" not in codes(await diagnostics_for(client, job, timeout=60))
    root = workspace.resolve()
    first = next(what for _t, kind, what in timeline.events if kind == "trace" and what.startswith(f"profile of {root}:"))
    assert int(first.split(": ")[1].split(" files read")[0]) >= 3000  # the first build reads them all
    open_doc(client, tfvars, "enable_ipv6 = false\n", "terraform")
    change(client, tfvars, "enable_ipv6 = true\n", 2)
    started = await timeline.trace("profile rebuild of 1 project(s): start")
    hover, answered = await _timed(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=job), position=types.Position(line=0, character=0))))
    done = await timeline.trace("profile rebuild of 1 project(s): done")
    assert hover is None and started < answered < done  # answered while the profile was rebuilt
    traced = [what for _t, kind, what in timeline.events if kind == "trace" and what.startswith(f"profile of {root}:")]
    # only the tfvars' facts are computed again: the other 3,000 files keep their shares, not even read
    assert traced[1].startswith(f"profile of {root}: 0 files read, 1 parsed, 1 extracted, ")
    assert "SPK001" in codes(await diagnostics_for(client, job, lambda ds: "SPK001" in codes(ds)))


@needs_renderer
async def test_a_chart_render_does_not_hold_up_requests(client: LanguageClient, workspace):
    timeline = Timeline(client)
    chart = web_chart(workspace)
    (chart / "values.yaml").write_text("families: [IPv6]\n")
    (chart / "templates" / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ipFamilies:\n"
        "  {{- toYaml .Values.families | nindent 4 }}\n")
    values, small = uri_of(workspace, "web/values.yaml"), uri_of(workspace, "svc.yaml")
    open_doc(client, small, SVC)
    await diagnostics_for(client, small)
    open_doc(client, values, "families: [IPv6]\n")
    await diagnostics_for(client, values)
    change(client, values, "families: [IPv4]\n", 2)
    started = await timeline.trace(f"lint {values} version 2: start")
    hover, answered = await _timed(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=small), position=types.Position(line=6, character=16))))
    done = await timeline.trace(f"lint {values} version 2: done")
    assert "SVC001" in hover.contents.value and started < answered < done  # answered during the render
    await diagnostics_for(client, values, lambda ds: 2 in timeline.published(values))  # then published
