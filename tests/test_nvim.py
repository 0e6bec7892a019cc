"""A real editor: headless Neovim (Debian's 0.7) starts `v6lint server` and shows its diagnostics."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NVIM = shutil.which("nvim")
INIT = Path(__file__).resolve().parent / "nvim" / "init.lua"
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="Neovim is not installed (apt-get install neovim; .ci/run installs it when absent)")

SVC = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [ipv6, IPv4]
"""


def test_neovim_shows_v6lint_diagnostics(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "stack.tfvars").write_text("enable_ipv6 = true\n")
    (root / "svc.yaml").write_text(SVC)
    out = tmp_path / "diagnostics.json"
    env = {**os.environ, "V6LINT_NVIM_OUT": str(out), "V6LINT_NVIM_ROOT": str(root), "V6LINT_PYTHON": sys.executable}
    proc = subprocess.run([NVIM, "--headless", "-n", "-i", "NONE", "-u", str(INIT), "svc.yaml"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert out.exists(), f"Neovim wrote nothing: {proc.stdout}{proc.stderr}"
    result = json.loads(out.read_text())
    assert result["waited"] is True
    found = sorted((d["code"], d["lnum"], d["col"], d["end_col"], d["source"]) for d in result["diagnostics"])
    assert found == [("SVC001", 6, 15, 19, "v6lint"), ("SVC004", 5, 18, 29, "v6lint"),
                     ("SVC009", 6, 14, 26, "v6lint")]
    svc009 = next(d for d in result["diagnostics"] if d["code"] == "SVC009")
    assert svc009["message"].endswith("(IPv6 cluster per stack.tfvars:1)")
