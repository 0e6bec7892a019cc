"""Run one fixture folder through the real engine: shared by the tests and `tests/regen_fixtures.py`.

A folder `fixtures/<family>/<CODE>/` holds `bad.<ext>` (one or more), `good.<ext>`, `expected.snap`
(what the rule reports on the bad files, as text: see `snapshot`), `bad.fixed.<ext>` (the exact
bytes `--fix --unsafe-fixes` writes) for rules with a fix, and an optional `.v6lint.toml` (read with
the real config loader; it sets the profile and limits).
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

from v6lint.config import load_settings
from v6lint.diagnostics import Diagnostic
from v6lint.engine import FileResult, Linter, apply_edits
from v6lint.output import _snippet, diagnostic_json, printable, render_diff
from v6lint.project import build_profile
from v6lint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def shared(*parts: str) -> Path:
    """A path under `../shared` (the corpus, the charts, the data files), resolved. The tests need it:
    CI puts it beside the checkout. When it is missing the test module fails to load, saying so,
    instead of its tests skipping or passing on an empty corpus."""
    path = ROOT.parent.joinpath("shared", *parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the tests need ../shared beside the checkout")
    return path.resolve()


def _no_renderer() -> bool:
    from v6lint.helm import backend

    return backend() is None


# Tests that render a chart: the README's test command installs the helm extra (helm-python-sdk).
needs_renderer = pytest.mark.skipif(_no_renderer(), reason="no Helm renderer: install the helm extra "
                                                           "(helm-python-sdk) or put helm on PATH")
SNAPSHOT = "expected.snap"
REGENERATE = "cd tests && ../.venv/bin/python regen_fixtures.py"
# Reported by the engine, not reachable from a file in a folder: covered by tests in test_engine.py.
ENGINE_ONLY = {
    "V6L905": "unreadable file: needs a permission or race that git cannot store",
    "V6L906": "fix not applied: needs a file changing on disk or a broken fix",
    "V6L907": "a file named on the command line that v6lint cannot read: covered in test_adopt.py",
    "V6L908": "a command-line path that does not exist: covered in test_adopt.py",
    "V6L909": "a kustomization or chart that was not built (needs a folder and a builder): covered in "
              "test_kustomize.py and test_helm.py",
    "V6L999": "internal error: needs a rule that crashes",
}


def fixture_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*") if p.is_dir() and (p / SNAPSHOT).exists()
                  or p.is_dir() and any(p.glob("bad.*")))


def find(folder: Path, stem: str) -> Path | None:
    found = files(folder, stem)
    return found[0] if found else None


def files(folder: Path, stem: str) -> list[Path]:
    """`bad.yaml`, `bad.py`, `bad.tfvars`... (never `bad.fixed.*` for stem "bad")."""
    return sorted(p for p in folder.glob(f"{stem}.*") if stem == "bad.fixed" or not p.name.startswith("bad.fixed."))


def fixed_name(bad: Path) -> str:
    return "bad.fixed" + bad.name[len("bad"):]


def linter_for(folder: Path, linted: str = "bad.yaml") -> Linter:
    config = folder / ".v6lint.toml"
    settings = load_settings(config if config.exists() else None, ALL_RULES)
    # Each fixture folder is a project of its own (its tfvars, eksctl... files make the profile),
    # seen from the bad files without the good ones and the other way round.
    others = ["good.*", "bad.fixed.*"] if linted.startswith("bad.") else ["bad.*"]
    settings.profile = build_profile(folder, others, settings.profile)
    code = folder.resolve().name
    # V6L001 judges other rules' suppressions, so every rule runs for it.
    return Linter(settings, select=["ALL"] if code == "V6L001" else [code])


def run(folder: Path, path: Path, *, fix: bool = False) -> FileResult:
    cwd = os.getcwd()
    os.chdir(folder)  # paths in diagnostics are relative to the working directory
    try:
        return linter_for(Path("."), path.name).check_path(Path(path.name), fix=fix, unsafe=True)
    finally:
        os.chdir(cwd)


def diagnostics_json(result: FileResult, code: str) -> list[dict]:
    return [diagnostic_json(d, result.source) for d in result.diagnostics if d.code == code]


@functools.cache
def fixture_diagnostics(folder: Path) -> list[dict]:
    """The folder's rule's findings on every bad file, in the JSON output shape, from the engine
    (run once per folder and test session)."""
    return [d for bad in files(folder, "bad") for d in diagnostics_json(run(folder, bad), folder.name)]


# --- snapshots ------------------------------------------------------------------------------------
# One text file per folder, `expected.snap`, written by regen_fixtures.py and compared verbatim by
# test_fixtures.py. Per bad file a `##` line (how many findings, whether --fix changes it), then per
# finding, in the engine's order:
#
#   bad.yaml:7:19-7:30: SVC004 [single-stack-two-families] error: <message>      start-end, 1-based
#     |
#   7 |   ipFamilyPolicy: SingleStack                        the source line(s), the range under carets
#     |                   ^^^^^^^^^^^
#     = profile: ipv6 per .v6lint.toml:2                     the cluster profile the finding depends on
#     = unsafe fix: Set ipFamilyPolicy to `PreferDualStack`  applicability and message
#     = edit 7:19-7:30 "PreferDualStack"                     each edit exactly: range and JSON content
#     --- a/bad.yaml                                         the finding's fix alone, as a unified diff
#     +++ b/bad.yaml
#     ...
#
# With the `bad.fixed.*` files (the bytes after --fix --unsafe-fixes) this pins everything the JSON
# output says about a finding but its `url`, which test_fixtures.py checks against the rule reference.
# Text from the files is shown escaped (output.printable); lines carry no trailing blanks.


def _finding(diag: Diagnostic, item: dict, source) -> list[str]:
    """One finding's snapshot lines; `item` is its JSON shape (diagnostic_json)."""
    start, end = item["range"]["start"], item["range"]["end"]
    cell = f"cell {item['cell']}:" if "cell" in item else ""
    out = [printable(f"{item['path']}:{cell}{start['line']}:{start['column']}-{end['line']}:{end['column']}: "
                     f"{item['code']} [{item['name']}] {item['severity']}: {item['message']}")]
    if source is not None and diag.start_line >= 1:
        if diag.cell is not None:  # a notebook: lines and columns are within the cell
            from v6lint.notebook import notebook_view

            out += _snippet(diag, notebook_view(source).cell_source(diag.cell).line_text, False)
        else:
            out += _snippet(diag, source.line_text, False)
    if item["profile"] is not None:
        out.append(printable(f"  = profile: {item['profile']['ip_family']} per {item['profile']['source']}"))
    fix = item["fix"]
    if fix is not None:
        out.append(printable(f"  = {fix['applicability']} fix: {fix['message']}"))
        for edit in fix["edits"]:
            a, b = edit["range"]["start"], edit["range"]["end"]
            out.append(printable(f"  = edit {a['line']}:{a['column']}-{b['line']}:{b['column']} "
                                 f"{json.dumps(edit['content'], ensure_ascii=False)}"))
        fixed = source.with_text(apply_edits(source.text, list(diag.fix.edits)))
        out += ["    " + line for line in render_diff(FileResult(diag.path, source, [], fixed)).splitlines()]
    return out


def snapshot(folder: Path) -> str:
    """The text `expected.snap` holds for `folder`: what the engine reports on its bad files now."""
    code = folder.name
    out = [f"# {code}: the findings on this folder's bad files. After changing the rule, regenerate with",
           f"#   {REGENERATE} {code}", "# and review the diff."]
    for bad in files(folder, "bad"):
        result = run(folder, bad)
        diags = [d for d in result.diagnostics if d.code == code]
        changed = run(folder, bad, fix=True).fixed is not None
        then = f"--fix --unsafe-fixes writes {fixed_name(bad)}" if changed else "no fix changes it"
        out += ["", f"## {bad.name}: {len(diags)} finding{'' if len(diags) == 1 else 's'}; {then}"]
        for d in diags:
            out += [""] + _finding(d, diagnostic_json(d, result.source), result.source)
    return "\n".join(line.rstrip() for line in out) + "\n"


def expected_snapshot(folder: Path) -> str | None:
    path = folder / SNAPSHOT
    return path.read_text(encoding="utf-8") if path.exists() else None
