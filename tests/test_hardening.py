"""Nothing crashes and nothing is lost, whatever the input (property-based and fixed cases).

Longer fuzzing: V6LINT_FUZZ_EXAMPLES=5000 python -m pytest tests/test_hardening.py
"""
from __future__ import annotations

import errno
import json
import os
import random
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from v6lint.cli import main
from v6lint.config import Settings
from v6lint.engine import Linter, WriteError, write_atomic
from v6lint.rule import Profile
from v6lint.source import SourceFile, decode
from v6lint.sources import parse_source

EXAMPLES = int(os.environ.get("V6LINT_FUZZ_EXAMPLES", "150"))
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in (".yaml", ".tf", ".tfvars", ".py"))
LINTERS = {family: Linter(Settings(profile=Profile(family, "--ip-family") if family else Profile()))
           for family in (None, "ipv4", "ipv6", "dual")}
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def lint_everything(name: str, data: bytes) -> None:
    """Decode, lint under every profile and fix: any exception is a bug; V6L999 is a rule crash."""
    try:
        text, encoding, bom = decode(data)
    except Exception as exc:  # decode() may only raise DecodeError
        assert type(exc).__name__ == "DecodeError", exc
        return
    for linter in LINTERS.values():
        source = SourceFile(name, text, encoding, bom, f"/fuzz/{name}")
        diags = linter.lint_source(source)
        assert "V6L999" not in {d.code for d in diags}, [d.message for d in diags if d.code == "V6L999"]
        for d in diags:
            assert 1 <= d.start_line and 1 <= d.start_column
        result = linter.fix_source(source, unsafe=True)
        if result.fixed is not None:
            assert parse_source(result.fixed).problem is None


def mutate(data: bytes, rng: random.Random) -> bytes:
    ops = rng.randrange(1, 6)
    out = bytearray(data)
    for _ in range(ops):
        kind = rng.randrange(4)
        at = rng.randrange(len(out) + 1)
        if kind == 0 and out:  # truncate
            out = out[:at]
        elif kind == 1:  # insert junk
            out[at:at] = bytes(rng.choice(b" \t\n:-[]{}#&*!|>'\"%@`,\x00\xff") for _ in range(rng.randrange(1, 4)))
        elif kind == 2 and out:  # delete a span
            del out[at:at + rng.randrange(1, 20)]
        elif out:  # duplicate a line
            line_start = out.rfind(b"\n", 0, at) + 1
            line_end = out.find(b"\n", at)
            line_end = len(out) if line_end == -1 else line_end + 1
            out[line_end:line_end] = out[line_start:line_end]
    return bytes(out)


@fuzz
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".yaml", ".tf", ".tfvars", ".py", ".tfvars.json"]))
def test_random_bytes_never_crash(data, suffix):
    lint_everything("f" + suffix, data)


@fuzz
@given(seed=st.sampled_from(SEEDS), salt=st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_fixtures_never_crash(seed, salt):
    lint_everything(seed.name, mutate(seed.read_bytes(), random.Random(salt)))


@pytest.mark.parametrize("seed", SEEDS[:400:7], ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixed_seed_corpus_of_truncations(seed):
    data = seed.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 12)):
        lint_everything(seed.name, data[:cut])


TRICKY = {
    "empty.yaml": b"",
    "only-comments.yaml": b"# nothing\n# here\n",
    "tabs.yaml": b"apiVersion: v1\nkind: Service\nspec:\n\tipFamilies: [ipv6]\n",
    "crlf-bom.yaml": b"\xef\xbb\xbfapiVersion: v1\r\nkind: Service\r\nmetadata: {name: a}\r\nspec: {ipFamilies: [ipv6]}\r\n",
    "utf16.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: ä}\nspec: {ipFamilies: [ipv6]}\n".encode("utf-16"),
    "latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
    "nul.yaml": b"a: 1\x00\n",
    "deep.yaml": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "deep-block.yaml": b"".join(b"  " * i + b"k:\n" for i in range(1200)),
    "bomb.yaml": b"a: &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" .encode() + b",".join([f"*{chr(97 + i)}".encode()] * 10) + b"]\n"
        for i in range(9)),
    "python-tag.yaml": b"x: !!python/object/apply:os.system ['echo pwned']\n",
    "py2.py": b"print 'hello'\nfrom pyspark import SparkConf\n",
    "broken.tf": b'module "a" {\n  ip_family = "IPv6\n',
    "weird.tfvars": b"enable_ipv6 = <<EOF\nyes\nEOF\nx = [1, 2,\n",
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_inputs_end_as_notices_or_findings(name, tmp_path, monkeypatch):
    (tmp_path / name).write_bytes(TRICKY[name])
    monkeypatch.chdir(tmp_path)
    lint_everything(name, TRICKY[name])
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "--ip-family", "ipv6", name],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    diagnostics = json.loads(result.output)
    assert all(d["code"] != "V6L999" for d in diagnostics)
    if name in ("latin1.yaml", "nul.yaml"):
        assert [d["code"] for d in diagnostics] == ["V6L902"]
    if name in ("deep.yaml", "deep-block.yaml", "tabs.yaml", "py2.py"):
        assert [d["code"] for d in diagnostics] == ["V6L900"]
    if name == "bomb.yaml":
        assert [d["code"] for d in diagnostics] == ["V6L904"]


def test_a_50_mb_yaml_file_is_skipped_with_a_notice(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        for i in range(50 * 1024):
            handle.write(f"key{i}: ".encode() + b"x" * 1000 + b"\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "big.yaml"], catch_exceptions=False)
    assert result.exit_code == 0
    (notice,) = json.loads(result.output)
    assert notice["code"] == "V6L903" and "over max-file-size" in notice["message"]


def test_odd_file_system_entries(tmp_path, monkeypatch):
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)  # a symlink loop
    (tmp_path / "dir.yaml").mkdir()  # a directory named like a file
    (tmp_path / "dir.yaml" / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                                                    "spec: {ipFamilies: [ipv6]}\n")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "."], catch_exceptions=False)
    assert result.exit_code == 1
    codes = sorted((d["path"], d["code"]) for d in json.loads(result.output))
    assert codes == [("dangling.yaml", "V6L905"), ("dir.yaml/svc.yaml", "SVC001")]


def test_a_file_deleted_between_discovery_and_reading(tmp_path, monkeypatch):
    target = tmp_path / "gone.yaml"
    target.write_text("a: 1\n")
    monkeypatch.chdir(tmp_path)
    import v6lint.cli as cli

    real = cli.discover

    def discover_then_delete(*args, **kwargs):
        found = real(*args, **kwargs)
        target.unlink()
        return found

    monkeypatch.setattr(cli, "discover", discover_then_delete)
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "."], catch_exceptions=False)
    assert [(d["path"], d["code"]) for d in json.loads(result.output)] == [("gone.yaml", "V6L905")]
    assert result.exit_code == 1


def test_an_unreadable_file(tmp_path, monkeypatch):
    target = tmp_path / "secret.yaml"
    target.write_text("a: 1\n")
    target.chmod(0)
    # root reads whatever the mode says, so the refusal is simulated where the engine opens files
    real_open = os.open

    def guarded_open(file, *args, **kwargs):
        if str(file).endswith("secret.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "."], catch_exceptions=False)
    assert [d["code"] for d in json.loads(result.output)] == ["V6L905"]


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EACCES])
def test_a_write_that_fails_midway_leaves_the_original(tmp_path, monkeypatch, failure):
    target = tmp_path / "svc.yaml"
    original = b"apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ipFamilies: [ipv6]}\n"
    target.write_bytes(original)
    target.chmod(0o640)
    real_fdopen = os.fdopen

    class Failing:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Failing(real_fdopen(fd, mode)))
    with pytest.raises(WriteError):
        write_atomic(target, original, original.replace(b"ipv6", b"IPv6"))
    assert target.read_bytes() == original
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc.yaml"]  # no temp file left
    # through the CLI: reported, original intact, exit 1
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--fix", "--output-format", "json"], catch_exceptions=False)
    codes = [d["code"] for d in json.loads(result.output)]
    assert "V6L906" in codes and target.read_bytes() == original


def test_two_concurrent_fix_runs_corrupt_nothing(tmp_path):
    import shutil
    import subprocess

    source = FIXTURES / "demo"
    runs = [tmp_path / "together", tmp_path / "alone"]
    for root in runs:
        shutil.copytree(FIXTURES, root)
    exe = str(Path(sys.executable).parent / "v6lint")
    args = [exe, "check", "--fix", "--unsafe-fixes", "--ip-family", "ipv6", "--exit-zero", "--jobs", "1", "."]
    procs = [subprocess.Popen(args, cwd=runs[0], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    subprocess.run(args, cwd=runs[1], check=True, stdout=subprocess.DEVNULL)
    def files(root):  # the cache may hold a profile per state each run saw; the linted files must match
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and ".v6lint_cache" not in p.parts}
    together, alone = files(runs[0]), files(runs[1])
    assert together == alone  # same files, same bytes, no temp files left behind
    assert source.exists()
    # two concurrent checks share the result cache without corrupting it
    check = [exe, "check", "--exit-zero", "--output-format", "json", "."]
    procs = [subprocess.Popen(check, cwd=runs[1], stdout=subprocess.PIPE) for _ in range(2)]
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert outputs[0] == outputs[1]
    from v6lint import cache

    import sqlite3

    cache_files = list(cache.location(runs[1]).rglob("results-*.sqlite"))
    for file in cache_files:
        with sqlite3.connect(file) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("SELECT count(*) FROM results").fetchone()[0] > 0
    assert cache_files
    assert subprocess.run(check, cwd=runs[1], capture_output=True).stdout == outputs[0]
