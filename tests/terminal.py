"""Run the installed `v6lint` with one of its streams on a real pseudo-terminal (shared by tests)."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).parent / "v6lint")


def run_in_terminal(args: list[str], cwd: Path, env: dict, stream: str) -> str:
    """What v6lint writes to `stream` ("stdout" or "stderr") when that stream is a terminal; the
    other stream is discarded."""
    master, slave = pty.openpty()
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: slave}
    proc = subprocess.Popen([EXE, *args], cwd=cwd, env=env, **streams)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode(errors="replace")
