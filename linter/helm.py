"""Helm charts: render, run every rule on what the chart deploys, report where the user writes it (issue 18).

A folder with Chart.yaml is a chart (sub-charts in its `charts/` render with it). It is rendered with
its values.yaml plus the values files and `--set` overrides configured for it (`[helm.charts."PATH"]`)
by one of two backends behind `Backend`: helm-python-sdk (the extra `v6lint[helm]`, Helm's Go SDK,
in a child process) or a `helm` binary on PATH (`helm template`). Neither: one notice per chart.

A finding on the rendered objects is put, in this order of preference:
1. on the values leaf it came from, traced by rendering once more with a marker appended to each
   candidate leaf (the string leaves whose value the finding's value holds), with its fix on that leaf;
2. on a literal in the template that wrote the object, with its fix there when the value is plain text;
3. on the template's line for the object, without a fix, saying so.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from v6lint import replay
from v6lint.diagnostics import Applicability, Diagnostic, Edit, Fix
from v6lint.discovery import display_path, read_regular
from v6lint.document import MAP, SCALAR, SEQ, Document, Node, walk
from v6lint.kustomize import OverlayResults, node_at, path_at
from v6lint.source import DecodeError, SourceFile, decode
from v6lint.sources import parse_source
from v6lint.suppressions import comment_suppresses

RENDER_TIMEOUT = 60  # seconds, per render
MAX_OUTPUT = 32 * 1024 * 1024  # characters of rendered manifests
MAX_MEMORY = 4 * 1024 * 1024 * 1024  # address space of the render process
MAX_CHART_BYTES = 64 * 1024 * 1024  # a chart folder over this is not rendered
MAX_VALUES_FILE = 4 * 1024 * 1024
RELEASE, NAMESPACE = "release-name", "default"  # what `helm template` uses without arguments
_MARK = re.compile(r"v6lm(\d+)z", re.IGNORECASE)
ENABLE = ("install v6lint's `helm` extra (the helm-python-sdk package, e.g. `pip install '.[helm]'` in a v6lint "
          "checkout) or put a `helm` binary on PATH")


class RenderError(Exception):
    pass


def _limits() -> None:  # in the child, before exec
    import resource

    for limit, value in ((resource.RLIMIT_AS, MAX_MEMORY), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


def run_limited(command: list[str], data: bytes, env: dict[str, str], cwd: str, timeout: float,
                cap: int) -> tuple[int, bytes, bytes]:
    """Run a renderer: no stdin but `data`, a timeout, bounded memory, at most `cap` bytes of output read."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, cwd=cwd,
                                       preexec_fn=_limits if os.name == "posix" else None)
        except OSError as exc:
            raise RenderError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
        try:
            process.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RenderError(f"rendering took over {timeout:g} s and was stopped") from None
        for handle in (out, err):
            handle.seek(0)
        if os.fstat(out.fileno()).st_size > cap:
            raise RenderError(f"the renderer printed over {cap} bytes; not checked")
        return process.returncode, out.read(), err.read(cap)


def quiet_env(home: str) -> dict[str, str]:
    """An environment for a renderer: its own empty homes, no kubeconfig, proxies that lead nowhere."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "KUBECONFIG": os.devnull,
            "HELM_CACHE_HOME": home, "HELM_CONFIG_HOME": home, "HELM_DATA_HOME": home,
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
            "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C"}


# --- backends ----------------------------------------------------------------------------------
class Backend:
    """Renders a chart folder to {template path: manifest}. Raises RenderError with Helm's message."""

    name = ""

    def render(self, chart: str, values: dict, sets: list[str]) -> dict[str, str]:
        raise NotImplementedError


class SdkBackend(Backend):
    name = "helm-python-sdk"

    def render(self, chart, values, sets):
        request = json.dumps({"chart": chart, "values": values, "set": sets, "release": RELEASE,
                              "namespace": NAMESPACE, "max_output": MAX_OUTPUT}).encode()
        with tempfile.TemporaryDirectory() as home:
            code, out, err = run_limited([sys.executable, "-m", "v6lint.helm_render"], request, quiet_env(home),
                                         home, RENDER_TIMEOUT, MAX_OUTPUT * 2)
        try:
            answer = json.loads(out)
        except ValueError:
            raise RenderError(f"the renderer failed (exit {code}): "
                              f"{err.decode('utf-8', 'replace').strip()[-300:]}") from None
        if "error" in answer:
            raise RenderError(answer["error"])
        return answer["manifests"]


class BinaryBackend(Backend):
    name = "helm"

    def __init__(self, helm: str):
        self.helm = helm

    def render(self, chart, values, sets):
        with tempfile.TemporaryDirectory() as home:
            values_file = os.path.join(home, "values.json")
            with open(values_file, "w", encoding="utf-8") as handle:
                json.dump(values, handle)
            command = [self.helm, "template", RELEASE, chart, "--namespace", NAMESPACE, "-f", values_file]
            for expression in sets:
                command += ["--set", expression]
            code, out, err = run_limited(command, b"", quiet_env(home), home, RENDER_TIMEOUT, MAX_OUTPUT)
        if code != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise RenderError(lines[-1].removeprefix("Error: ") if lines else f"helm exited {code}")
        return split_stream(out.decode("utf-8", "replace"))


def split_stream(text: str) -> dict[str, str]:
    """`helm template` output as {template path: manifest}, by its `# Source:` comments."""
    manifests: dict[str, str] = {}
    name = None
    for part in re.split(r"(?m)^---[ \t]*$", text):
        match = re.match(r"\s*# Source: *(\S[^\r\n]*)\r?\n", part)
        if match:
            name = match.group(1).strip()
            body = part[match.end():]
        else:
            body = part
        if name and body.strip():
            manifests[name] = (manifests.get(name, "") + "\n---\n" + body) if name in manifests else body
    return manifests


def backend() -> Backend | None:
    if importlib.util.find_spec("helm_python") is not None:
        return SdkBackend()
    helm = shutil.which("helm")
    return BinaryBackend(helm) if helm else None


# --- values files ------------------------------------------------------------------------------
@dataclass
class Leaf:
    source: SourceFile
    node: Node  # a string scalar
    steps: tuple  # its key path in the values


def to_python(node: Node | None, leaves: list | None = None, source=None, steps=(), marks: dict | None = None):
    """A values node as plain data. With `marks` ({id(node): marker}), marked leaves get the marker appended."""
    if node is None:
        return None
    if node.kind == MAP:
        return {str(k.value): to_python(v, leaves, source, (*steps, str(k.value)), marks) for k, v in node.value}
    if node.kind == SEQ:
        return [to_python(v, leaves, source, (*steps, i), marks) for i, v in enumerate(node.value)]
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return None
    if tag == "bool":
        return node.value.lower() in ("true", "yes", "on", "y")
    if tag == "int":
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return node.value
    if tag == "float":
        try:
            return float(node.value)
        except ValueError:
            return node.value
    if node.style is None and tag == "str" and not _tagged(node, source):
        resolved = plain_value(node.value)
        if not isinstance(resolved, str):
            return resolved
    if leaves is not None:
        leaves.append(Leaf(source, node, steps))
    if marks and id(node) in marks:
        return node.value + marks[id(node)]
    return node.value


# Helm reads values with sigs.k8s.io/yaml, whose goyaml.v2 resolves plain scalars by YAML 1.1 rules
# (kubernetes-sigs/yaml@742f5e6f goyaml.v2/resolve.go): these bools and nulls, then ints (Go's
# strconv.ParseInt base 0 after dropping `_`: 0x, 0o, 0b and a leading 0 for octal), then floats.
# Timestamps stay strings (decoding into interface{}); .inf/.nan stay strings here (JSON has none).
_PLAIN_VALUES: dict[str, object] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None)}
_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]+)|([1-9][0-9]*|0))")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def plain_value(text: str):
    """A plain (unquoted, untagged) values scalar as Helm reads it: bool, None, int, float or the text."""
    if text in _PLAIN_VALUES:
        return _PLAIN_VALUES[text]
    if not text or text[0] not in "+-.0123456789":
        return text
    plain = text.replace("_", "") if text[0] != "." else text
    match = _INT.fullmatch(plain)
    if match:
        sign, hexa, octo, binary, octal, decimal = match.groups()
        for digits, base in ((hexa, 16), (octo, 8), (binary, 2), (octal, 8), (decimal, 10)):
            if digits is not None:
                return int(sign + digits, base)
    if _FLOAT.fullmatch(plain):
        return float(plain)
    return text


def _tagged(node: Node, source: SourceFile | None) -> bool:
    """Whether a scalar carries an explicit tag (`!!str 5`, `! 5`): not resolved then."""
    if source is None or node.end <= node.start:
        return False
    written = source.text[node.start:node.end]
    while written[:1] in ("!", "&"):
        prop, _, written = written.partition(" ")
        if prop.startswith("!"):
            return True
        written = written.lstrip()
    return False


def read_values(path: str, overlay: dict[str, str] | None = None) -> tuple[SourceFile, Node | None]:
    """A values file (or an editor's unsaved text of it, from `overlay`: real path -> text)."""
    text = (overlay or {}).get(os.path.realpath(path))
    if text is not None:
        source = SourceFile(display_path(path), text, abspath=os.path.realpath(path))
        parsed = parse_source(source)
        if parsed.problem is not None:
            raise RenderError(f"{source.path} does not parse: {parsed.problem.message}")
        return source, parsed.documents[0].root if parsed.documents else None
    try:
        data = read_regular(path, MAX_VALUES_FILE)[1]  # never blocks on a FIFO
        if data is None:
            raise RenderError(f"{display_path(path)} is over {MAX_VALUES_FILE} bytes")
        text, encoding, bom = decode(data)
    except DecodeError as exc:
        raise RenderError(f"{display_path(path)}: {exc}") from None
    except OSError as exc:
        raise RenderError(f"{display_path(path)}: {exc.strerror or exc}") from None
    source = SourceFile(display_path(path), text, encoding, bom, os.path.realpath(path))
    parsed = parse_source(source)
    if parsed.problem is not None:
        raise RenderError(f"{source.path} does not parse: {parsed.problem.message}")
    return source, parsed.documents[0].root if parsed.documents else None


def _merge(base, override):
    from v6lint.helm_render import merge

    return merge(base, override) if isinstance(base, dict) and isinstance(override, dict) else override


# --- one chart -----------------------------------------------------------------------------------
def chart_digest(chart: str, values, sets, backend_name: str) -> str:
    """The render's cache key: every file of the chart folder, the values and the backend. Raises
    RenderError for a chart Helm should not load: over MAX_CHART_BYTES, a FIFO or device in it, or a
    symlink leading out of the chart (Helm follows them, and `.Files.Get` would read the target)."""
    digest = hashlib.sha256(json.dumps([values, sets, backend_name], sort_keys=True).encode())
    total = 0
    inside = os.path.realpath(chart) + os.sep
    for folder, dirs, files in os.walk(chart):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            if not os.path.realpath(path).startswith(inside):
                raise RenderError(f"{display_path(path)} leads out of the chart; not rendered")
            if os.path.isdir(path):
                continue
            try:
                size, data = read_regular(path, MAX_CHART_BYTES - total)
            except OSError as exc:
                raise RenderError(f"{display_path(path)}: {exc.strerror or exc}; not rendered") from None
            if data is None:
                raise RenderError(f"the chart folder holds over {MAX_CHART_BYTES} bytes; not rendered")
            total += len(data)
            digest.update(os.path.relpath(path, chart).encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:32]


def render_cached(engine: Backend, chart: str, values, sets, root: Path | None) -> dict[str, str]:
    from v6lint import cache

    key = chart_digest(chart, values, sets, engine.name)  # also refuses what Helm should not load
    if root is not None:
        hit = cache.load_render(root, key)
        if hit is not None:
            return hit
    manifests = engine.render(chart, values, sets)
    if root is not None:
        cache.save_render(root, key, manifests)
    return manifests


def stream_of(manifests: dict[str, str]) -> str:
    return "".join(f"---\n# Source: {name}\n{text.strip()}\n" for name, text in sorted(manifests.items())
                   if name.endswith((".yaml", ".yml", ".json", ".tpl")) and text.strip())


def _template_file(chart: str, name: str) -> str | None:
    """`web/templates/svc.yaml` -> CHART/templates/svc.yaml; sub-charts: web/charts/db/templates/x.yaml."""
    parts = name.split("/")[1:]
    if not parts or ".." in parts:
        return None
    path = os.path.join(chart, *parts)
    return path if os.path.isfile(path) else None


def _ordinal(documents: list[Document], doc: Document, names: list[str | None]) -> tuple:
    index = documents.index(doc)
    same = [d for i, d in enumerate(documents[:index]) if names[i] == names[index] and d.kind == doc.kind]
    return names[index], doc.kind, len(same)


def _names(source: SourceFile, documents: list[Document]) -> list[str | None]:
    from v6lint.rendered import helm_sources
    import bisect

    offsets, names = helm_sources(source.text)
    out = []
    for doc in documents:
        i = bisect.bisect_right(offsets, doc.start) - 1
        out.append(names[i] if i >= 0 else None)
    return out


def _plain(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value)) and value.lower() not in (
        "true", "false", "yes", "no", "on", "off", "null", "y", "n")


def _scalar_text(value: str, style: str | None) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not _plain(value):
        return json.dumps(value)
    return value


def _new_value(fix: Fix | None, node: Node) -> tuple[str, str, Applicability] | None:
    """(new value, fix message, applicability) when the fix replaces exactly the scalar `node`."""
    if fix is None or len(fix.edits) != 1:
        return None
    edit = fix.edits[0]
    if (edit.start, edit.end) != (node.start, node.end):
        return None
    content = edit.content.strip()
    if len(content) >= 2 and content[0] == content[-1] and content[0] in "\"'":
        content = content[1:-1]
    return (content, fix.message, fix.applicability) if _plain(content) or content else None


@dataclass
class ValuesSet:
    """What one render of a chart is given, after its values.yaml: values files (relative to the
    chart) and `--set` expressions. `name` is None for a chart configured without named sets."""

    name: str | None
    files: list[str]
    sets: list[str]


def values_sets(spec: dict) -> list[ValuesSet]:
    """A chart's values sets from its `[helm.charts."PATH"]` table: the chart's `values`/`set` alone,
    or, with `[helm.charts."PATH".sets.NAME]` tables, each named set after them (one render each)."""
    files, sets = list(spec.get("values", [])), list(spec.get("set", []))
    named = spec.get("sets") or {}
    if not named:
        return [ValuesSet(None, files, sets)]
    return [ValuesSet(name, files + list(extra.get("values", [])), sets + list(extra.get("set", [])))
            for name, extra in named.items()]


@dataclass
class Placed:
    """A finding of the rendered chart, placed in the file the user edits. Its message is completed
    (object, values sets, where) by check_charts, which merges the same finding from several sets."""

    diag: Diagnostic  # placed: path, range and fix in `source`; message still the rule's
    source: SourceFile
    what: str  # the rendered object: `Service default/x from chart web`
    where: str  # e.g. `; set by a.b in web/values.yaml`


def _overlaid(chart: str, overlay: dict[str, str] | None) -> dict[str, str]:
    """{path relative to the chart: unsaved text} for the chart's files whose text differs on disk."""
    inside = os.path.realpath(chart) + os.sep
    out = {}
    for path, text in (overlay or {}).items():
        if not path.startswith(inside):
            continue
        try:
            on_disk = read_regular(path, MAX_CHART_BYTES)[1]
        except OSError:
            on_disk = None
        if on_disk is None or on_disk.decode("utf-8", "replace") != text:
            out[os.path.relpath(path, inside)] = text
    return out


class _RenderDir:
    """The folder a render reads: the chart itself, or, when `overlay` holds unsaved text of its
    files (an editor's buffers, fixes being checked), a private temporary copy with that text
    written in. The user's files are never written. The chart is checked (chart_digest) first."""

    def __init__(self, chart: str, overlay: dict[str, str] | None, without_schemas: bool = False):
        self.chart, self.changed = chart, _overlaid(chart, overlay)
        self.copy: str | None = None
        # The traced render's marked values would fail a chart's values.schema.json (an enum, a
        # pattern): that render reads a copy without them, as `helm template --skip-schema-validation`.
        self.schemas = [os.path.relpath(os.path.join(folder, "values.schema.json"), chart)
                        for folder, _dirs, files in os.walk(chart) if "values.schema.json" in files] \
            if without_schemas else []

    def __enter__(self) -> str:
        if not self.changed and not self.schemas:
            return self.chart
        chart_digest(self.chart, None, [], "")  # refuses FIFOs, symlinks out, oversized charts
        copy = self.copy = tempfile.mkdtemp(prefix="v6lint-chart-")
        target = os.path.join(copy, os.path.basename(self.chart))
        shutil.copytree(self.chart, target, symlinks=True)
        for relative, text in self.changed.items():
            destination = os.path.join(target, relative)
            if not os.path.realpath(destination).startswith(os.path.realpath(target) + os.sep):
                continue  # never write through a link out of the copy
            os.makedirs(os.path.dirname(destination), exist_ok=True)  # a new file, not yet saved
            with open(destination, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        for relative in self.schemas:
            os.unlink(os.path.join(target, relative))
        return target

    def __exit__(self, *exc) -> None:
        if self.copy is not None:
            shutil.rmtree(self.copy, ignore_errors=True)


def check_chart(chart: str, linter, engine: Backend, cache_root: Path | None, overlay: dict[str, str] | None = None,
                values_set: ValuesSet | None = None) -> list[Placed]:
    """The findings of one render of `chart` (with `values_set`), placed in the chart's files. Raises
    RenderError. `overlay` (real path -> text) stands in for files on disk: unsaved editor buffers or
    fixes being checked."""
    values_set = values_set or ValuesSet(None, [], [])
    files = [os.path.join(chart, "values.yaml")] if os.path.isfile(os.path.join(chart, "values.yaml")) else []
    files += [os.path.join(chart, f) for f in values_set.files]
    sets = values_set.sets
    parsed = []
    project = os.path.realpath(linter.profile.root or linter.settings.root) + os.sep
    for path in files:
        if not os.path.realpath(path).startswith(project):
            raise RenderError(f"values file {display_path(path)} is outside the project; not read")
        parsed.append(read_values(path, overlay))
    leaves: list[Leaf] = []
    values: dict = {}
    for source, root in parsed:
        values = _merge(values, to_python(root, leaves, source) or {})
    subcharts = _subchart_values(chart, overlay, leaves)
    with _RenderDir(chart, overlay) as folder:
        try:
            return _place(chart, folder, linter, engine, cache_root, overlay, parsed, leaves, values, sets,
                          subcharts)
        except RenderError as exc:
            if folder == chart:
                raise
            raise RenderError(str(exc).replace(os.path.dirname(folder) + os.sep, "")) from None


def _subchart_values(chart: str, overlay: dict[str, str] | None,
                     leaves: list[Leaf]) -> list[tuple[str, SourceFile, Node | None]]:
    """The values.yaml of each sub-chart folder in `charts/`, as (key in the parent's values, source,
    root); their string leaves join `leaves`, so that a value a sub-chart's defaults set is traced
    there. Helm gives a sub-chart the parent's values under its name (or its alias in the parent's
    Chart.yaml dependencies), over the sub-chart's own values.yaml (helm.sh/docs/chart_template_guide/
    subcharts_and_globals, "Overriding Values of a Child Chart"; helm.sh/docs/topics/charts, "Alias
    field in dependencies"); a sub-chart with two aliases is left out (which one set it is unclear)."""
    out: list[tuple[str, SourceFile, Node | None]] = []
    folder = os.path.join(chart, "charts")
    if not os.path.isdir(folder) or os.path.islink(folder):
        return out
    try:
        parent = parse_source(_read_text(os.path.join(chart, "Chart.yaml"), overlay)).documents
    except (OSError, DecodeError):
        return out
    dependencies = parent[0].root.get("dependencies") if parent and parent[0].root is not None and \
        parent[0].root.kind == MAP else None
    for entry in sorted(os.listdir(folder)):
        sub = os.path.join(folder, entry)
        if os.path.islink(sub) or not os.path.isfile(os.path.join(sub, "Chart.yaml")) or \
                not os.path.isfile(os.path.join(sub, "values.yaml")):
            continue
        try:
            meta = parse_source(_read_text(os.path.join(sub, "Chart.yaml"), overlay)).documents
            source, root = read_values(os.path.join(sub, "values.yaml"), overlay)
        except (OSError, DecodeError, RenderError):
            continue
        name = meta[0].root.str_at("name") if meta and meta[0].root is not None and meta[0].root.kind == MAP \
            else None
        aliases = [alias for d in (dependencies.items() if dependencies is not None else [])
                   if d.kind == MAP and d.str_at("name") == name and (alias := d.str_at("alias"))]
        if not name or len(aliases) > 1:
            continue
        to_python(root, leaves, source)
        out.append((aliases[0] if aliases else name, source, root))
    return out


def _place(chart, folder, linter, engine, cache_root, overlay, parsed, leaves, values, sets,
           subcharts) -> list[Placed]:
    manifests = render_cached(engine, folder, values, sets, cache_root)
    name = os.path.basename(os.path.realpath(chart))
    rendered = SourceFile(f"{display_path(chart)} (rendered)", stream_of(manifests),
                          abspath=os.path.realpath(os.path.join(chart, "Chart.yaml")))
    documents = parse_source(rendered).documents
    names = _names(rendered, documents)
    found = [d for d in linter.lint_source(rendered) if not d.code.startswith("V6L")]
    if not found:
        return []
    # One more render with a marker on each string leaf whose value a finding's value holds.
    wanted = {value for d in found for value in _scalars_at(documents, d.start)}
    candidates = [leaf for leaf in leaves if leaf.node.value and any(leaf.node.value in w for w in wanted)]
    marked_docs: dict[tuple, Document] = {}
    if candidates:
        marks = {id(leaf.node): f"v6lm{i}z" for i, leaf in enumerate(candidates)}
        # a sub-chart's defaults go in under its key, beneath the parent's values (Helm's precedence):
        # only in this traced render, so the render judged is exactly Helm's
        marked_values: dict = {key: to_python(root, None, source, (), marks) or {} for key, source, root in subcharts}
        for source, root in parsed:
            marked_values = _merge(marked_values, to_python(root, None, source, (), marks) or {})
        try:
            with _RenderDir(folder, None, without_schemas=True) as unchecked:
                marked = render_cached(engine, unchecked, marked_values, sets, cache_root)
        except RenderError:
            marked = {}
        marked_source = SourceFile("marked", stream_of(marked))
        marked_documents = parse_source(marked_source).documents
        marked_names = _names(marked_source, marked_documents)
        for marked_doc in marked_documents:
            marked_docs[_ordinal(marked_documents, marked_doc, marked_names)] = marked_doc
    out = []
    templates: dict[str, SourceFile | None] = {}
    for diag in found:
        doc = next((d for d in documents if d.start <= diag.start <= d.end), None)
        if doc is None:
            continue
        key = _ordinal(documents, doc, names)
        template = key[0] or ""
        what = f"{doc.object_name} from chart {name}"
        steps = path_at(doc.root, diag.start)
        node = node_at(doc.root, steps)
        # 1. values leaves: the twin of the finding's node in the marked render carries their markers
        twin = node_at(marked_docs[key].root, steps) if key in marked_docs and steps else None
        hit = [candidates[int(m.group(1))] for n in walk(twin) if n.kind == SCALAR
               for m in _MARK.finditer(n.value or "")] if twin is not None else []
        if hit and len({leaf.source.path for leaf in hit}) == 1:
            source = hit[0].source
            common = _common_prefix([leaf.steps for leaf in hit])
            if len(hit) == 1:
                target = hit[0].node
            else:
                roots = parsed + [(sub_source, sub_root) for _key, sub_source, sub_root in subcharts]
                target = node_at(_root_of(roots, source), list(common)) or hit[0].node
            fix = _values_fix(diag.fix, doc, marked_docs[key], candidates)
            out.append(_placed(diag, source, target.start, target.end if target.kind == SCALAR else target.start,
                               fix, what, f"; set by {'.'.join(map(str, common)) or 'the values'} in {source.path}"))
            continue
        path = _template_file(chart, template)
        if path is not None and path not in templates:
            try:
                templates[path] = _read_text(path, overlay)
            except (OSError, DecodeError):
                templates[path] = None
        source = templates.get(path) if path else None
        if source is None:
            chart_file = _read_text(os.path.join(chart, "Chart.yaml"), overlay)
            out.append(_placed(diag, chart_file, 0, 0, None, what, f", {template}; no fix"))
            continue
        # 2. a literal in the template
        literal = None if node is None else _literal(source, steps, node) if node.kind == SCALAR else \
            _literal_block(source, steps, node)
        if literal is not None:
            start, end = literal
            change = _new_value(diag.fix, node) if node is not None and node.kind == SCALAR else None  # a list or map: no fix
            fix = None
            if change is not None:
                fix = Fix(change[1], change[2], (Edit(start, end, change[0]),))
            out.append(_placed(diag, source, start, end, fix, what, "; written in this template"))
            continue
        # 3. the template, at the object's kind
        match = re.search(rf"(?m)^kind:\s*{re.escape(doc.kind or '')}\s*$", source.text)
        start = match.start() if match else 0
        out.append(_placed(diag, source, start, start, None, what,
                           "; the value's source in the chart could not be traced: no fix"))
    return out


def _common_prefix(paths: list[tuple]) -> tuple:
    first = paths[0]
    size = len(first)
    for other in paths[1:]:
        size = min(size, len(other))
        size = next((i for i in range(size) if first[i] != other[i]), size)
    return first[:size]


def _root_of(parsed: list, source: SourceFile) -> Node | None:
    return next((root for s, root in parsed if s is source), None)


def _values_fix(fix: Fix | None, doc: Document, marked: Document, candidates: list[Leaf]) -> Fix | None:
    """The fix on the values leaves, when each edit replaces a rendered scalar that is exactly one leaf's
    value (its twin is the leaf's value and marker, nothing else)."""
    if fix is None:
        return None
    edits: list[tuple[SourceFile, Edit]] = []
    for edit in fix.edits:
        steps = path_at(doc.root, edit.start)
        node, twin = node_at(doc.root, steps), node_at(marked.root, steps)
        if node is None or twin is None or node.kind != SCALAR or twin.kind != SCALAR or \
                (node.start, node.end) != (edit.start, edit.end):
            return None
        mark = _MARK.fullmatch(twin.value[len(node.value):]) if twin.value.startswith(node.value) else None
        if mark is None:
            return None
        leaf = candidates[int(mark.group(1))]
        if leaf.node.value != node.value or (edits and edits[0][0] is not leaf.source):
            return None
        content = edit.content.strip()
        if len(content) >= 2 and content[0] == content[-1] and content[0] in "\"'":
            content = content[1:-1]
        edits.append((leaf.source, Edit(leaf.node.start, leaf.node.end, _scalar_text(content, leaf.node.style))))
    return Fix(fix.message, fix.applicability, tuple(e for _, e in edits)) if edits else None


def _read_text(path: str, overlay: dict[str, str] | None = None) -> SourceFile:
    """A chart file as the user has it: the editor's unsaved text (or a fix being checked) over the disk."""
    text = (overlay or {}).get(os.path.realpath(path))
    if text is not None:
        return SourceFile(display_path(path), text, abspath=os.path.realpath(path))
    data = read_regular(path, MAX_VALUES_FILE)[1]
    if data is None:
        raise OSError("too large")
    text, encoding, bom = decode(data)
    return SourceFile(display_path(path), text, encoding, bom, os.path.realpath(path))


def _scalars_at(documents: list[Document], offset: int, limit: int = 64) -> list[str]:
    """The values of the scalars at and under the node a finding points at (not a whole object)."""
    doc = next((d for d in documents if d.start <= offset <= d.end), None)
    steps = path_at(doc.root, offset) if doc is not None else []
    if doc is None or not steps:
        return []
    values = [n.value for n in walk(node_at(doc.root, steps)) if n.kind == SCALAR and n.value]
    return values[:limit]


def _literal(source: SourceFile, steps: list, node: Node) -> tuple[int, int] | None:
    """The one place the template writes `key: value` (or `- value`) as plain text, outside actions."""
    value = re.escape(node.value)
    if steps and isinstance(steps[-1], str):
        key = re.escape(steps[-1])
        pattern = rf"(?m)^[ \t]*(?:-[ \t]+)?[\"']?{key}[\"']?[ \t]*:[ \t]*([\"']?)(?P<v>{value})\1[ \t]*(?:#.*)?$"
    elif steps:
        pattern = rf"(?m)^[ \t]*-[ \t]+([\"']?)(?P<v>{value})\1[ \t]*(?:#.*)?$"
    else:
        return None
    matches = [m for m in re.finditer(pattern, source.text) if "{{" not in m.group(0)]
    if len(matches) != 1:
        return None
    return matches[0].start("v"), matches[0].end("v")


def _literal_block(source: SourceFile, steps: list, node: Node) -> tuple[int, int] | None:
    """The one place the template writes `key:` with a list or map under it (block or flow) as plain
    text holding every scalar of `node`, outside actions: the span of that text."""
    if not steps or not isinstance(steps[-1], str):
        return None
    key = re.escape(steps[-1])
    heads = [m for m in re.finditer(rf"(?m)^(?P<indent>[ \t]*)(?:-[ \t]+)?[\"']?{key}[\"']?[ \t]*:(?P<rest>[^\r\n]*)$",
                                    source.text) if "{{" not in m.group(0)]
    if len(heads) != 1:
        return None
    head = heads[0]
    rest = head.group("rest").split("#", 1)[0]
    start: int | None
    end: int | None
    if rest.strip():  # flow style on the key's line: `ipFamilies: [IPv6, IPv4]`
        start = head.start("rest") + len(rest) - len(rest.lstrip())
        end = head.start("rest") + len(rest.rstrip())
    else:  # the lines under it that are indented deeper, or list items at its indent
        indent = len(head.group("indent"))
        start = end = None
        offset = head.end() + 1
        for line in source.text[offset:].splitlines(keepends=True):
            body = line.strip()
            depth = len(line) - len(line.lstrip(" \t"))
            if body and not body.startswith("#") and not (depth > indent or (depth == indent and body.startswith("- "))):
                break
            if body and not body.startswith("#"):
                start = offset + depth if start is None else start
                end = offset + len(re.sub(r"[ \t]+#.*$", "", line.rstrip()))
            offset += len(line)
        if start is None or end is None:
            return None
    text = source.text[start:end]
    if "{{" in text or not all(n.value in text for n in walk(node) if n.kind == SCALAR and n.value):
        return None
    return start, end


def _placed(diag: Diagnostic, source: SourceFile, start: int, end: int, fix: Fix | None, what: str,
            where: str) -> Placed:
    placed = Diagnostic(diag.code, diag.name, diag.severity, diag.message, source.path, start, end, fix,
                        diag.url, diag.profile)
    return Placed(placed.place(source), source, what, where)


def helm_settings(settings) -> dict[str, dict]:
    """{real chart path: {"values": [...], "set": [...]}} from the config's `[helm.charts."PATH"]`."""
    root = settings.root
    return {os.path.realpath(os.path.join(root, path)): spec for path, spec in getattr(settings, "helm", {}).items()}


def is_subchart(folder: Path) -> bool:
    return folder.parent.name == "charts" and (folder.parent.parent / "Chart.yaml").is_file()


def check_charts(files: Sequence[Path | str], route, use_cache: bool = True,
                 overlay: dict[str, str] | None = None) -> OverlayResults:
    """Render every chart among `files` once per values set and place the findings. A chart is in
    `files` by its Chart.yaml, or by a values file or template of it (then only the findings placed
    in the files of `files` are kept). `route(path)` gives the (Linter, cache) of a file's project."""
    out = OverlayResults()
    named: set[str] | None = None  # resolved only when some file belongs to a chart
    charts: dict[Path, bool] = {}  # Chart.yaml -> whether the whole chart was asked for
    nearest: dict[Path, tuple[Path, int] | None] = {}  # folder -> its chart folder (see chart_of)
    chartless = None  # the last folder with no Chart.yaml in it or above it: its files need no look
    for f in files:
        folder, name = os.path.split(f)
        if folder == chartless and name != "Chart.yaml":
            continue
        file = Path(f)
        if name == "Chart.yaml" and not is_subchart(file.parent):
            charts[file] = True
        else:
            chart = chart_of(file, nearest) if name != "Chart.yaml" else None
            if chart is None and nearest.get(file.parent, 0) is None:
                chartless = folder
            if chart is not None:
                named = named if named is not None else {os.path.realpath(f) for f in files}
                if str((chart / "Chart.yaml").resolve()) not in named:
                    charts.setdefault(chart / "Chart.yaml", False)
    if not charts:
        return out
    if replay.WITNESS is not None:
        replay.WITNESS.refuse("a Helm chart is rendered")  # (what a render reads is not all in the walk)
    named = named if named is not None else {os.path.realpath(f) for f in files}
    engine = backend()
    for chart_yaml, whole in charts.items():
        linter = route(chart_yaml if whole else next(f for f in files if chart_of(Path(f)) == chart_yaml.parent))[0]
        shown = display_path(chart_yaml)
        folder = display_path(chart_yaml.parent)

        def notice(message: str, path: str = shown) -> None:
            out.diagnostics.setdefault(path, []).extend(linter.notice(path, "V6L909", message))

        if engine is None:
            notice(f"chart {folder} not rendered: {ENABLE}; its templates were skipped")
            continue
        root = Path(linter.profile.root or linter.settings.root) if use_cache else None
        real = os.path.realpath(chart_yaml.parent)
        merged: dict[tuple, tuple[Placed, list[str | None]]] = {}  # one finding from several values sets is one
        rendered = False
        for values_set in values_sets(helm_settings(linter.settings).get(real, {})):
            label = f" with values set {values_set.name}" if values_set.name else ""
            try:
                found = check_chart(real, linter, engine, root, overlay, values_set)
            except RenderError as exc:
                message = " ".join(str(exc).split())  # Helm's messages span lines
                out.failed[real] = message
                named_file = re.search(r"([\w.-]+/templates/[^:\s()]+):(\d+)", message)
                path = _template_file(str(chart_yaml.parent), named_file.group(1)) if named_file else None
                notice(f"chart {folder}{label} not rendered ({engine.name}): {message}",
                       display_path(path) if path else shown)
                continue
            rendered = True
            for placed in found:
                diag = placed.diag
                key = (diag.path, diag.code, diag.start, diag.end, diag.message, placed.what, placed.where)
                merged.setdefault(key, (placed, []))[1].append(values_set.name)
        if rendered:
            out.members.update(os.path.realpath(p) for p in _templates(chart_yaml.parent))
        for placed, set_names in merged.values():
            diag = placed.diag
            if not whole and os.path.realpath(placed.source.abspath or diag.path) not in named:
                continue
            if comment_suppresses(placed.source, diag.code, diag.start):
                out.used.add((diag.path, diag.code))
                continue
            sets = [n for n in set_names if n]
            label = f" with values set{'s' if len(sets) > 1 else ''} {', '.join(sets)}" if sets else ""
            diag.message = f"{diag.message} ({placed.what}{label}{placed.where})"
            out.diagnostics.setdefault(diag.path, []).append(diag)
    return out


def chart_of(path: Path, memo: dict[Path, tuple[Path, int] | None] | None = None) -> Path | None:
    """The chart (a folder with Chart.yaml, the parent chart for a sub-chart's file) whose values file
    or template `path` is, or None. `memo` (for many calls: folder -> the nearest folder above it
    holding a Chart.yaml, and how many levels up) spares the look-ups for the other files of a
    folder and for the folders above it."""
    found = _chart_above(path.parent, memo if memo is not None else {})
    if found is None or found[1] > 7:  # at most 7 levels above the file's folder
        return None
    folder = found[0]
    relative = path.relative_to(folder).parts  # within the chart or sub-chart that holds it
    member = "templates" in relative or (len(relative) == 1 and relative[0].startswith("values"))
    while is_subchart(folder):
        folder = folder.parent.parent
    return folder if member else None


def _chart_above(start: Path, memo: dict[Path, tuple[Path, int] | None]) -> tuple[Path, int] | None:
    """(the nearest folder from `start` upward holding a Chart.yaml, levels up), or None; each folder
    is looked at once per `memo`."""
    chain = []
    at = start
    while at not in memo:
        if replay.WITNESS is not None:
            replay.WITNESS.looked_for(at / "Chart.yaml")
        if (at / "Chart.yaml").is_file():
            memo[at] = (at, 0)
            break
        chain.append(at)
        parent = at.parent
        if parent == at:
            memo[at] = None
            chain.pop()
            break
        at = parent
    found = memo[at]
    for levels, below in enumerate(reversed(chain), 1):
        memo[below] = None if found is None else (found[0], found[1] + levels)
    return memo[start]


def _templates(chart: Path) -> list[Path]:
    return [p for p in chart.rglob("*") if "templates" in p.relative_to(chart).parts and p.is_file()]


def recheck_fixed(results: list, files: Sequence[Path | str], route, before: OverlayResults,
                  use_cache: bool = True) -> list:
    """Fixes in a chart's values files and templates are checked by rendering the chart again with the
    fixed text (from a private copy: nothing is written yet). When it renders, the chart's findings are
    those of the new render, what is left after the fixes. When a values set no longer renders, no fix
    in that chart's files is applied, and each of them gets a V6L906 notice with Helm's message.
    `before` holds the chart findings the results were made with."""
    from v6lint.engine import FileResult

    def chart_for(path: str | None) -> str | None:
        if not path:
            return None
        found = chart_of(Path(path)) or (Path(path).parent if Path(path).name == "Chart.yaml" else None)
        return os.path.realpath(found) if found is not None else None

    def chart_of_result(result) -> str | None:
        return chart_for(result.source.abspath if result.source is not None else result.path)

    fixed = {r.source.abspath: r.fixed.text for r in results if r.fixed is not None and chart_of_result(r)}
    if not fixed:
        return results
    charts = {chart_of_result(r) for r in results if r.source is not None and r.source.abspath in fixed}
    again = check_charts([f for f in files if chart_for(str(f)) in charts], route, use_cache, overlay=fixed)
    old = {id(d) for diagnostics in before.diagnostics.values() for d in diagnostics}
    out = []
    for result in results:
        chart = chart_of_result(result)
        if chart is None or chart not in charts:
            out.append(result)
            continue
        failed = again.failed.get(chart)
        if failed is None:
            kept = [d for d in result.diagnostics if id(d) not in old]
            out.append(FileResult(result.path, result.source,
                                  sorted(kept + again.diagnostics.pop(result.path, []), key=lambda d: d.sort_key),
                                  result.fixed, result.fixes_applied, None, result.passes))
        elif result.fixed is not None:
            linter = route(next(f for f in files if os.path.realpath(f) == result.source.abspath))[0]
            own = linter.lint_source(result.source)
            if result.source.abspath in before.members:
                own = [d for d in own if d.code.startswith("V6L") and d.code != "V6L901"]
            notice = linter.notice(result.path, "V6L906", f"fixes not applied: with them, chart "
                                   f"{display_path(chart)} no longer renders ({failed})")
            breaking = {id(d) for d in result.fixes_applied}  # not offered again: they break the render
            placed = [replace(d, fix=None) if id(d) in breaking else d for d in before.diagnostics.get(result.path, [])]
            out.append(FileResult(result.path, result.source, sorted(own + placed + notice, key=lambda d: d.sort_key)))
        else:
            out.append(result)
    for path, diagnostics in again.diagnostics.items():
        if chart_for(path) not in again.failed and not any(result.path == path for result in out):
            out.append(FileResult(path, None, diagnostics))
    return out
