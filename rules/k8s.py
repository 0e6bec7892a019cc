"""Small Kubernetes object helpers shared by rule families."""
from __future__ import annotations

from v6lint.document import MAP, SEQ, Node

WORKLOADS = ("v1/Pod", "apps/*/Deployment", "apps/*/StatefulSet", "apps/*/DaemonSet", "apps/*/ReplicaSet",
             "batch/*/Job", "batch/*/CronJob")


def containers(root: Node | None) -> list[Node]:
    """Every container and init container below `root` (pod templates at any depth)."""
    out = []
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
