"""Speed yardsticks measured on this machine, in one run.

    python -m v6lint.bench floor CORPUS [--jobs 1] [--runs 3]

`floor` measures the parse floor of CORPUS in this process: reading every file v6lint lints,
libyaml composing every YAML (and .tfvars.json) file, tree-sitter parsing every HCL file and the
stdlib `ast` parsing every Python file. Nothing more can be skipped without skipping the files.
It then runs `v6lint check --no-cache` on the same files `--runs` times (a child process each,
CPU = user + sys of the child) and prints v6lint's median CPU as a multiple of the floor.
Ratios of the same run are the figures to compare; absolute seconds depend on the load.
"""
from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path


def _files(corpus: Path) -> list[Path]:
    from v6lint.discovery import discover

    return list(discover([str(corpus)], [], corpus.resolve()).files)


def floor(files: list[Path]) -> dict[str, float]:
    """CPU seconds per phase (read, yaml, hcl, python) and file counts, for `files`."""
    from tree_sitter import Parser

    from v6lint.hcl_source import _LANGUAGE
    from v6lint.source import DecodeError, decode
    from v6lint.sources import language_of
    from v6lint.yaml_source import loader

    texts: list[tuple[str, str]] = []
    t0 = time.process_time()
    for path in files:
        try:
            texts.append((language_of(str(path)), decode(path.read_bytes())[0]))
        except (OSError, DecodeError):
            continue
    out = {"read": time.process_time() - t0, "files": float(len(texts))}
    yaml, parser = loader(), Parser(_LANGUAGE)
    phases = {"yaml": ("yaml", "tfvars-json"), "hcl": ("hcl",), "python": ("python",)}
    for phase, languages in phases.items():
        t0 = time.process_time()
        count = 0
        for language, text in texts:
            if language not in languages:
                continue
            count += 1
            try:
                if phase == "yaml":
                    for _ in yaml.compose_all(text):
                        pass
                elif phase == "hcl":
                    parser.parse(text.encode("utf-8"))
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        ast.parse(text)
            except Exception:  # noqa: BLE001 - a file that does not parse still cost its parse
                pass
        out[phase] = time.process_time() - t0
        out[f"{phase}_files"] = float(count)
    return out


def child_cpu(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m v6lint.bench", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    fl = sub.add_parser("floor", help="parse floor of a corpus, and v6lint's CPU as a multiple of it")
    fl.add_argument("corpus", type=Path)
    fl.add_argument("--jobs", default="1", help="v6lint --jobs (default 1: the floor is one process)")
    fl.add_argument("--runs", type=int, default=3)
    fl.add_argument("--v6lint", help="v6lint executable to time (default: this Python's), e.g. an older build")
    args = ap.parse_args(argv)
    files = _files(args.corpus)
    parts = floor(files)
    total = parts["read"] + parts["yaml"] + parts["hcl"] + parts["python"]
    print(f"files: {int(parts['files'])} (yaml {int(parts['yaml_files'])}, hcl {int(parts['hcl_files'])}, "
          f"python {int(parts['python_files'])})")
    print(f"floor CPU s: read {parts['read']:.2f} + yaml compose {parts['yaml']:.2f} + tree-sitter "
          f"{parts['hcl']:.2f} + ast {parts['python']:.2f} = {total:.2f}")
    exe = [args.v6lint] if args.v6lint else [sys.executable, "-m", "v6lint"]
    cmd = [*exe, "check", "--no-cache", "--exit-zero", "--jobs", args.jobs,
           "--output-format", "json", str(args.corpus)]
    runs = [child_cpu(cmd) for _ in range(max(args.runs, 1))]
    cpu = statistics.median(r[1] for r in runs)
    wall = statistics.median(r[0] for r in runs)
    peak = max(r[2] for r in runs) / 1024
    print(f"{' '.join(exe)} --jobs {args.jobs}: CPU {cpu:.2f} s, wall {wall:.2f} s, peak {peak:.0f} MB (median of {len(runs)})")
    print(f"v6lint CPU / floor: {cpu / total:.2f}x" if total else "floor is 0: nothing to parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
