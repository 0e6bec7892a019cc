"""Packaging promises: dependency floors CI can install, the licence, the changelog, a README whose
demo output is real and whose install lines do not promise a package-index release."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONSTRAINTS = ROOT / ".ci" / "constraints-min.txt"


def _floors() -> dict[str, Version]:
    reqs = [*PYPROJECT["build-system"]["requires"], *PYPROJECT["project"]["dependencies"],
            *[r for extra in PYPROJECT["project"]["optional-dependencies"].values() for r in extra]]
    floors = {}
    for text in reqs:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue  # tomli on Python < 3.11 only
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert lows, f"{text}: every dependency needs a floor"
        floors[req.name.lower().replace("_", "-")] = lows[0]
    return floors


def _pins() -> dict[str, Version]:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def test_the_constraints_file_pins_every_floor_at_its_lowest_release():
    floors, pins = _floors(), _pins()
    for name, floor in floors.items():
        assert name in pins, f"{name} is not pinned in {CONSTRAINTS.name}"
        pin = pins[name]
        # the pin is the floor itself, or its first published release (setuptools 77.0.0 never was)
        assert pin >= floor and pin.release[:len(floor.release)] == floor.release, (name, floor, pin)
    assert floors["pygls"] == Version("2")  # 1.3 crashes the server on import
    assert floors["setuptools"] >= Version("77")  # the SPDX `license` string (PEP 639)
    # extra pins are only what the direct floors need to resolve together
    assert set(pins) - set(floors) == {"pytest-asyncio"}


def test_ci_installs_the_floors_in_a_separate_virtualenv_and_runs_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-c .ci/constraints-min.txt" in ci and "--no-build-isolation" in ci
    assert re.search(r"python3 -m venv /tmp/v6lint-ci-floors", ci)
    assert re.search(r"/tmp/v6lint-ci-floors/bin/python -m pytest", ci)


def test_ci_type_checks_the_three_packages_after_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("bash -c \"${commands[1]}\"") < ci.index(".ci/typecheck .venv/bin/python") < ci.index("python3 -m venv /tmp/v6lint-ci-floors")
    check = (ROOT / ".ci" / "typecheck").read_text()
    # the folders are checked as the package they install as, so `from v6lint...` imports resolve
    assert 'ln -s "$repo/rules" "$tree/v6lint/rules"' in check and 'ln -s "$repo/lsp" "$tree/v6lint/lsp"' in check
    assert "-p v6lint" in check
    mypy = PYPROJECT["tool"]["mypy"]
    assert mypy["check_untyped_defs"] is True and mypy["warn_unused_ignores"] is True
    assert not mypy.get("ignore_missing_imports")  # only named third-party modules, in an override
    assert "mypy" in _floors()


def test_licence_and_changelog():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    licence = (ROOT / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licence
    assert "END OF TERMS AND CONDITIONS" in licence and len(licence) > 10000
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog") and "## Unreleased" in changelog
    assert "docs/stability.md" in changelog and (ROOT / "docs" / "stability.md").is_file()


def test_readme_install_lines_do_not_promise_a_package_index_release():
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        if re.search(r"pip install\b", line):
            assert not re.search(r"pip install (-\w+ )*['\"]?v6lint\b(?!\s*@)", line), line


def test_readme_demo_output_is_the_real_output():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"```sh\n(.*)\n```", readme).group(1)
    assert command.endswith(".venv/bin/v6lint check fixtures/demo")
    shown = readme.split("## What the demo prints\n\n```text\n", 1)[1].split("```", 1)[0]
    exe = str(Path(sys.executable).parent / "v6lint")
    real = subprocess.run([exe, "check", "--no-cache", "fixtures/demo"], cwd=ROOT, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert real.returncode == 1
    assert shown == real.stdout
