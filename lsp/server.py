"""`v6lint server`: the Language Server Protocol over stdio, a thin adapter over the engine.

Everything here translates: LSP documents become SourceFiles, engine Diagnostics become LSP
diagnostics (0-based lines, UTF-16 columns), engine fixes become TextEdits. No rule logic lives here.
"""
from __future__ import annotations

import asyncio
import os
from urllib.parse import unquote
from dataclasses import dataclass, replace
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from v6lint import __version__
from v6lint.config import ConfigError, Settings, check_selectors, find_config, load_settings
from v6lint.diagnostics import Diagnostic, Edit
from v6lint.discovery import is_excluded, display_path
from v6lint.engine import Linter
from v6lint.project import PROFILE_SUFFIXES, Projects, affects_profile, marked_root, not_checked_message
from v6lint.rule import IP_FAMILIES, PLATFORMS
from v6lint.rules import ALL_RULES, lookup
from v6lint.source import SourceFile
from v6lint.suppressions import ignore_edit

FIX_ALL = "source.fixAll.v6lint"
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}


@dataclass
class Linted:
    version: int | None
    source: SourceFile
    diagnostics: list[Diagnostic]


class V6LintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("v6lint", __version__)
        self.options: dict = {}
        self.debounce = 0.15  # seconds: a burst of keystrokes is linted once, at its latest version
        self.linters: dict[Path, Linter] = {}  # per project root
        self.pending: dict[str, asyncio.Task] = {}
        self.results: dict[str, Linted] = {}
        self.profile_debounce = 0.4  # seconds
        self.profile_task: asyncio.Task | None = None
        self.told: set[Path] = set()  # project roots whose missing profile was logged
        self.config_errors: dict[Path, str] = {}  # found while building (maybe in a thread), logged after
        # Parsed profile-source files per project root, reused while their text is unchanged: a tfvars
        # edit re-reads the workspace but parses only what changed.
        self.profile_memo: dict[str, dict] = {}

    # --- settings and profile ----------------------------------------------------------------
    def set_options(self, raw) -> bool:
        """Take new settings if they are valid; else say what is wrong (window/showMessage) and keep
        the last good ones. Settings that silently emptied the diagnostics helped nobody."""
        try:
            options = _validate_options(raw)
        except ValueError as exc:
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error, message=f"v6lint: invalid settings ignored: {exc}"))
            return False
        self.options = options
        self.linters.clear()
        return True

    def root_of(self, path: Path) -> Path:
        """The document's project root, as on the command line (nearest .git or v6lint config); the
        innermost workspace folder holding it when there is none."""
        found = marked_root(path)
        if found is not None:
            return found
        folders = [Path(p).resolve() for p in (fs_path(f.uri) for f in (self.workspace.folders or {}).values()) if p]
        inside = [f for f in folders if f == path or f in path.parents]
        return max(inside, key=lambda f: len(f.parts)) if inside else (path if path.is_dir() else path.parent)

    def overlay(self) -> dict[str, str]:
        """Unsaved text of open documents, so an edited tfvars changes the profile before saving."""
        out = {}
        for uri, doc in list(self.workspace.text_documents.items()):
            path = fs_path(uri)
            if path:
                out[os.path.realpath(path)] = doc.source
        return out

    def linter_for(self, path: Path) -> Linter:
        root = self.root_of(path)
        linter = self.linters.get(root)
        if linter is None:
            linter = self.linters[root] = self.make_linter(root, self.overlay())
            self.log_profile(root, linter)
        return linter

    def make_linter(self, root: Path, overlay: dict[str, str]) -> Linter:
        """A linter with the project's settings and profile. It only reads (files and `overlay`, a
        snapshot of the open documents), so it also runs in a worker thread; logging is the caller's."""
        family = self.options.get("ip-family")
        settings = Projects(self.settings_for, root, overlay=overlay, memo=self.profile_memo).at(root).settings
        if family in IP_FAMILIES:
            settings.profile = replace(settings.profile, ip_family=family, source="editor setting ip-family")
        select = _codes(self.options.get("select"))
        return Linter(settings, select=select or None, ignore=_codes(self.options.get("ignore")))

    def settings_for(self, root: Path) -> Settings:
        """The project's config with the editor's settings on top."""
        try:
            settings = load_settings(find_config(root), ALL_RULES)
        except ConfigError as exc:
            self.config_errors[root] = f"v6lint: {exc}; using defaults"
            settings = Settings(root=root)
        family = self.options.get("ip-family")
        if family in IP_FAMILIES:
            settings.profile = replace(settings.profile, ip_family=family, source="editor setting ip-family")
        platform = self.options.get("platform")
        if platform in PLATFORMS:
            settings.profile = replace(settings.profile, platform=platform, platform_source="editor setting platform")
        if "preview" in self.options:
            settings.preview = bool(self.options["preview"])
        if "unsafe-fixes" in self.options:
            settings.unsafe_fixes = bool(self.options["unsafe-fixes"])
        return settings

    def log_profile(self, root: Path, linter: Linter) -> None:
        """Say (on the event loop) which profile a freshly built linter judges against."""
        for where in list(self.config_errors):
            self.log(types.MessageType.Error, self.config_errors.pop(where))
        settings = linter.settings
        self.log(types.MessageType.Info, f"v6lint {__version__}: project {root}, cluster profile "
                                         f"{settings.profile.ip_family or 'unknown'}"
                                         + (f" per {settings.profile.source}" if settings.profile.source else "")
                                         + f", platform {settings.profile.platform or 'unknown'}"
                                         + (f" per {settings.profile.platform_source}"
                                            if settings.profile.platform_source else ""))
        if root not in self.told:
            message = not_checked_message(str(root), *linter.wanting_profile(),
                                          "the `ip-family` setting (or `--ip-family`)", "the `platform` setting")
            if message:
                self.told.add(root)
                self.log(types.MessageType.Warning, message)

    def log(self, kind: types.MessageType, message: str) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    # --- linting -------------------------------------------------------------------------------
    def lint(self, uri: str) -> Linted | None:
        """Diagnostics of an open document; None for a document that is not open or not a local file."""
        path = fs_path(uri)
        if path is None or unquote(uri) not in self.workspace.text_documents:  # pygls keys are unquoted
            return None
        doc = self.workspace.get_text_document(uri)
        cached = self.results.get(uri)
        if cached is not None and cached.version == doc.version and cached.source.text == doc.source:
            return cached
        source = SourceFile(display_path(path), doc.source, abspath=os.path.realpath(path))
        try:
            linter = self.linter_for(Path(path).resolve())
            if is_excluded(Path(path), linter.settings.exclude, linter.settings.root):
                diagnostics = []  # the project's config excludes it, as `v6lint check` does
            else:
                diagnostics = self._through_chart(Path(path).resolve(), source, linter, linter.lint_source(source))
        except Exception as exc:  # never drop the connection over one document
            self.log(types.MessageType.Error, f"v6lint failed on {path}: {type(exc).__name__}: {exc}")
            diagnostics = []
        linted = Linted(doc.version, source, diagnostics)
        self.results[uri] = linted
        return linted

    def _through_chart(self, path: Path, source: SourceFile, linter: Linter,
                       diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        """A chart's values file or template: its findings on the chart as rendered, debounced like any
        edit. Unsaved text of the chart's open files is rendered as the editor has it (from a private
        copy of the chart with the buffers written in; the user's files are never written)."""
        from v6lint.helm import chart_of, check_charts

        chart = chart_of(path)
        if chart is None:
            return diagnostics
        built = check_charts([chart / "Chart.yaml"], lambda _p: (linter, None), overlay=self.overlay())
        return sorted(built.own(source, diagnostics) + built.diagnostics.get(source.path, []), key=lambda d: d.sort_key)

    def same_chart(self, uri: str) -> list[str]:
        """The other open documents of the chart `uri` is a values file or template of."""
        from v6lint.helm import chart_of

        path = fs_path(uri)
        chart = chart_of(Path(path).resolve()) if path else None
        if chart is None:
            return []
        out = []
        for other in list(self.workspace.text_documents):
            other_path = fs_path(other)
            if other != unquote(uri) and other_path and chart_of(Path(other_path).resolve()) == chart:
                out.append(other)
        return out

    def publish(self, uri: str) -> None:
        linted = self.lint(uri)
        if linted is None:
            return
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=linted.version, diagnostics=[to_lsp(d, linted.source) for d in linted.diagnostics]))

    def schedule(self, uri: str) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._lint_later(uri))

    async def _lint_later(self, uri: str) -> None:
        await asyncio.sleep(self.debounce)
        self.pending.pop(uri, None)
        if uri in self.workspace.text_documents:
            self.publish(uri)

    def refresh_profile_if_needed(self, uri: str, text: str) -> bool:
        """An edit that may change the cluster profile schedules a rebuild: debounced (a burst of
        keystrokes rebuilds once), in a worker thread (requests keep being answered meanwhile, with
        the previous profile), then every open document is linted again."""
        path = fs_path(uri) or ""
        if not affects_profile(Path(path), text):
            return False
        if self.profile_task is not None:
            self.profile_task.cancel()
        self.profile_task = asyncio.ensure_future(self._rebuild_profiles())
        return True

    async def _rebuild_profiles(self) -> None:
        await asyncio.sleep(self.profile_debounce)
        roots = list(self.linters)
        overlay = self.overlay()  # a snapshot: the thread never touches the workspace
        fresh = {}
        for root in roots:
            fresh[root] = await asyncio.to_thread(self.make_linter, root, overlay)
            self.log_profile(root, fresh[root])
        self.linters.update(fresh)
        self.results.clear()
        for other in list(self.workspace.text_documents):
            self.publish(other)
        self.profile_task = None


_OPTION_KEYS = ("ip-family", "platform", "select", "ignore", "unsafe-fixes", "preview")


def _validate_options(raw) -> dict:
    """Settings from initializationOptions or didChangeConfiguration (optionally under `v6lint`),
    camelCase or kebab-case; raises ValueError saying what is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"expected an object, got {type(raw).__name__}")
    options = raw.get("v6lint", raw)
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError(f"'v6lint' must be an object, not {type(options).__name__}")
    out = {}
    for key, value in options.items():
        name = str(key).replace("_", "-").lower()
        name = {"ipfamily": "ip-family", "unsafefixes": "unsafe-fixes"}.get(name, name)
        if name not in _OPTION_KEYS:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(_OPTION_KEYS)})")
        if value is None:
            continue
        if name == "ip-family" and value not in IP_FAMILIES:
            raise ValueError(f"ip-family must be one of {', '.join(IP_FAMILIES)}, not {value!r}")
        if name == "platform" and value not in PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {value!r}")
        if name in ("unsafe-fixes", "preview") and not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
        if name in ("select", "ignore"):
            if not isinstance(value, (str, list)) or (isinstance(value, list)
                                                      and not all(isinstance(v, str) for v in value)):
                raise ValueError(f"{name} must be a list of rule codes, not {value!r}")
            try:
                check_selectors(_codes(value) or ([""] if value else []), ALL_RULES, name)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        out[name] = value
    return out


def fs_path(uri: str) -> str | None:
    """The local path of a `file:` URI, or None (other schemes, NUL bytes, relative paths). A path
    with a NUL would make every later os call raise, poisoning the rebuilds of all documents."""
    if not isinstance(uri, str) or not uri.startswith("file:"):
        return None
    try:
        path = to_fs_path(uri)
    except Exception:
        return None
    if not path or "\x00" in path or not os.path.isabs(path):
        return None
    return path


def _codes(value) -> list[str]:
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(c).strip() for c in items if str(c).strip()]


def lsp_range(source: SourceFile, start: int, end: int) -> types.Range:
    """Engine offsets as an LSP range (0-based lines, UTF-16 characters: SourceFile.lsp_point)."""
    (line, character), (end_line, end_character) = source.lsp_point(start), source.lsp_point(end)
    return types.Range(start=types.Position(line=line, character=character),
                       end=types.Position(line=end_line, character=end_character))


def to_lsp(diag: Diagnostic, source: SourceFile) -> types.Diagnostic:
    return types.Diagnostic(
        range=lsp_range(source, diag.start, diag.end),
        severity=SEVERITY[diag.severity],
        code=diag.code,
        code_description=types.CodeDescription(href=diag.url) if diag.url else None,
        source="v6lint",
        message=diag.message + diag.profile_note,
    )


def text_edits(source: SourceFile, edits: tuple[Edit, ...] | list[Edit]) -> list[types.TextEdit]:
    return [types.TextEdit(range=lsp_range(source, e.start, e.end), new_text=e.content) for e in edits]


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p):
        return (p.line, p.character)
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


server = V6LintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: V6LintServer, params: types.InitializeParams) -> None:
    ls.set_options(params.initialization_options)
    folders = params.workspace_folders or []
    root = fs_path(folders[0].uri) if folders else fs_path(params.root_uri) if params.root_uri else None
    if root and os.path.isdir(root):
        os.chdir(root)  # paths in messages (profile sources) read relative to the workspace, as on the CLI


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: V6LintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


def _edited(ls: V6LintServer, uri: str, *, saved: bool) -> None:
    """A document changed (linted debounced) or was saved (linted now). The profile is rebuilt when
    the edit can change it; the chart's other open files are linted again (an edit of a values file
    or template changes what the chart renders)."""
    ls.refresh_profile_if_needed(uri, ls.workspace.get_text_document(uri).source)
    if saved:
        ls.publish(uri)
    else:
        ls.schedule(uri)
    for other in ls.same_chart(uri):
        ls.results.pop(other, None)
        ls.schedule(other)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: V6LintServer, params: types.DidChangeTextDocumentParams) -> None:
    _edited(ls, params.text_document.uri, saved=False)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: V6LintServer, params: types.DidSaveTextDocumentParams) -> None:
    _edited(ls, params.text_document.uri, saved=True)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: V6LintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.results.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: V6LintServer, params: types.DidChangeConfigurationParams) -> None:
    if not ls.set_options(params.settings):
        return  # the last good settings stay; the user was told why
    ls.results.clear()
    for uri in list(ls.workspace.text_documents):
        ls.publish(uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: V6LintServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any((fs_path(c.uri) or "").endswith(PROFILE_SUFFIXES) for c in params.changes):
        ls.linters.clear()
        ls.results.clear()
        for uri in list(ls.workspace.text_documents):
            ls.publish(uri)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
def code_action(ls: V6LintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    linted = ls.lint(uri)
    if linted is None:
        return []
    only = params.context.only or []

    def wanted(kind: str) -> bool:
        return not only or any(kind == k or kind.startswith(k + ".") for k in only)

    source = linted.source
    actions: list[types.CodeAction] = []
    if wanted(types.CodeActionKind.QuickFix):
        fixes: list[tuple[bool, types.CodeAction]] = []  # (unsafe, action)
        ignores: list[types.CodeAction] = []
        for diag in linted.diagnostics:
            lsp_diag = to_lsp(diag, source)
            if not _overlaps(lsp_diag.range, params.range):
                continue
            if diag.fix is not None:
                unsafe = diag.fix.applicability == "unsafe"
                label = f"{diag.code}, unsafe" if unsafe else diag.code
                fixes.append((unsafe, types.CodeAction(
                    title=f"{diag.fix.message} ({label})", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp_diag],
                    edit=types.WorkspaceEdit(changes={uri: text_edits(source, diag.fix.edits)}))))
            ignore = ignore_edit(source, diag.code, diag.start) if not diag.code.startswith("V6L") else None
            if ignore is not None:
                ignores.append(types.CodeAction(
                    title=f"Ignore {diag.code} on this line", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp_diag], edit=types.WorkspaceEdit(changes={uri: text_edits(source, [ignore])})))
        # Safe fixes first, the first of them preferred (what "auto fix" applies); unsafe ones after,
        # labelled and never preferred; suppressions last.
        fixes.sort(key=lambda pair: pair[0])
        for i, (unsafe, action) in enumerate(fixes):
            action.is_preferred = True if i == 0 and not unsafe else None
        actions += [action for _unsafe, action in fixes] + ignores
    if wanted(FIX_ALL):
        path = fs_path(uri)
        assert path is not None  # (ls.lint lints local files only)
        linter = ls.linter_for(Path(path).resolve())
        result = linter.fix_source(source, unsafe=linter.settings.unsafe_fixes)
        if result.fixed is not None:
            whole = lsp_range(source, 0, len(source.text))
            actions.append(types.CodeAction(
                title="v6lint: fix all auto-fixable problems", kind=FIX_ALL,
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=result.fixed.text)]})))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: V6LintServer, params: types.HoverParams) -> types.Hover | None:
    linted = ls.lint(params.text_document.uri)
    if linted is None:
        return None
    at = types.Range(start=params.position, end=params.position)
    parts = []
    for diag in linted.diagnostics:
        lsp_diag = to_lsp(diag, linted.source)
        if _overlaps(lsp_diag.range, at):
            rule = lookup(diag.code)
            assert rule is not None  # (every finding's code is in the catalog)
            parts.append(f"**{diag.code}** `{diag.name}`\n\n```text\n{rule.explain()}```")
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


def main() -> None:
    server.start_io()
