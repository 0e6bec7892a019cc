"""`v6lint server`: the Language Server Protocol over stdio, a thin adapter over the engine.

Everything here translates: LSP documents become SourceFiles, engine Diagnostics become LSP
diagnostics (0-based lines, UTF-16 columns), engine fixes become TextEdits. No rule logic lives here.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
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
from v6lint.engine import FileResult, Linter
from v6lint.project import PROFILE_SUFFIXES, ParseMemo, Projects, affects_profile, marked_root, not_checked_message
from v6lint.rule import IP_FAMILIES, PLATFORMS
from v6lint.rules import ALL_RULES, lookup
from v6lint.source import SourceFile
from v6lint.suppressions import ignore_edit

from v6lint.lsp.reparse import Reparser

FIX_ALL = "source.fixAll.v6lint"
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}


@dataclass
class Linted:
    version: int | None
    source: SourceFile
    diagnostics: list[Diagnostic]
    generation: int = 0  # of the settings and profiles it was linted with (V6LintServer.generation)


class V6LintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("v6lint", __version__)
        self.options: dict = {}
        self.debounce = 0.15  # seconds: a burst of keystrokes is linted once, at its latest version
        self.linters: dict[Path, Linter] = {}  # per project root
        self.pending: dict[str, asyncio.Task] = {}
        self.results: dict[str, Linted] = {}
        # Lints, chart renders and profile builds run in this one worker thread, never on the event
        # loop: requests (hover, code actions) are answered while they run. One thread: jobs see the
        # linters and memos one at a time.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v6lint-worker")
        # A request's own work on a document already linted (fix all) runs beside it, in this thread,
        # with the project's existing linter: it never queues behind a long lint of another document.
        self.request_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v6lint-request")
        self.running: dict[str, tuple[tuple, asyncio.Future]] = {}  # uri -> ((version, generation), job)
        # Bumped whenever settings or profiles change: a result linted under an older one is stale.
        self.generation = 0
        self.reparsers: dict[str, Reparser] = {}  # uri -> its YAML pieces, kept between edits (worker only)
        self.event_loop: asyncio.AbstractEventLoop | None = None  # set at initialize, with its thread
        self.loop_thread: int | None = None
        self.profile_debounce = 0.4  # seconds
        self.profile_task: asyncio.Task | None = None
        self.told: set[Path] = set()  # project roots whose missing profile was logged
        self.config_errors: dict[Path, str] = {}  # found while building (maybe in a thread), logged after
        # Parsed profile-source files per project root, reused while their text is unchanged: a tfvars
        # edit re-reads the workspace but parses only what changed.
        self.profile_memo: dict[str, ParseMemo] = {}

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
        self.generation += 1
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

    def linter_for(self, path: Path, overlay: dict[str, str], generation: int) -> Linter:
        """The project's linter, built (in the worker) when missing. One built under settings that
        changed meanwhile is used for this stale job but not kept."""
        root = self.root_of(path)
        linter = self.linters.get(root)
        if linter is None:
            linter = self.make_linter(root, overlay)
            if generation == self.generation:
                self.linters[root] = linter
            self.log_profile(root, linter)
        return linter

    def make_linter(self, root: Path, overlay: dict[str, str]) -> Linter:
        """A linter with the project's settings and profile. It only reads (files and `overlay`, a
        snapshot of the open documents), so it also runs in a worker thread; logging is the caller's."""
        family = self.options.get("ip-family")
        settings = Projects(self.settings_for, root, overlay=overlay, memo=self.profile_memo).at(root).settings
        memo = self.profile_memo.get(str(root.resolve()))
        if memo is not None:
            self.trace(f"profile of {root}: {memo.read} files read, {memo.parsed} parsed, "
                       f"{memo.extracted} extracted, {len(memo.entries)} kept")
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
        self._on_loop(self.window_log_message, types.LogMessageParams(type=kind, message=message))

    def trace(self, message: str) -> None:
        """A `$/logTrace` line (what the worker does, and how many files a profile build read), sent
        only when the client asked for traces."""
        if self.protocol.trace not in (None, types.TraceValue.Off):
            self._on_loop(self.log_trace, types.LogTraceParams(message=message))

    def _on_loop(self, send, params) -> None:
        """Send a notification from the loop's thread: the worker's messages are queued there, in order."""
        if self.event_loop is None or threading.get_ident() == self.loop_thread:
            send(params)
        else:
            self.event_loop.call_soon_threadsafe(send, params)

    # --- linting -------------------------------------------------------------------------------
    def is_current(self, uri: str, linted: Linted) -> bool:
        """Whether `linted` is of the open document's latest version under the latest settings and
        profiles: only such results are kept and published (a stale one never overwrites a newer)."""
        doc = self.workspace.text_documents.get(unquote(uri))  # pygls keys are unquoted
        return doc is not None and doc.version == linted.version and linted.generation == self.generation

    async def current(self, uri: str) -> Linted | None:
        """Diagnostics of the open document's latest version, linted in the worker (a job already
        running for that version is awaited, not repeated); None for a document that is not open or
        not a local file. The result may be stale by the time it is returned (see is_current)."""
        path = fs_path(uri)
        if path is None or unquote(uri) not in self.workspace.text_documents:
            return None
        doc = self.workspace.get_text_document(uri)
        key = (doc.version, self.generation)
        cached = self.results.get(uri)
        if cached is not None and (cached.version, cached.generation) == key and cached.source.text == doc.source:
            return cached
        found = self.running.get(uri)
        if found is not None and found[0] == key:
            running = found
        else:
            job = asyncio.get_running_loop().run_in_executor(
                self.worker, self.lint_job, uri, path, doc.version, doc.source, self.overlay(), self.generation)
            running = self.running[uri] = (key, job)
        try:
            linted = await asyncio.shield(running[1])
        finally:
            if self.running.get(uri) is running and running[1].done():
                del self.running[uri]
        if self.is_current(uri, linted):
            self.results[uri] = linted
        return linted

    def lint_job(self, uri: str, path: str, version: int | None, text: str, overlay: dict[str, str],
                 generation: int) -> Linted:
        """The worker's part: lint a snapshot of the document (and render its chart). It reads only
        its arguments, files, and the linters; messages go through log/trace."""
        self.trace(f"lint {uri} version {version}: start")
        source = SourceFile(display_path(path), text, abspath=os.path.realpath(path))
        try:
            linter = self.linter_for(Path(path).resolve(), overlay, generation)
            if is_excluded(Path(path), linter.settings.exclude, linter.settings.root):
                diagnostics = []  # the project's config excludes it, as `v6lint check` does
            else:
                parsed = self.reparsers.setdefault(uri, Reparser()).parse(source)
                diagnostics = self._through_chart(Path(path).resolve(), source, linter,
                                                  linter.lint_source(source, parsed), overlay)
        except Exception as exc:  # never drop the connection over one document
            self.log(types.MessageType.Error, f"v6lint failed on {path}: {type(exc).__name__}: {exc}")
            diagnostics = []
        self.trace(f"lint {uri} version {version}: done")
        return Linted(version, source, diagnostics, generation)

    def _through_chart(self, path: Path, source: SourceFile, linter: Linter,
                       diagnostics: list[Diagnostic], overlay: dict[str, str]) -> list[Diagnostic]:
        """A chart's values file or template: its findings on the chart as rendered, debounced like any
        edit. Unsaved text of the chart's open files (`overlay`) is rendered as the editor has it (from
        a private copy of the chart with the buffers written in; the user's files are never written)."""
        from v6lint.helm import chart_of, check_charts

        chart = chart_of(path)
        if chart is None:
            return diagnostics
        built = check_charts([chart / "Chart.yaml"], lambda _p: (linter, None), overlay=overlay)
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

    async def publish(self, uri: str) -> None:
        linted = await self.current(uri)
        if linted is None or not self.is_current(uri, linted):
            return  # closed, edited or re-profiled meanwhile: its newer lint is scheduled
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=linted.version, diagnostics=[to_lsp(d, linted.source) for d in linted.diagnostics]))

    def schedule(self, uri: str, delay: float | None = None) -> None:
        """Publish the document's diagnostics after `delay` (the debounce unless given); a later call
        for the same document replaces this one."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._lint_later(uri, self.debounce if delay is None else delay))

    async def _lint_later(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            if uri in self.workspace.text_documents:
                await self.publish(uri)
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    def republish_all(self) -> None:
        """Settings or profiles changed: every open document is linted again (stale results dropped)."""
        self.generation += 1
        self.results.clear()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0)

    def refresh_profile_if_needed(self, uri: str, text: str) -> bool:
        """An edit that may change the cluster profile schedules a rebuild: debounced (a burst of
        keystrokes rebuilds once), in the worker (requests keep being answered meanwhile, with
        the previous profile; unchanged files are not read again), then every open document is
        linted again."""
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
        overlay = self.overlay()  # a snapshot: the worker never touches the workspace
        generation = self.generation
        self.trace(f"profile rebuild of {len(roots)} project(s): start")
        fresh = await asyncio.get_running_loop().run_in_executor(self.worker, self._rebuild_job, roots, overlay)
        self.trace(f"profile rebuild of {len(roots)} project(s): done")
        if self.profile_task is asyncio.current_task():
            self.profile_task = None
        if generation != self.generation:
            return  # settings changed meanwhile: the linters are rebuilt with them on demand
        self.linters.update(fresh)
        self.republish_all()

    def _rebuild_job(self, roots: list[Path], overlay: dict[str, str]) -> dict[Path, Linter]:
        fresh = {}
        for root in roots:
            fresh[root] = self.make_linter(root, overlay)
            self.log_profile(root, fresh[root])
        return fresh


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
    ls.event_loop, ls.loop_thread = asyncio.get_running_loop(), threading.get_ident()
    if params.trace is not None:
        ls.protocol.trace = params.trace
    ls.set_options(params.initialization_options)
    folders = params.workspace_folders or []
    root = fs_path(folders[0].uri) if folders else fs_path(params.root_uri) if params.root_uri else None
    if root and os.path.isdir(root):
        os.chdir(root)  # paths in messages (profile sources) read relative to the workspace, as on the CLI


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: V6LintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


def _edited(ls: V6LintServer, uri: str, *, saved: bool) -> None:
    """A document changed (linted debounced) or was saved (linted now). The profile is rebuilt when
    the edit can change it; the chart's other open files are linted again (an edit of a values file
    or template changes what the chart renders)."""
    ls.refresh_profile_if_needed(uri, ls.workspace.get_text_document(uri).source)
    ls.schedule(uri, 0 if saved else None)
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
    ls.results.pop(uri, None)  # a lint still running for it is dropped (is_current: not open)
    ls.reparsers.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: V6LintServer, params: types.DidChangeConfigurationParams) -> None:
    if not ls.set_options(params.settings):
        return  # the last good settings stay; the user was told why
    ls.republish_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: V6LintServer, params: types.DidChangeWatchedFilesParams) -> None:
    changed = [path for path in (fs_path(c.uri) for c in params.changes) if path and path.endswith(PROFILE_SUFFIXES)]
    if changed:
        for memo in ls.profile_memo.values():
            for path in changed:
                memo.forget(os.path.realpath(path))
        ls.linters.clear()
        ls.republish_all()


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
async def code_action(ls: V6LintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    linted = await ls.current(uri)  # in the worker: other requests are answered meanwhile
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
        assert path is not None  # (ls.current lints local files only)
        resolved, overlay, generation = Path(path).resolve(), ls.overlay(), ls.generation
        linter = ls.linters.get(ls.root_of(resolved))

        def fix_all(linter: Linter | None) -> FileResult:
            linter = linter or ls.linter_for(resolved, overlay, generation)
            return linter.fix_source(source, unsafe=linter.settings.unsafe_fixes)

        result = await asyncio.get_running_loop().run_in_executor(
            ls.request_worker if linter is not None else ls.worker, fix_all, linter)
        if result.fixed is not None:
            whole = lsp_range(source, 0, len(source.text))
            actions.append(types.CodeAction(
                title="v6lint: fix all auto-fixable problems", kind=FIX_ALL,
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=result.fixed.text)]})))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: V6LintServer, params: types.HoverParams) -> types.Hover | None:
    """From the document's latest diagnostics, also while a newer lint runs (a hover never waits for
    one); a document with none yet is linted first."""
    uri = params.text_document.uri
    linted = ls.results.get(uri) if unquote(uri) in ls.workspace.text_documents else None
    if linted is None:
        linted = await ls.current(uri)
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
