"""Rewrite expected.json and bad.fixed.* from the current engine; review the diff before committing.

    python tests/regen_fixtures.py [CODE ...]
"""
from __future__ import annotations

import json
import sys

from fixturelib import FIXTURES, diagnostics_json, files, fixed_name, fixture_dirs, run


def main(codes: list[str]) -> None:
    for folder in fixture_dirs():
        if codes and folder.name not in codes:
            continue
        code = folder.name
        found = []
        for bad in files(folder, "bad"):
            found.extend(diagnostics_json(run(folder, bad), code))
            fixed = run(folder, bad, fix=True)
            target = folder / fixed_name(bad)
            if fixed.fixed is not None:
                target.write_bytes(fixed.fixed.encode())
            elif target.exists():
                target.unlink()
            print(f"{folder.relative_to(FIXTURES)}/{bad.name}: fixed={'yes' if fixed.fixed is not None else 'no'}")
        (folder / "expected.json").write_text(json.dumps(found, indent=2) + "\n")
        print(f"{folder.relative_to(FIXTURES)}: {len(found)} diagnostics")


if __name__ == "__main__":
    main(sys.argv[1:])
