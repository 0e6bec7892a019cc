"""Measure how long `v6lint server` takes to publish diagnostics after an edit (not a test).

    python tests/perf_lsp_latency.py [LINES]

Builds a manifest of about LINES lines (default 2,000: Services, Deployments and a SparkApplication),
opens it, then sends edits and times didChange -> publishDiagnostics. Prints the median and p90,
with and without the server's debounce.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import client_capabilities, make_test_lsp_client

BLOCK = """\
---
apiVersion: v1
kind: Service
metadata:
  name: web-{i}
  namespace: shop
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  selector:
    app: web-{i}
  ports:
    - name: http
      port: 80
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web-{i}}}
  template:
    metadata:
      labels: {{app: web-{i}}}
    spec:
      containers:
        - name: main
          image: registry.example.com/web:{i}
          args: ["--listen=[::]:8080"]
"""
DEBOUNCE = 0.15


def manifest(lines: int) -> str:
    blocks = []
    i = 0
    while sum(b.count("\n") for b in blocks) < lines:
        blocks.append(BLOCK.format(i=i))
        i += 1
    return "".join(blocks)


async def main(lines: int) -> None:
    root = Path(tempfile.mkdtemp())
    (root / ".v6lint.toml").write_text('[cluster]\nip-family = "ipv6"\n')
    path = root / "big.yaml"
    text = manifest(lines)
    path.write_text(text)
    uri = from_fs_path(str(path))
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "v6lint", "server")
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim"), root_uri=from_fs_path(str(root))))
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    await client.wait_for_notification("textDocument/publishDiagnostics")
    timings = []
    for version in range(2, 32):
        edited = text.replace("ipFamilies: [IPv6]", f"ipFamilies: [ipv6]  # {version}", 1)
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
        await client.wait_for_notification("textDocument/publishDiagnostics")
        timings.append(time.perf_counter() - start)
    await client.shutdown_session()
    ms = sorted(t * 1000 for t in timings)
    p90 = ms[int(len(ms) * 0.9) - 1]
    print(f"{text.count(chr(10))} lines, {len(timings)} edits: didChange -> diagnostics median "
          f"{statistics.median(ms):.1f} ms, p90 {p90:.1f} ms (debounce {DEBOUNCE * 1000:.0f} ms included; "
          f"lint after debounce: median {statistics.median(ms) - DEBOUNCE * 1000:.1f} ms, "
          f"p90 {p90 - DEBOUNCE * 1000:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
