"""Fixes change only what they say: diff hunks match the edits, and the data changes only there."""
from __future__ import annotations

import difflib

from hypothesis import HealthCheck, given, settings, strategies as st

from v6lint.config import Settings
from v6lint.discovery import discover
from v6lint.document import MAP, SEQ, Node
from v6lint.engine import Linter
from v6lint.rule import Profile
from v6lint.source import SourceFile
from v6lint.sources import parse_source
from fixturelib import shared

CORPUS = shared("corpus")


def hunks_inside_edits(before: str, after: str, edits) -> list[str]:
    """Every changed line of `before` must lie within the lines some edit spans (widened by the edit's own
    line count: a line-level diff may pick another of several identical neighbouring lines)."""
    def line(offset: int) -> int:
        return before.count("\n", 0, offset)

    windows = []
    for e in edits:
        width = e.content.count("\n") + before.count("\n", e.start, e.end) + 1
        windows.append((line(e.start) - width, line(e.end) + width))
    problems = []
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        lines = range(i1, i2) if i2 > i1 else [i1]
        if not all(any(lo <= n <= hi for lo, hi in windows) for n in lines):
            problems.append(f"{tag} lines {i1 + 1}-{i2} {''.join(old[i1:i2])[:80]!r} outside every edit")
    return problems


def _size(edit) -> int:
    return max(len(edit.content), edit.end - edit.start) + 2


def touched_in_final(passes, final_text: str) -> list[tuple[int, int]]:
    """Where the edits of all passes ended up, in the final text's offsets."""
    touched: list[tuple[int, int]] = []
    for _text, edits in passes:
        shifted = []
        for start, end in touched:
            delta = sum(len(e.content) - (e.end - e.start) for e in edits if e.end <= start)
            shifted.append((start + delta, end + delta))
        delta = 0
        for e in sorted(edits, key=lambda e: (e.start, e.end)):
            shifted.append((e.start + delta, e.start + delta + len(e.content)))
            delta += len(e.content) - (e.end - e.start)
        touched = shifted
    # an edit touches the whole lines it stands on, and the line break before them (removing a list's
    # last item leaves the edit just past the list's end)
    return [(max(0, final_text.rfind("\n", 0, s)), (final_text.find("\n", e) + 1) or len(final_text))
            for s, e in touched]


def data(node: Node | None, path=()) -> dict:
    """Flatten a document into {path: scalar text}."""
    if node is None:
        return {}
    if node.kind == MAP:
        out = {}
        for k, v in node.entries():
            out.update(data(v, path + (k.text,)))
        return out or {path: "{}"}
    if node.kind == SEQ:
        out = {}
        for i, item in enumerate(node.items()):
            out.update(data(item, path + (_item_key(item, i),)))
        return out or {path: "[]"}
    return {path: node.text}


def _item_key(item: Node, index: int):
    """List items by identity, not position: an inserted or removed item shifts no other path."""
    if item.kind == MAP:
        for field in ("name", "key"):
            if item.str_at(field):
                return f"[{field}={item.str_at(field)}]"
        return index
    return f"[={item.text}]" if item.text is not None else index


def nodes_by_path(node: Node | None, path=(), out=None) -> dict:
    out = {} if out is None else out
    if node is not None:
        out[path] = node
        for k, v in node.entries():
            nodes_by_path(v, path + (k.text,), out)
        for i, item in enumerate(node.items()):
            nodes_by_path(item, path + (_item_key(item, i),), out)
    return out


def data_changes_only_where_touched(original: SourceFile, fixed: SourceFile, touched) -> list[str]:
    problems = []
    before_docs = parse_source(original).documents
    after_docs = parse_source(fixed).documents
    if len(before_docs) != len(after_docs):
        return [f"document count {len(before_docs)} -> {len(after_docs)}"]
    for before, after in zip(before_docs, after_docs):
        if before.root is None:
            continue
        old, new = data(before.root), data(after.root)
        by_path = nodes_by_path(after.root)
        for path in sorted(set(old) ^ set(new) | {p for p in set(old) & set(new) if old[p] != new[p]}, key=str):
            # the changed value (or, for a removed one, its nearest surviving parent) must overlap an edit
            probe = path
            while probe not in by_path and probe:
                probe = probe[:-1]
            node = by_path.get(probe)
            if node is None or not any(s <= node.end and node.start <= e for s, e in touched):
                problems.append(f"{'.'.join(map(str, path))} changed outside the fixes")
    return problems


def test_corpus_fixes_touch_only_their_edits():
    # Every rule, preview and AWS ones included, so that every fix meets real files.
    linter = Linter(Settings(profile=Profile("ipv6", "--ip-family", platform="aws"), preview=True))
    checked = 0
    for path in discover([str(CORPUS)], [], CORPUS).files:
        result = linter.check_path(path, fix=True, unsafe=True)
        if result.fixed is None:
            continue
        checked += 1
        problems = []
        for text, edits in result.passes:
            after = text
            from v6lint.engine import apply_edits
            after = apply_edits(text, edits)
            problems += hunks_inside_edits(text, after, edits)
        problems += data_changes_only_where_touched(result.source, result.fixed,
                                                    touched_in_final(result.passes, result.fixed.text))
        assert not problems, (str(path), problems[:5])
        again = linter.fix_source(SourceFile(result.path, result.fixed.text, abspath=result.source.abspath), unsafe=True)
        assert again.fixed is None, f"second pass changed {path}"
    assert checked > 100


SERVICE = st.fixed_dictionaries({
    "name": st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    "families": st.lists(st.sampled_from(["IPv4", "IPv6", "ipv6", "IPV4", "IPv7"]), max_size=3),
    "policy": st.sampled_from([None, "SingleStack", "PreferDualStack", "RequireDualStack", "preferDualStack", "DualStack"]),
    "type": st.sampled_from([None, "ClusterIP", "LoadBalancer", "ExternalName", "NodePort"]),
    "cluster_ip": st.sampled_from([None, "None", "10.96.0.10", "fd00::10"]),
    "legacy": st.sampled_from([None, "IPv6", "IPv4"]),
    "flow": st.booleans(),
    "annotations": st.sampled_from([{}, {"service.beta.kubernetes.io/aws-load-balancer-type": "external"},
                                    {"service.beta.kubernetes.io/aws-load-balancer-ip-address-type": "ipv4",
                                     "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "IP"}]),
})


def render(svc: dict) -> str:
    spec = {}
    if svc["type"]:
        spec["type"] = svc["type"]
    if svc["policy"]:
        spec["ipFamilyPolicy"] = svc["policy"]
    if svc["families"]:
        spec["ipFamilies"] = svc["families"]
    if svc["cluster_ip"]:
        spec["clusterIP"] = svc["cluster_ip"]
    if svc["legacy"]:
        spec["ipFamily"] = svc["legacy"]
    spec["ports"] = [{"port": 80, "protocol": "UDP"}]
    lines = ["apiVersion: v1", "kind: Service", "metadata:", f"  name: {svc['name']}"]
    if svc["annotations"]:
        lines.append("  annotations:")
        lines += [f"    {k}: {v}" for k, v in svc["annotations"].items()]
    lines.append("spec:")
    for key, value in spec.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"  {key}:")
            lines += [f"    - {{port: {v['port']}, protocol: {v['protocol']}}}" for v in value]
        elif isinstance(value, list):
            lines.append(f"  {key}: [{', '.join(value)}]" if svc["flow"] else f"  {key}:")
            if not svc["flow"]:
                lines += [f"    - {v}" for v in value]
        else:
            lines.append(f"  {key}: {value}")
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(svc=SERVICE, family=st.sampled_from(["ipv4", "ipv6", "dual"]))
def test_generated_manifests_fix_cleanly(svc, family):
    text = render(svc)
    source = SourceFile("gen.yaml", text, abspath="/gen/gen.yaml")
    result = Linter(Settings(profile=Profile(family, "--ip-family"))).fix_source(source, unsafe=True)
    if result.fixed is None:
        return
    assert parse_source(result.fixed).problem is None
    for before, edits in result.passes:
        from v6lint.engine import apply_edits
        assert not hunks_inside_edits(before, apply_edits(before, edits), edits)
    assert not data_changes_only_where_touched(source, result.fixed, touched_in_final(result.passes, result.fixed.text))
    again = Linter(Settings(profile=Profile(family, "--ip-family"))).fix_source(result.fixed, unsafe=True)
    assert again.fixed is None
