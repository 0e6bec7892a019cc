"""Issue 11: a repository is hostile input, the machine may misbehave. One test per point; each
builds the attack or fault itself and asserts the safe outcome."""
from __future__ import annotations

import json
import os
import pickle
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint import __version__, cache
from v6lint.cli import main
from v6lint.config import Settings, _V6LINT_TABLE
from v6lint.discovery import Glob, parse_patterns
from v6lint.engine import Linter, WriteError, write_atomic
from v6lint.output import printable
from v6lint.project import _DECL, prefix_delegation_on
from v6lint.rules.views.spark import _DEFAULTS_LINE, _is_setting
from v6lint.source import SourceFile
from v6lint.sources import parse_source
from v6lint.suppressions import parse_comments

EXE = str(Path(sys.executable).parent / "v6lint")
BAD_SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ipFamilies: [ipv6]\n"
FIXED_SVC = BAD_SVC.replace("[ipv6]", "[IPv6]")


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "k8s").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "k8s" / "svc.yaml").write_text(BAD_SVC)
    monkeypatch.chdir(root)
    return root


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, timeout=120)


def codes(output: bytes | str) -> list[str]:
    return sorted(d["code"] for d in json.loads(output))


class _Marker:
    """Unpickling this creates `path`: proof that pickle data from the tree was executed."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# --- 1, 2, 4, 10: the cache -----------------------------------------------------------------------
def test_1_a_committed_pickle_cache_is_never_loaded(project):
    marker = project.parent / "PWNED"
    payload = pickle.dumps(_Marker(str(marker)))
    # every name the old cache used, and the new cache's file names, inside the work tree
    old = project / ".v6lint_cache" / __version__
    old.mkdir(parents=True)
    for name in ("profile-0.pickle", "results-0.json", "profile-0.json"):
        (old / name).write_bytes(payload)
    for stale in range(50):
        (old / f"profile-{stale:024x}.pickle").write_bytes(payload)
    result = run("check", "--output-format", "json", ".")
    assert result.returncode == 1, result.stderr
    assert codes(result.stdout) == ["SVC001"]
    assert not marker.exists()
    # the real cache: JSON outside the tree (the profile too); a pickle there is a malformed entry, a miss
    home = cache.location(project) / __version__
    (profile,) = home.glob("profile-*.json")
    assert json.loads(profile.read_text())["profile"]["c"] == "v6lint.rule:Profile"
    for entry in [*home.glob("*.json"), *home.glob("*.sqlite")]:
        entry.write_bytes(payload)
    result = run("check", "--output-format", "json", ".")
    assert codes(result.stdout) == ["SVC001"] and not marker.exists()
    assert "pickle" not in Path(cache.__file__).read_text()


def _rows(results: Path) -> dict[str, tuple]:
    with sqlite3.connect(results) as db:
        return {os.fsdecode(row[0]): row[1:] for row in db.execute("SELECT path, digest, findings, stat FROM results")}


def _forge(results: Path, path: str, *row) -> None:
    db = sqlite3.connect(results)
    with db:
        db.execute("DELETE FROM results")
        db.execute("INSERT INTO results VALUES (?, ?, ?, ?)", (os.fsencode(path), *row))
    db.close()


def test_2_results_from_the_tree_or_naming_unknown_rules_are_never_trusted(project):
    target = project / "k8s" / "svc.yaml"
    digest = cache.ResultCache.digest(target.read_bytes())
    forged = {str(target.resolve()): [digest, "[]"]}  # "no findings" for this exact file and content
    tree_cache = project / ".v6lint_cache" / __version__
    tree_cache.mkdir(parents=True)
    (tree_cache / "results-0.json").write_text(json.dumps(forged))
    with sqlite3.connect(tree_cache / "results-0.sqlite") as db:
        db.execute(cache._TABLE)
        db.execute("INSERT INTO results VALUES (?, ?, '[]', NULL)", (os.fsencode(target.resolve()), digest))
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    # the real cache, then an entry naming a rule that does not exist and one with a wrong shape
    (results,) = (cache.location(project) / __version__).glob("results-*.sqlite")
    row = json.loads(_rows(results)[str(target.resolve())][1])[0]  # findings: one JSON string
    assert row["code"] == "SVC001" and row["offsets"][0] < row["offsets"][1]
    forgeries = ({**row, "code": "EVIL1", "name": "evil", "message": "injected"}, dict(list(row.items())[:5]),
                 {**row, "severity": 5}, {**row, "name": "renamed"}, {**row, "offsets": [9, 2]},
                 {**row, "fix": {"applicability": "safe", "message": "injected", "edits": [{"content": "x"}]}},
                 ["EVIL1", "evil", "error", "injected", 0, 0, None, None, None, 1, 1, 1, 1, None])
    for bad in forgeries:
        _forge(results, str(target.resolve()), digest, json.dumps([bad]), None)
        for fmt in ("json", "sarif", "github", "text"):
            out = run("check", "--output-format", fmt, ".")
            assert out.returncode == 1 and b"Traceback" not in out.stderr
            assert b"EVIL1" not in out.stdout and b"injected" not in out.stdout
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    # under the file's own stat (the findings are then shown without reading the file) alike
    time.sleep(2.1)  # (a stat vouches for a file written over 2 s ago)
    signature = cache.ResultCache.stat_key(target)
    assert signature is not None
    for bad in forgeries:
        _forge(results, str(target.resolve()), digest, json.dumps([bad]), signature)
        for fmt in ("json", "github", "concise"):
            out = run("check", "--output-format", fmt, ".")
            assert out.returncode == 1 and b"Traceback" not in out.stderr
            assert b"EVIL1" not in out.stdout and b"injected" not in out.stdout and b"SVC001" in out.stdout
    # a row of another type than this version writes (SQLite keeps what it is given) is a miss
    for forged_row in ((digest, b"[]", signature), (digest, "[]", b"1,2")):
        _forge(results, str(target.resolve()), *forged_row)
        assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]


def test_2_a_result_cache_file_that_is_not_ours_is_removed_never_run(project):
    """The result cache is an SQLite file: one that is not (garbage), that holds anything but the one
    table v6lint creates (a trigger would run on v6lint's own writes), or that is a symlink, is never
    used: the findings are the same, a file of the wrong content is removed, a symlink left alone."""
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    (results,) = (cache.location(project) / __version__).glob("results-*.sqlite")
    assert stat.S_IMODE(results.stat().st_mode) == 0o600
    results.write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    assert _rows(results)  # removed, and written afresh
    marker = project.parent / "PWNED"
    with sqlite3.connect(results) as db:
        db.execute("CREATE TABLE pwned (x)")
        db.execute("CREATE TRIGGER evil AFTER INSERT ON results BEGIN INSERT INTO pwned VALUES (1); END")
        db.execute("DELETE FROM results")
    (project / "k8s" / "svc.yaml").write_text(BAD_SVC + "# changed\n")  # a miss: the run writes a row
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    with sqlite3.connect(results) as db:
        assert [row[0] for row in db.execute("SELECT name FROM sqlite_master")] == ["results"]
    outside = project.parent / "elsewhere.sqlite"
    results.rename(outside)
    results.symlink_to(outside)
    before = outside.read_bytes()
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    assert results.is_symlink() and outside.read_bytes() == before and not marker.exists()


def test_4_a_symlinked_cache_directory_is_refused(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    location = cache.location(project)
    location.parent.mkdir(parents=True, mode=0o700)
    location.symlink_to(outside, target_is_directory=True)
    (project / ".v6lint_cache").symlink_to(outside, target_is_directory=True)
    result = run("check", "--output-format", "json", ".")
    assert codes(result.stdout) == ["SVC001"]
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]  # nothing created outside
    result = CliRunner().invoke(main, ["clean"])
    assert result.output == "No cache to remove\n"
    assert (outside / "keep.txt").read_text() == "mine"
    # a fresh cache is private: 0700, owned by this user
    location.unlink()
    run("check", ".")
    assert stat.S_IMODE(location.stat().st_mode) == 0o700 and not location.is_symlink()


def test_10_a_bad_environment_is_a_message_not_a_traceback(project, tmp_path, monkeypatch):
    # a cache path that is a file; a cache directory owned by someone else (root can write anywhere,
    # so ownership stands in for "unwritable"); a cache of the wrong shape
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    for home in (blocker, blocker / "below"):
        result = subprocess.run([EXE, "check", "--output-format", "json", "."], capture_output=True,
                                env={**os.environ, "XDG_CACHE_HOME": str(home)})
        assert result.returncode == 1 and codes(result.stdout) == ["SVC001"], result.stderr
    if os.getuid() == 0:
        foreign = tmp_path / "foreign"
        (foreign / "v6lint").mkdir(parents=True)
        os.chown(foreign / "v6lint", 4242, 4242)
        result = subprocess.run([EXE, "check", "--output-format", "json", "."], capture_output=True,
                                env={**os.environ, "XDG_CACHE_HOME": str(foreign)})
        assert codes(result.stdout) == ["SVC001"] and list((foreign / "v6lint").iterdir()) == []
    run("check", ".")
    for entry in [*(cache.location(project) / __version__).glob("*.json"),
                  *(cache.location(project) / __version__).glob("*.sqlite")]:
        entry.write_text('[1, {"a": [2]}]')
    assert codes(run("check", "--output-format", "json", ".").stdout) == ["SVC001"]
    # bad configuration: exit 2 with a message
    for config, message in (('exclude = ["!"]\n', b"exclude"), ("max-file-size = 1000000000000000\n", b"max-file-size"),
                            ('ignore = [""]\n', b"ignore"), ('select = [" "]\n', b"select")):
        (project / ".v6lint.toml").write_text(config)
        result = run("check", ".")
        assert result.returncode == 2 and message in result.stderr and b"Traceback" not in result.stderr
    (project / ".v6lint.toml").unlink()
    (project / "pyproject.toml").write_bytes(b"[tool.v6lint]\nignore = [\"caf\xe9\"]\n")
    result = run("check", ".")
    assert result.returncode == 2 and b"pyproject.toml" in result.stderr and b"Traceback" not in result.stderr


# --- 3: git config ------------------------------------------------------------------------------
def test_3_repository_git_config_never_runs(project):
    marker = project.parent / "FSMONITOR-RAN"
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "gen").mkdir()
    (project / "gen" / "tracked.yaml").write_text(BAD_SVC)  # ignored by gen/, but tracked: still linted
    subprocess.run(["git", "-C", str(project), "add", "-f", "gen/tracked.yaml"], check=True)
    subprocess.run(["git", "-C", str(project), "config", "core.fsmonitor", f"touch {marker}; false"], check=True)
    (project / ".git" / "hooks" / "post-index-change").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (project / ".git" / "hooks" / "post-index-change").chmod(0o755)
    (project / "gen" / "svc.yaml").write_text(BAD_SVC)
    (project / ".gitignore").write_text("gen/\n")
    (project / "k8s" / ".gitignore").write_text("*.yaml\n!svc.yaml\n")
    (project / "k8s" / "other.yaml").write_text(BAD_SVC)
    (project / ".git" / "info" / "exclude").write_text("k8s/excluded.yaml\n")
    (project / "k8s" / "excluded.yaml").write_text(BAD_SVC)
    result = run("check", "--output-format", "json", ".")
    paths = sorted(d["path"] for d in json.loads(result.stdout))
    # .gitignore files (nested, negated) and info/exclude honoured; a tracked file is linted, as git does
    assert paths == ["gen/tracked.yaml", "k8s/svc.yaml"]
    assert not marker.exists()


# --- 5: terminal injection ------------------------------------------------------------------------
def test_5_control_characters_never_reach_the_terminal(project):
    evil_name = "svc\x1b]0;owned\x07\n.yaml"
    (project / "k8s" / evil_name).write_text(
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: "a\\e[2J\\a\\nk8s/fake.yaml:1:1: SVC999 fake"\n'
        "spec:\n  ipFamilies: [ipv6]\n")
    text = run("check", ".").stdout.decode()
    assert "svc\\x1b]0;owned\\x07\\x0a.yaml" in text
    for args in (["check", "."], ["check", "--output-format", "github", "."], ["check", "--diff", "."],
                 ["check", "--statistics", "."], ["check", "--fix", "--show-fixes", "--exit-zero", "."]):
        out = run(*args).stdout.decode()
        assert "\x1b" not in out and "\x07" not in out, args
        assert not any(line.startswith("k8s/fake.yaml") for line in out.splitlines()), args
    assert printable("ok \u202eevil\udcff") == "ok \\u202eevil\\xff"


# --- 6, 11, 14: the write path ----------------------------------------------------------------------
def test_6_a_read_only_file_is_not_replaced(project):
    target = project / "k8s" / "svc.yaml"
    target.chmod(0o444)
    result = run("check", "--fix", "--output-format", "json", ".")
    found = json.loads(result.stdout)
    assert [d["code"] for d in found] == ["SVC001", "V6L906"]
    assert "read-only (mode 0444)" in found[1]["message"]
    assert target.read_text() == BAD_SVC and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_11_hard_links_owner_and_extended_attributes(project):
    target = project / "k8s" / "svc.yaml"
    os.link(target, project / "k8s" / "second-name.yaml.bak")
    found = json.loads(run("check", "--fix", "--output-format", "json", ".").stdout)
    assert [d["code"] for d in found] == ["SVC001", "V6L906"] and "2 hard links" in found[1]["message"]
    assert target.read_text() == BAD_SVC and target.stat().st_nlink == 2
    (project / "k8s" / "second-name.yaml.bak").unlink()
    xattr = True
    try:
        os.setxattr(target, "user.v6lint-test", b"label")
    except OSError:
        xattr = False  # the file system has no user xattrs; the rest still holds
    if os.getuid() == 0:
        os.chown(target, 4242, 4343)
    assert run("check", "--fix", ".").returncode == 0
    assert target.read_text() == FIXED_SVC
    if xattr:
        assert os.getxattr(target, "user.v6lint-test") == b"label"
    if os.getuid() == 0:
        assert (target.stat().st_uid, target.stat().st_gid) == (4242, 4343)


def test_14_a_change_during_the_write_is_detected_right_before_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "svc.yaml"
    target.write_text(BAD_SVC)
    real_fsync = os.fsync

    def meanwhile(fd):  # another program saves the file while the fixed copy is being written
        real_fsync(fd)
        with open(target, "a") as handle:
            handle.write("# edited\n")

    monkeypatch.setattr(os, "fsync", meanwhile)
    with pytest.raises(WriteError, match="changed on disk while the fix was written"):
        write_atomic(target, BAD_SVC.encode(), FIXED_SVC.encode())
    assert target.read_text() == BAD_SVC + "# edited\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc.yaml"]


# --- 7: parsers never die -------------------------------------------------------------------------
def test_7_deep_nesting_is_one_notice_per_file_never_a_crash(project):
    files = {
        "deep.py": "import pyspark\nx = " + "(" * 1500 + "1" + ")" * 1500 + "\n",
        "chain.py": "import pyspark\nx = " + " + ".join(['"a"'] * 20000) + "\n",
        "attrs.py": "from pyspark.sql import SparkSession\nx = a" + ".b" * 3000 + "\n",
        "deep.tf": "x = " + "[" * 500 + "]" * 500 + "\n",
        "json.tf": "x = " + "jsonencode(" * 500 + "1" + ")" * 500 + "\n",
        "blocks.tf": "b {\n" * 500 + "}\n" * 500,
        "dash.yaml": "- " * 100000 + "x\n",
        "flow.yaml": "a: " + "[" * 100000 + "\n",
    }
    for name, text in files.items():
        (project / name).write_text(text)
    started = time.monotonic()
    result = run("check", "--output-format", "json", ".")
    assert result.returncode == 1, result.stderr[-2000:]
    found = json.loads(result.stdout)
    by_path = {}
    for d in found:
        by_path.setdefault(d["path"], []).append(d["code"])
    assert by_path.pop("k8s/svc.yaml") == ["SVC001"]
    assert by_path == {name: ["V6L900"] for name in files}
    assert time.monotonic() - started < 60


# --- 8: no catastrophic regex -----------------------------------------------------------------------
def _best(fn, arg, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return min(times)


def _growth(fn, make, n: int) -> float:
    return _best(fn, make(8 * n)) / max(_best(fn, make(n)), 1e-7)


def _linear_baseline(text: str) -> int:
    return sum(1 for ch in text if ch == "\n")


@pytest.mark.parametrize("name, fn, make, n", [
    ("_PD_ON", prefix_delegation_on, lambda k: "ENABLE_PREFIX_DELEGATION" + "\n" * k + "x", 3000),
    ("_PD_ON spaces", prefix_delegation_on, lambda k: ("ENABLE_PREFIX_DELEGATION:" + " " * 50 + "\n") * k, 300),
    ("_DECL", lambda t: _DECL.findall(t), lambda k: "\n" * k + "variable", 3000),
    ("_DECL spaces", lambda t: _DECL.findall(t), lambda k: " " * k + "variable \"", 3000),
    ("find_config", lambda t: _V6LINT_TABLE.search(t), lambda k: "\n" * k + "[tool.black]", 3000),
    ("_DEFAULTS_LINE", lambda t: _DEFAULTS_LINE.match(t), lambda k: "spark.a " + "b " * k + "\r", 3000),
    ("_DEFAULTS_LINE spaces", lambda t: _DEFAULTS_LINE.match(t), lambda k: "spark.a" + " " * k + "=", 3000),
    ("spark-defaults setting", lambda t: _is_setting(t, "a", "b"), lambda k: "a: b" + " " * k + '"x', 3000),
    ("exclude glob", lambda t: Glob("*a*a*a*a*a*a*a*a*b").matches([t], False), lambda k: "a" * k, 200),
    ("exclude globstar", lambda t: Glob("**/a*/**/a*/**/b").matches(t.split("/"), False),
     lambda k: "/".join(["aa"] * k), 30),
    ("gitignore line", lambda t: parse_patterns([t]), lambda k: "*" * k + "x", 1000),
])
def test_8_patterns_grow_linearly(name, fn, make, n):
    ratio = _growth(fn, make, n) / _growth(_linear_baseline, make, n)
    assert ratio < 4, f"{name}: grows {ratio:.1f}x faster than a linear scan"


# --- 9: odd names and file types --------------------------------------------------------------------
def test_9_fifo_non_utf8_name_and_symlinked_duplicate(project):
    os.mkfifo(project / "k8s" / "pipe.yaml")
    bad_name = os.fsencode(str(project / "k8s")) + b"/caf\xe9.yaml"
    with open(bad_name, "w") as handle:
        handle.write(BAD_SVC)
    (project / "k8s" / "alias.yaml").symlink_to(project / "k8s" / "svc.yaml")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    result = subprocess.run([EXE, "check", "--output-format", "json", "."], capture_output=True, timeout=60)
    found = sorted((d["path"], d["code"]) for d in json.loads(result.stdout))
    assert found == [("k8s/caf\\xe9.yaml", "SVC001"), ("k8s/pipe.yaml", "V6L905"), ("k8s/svc.yaml", "SVC001")]
    explicit = subprocess.run([EXE, "check", "k8s/pipe.yaml"], capture_output=True, timeout=60)
    assert b"not a regular file" in explicit.stdout
    fixed = subprocess.run([EXE, "check", "--fix", "--output-format", "json", "."], capture_output=True, timeout=60)
    assert [d["code"] for d in json.loads(fixed.stdout)] == ["V6L905"]  # no false V6L906 for the link
    assert (project / "k8s" / "alias.yaml").is_symlink() and (project / "k8s" / "svc.yaml").read_text() == FIXED_SVC
    with open(bad_name) as handle:
        assert handle.read() == FIXED_SVC


# --- 12: signals during --fix ----------------------------------------------------------------------
def _interrupted_fix(root: Path, signum: int) -> int:
    """Run --fix and send `signum` once it has written a file in this run (the write phase)."""
    pending = [p for p in sorted(root.rglob("*.yaml")) if p.read_text() == BAD_SVC][:3]
    proc = subprocess.Popen([EXE, "check", "--fix", "--jobs", "1", "--no-cache", "."], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.read_text() == FIXED_SVC for p in pending):
            break
        time.sleep(0.005)
    proc.send_signal(signum)
    return proc.wait(timeout=60)


def test_12_signals_leave_every_file_whole_and_no_temp_files(tmp_path):
    root = tmp_path / "many"
    for i in range(2000):
        folder = root / f"d{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"s{i}.yaml").write_text(BAD_SVC)
    (root / ".git").mkdir()
    # a temp file a killed run left (its process is gone) and one of a live process (kept)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = root / "d0" / f".s0.yaml.{dead.stdout.strip()}.abc_123.v6lint-tmp"
    stale.write_text("half")
    live = root / "d0" / f".s4.yaml.{os.getpid()}.abc_123.v6lint-tmp"
    live.write_text("in progress")

    def state():
        contents = {p.read_text() for p in root.rglob("*.yaml")}
        temps = sorted(p.name for p in root.rglob("*.v6lint-tmp"))
        return contents, temps

    assert _interrupted_fix(root, signal.SIGINT) == 130
    contents, temps = state()
    assert contents == {BAD_SVC, FIXED_SVC}
    assert temps == [live.name]  # the stale one removed, none new
    assert _interrupted_fix(root, signal.SIGTERM) == 128 + signal.SIGTERM
    contents, temps = state()
    assert contents <= {BAD_SVC, FIXED_SVC}
    assert temps == [live.name]
    assert _interrupted_fix(root, signal.SIGKILL) == -signal.SIGKILL
    contents, _temps = state()
    assert contents <= {BAD_SVC, FIXED_SVC}
    live.unlink()
    final = subprocess.run([EXE, "check", "--fix", "--jobs", "1", "--no-cache", "."], cwd=root, capture_output=True)
    assert final.returncode == 0, final.stdout[-500:]
    contents, temps = state()
    assert contents == {FIXED_SVC} and temps == []


# --- 13: suppressions only in comments --------------------------------------------------------------
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: scripts
data:
  run.sh: |
    echo start  # v6lint: ignore[SVC001]
  note: "keep # v6lint: ignore[SVC002] this text"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilies: [ipv6]
"""


def test_13_suppressions_live_only_in_real_comments(project):
    target = project / "k8s" / "cm.yaml"
    target.write_text(CONFIGMAP)
    found = json.loads(run("check", "--output-format", "json", "k8s/cm.yaml").stdout)
    assert [d["code"] for d in found] == ["SVC001"]  # not suppressed, and no V6L001 on data
    assert run("check", "--fix", "k8s/cm.yaml").returncode == 0
    assert target.read_text() == CONFIGMAP.replace("[ipv6]", "[IPv6]")  # the ConfigMap data is intact
    source = SourceFile("a.py", 'import pyspark\nx = "# v6lint: ignore[SPK001]"  # v6lint: ignore[NOPE9]\n',
                        abspath="/a.py")
    assert [s.codes for s in parse_comments(source)] == [["NOPE9"]]
    # the editor's ignore action: outside the block scalar, and it suppresses
    from v6lint.suppressions import ignore_edit

    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  conf: |\n    line one\n    line two\n"
    source = SourceFile("c.yaml", text, abspath="/c.yaml")
    edit = ignore_edit(source, "SVC001", text.index("line two"))
    assert edit.start == edit.end
    edited = text[:edit.start] + edit.content + text[edit.start:]
    assert edited == text.replace("  conf: |", "  # v6lint: ignore[SVC001]\n  conf: |")
    root = parse_source(SourceFile("c.yaml", edited, abspath="/c.yaml")).documents[0].root
    assert root.get("data").get("conf").value == "line one\nline two\n"
    assert [s.codes for s in parse_comments(SourceFile("c.yaml", edited, abspath="/c.yaml"))] == [["SVC001"]]


def test_hypothesis_nesting_and_whitespace_never_crash_or_stall():
    from hypothesis import given, settings as hsettings, strategies as st

    opener = st.sampled_from(["[", "{", "- ", "(", "jsonencode(", "a.", "not "])
    runs = st.sampled_from([" ", "\n", "\t", "\r\n", " \n"])

    @hsettings(max_examples=60, deadline=None)
    @given(opener, st.integers(1, 3000), runs, st.integers(0, 5000), st.sampled_from([".yaml", ".tf", ".py"]))
    def check(open_, depth, space, spaces, suffix):
        text = "import pyspark\n" if suffix == ".py" else ""
        text += "x = " + open_ * depth + space * spaces + "ENABLE_PREFIX_DELEGATION" + space * spaces + "true\n"
        source = SourceFile("f" + suffix, text, abspath="/f" + suffix)
        started = time.monotonic()
        Linter(Settings()).lint_source(source)  # never raises
        assert time.monotonic() - started < 10

    check()


# --- 15: the language server ----------------------------------------------------------------------
def test_15_settings_and_uris_are_validated():
    from v6lint.lsp.server import _validate_options, fs_path

    assert fs_path("file:///tmp/a%00.yaml") is None and fs_path("untitled:1") is None
    assert fs_path("file:///tmp/a.yaml") == "/tmp/a.yaml"
    assert _validate_options({"v6lint": {"select": ["SVC"], "ipFamily": "ipv6", "unsafe_fixes": True}}) == {
        "select": ["SVC"], "ip-family": "ipv6", "unsafe-fixes": True}
    for bad in ({"select": ["NOPE"]}, {"select": 5}, "select", {"ignore": [""]}, {"ip-family": "ipv5"},
                {"preview": "yes"}, {"v6lint": 3}):
        with pytest.raises(ValueError):
            _validate_options(bad)


def test_7_a_huge_valid_python_job_is_one_notice_and_its_facts_are_never_read(project, monkeypatch):
    """A valid file over the node cap is one info notice: its walk stops at the cap and no Spark fact
    of it reaches a rule."""
    from v6lint import python_source

    line = "x = " + "+".join(["a"] * 150) + "\n"
    (project / "job.py").write_text("from pyspark.sql import SparkSession\n" + line * 400)  # ~120,000 nodes
    monkeypatch.setattr(python_source._Extractor, "facts", lambda *a, **k: pytest.fail("facts of an over-cap file"))
    result = CliRunner().invoke(main, ["check", "--no-cache", "--preview", "--ip-family", "ipv6", "--platform", "aws",
                                       "--output-format", "json", str(project / "job.py")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [notice] = json.loads(result.output)
    assert notice["code"] == "V6L903" and notice["severity"] == "info"
    assert "over 50,000 syntax nodes" in notice["message"]
