"""The real-world corpus in ../shared: nothing crashes, fixes re-parse and converge."""
from __future__ import annotations

from pathlib import Path

import pytest

from v6lint.config import Settings
from v6lint.discovery import discover
from v6lint.engine import Linter
from v6lint.rule import Profile
from v6lint.source import SourceFile
from v6lint.sources import parse_source

CORPUS = (Path(__file__).resolve().parent.parent.parent / "shared" / "corpus").resolve()
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")


@pytest.fixture(scope="module")
def corpus_files():
    files = discover([str(CORPUS)], [], CORPUS).files
    assert len(files) > 400
    return files


@pytest.mark.parametrize("family", [None, "ipv4", "ipv6", "dual"])
def test_whole_corpus_lints_without_crash_and_fixes_reparse(corpus_files, family):
    linter = Linter(Settings(profile=Profile(family, "--ip-family") if family else Profile()))
    for path in corpus_files:
        result = linter.check_path(path, fix=True, unsafe=True)
        codes = {d.code for d in result.diagnostics}
        assert "V6L999" not in codes, (path, result.diagnostics)
        assert "V6L906" not in codes, (path, result.diagnostics)
        if result.fixed is not None:
            assert parse_source(result.fixed).problem is None
            again = linter.fix_source(SourceFile(result.path, result.fixed.text), unsafe=True)
            assert again.fixed is None, f"second fix pass changed {path}"


def test_known_corpus_findings(corpus_files):
    linter = Linter(Settings(profile=Profile("ipv6", "--ip-family")), select=["SVC"])
    found = set()
    for path in corpus_files:
        for d in linter.check_path(path).diagnostics:
            found.add((str(Path(d.path).resolve().relative_to(CORPUS)), d.code, d.start_line))
    assert ("kubernetes__ingress-nginx/deploy/static/provider/aws/deploy.yaml", "SVC009", 353) in found
    assert ("kubernetes__website/content/en/examples/service/networking/dual-stack-ipv6-svc.yaml", "SVC011", 6) in found
