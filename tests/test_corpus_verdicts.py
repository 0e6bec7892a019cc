"""Every finding v6lint reports on the shared corpus has a reviewed verdict, and none judged wrong is reported.

The verdicts (tests/corpus_verdicts.tsv) were made by hand against upstream behaviour, one line per finding
of `check --ip-family {ipv6,dual} --platform aws` with the default rule set. A new finding fails this test
until someone reviews it; a finding judged wrong fails it until its rule is fixed. Precision per rule
family is printed (run with -s to see it).
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fixturelib import shared

HERE = Path(__file__).resolve().parent
CORPUS = shared("corpus")
VERDICTS = HERE / "corpus_verdicts.tsv"
PROFILES = ("ipv6", "dual")


Key = tuple[str, int, str, str]  # path relative to the corpus, line, code, profile


def load_verdicts() -> dict[Key, tuple[str, str]]:
    verdicts: dict[Key, tuple[str, str]] = {}
    lines = [line for line in VERDICTS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t"):
        key = (row["path"], int(row["line"]), row["code"], row["profile"])
        verdict = (row["verdict"], row["reason"])
        assert verdict[0] in ("right", "wrong", "debatable"), row
        assert verdict[1].strip(), f"verdict without a reason: {row}"
        assert verdicts.get(key, verdict) == verdict, f"two verdicts for one finding: {key}"
        verdicts[key] = verdict
    return verdicts


@pytest.fixture(scope="module", params=PROFILES)
def findings(request) -> tuple[str, list[Key]]:
    """One real CLI run per profile over the whole corpus (no cache: the corpus is read-only)."""
    profile = request.param
    run = subprocess.run(
        [sys.executable, "-m", "v6lint", "check", "--no-cache", "--ip-family", profile, "--platform", "aws",
         "--output-format", "json", "--exit-zero", str(CORPUS)],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    keys = [(str(Path(d["path"]).resolve().relative_to(CORPUS)), d["range"]["start"]["line"], d["code"], profile)
            for d in json.loads(run.stdout)]
    assert keys, "no findings at all: the run did not lint the corpus"
    return profile, keys


def family(code: str) -> str:
    return re.sub(r"\d{3}$", "", code)


def test_every_corpus_finding_is_reviewed_and_none_is_wrong(findings):
    profile, keys = findings
    verdicts = load_verdicts()
    unreviewed = sorted({k for k in keys if k not in verdicts})
    wrong = sorted({k for k in keys if verdicts.get(k, ("",))[0] == "wrong"})

    counts: dict[str, Counter] = {}
    for key in keys:
        if key in verdicts:
            counts.setdefault(family(key[2]), Counter())[verdicts[key][0]] += 1
    print(f"\ncorpus precision, --ip-family {profile} (right / (right + wrong); debatable apart):")
    for fam, c in sorted(counts.items()):
        judged = c["right"] + c["wrong"]
        precision = f"{c['right'] / judged:.2f}" if judged else "n/a"
        print(f"  {fam:5} right {c['right']:4} wrong {c['wrong']:4} debatable {c['debatable']:4} precision {precision}")

    assert not unreviewed, (f"{len(unreviewed)} findings without a verdict in {VERDICTS.name} "
                            f"(review them, then add a line each): {unreviewed[:20]}")
    assert not wrong, (f"{len(wrong)} findings judged wrong are still reported: "
                       + "; ".join(f"{k[0]}:{k[1]} {k[2]} ({verdicts[k][1]})" for k in wrong[:10]))


def test_verdict_file_is_well_formed():
    verdicts = load_verdicts()
    assert {k[3] for k in verdicts} == set(PROFILES)
    for (path, line, _code, _profile) in verdicts:
        assert line >= 1 and not path.startswith(("/", ".."))
