"""Run one fixture folder through the real engine: shared by the tests and `tests/regen_fixtures.py`.

A folder `fixtures/<family>/<CODE>/` holds `bad.<ext>`, `good.<ext>`, `expected.json` (the
diagnostics for bad, in the JSON output shape), `bad.fixed.<ext>` for rules with a fix, and an
optional `.v6lint.toml` (read with the real config loader; it sets the profile and limits).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from v6lint.config import load_settings
from v6lint.engine import FileResult, Linter
from v6lint.output import diagnostic_json
from v6lint.project import build_profile
from v6lint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
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
    return sorted(p for p in FIXTURES.glob("*/*") if p.is_dir() and (p / "expected.json").exists()
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


def expected(folder: Path) -> list[dict]:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))
