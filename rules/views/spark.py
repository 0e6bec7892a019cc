"""One view of a Spark job's settings, wherever they are written.

SparkApplication `spec.sparkConf`, a ConfigMap's `spark-defaults.conf`, `spark-submit --conf` in
container args, and PySpark code all become a `SparkJob` with the same `conf` lookup and an
`add()` that writes new settings in the style of their neighbours (or uncomments them where the
file already has them commented out, as the data-on-eks examples do).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from v6lint.diagnostics import Edit
from v6lint.document import MAP, SEQ, Document, Node, per_document
from v6lint.rule import contains
from v6lint.rules.views.kube import WORKLOADS, containers
from v6lint.source import SourceFile
from v6lint.yaml_edit import insert_entries, quote, replace_scalar, uncomment_edits

SPARK_APPS = ("sparkoperator.k8s.io/*/SparkApplication", "sparkoperator.k8s.io/*/ScheduledSparkApplication")
ROLES = ("driver", "executor")
# The value runs from its first to its last non-blank character: `\S(?:.*\S)?` is linear where the
# lazy `(\S.*?)?\s*$` retried the whole trailing-space run at every character (quadratic).
_DEFAULTS_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.\-*]+)(\s*[=:]\s*|\s+)(\S(?:.*\S)?)?\s*$")
_SUBMIT_CONF = re.compile(r"--conf[=\s]+['\"]?([A-Za-z0-9_.\-*]+)=([^\s'\"\\]*)")


@dataclass
class Conf:
    key: str
    value: str | None
    start: int  # the value's text
    end: int
    entry_start: int  # the whole setting
    entry_end: int
    node: Node | None = None  # YAML scalar holding the value (sparkConf)

    def replace(self, source: SourceFile, value: str) -> Edit:
        if self.node is not None:
            return replace_scalar(self.node, value)
        return Edit(self.start, self.end, value)


@dataclass
class SparkJob:
    doc: Document
    label: str  # how messages name it
    anchor: tuple[int, int]  # where job-level findings point
    on_kubernetes: bool
    conf: dict[str, Conf] = field(default_factory=dict)
    add: Callable[[list[tuple[str, str]]], list[Edit] | None] = lambda pairs: None
    spec: Node | None = None  # SparkApplication spec (the template's for ScheduledSparkApplication)
    # "cluster" (Spark creates a driver pod and its Service), "client" (the submitting process is the
    # driver: no driver Service) or None (not said here, e.g. a spark-defaults.conf).
    deploy_mode: str | None = None

    def value(self, key: str) -> str | None:
        found = self.conf.get(key)
        return found.value if found else None

    def role(self, name: str) -> Node | None:
        node = self.spec.get(name) if self.spec is not None else None
        return node if node is not None and node.kind == MAP else None

    def key_of(self, name: str) -> Node:
        """The key node of an entry the job's spec has (a role `role()` found, for a finding's range)."""
        entry = self.spec.entry(name) if self.spec is not None else None
        if entry is None:
            raise KeyError(name)
        return entry[0]


# --- SparkApplication ---------------------------------------------------------------------------
def _style_of(mapping: Node) -> tuple[str | None, str | None]:
    """Quote styles of the last entry's key and value, so new entries look like their neighbours."""
    entries = mapping.entries()
    if not entries:
        return None, None
    key, value = entries[-1]
    return key.style, value.style if value.kind == "scalar" else None


def _render_pair(key: str, value: str, styles: tuple[str | None, str | None]) -> tuple[str, str]:
    return quote(key, styles[0]), quote(value, styles[1])


def _app_job(doc: Document) -> SparkJob | None:
    root = doc.root
    spec_entry = root.entry("spec") if root is not None else None
    spec = spec_entry[1] if spec_entry is not None else None
    if doc.kind == "ScheduledSparkApplication" and spec is not None:
        spec = spec.get("template")
    if spec_entry is None or spec is None or spec.kind != MAP:
        return None
    source = doc.source
    spark_conf = spec.get("sparkConf")
    spec_key = spec_entry[0]
    job = SparkJob(doc, doc.object_name, (spec_key.start, spec_key.end), True, spec=spec,
                   deploy_mode="client" if spec.str_at("mode") == "client" else "cluster")
    key_entry = spec.entry("sparkConf")
    if key_entry is not None:
        job.anchor = (key_entry[0].start, key_entry[0].end)
    if spark_conf is not None and spark_conf.kind == MAP:
        for k, v in spark_conf.entries():
            if k.text is None:
                continue
            job.conf[k.text] = Conf(k.text, v.text, v.start, v.end, k.start, v.end, v)

    def add(pairs: list[tuple[str, str]]) -> list[Edit] | None:
        if spark_conf is not None and spark_conf.kind == MAP and spark_conf.entries():
            edits, missing = [], []
            for key, value in pairs:
                found = uncomment_edits(source, spark_conf, functools.partial(_is_setting, key=key, value=value))
                if found:
                    edits.extend(found[:1])
                else:
                    missing.append((key, value))
            if missing:
                styles = _style_of(spark_conf)
                text_pairs = [_render_pair(k, v, styles) for k, v in missing]
                edits.append(_insert_raw(source, spark_conf, text_pairs))
            return edits
        if spark_conf is not None:
            return None  # `sparkConf: {}` or odd shapes: leave to the user
        return [insert_entries(source, spec, [("sparkConf", dict(pairs))], doc.root)]

    job.add = add
    return job


def _is_setting(text: str, key: str, value: str) -> bool:
    """Whether a line reads `key: value` (each optionally quoted, a `#` comment after). A scan: the
    regex it replaces was quadratic in runs of spaces (a long line took seconds)."""
    left, colon, right = text.partition(":")
    if not colon:
        return False
    if left[:1] in ("'", '"'):
        left = left[1:]
    quote = min((i for i in (left.find("'"), left.find('"')) if i != -1), default=-1)
    if quote != -1:
        if left[quote + 1:].strip():
            return False
        left = left[:quote]
    right = right.lstrip()
    if right[:1] in ("'", '"'):
        right = right[1:]
    end = min((i for i in (right.find("'"), right.find('"'), right.find("#")) if i != -1), default=len(right))
    tail = right[end:]
    if tail[:1] in ("'", '"'):
        tail = tail[1:]
    tail = tail.lstrip()
    return bool(left) and (not tail or tail.startswith("#")) and left == key and right[:end].strip() == value


def _insert_raw(source: SourceFile, mapping: Node, pairs: list[tuple[str, str]]) -> Edit:
    """Add already-rendered `key: value` pairs to a non-empty mapping, after its last entry."""
    nl = source.newline
    if mapping.flow:
        last = mapping.entries()[-1][1]
        return Edit(last.end, last.end, "".join(f", {k}: {v}" for k, v in pairs))
    col = source.position(mapping.entries()[0][0].start)[1]
    last_line = source.position(mapping.entries()[-1][1].end)[0]
    pos = source.line_end(last_line, with_newline=True)
    text = "".join(f"{' ' * col}{k}: {v}{nl}" for k, v in pairs)
    if pos == len(source.text) and not source.text.endswith("\n"):
        text = nl + text[: -len(nl)]
    return Edit(pos, pos, text)


# --- spark-defaults.conf in a ConfigMap ----------------------------------------------------------
def _defaults_job(doc: Document) -> SparkJob | None:
    data = doc.root.get("data") if doc.root is not None else None
    if data is None or data.kind != MAP:
        return None
    for key, value in data.entries():
        if key.text and key.text.endswith("spark-defaults.conf") and value.text is not None and value.style in ("|", ">", None):
            return _defaults_from_block(doc, key, value)
    return None


def _defaults_from_block(doc: Document, key: Node, block: Node) -> SparkJob:
    source = doc.source
    first_line = source.position(block.start)[0] + (1 if block.style in ("|", ">") else 0)
    last_line = source.position(block.end)[0]
    return properties_job(doc, f"{doc.object_name} ({key.text})", (key.start, key.end), first_line, last_line)


def properties_job(doc: Document, label: str, anchor: tuple[int, int], first_line: int, last_line: int) -> SparkJob:
    """Spark properties (`key value`, `key=value` or `key: value`, `#` comments) on lines
    first_line..last_line: a ConfigMap's spark-defaults.conf block, or a standalone .conf file."""
    source = doc.source
    job = SparkJob(doc, label, anchor, False)
    last_conf_line, sep, indent = None, " ", None
    for line in range(first_line, min(last_line + 1, source.line_count)):
        text = source.line_text(line)
        match = _DEFAULTS_LINE.match(text)
        if not match or text.lstrip().startswith("#") or "." not in match.group(2):
            continue
        base = source.line_start(line)
        value_start = base + match.start(4) if match.group(4) else base + len(text)
        value_end = base + match.end(4) if match.group(4) else base + len(text)
        job.conf[match.group(2)] = Conf(match.group(2), match.group(4), value_start, value_end,
                                        base + match.start(2), value_end)
        last_conf_line, sep, indent = line, match.group(3), match.group(1)
    # A driver host set by hand is the client-mode recipe (Spark's guide: executors reach a driver
    # that runs where the conf is read, e.g. a Spark Connect server or notebook pod).
    job.deploy_mode = job.value("spark.submit.deployMode") or ("client" if job.value("spark.driver.host") else None)
    master = job.value("spark.master") or ""
    job.on_kubernetes = master.startswith("k8s://") or any(k.startswith("spark.kubernetes.") for k in job.conf)

    def add(pairs):
        if last_conf_line is None:
            return None
        pos = source.line_end(last_conf_line, with_newline=True)
        text = "".join(f"{indent}{k}{sep}{v}{source.newline}" for k, v in pairs)
        if pos == len(source.text) and not source.text.endswith("\n"):
            text = source.newline + text[:-len(source.newline)]
        return [Edit(pos, pos, text)]

    job.add = add
    return job


def _conf_file_job(doc: Document) -> SparkJob | None:
    """A standalone spark-defaults.conf (or another properties file read as Spark settings)."""
    source = doc.source
    job = properties_job(doc, f"Spark properties ({source.path.replace(chr(92), '/').rsplit('/', 1)[-1]})",
                         (0, 0), 0, source.line_count - 1)
    if not job.conf:
        return None
    first = min(job.conf.values(), key=lambda c: c.entry_start)
    job.anchor = (first.entry_start, first.entry_start + len(first.key))
    return job


# --- spark-submit in container args --------------------------------------------------------------
def _submit_jobs(doc: Document) -> list[SparkJob]:
    jobs = []
    source = doc.source
    for container in containers(doc.root):
        for field_name in ("command", "args"):
            seq = container.get(field_name)
            if seq is None or seq.kind != SEQ:
                continue
            texts = [n.text or "" for n in seq.items()]
            if not any("spark-submit" in t or t == "--conf" for t in texts):
                continue
            name = container.str_at("name") or "?"
            job = SparkJob(doc, f"{doc.object_name} container {name}", (seq.start, seq.start), False)
            last_conf_item = None
            for i, item in enumerate(seq.items()):
                raw = source.text[item.start:item.end]
                if texts[i - 1:i] == ["--conf"] and "=" in texts[i]:
                    k, _, v = texts[i].partition("=")
                    offset = raw.find("=") + 1
                    job.conf[k] = Conf(k, v, item.start + offset, item.start + offset + len(v), item.start, item.end)
                    last_conf_item = i
                for match in _SUBMIT_CONF.finditer(raw):
                    job.conf[match.group(1)] = Conf(match.group(1), match.group(2), item.start + match.start(2),
                                                    item.start + match.end(2), item.start + match.start(),
                                                    item.start + match.end())
                if texts[i - 1:i] == ["--master"] or "--master k8s://" in texts[i] or "--master=k8s://" in texts[i]:
                    job.on_kubernetes = job.on_kubernetes or "k8s://" in texts[i]
                mode = re.search(r"--deploy-mode[=\s]+(\w+)", texts[i]) or \
                    (re.match(r"(\w+)$", texts[i]) if texts[i - 1:i] == ["--deploy-mode"] else None)
                if mode:
                    job.deploy_mode = mode.group(1)
            # spark-submit runs the driver in the submitting process unless told otherwise.
            job.deploy_mode = job.deploy_mode or job.value("spark.submit.deployMode") or "client"

            def add(pairs, seq=seq, last=last_conf_item):
                if last is None:
                    return None
                anchor = seq.items()[last]
                items = [x for k, v in pairs for x in ("--conf", f"{k}={v}")]
                if seq.flow:
                    return [Edit(anchor.end, anchor.end, "".join(f", {quote(x, anchor.style)}" for x in items))]
                line, col = source.position(anchor.start)
                prefix = source.line_text(line)[:col]
                if prefix.strip() != "-":
                    return None
                pos = source.line_end(source.position(anchor.end)[0], with_newline=True)
                return [Edit(pos, pos, "".join(f"{prefix}{quote(x, anchor.style)}{source.newline}" for x in items))]

            job.add = add
            if job.conf or job.on_kubernetes:
                jobs.append(job)
    return jobs


# --- PySpark code --------------------------------------------------------------------------------
def _python_job(doc: Document) -> SparkJob | None:
    facts = doc.payload
    if facts is None or not facts.settings and not facts.masters:
        return None
    source = doc.source
    first = facts.settings[0] if facts.settings else None
    anchor = (first.call_start, first.call_end) if first is not None and not facts.masters else \
        (facts.masters[0][1], facts.masters[0][2])
    # A SparkSession built in code runs its driver in this very process: client mode.
    job = SparkJob(doc, "PySpark session", anchor, facts.on_kubernetes, deploy_mode="client")
    for s in facts.settings:
        job.conf[s.key] = Conf(s.key, s.value, s.value_start, s.value_end, s.call_start, s.call_end)

    def add(pairs):
        if not facts.builder_inserts:
            return None
        offset, indent = facts.builder_inserts[0]
        calls = [f'.config("{k}", "{v}")' for k, v in pairs]
        if indent:  # the chain has one call per line: add ours as lines above the first .config
            line = source.position(offset)[0]
            previous = source.line_text(line - 1).rstrip() if line else ""
            cont = " \\" if previous.endswith("\\") else ""
            text = "".join(f"{call}{cont}{source.newline}{indent}" for call in calls)
            return [Edit(offset, offset, text)]
        return [Edit(offset, offset, "".join(calls))]

    job.add = add
    return job


# spark_jobs finds no job in a YAML file without one of these (the kinds, the ConfigMap key, the
# container args it reads): the gate of every rule reading it.
SPARK_TEXT = contains("SparkApplication", "spark-defaults.conf", "spark-submit", "--conf")


@per_document
def spark_jobs(doc: Document) -> list[SparkJob]:
    """Every Spark job in a document (YAML object or Python file)."""
    if doc.language == "python":
        job = _python_job(doc)
        return [job] if job else []
    if doc.language == "spark-conf":
        job = _conf_file_job(doc)
        return [job] if job else []
    if doc.language != "yaml" or not doc.is_kubernetes:
        return []
    if doc.matches(SPARK_APPS):
        job = _app_job(doc)
        return [job] if job else []
    if doc.matches(("v1/ConfigMap",)):
        job = _defaults_job(doc)
        return [job] if job else []
    if doc.matches(WORKLOADS):
        return _submit_jobs(doc)
    return []


def imds_values(job: SparkJob) -> Iterator[tuple[Node | None, Conf | None, str]]:
    """(yaml node or None, conf or None, value) of every IMDS mode setting of a job."""
    for role in ROLES:
        node = job.role(role)
        env = node.get("env") if node is not None else None
        for item in env.items() if env is not None and env.kind == SEQ else []:
            if item.str_at("name") == IMDS and item.get("value") is not None:
                yield item.get("value"), None, item.str_at("value") or ""
        env_vars = node.get("envVars") if node is not None else None
        if env_vars is not None and env_vars.get(IMDS) is not None:
            yield env_vars.get(IMDS), None, env_vars.str_at(IMDS) or ""
    for key, conf in job.conf.items():
        if key.endswith("." + IMDS):
            yield None, conf, conf.value or ""


def uses_ipv6_imds(job: SparkJob) -> bool:
    """The job's driver or executor env sets the IPv6 IMDS endpoint mode (the SDKs read it
    case-insensitively)."""
    return any(value.strip().lower() == "ipv6" for _node, _conf, value in imds_values(job))


IMDS = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
