"""Rendered manifests (e.g. `helm template` output): which template each document came from.

Helm writes `# Source: CHART/templates/FILE.yaml` at the top of every document it renders
(helm/helm pkg/action/action.go, renderResources: `"---\\n# Source: %s\\n%s\\n"`, m.Name), so a finding in a rendered
stream can name the template the user edits."""
from __future__ import annotations

import bisect
import re

from v6lint.diagnostics import Diagnostic

_SOURCE = re.compile(r"^# Source: *(\S[^\r\n]*?)\s*$", re.MULTILINE)
_SEPARATOR = re.compile(r"^---[ \t]*(?:#[^\r\n]*)?$", re.MULTILINE)


def helm_sources(text: str) -> tuple[list[int], list[str | None]]:
    """(offsets, names): from each offset on, the document's `# Source:` name (None after a `---`
    that no `# Source:` follows)."""
    marks: list[tuple[int, str | None]] = [(m.start(), None) for m in _SEPARATOR.finditer(text)]
    marks += [(m.start(), m.group(1)) for m in _SOURCE.finditer(text)]
    marks.sort(key=lambda mark: mark[0])
    return [offset for offset, _ in marks], [name for _, name in marks]


def name_sources(text: str, diagnostics: list[Diagnostic]) -> None:
    """Append `(OBJECT, rendered from TEMPLATE)` to each finding inside a document Helm says it
    rendered from TEMPLATE (`Service default/web, rendered from web/templates/service.yaml`)."""
    if "# Source:" not in text:
        return
    from v6lint.source import SourceFile
    from v6lint.sources import parse_source

    offsets, names = helm_sources(text)
    documents = parse_source(SourceFile("-", text)).documents
    for diag in diagnostics:
        index = bisect.bisect_right(offsets, diag.start) - 1
        if index >= 0 and names[index] is not None and not diag.code.startswith("V6L"):
            doc = next((d for d in documents if d.start <= diag.start <= d.end and d.kind), None)
            what = f"{doc.object_name}, " if doc is not None else ""
            diag.message = f"{diag.message} ({what}rendered from {names[index]})"
