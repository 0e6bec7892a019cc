"""Rewrite expected.json and bad.fixed.* from the current engine; review the diff before committing.

    python tests/regen_fixtures.py [CODE ...]
"""
from __future__ import annotations

import json
import sys

from fixturelib import FIXTURES, diagnostics_json, find, fixture_dirs, run


def main(codes: list[str]) -> None:
    for folder in fixture_dirs():
        if codes and folder.name not in codes:
            continue
        code = folder.name
        bad = run(folder, "bad")
        (folder / "expected.json").write_text(json.dumps(diagnostics_json(bad, code), indent=2) + "\n")
        fixed = run(folder, "bad", fix=True)
        target = folder / f"bad.fixed{find(folder, 'bad').suffix}"
        if fixed.fixed is not None:
            target.write_bytes(fixed.fixed.encode())
        elif target.exists():
            target.unlink()
        print(f"{folder.relative_to(FIXTURES)}: {len(diagnostics_json(bad, code))} diagnostics, "
              f"fixed={'yes' if fixed.fixed is not None else 'no'}")


if __name__ == "__main__":
    main(sys.argv[1:])
