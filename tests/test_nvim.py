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


HARNESS = """
vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    local bufnr = vim.api.nvim_get_current_buf()
    local ok = vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      table.insert(found, { lnum = d.lnum, source = d.source, message = d.message })
    end
    local f = io.open(os.getenv("V6LINT_NVIM_OUT"), "w")
    f:write(vim.fn.json_encode({ waited = ok, diagnostics = found }))
    f:close()
    vim.cmd("qa!")
  end,
})
"""


def test_the_readme_neovim_snippet_works_on_this_neovim(tmp_path):
    """The README's ```lua block, unchanged, with `v6lint` found on PATH as a user installs it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    snippet = readme.split("```lua\n", 1)[1].split("```", 1)[0]
    assert "vim.fs" not in snippet and "vim.lsp.start(" not in snippet  # neither exists in Neovim 0.7
    init = tmp_path / "init.lua"
    init.write_text(snippet + HARNESS)
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / "k8s").mkdir()
    (root / "stack.tfvars").write_text("enable_ipv6 = true\n")
    (root / "k8s" / "svc.yaml").write_text(SVC)
    out = tmp_path / "diagnostics.json"
    env = {**os.environ, "V6LINT_NVIM_OUT": str(out),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([NVIM, "--headless", "-n", "-i", "NONE", "-u", str(init), "svc.yaml"], cwd=root / "k8s",
                          env=env, capture_output=True, text=True, timeout=120)
    assert out.exists(), f"Neovim wrote nothing: {proc.stdout}{proc.stderr}"
    result = json.loads(out.read_text())
    assert result["waited"] is True, result
    assert sorted(d["lnum"] for d in result["diagnostics"]) == [5, 6, 6]
    # rooted at the repository (found upward from k8s/), so the profile comes from stack.tfvars
    assert any(d["message"].endswith("(IPv6 cluster per stack.tfvars:1)") for d in result["diagnostics"])
