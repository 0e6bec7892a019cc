"""Rewrite fixture expectations from the current engine: each folder's `expected.snap` (the findings
on its bad files as text, with source excerpts and fix diffs) and `bad.fixed.*` (the bytes after
`--fix --unsafe-fixes`). Review the diff (`git diff fixtures/`) before committing.

    cd tests && ../.venv/bin/python regen_fixtures.py [CODE ...]

With no CODE every folder is rewritten; a CODE names a fixture folder (`SVC004`, `V6L001`).
"""
from __future__ import annotations

import sys

from fixturelib import FIXTURES, SNAPSHOT, files, fixed_name, fixture_dirs, run, snapshot


def main(codes: list[str]) -> int:
    if any(arg.startswith("-") for arg in codes):
        print(__doc__.strip())
        return 0 if set(codes) & {"-h", "--help"} else 2
    folders = [f for f in fixture_dirs() if not codes or f.name in codes]
    unknown = sorted(set(codes) - {f.name for f in folders})
    if unknown:
        print(f"no fixture folder for {', '.join(unknown)} under {FIXTURES}", file=sys.stderr)
        return 2
    for folder in folders:
        for bad in files(folder, "bad"):
            fixed = run(folder, bad, fix=True)
            target = folder / fixed_name(bad)
            if fixed.fixed is not None:
                target.write_bytes(fixed.fixed.encode())
            elif target.exists():
                target.unlink()
        text = snapshot(folder)
        (folder / SNAPSHOT).write_text(text, encoding="utf-8", newline="\n")
        (folder / "expected.json").unlink(missing_ok=True)  # the format before expected.snap
        for line in text.splitlines():
            if line.startswith("## "):  # "## bad.yaml: 3 findings; --fix --unsafe-fixes writes bad.fixed.yaml"
                print(f"{folder.relative_to(FIXTURES)}/{line[3:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
