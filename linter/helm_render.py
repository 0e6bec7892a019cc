"""The Helm SDK render worker: `python -m v6lint.helm_render`, a JSON request on stdin, JSON on stdout.

It runs in a child process so that the parent can stop it (timeout) and bound it (memory, output):
a chart's templates are arbitrary programs. Only v6lint's own code and the helm-python-sdk
package run here; the chart is data to them. Nothing is fetched (dependencies are never updated)
and `lookup` returns nothing (helm_python.Chart.render renders offline).
"""
from __future__ import annotations

import json
import sys


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        import helm_python as helm
    except ImportError as exc:
        json.dump({"error": f"helm-python-sdk is not installed: {exc}"}, sys.stdout)
        return 0
    try:
        values = request.get("values") or {}
        for expression in request.get("set", []):
            values = merge(values, helm.parse_set_string(expression))
        with helm.Chart.load(request["chart"]) as chart:
            manifests = chart.render(values, name=request["release"], namespace=request["namespace"],
                                     is_install=True)
    except helm.HelmError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 0
    total = sum(len(text) for text in manifests.values())
    if total > request["max_output"]:
        json.dump({"error": f"the chart rendered over {request['max_output']} characters; not checked"}, sys.stdout)
        return 0
    json.dump({"manifests": manifests}, sys.stdout)
    return 0


def merge(base: dict, override: dict) -> dict:
    """Helm's coalescing of user values: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


if __name__ == "__main__":
    sys.exit(main())
