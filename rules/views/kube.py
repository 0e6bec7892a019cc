"""Small Kubernetes object helpers shared by rule families."""
from __future__ import annotations

import re

from v6lint.diagnostics import Edit
from v6lint.document import MAP, SEQ, Document, Node
from v6lint.yaml_edit import append_item, commented_block, insert_entries

WORKLOADS = ("v1/Pod", "apps/*/Deployment", "apps/*/StatefulSet", "apps/*/DaemonSet", "apps/*/ReplicaSet",
             "batch/*/Job", "batch/*/CronJob")


def containers(root: Node | None) -> list[Node]:
    """Every container and init container below `root` (pod templates at any depth)."""
    out: list[Node] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if node.kind == MAP:
            for k, v in node.entries():
                if k.value in ("containers", "initContainers", "ephemeralContainers") and v.kind == SEQ:
                    out.extend(c for c in v.items() if c.kind == MAP)
                elif v.kind in (MAP, SEQ):
                    stack.append(v)
        elif node.kind == SEQ:
            stack.extend(node.items())
    return out


def env_items(container: Node) -> list[Node]:
    env = container.get("env")
    return [e for e in env.items() if e.kind == MAP] if env is not None and env.kind == SEQ else []


def add_env(doc: Document, mapping: Node, name: str, value: str) -> list[Edit] | None:
    """Add NAME=value to a mapping's `env` list: uncomment a commented-out `env:` block that has it,
    else append in the list's style, else create the list."""
    source = doc.source
    env = mapping.get("env")
    if env is None:
        commented = commented_block(source, mapping, "env")
        if commented and name in commented[1] and re.search(rf"value:\s*['\"]?{re.escape(value)}", commented[1]):
            return commented[0]
        return [insert_entries(source, mapping, [("env", [{"name": name, "value": value}])], doc.root)]
    if env.kind != SEQ:
        return None
    edit = append_item(source, env, {"name": name, "value": value})
    return [edit] if edit is not None else None
