"""An unchanged `v6lint check` is replayed from its witness (v6lint.replay); any change to what its
output is made of runs it in full, exactly as a cold run. Each test changes one thing and fails
if the old output were replayed."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint import discovery, replay
from v6lint.cli import main

SVC = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: PreferDualStack
  ipFamilies: [ipv6, IPv4]
  ports:
    - port: 80
"""
SINGLE = """apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  ports:
    - port: 443
"""
EKSCTL = """apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: c
  region: us-east-1
kubernetesNetworkConfig:
  ipFamily: {family}
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A project: two Services (one with a spelling error, one IPv6-only), the cluster's family in a
    tfvars outside k8s/ and in an eksctl file; every file counts as settled (written long ago)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(discovery, "SETTLED_NS", -10**12)
    monkeypatch.setattr(replay, "ARGV", None)  # (restored after the test: later CliRunner runs record nothing)
    root = tmp_path / "repo"
    for name, text in {"k8s/svc.yaml": SVC, "k8s/single.yaml": SINGLE,
                       "infra/terraform.tfvars": 'cluster_ip_family = "ipv4"\n',
                       "eks/cluster.yaml": EKSCTL.format(family="IPv4")}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def v6lint(monkeypatch, capsysbinary, *args: str) -> tuple[int, str, bool]:
    """`v6lint check ARGS` as the command runs it: (exit code, output, whether it was replayed)."""
    answers = []
    real = replay.replayed

    def replayed(argv):
        answers.append(real(argv))
        return answers[-1]

    with monkeypatch.context() as patched:
        patched.setattr(replay, "replayed", replayed)
        patched.setattr(sys, "argv", ["v6lint", "check", *args])
        with pytest.raises(SystemExit) as ended:
            replay.main()
    return ended.value.code, capsysbinary.readouterr().out.decode(), answers[-1] is not None


def cold(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--no-cache", *args])
    return result.exit_code, result.output


def records(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").rglob("runs/*/*.run"))


def test_an_unchanged_check_is_replayed_byte_for_byte(repo, tmp_path, monkeypatch, capsysbinary):
    for args in (["k8s"], [".", "--output-format", "json"], ["--output-format", "sarif"], ["--statistics"]):
        code, first, again = v6lint(monkeypatch, capsysbinary, *args)
        assert not again and (code, first) == cold(*args) and len(first) > 100
        code2, second, again = v6lint(monkeypatch, capsysbinary, *args)
        assert again and (code2, second) == (code, first), args
    assert len(records(tmp_path)) == 4


def _edit(path: Path, old: str, new: str, keep_times: bool = False) -> None:
    st = path.stat()
    path.write_text(path.read_text().replace(old, new))
    if keep_times:  # same size, same mtime: only ctime (and content) tell
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


CHANGES = {
    "content": (["k8s"], lambda r: _edit(r / "k8s/svc.yaml", "ipv6, IPv4", "IPv4")),
    "content, same size and mtime": (["k8s"], lambda r: _edit(r / "k8s/svc.yaml", "ipv6", "IPv6", keep_times=True)),
    "new file": (["k8s"], lambda r: (r / "k8s/more.yaml").write_text(SVC.replace("web", "more"))),
    "deleted file": (["k8s"], lambda r: (r / "k8s/single.yaml").unlink()),
    "renamed file": (["k8s"], lambda r: (r / "k8s/svc.yaml").rename(r / "k8s/www.yaml")),
    "new folder": (["k8s"], lambda r: ((r / "k8s/apps").mkdir(), (r / "k8s/apps/a.yaml").write_text(SVC))),
    "new config": (["k8s"], lambda r: (r / ".v6lint.toml").write_text('ignore = ["SVC001"]\n')),
    "config in a pyproject": (["k8s"], lambda r: (r / "pyproject.toml").write_text(
        '[tool.v6lint]\nignore = ["SVC009"]\n')),
    "tfvars outside the linted folder": (["k8s"], lambda r: _edit(r / "infra/terraform.tfvars", "ipv4", "ipv6")),
    "tfvars removed": (["k8s"], lambda r: (r / "infra/terraform.tfvars").unlink()),
    "eksctl file": (["."], lambda r: _edit(r / "eks/cluster.yaml", "IPv4", "IPv6")),
    "gitignore": (["k8s"], lambda r: (r / ".gitignore").write_text("single.yaml\n")),
    "project marker below": (["."], lambda r: (r / "k8s/.git").mkdir()),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_runs_the_check_again_as_cold(change, repo, monkeypatch, capsysbinary):
    args, make = CHANGES[change]
    v6lint(monkeypatch, capsysbinary, *args)
    _code, before, again = v6lint(monkeypatch, capsysbinary, *args)
    assert again
    make(repo)
    expected = cold(*args)
    assert expected[1] != before  # (the change shows: replaying the old output would be wrong)
    code, after, again = v6lint(monkeypatch, capsysbinary, *args)
    assert not again and (code, after) == expected
    code, after, again = v6lint(monkeypatch, capsysbinary, *args)  # and that is what is replayed next
    assert again and (code, after) == expected


def test_a_project_marker_made_above_the_linted_folder_runs_again(repo, monkeypatch, capsysbinary):
    """No folder the run listed changes: only the name it looked for above k8s/ is now there (the
    project root moves up, and the tfvars there becomes k8s/'s profile)."""
    (repo / ".git").rmdir()
    v6lint(monkeypatch, capsysbinary, "k8s")
    _code, before, again = v6lint(monkeypatch, capsysbinary, "k8s")
    assert again
    (repo / ".git").mkdir()
    expected = cold("k8s")
    assert expected[1] != before
    code, after, again = v6lint(monkeypatch, capsysbinary, "k8s")
    assert not again and (code, after) == expected


@pytest.mark.parametrize("flags", [["--select", "SVC001"], ["--ignore", "SVC001"], ["--preview"],
                                   ["--output-format", "json"], ["--ip-family", "ipv6"], ["--exit-zero"],
                                   ["--quiet"]])
def test_other_options_are_another_run(flags, repo, monkeypatch, capsysbinary):
    v6lint(monkeypatch, capsysbinary, "k8s")
    assert v6lint(monkeypatch, capsysbinary, "k8s")[2]
    code, out, again = v6lint(monkeypatch, capsysbinary, "k8s", *flags)
    assert not again and (code, out) == cold("k8s", *flags)


def test_another_folder_version_or_environment_is_another_run(repo, monkeypatch, capsysbinary):
    v6lint(monkeypatch, capsysbinary, ".")
    assert v6lint(monkeypatch, capsysbinary, ".")[2]
    monkeypatch.chdir(repo / "k8s")  # the same command elsewhere: other files, other paths
    code, out, again = v6lint(monkeypatch, capsysbinary, ".")
    assert not again and (code, out) == cold(".")
    monkeypatch.chdir(repo)
    monkeypatch.setattr(replay, "_CODE", ["another build of v6lint"])
    assert not v6lint(monkeypatch, capsysbinary, ".")[2]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(repo / "elsewhere"))  # (where the global git ignore file is)
    assert not v6lint(monkeypatch, capsysbinary, ".")[2]


def test_what_a_stat_cannot_vouch_for_is_never_recorded(repo, tmp_path, monkeypatch, capsysbinary):
    """Files written just now, symlinks, builds and warnings: the run is made in full every time."""
    with monkeypatch.context() as patched:
        patched.setattr(discovery, "SETTLED_NS", 2_000_000_000)  # (every file here was written just now)
        v6lint(monkeypatch, capsysbinary, "k8s")
    assert records(tmp_path) == []
    (repo / "k8s/link.yaml").symlink_to(repo / "k8s/svc.yaml")
    v6lint(monkeypatch, capsysbinary, "k8s")
    assert records(tmp_path) == []
    (repo / "k8s/link.yaml").unlink()
    (repo / "k8s/kustomization.yaml").write_text("resources:\n  - svc.yaml\n")
    v6lint(monkeypatch, capsysbinary, "k8s")
    assert records(tmp_path) == []
    (repo / "k8s/kustomization.yaml").unlink()
    (repo / ".v6lint.toml").write_text("unknown-key = 1\n")  # a warning on stderr
    v6lint(monkeypatch, capsysbinary, "k8s")
    assert records(tmp_path) == []
    (repo / ".v6lint.toml").unlink()
    v6lint(monkeypatch, capsysbinary, "k8s", "--output-file", str(tmp_path / "report.txt"))
    assert records(tmp_path) == []
    v6lint(monkeypatch, capsysbinary, "k8s")
    assert len(records(tmp_path)) == 1


def test_a_witness_is_hostile_input(repo, tmp_path, monkeypatch, capsysbinary):
    expected = cold("k8s")
    v6lint(monkeypatch, capsysbinary, "k8s")
    (record,) = records(tmp_path)
    output = record.with_suffix(".out")
    output.write_bytes(output.read_bytes().replace(b"SVC001", b"EVIL01"))  # the output no longer its digest
    assert v6lint(monkeypatch, capsysbinary, "k8s")[:2] == expected
    data = record.read_bytes()
    entries, _, header = data.rpartition(b"\n")  # (NUL-ended entries, then the header as the last line)
    assert entries.endswith(b"\0") and b'"exit":1' in header
    for forged in (b"", b"{}\n", data.replace(b'"exit":1', b'"exit":2'), b"s1,2|/\0\n" + header,
                   entries + b"s|\n" + header, entries + b"\n" + b"[" * 100_000, b"\n".join([entries, header, header])):
        record.write_bytes(forged)
        code, out, again = v6lint(monkeypatch, capsysbinary, "k8s")
        assert not again and (code, out) == expected
    (record,) = records(tmp_path)
    runs = record.parent
    moved = tmp_path / "moved"
    runs.rename(moved)
    runs.symlink_to(moved)  # a symlinked folder is never read nor written
    assert not v6lint(monkeypatch, capsysbinary, "k8s")[2]
    runs.unlink()
    moved.rename(runs)
    assert v6lint(monkeypatch, capsysbinary, "k8s")[2]
    assert CliRunner().invoke(main, ["clean"]).exit_code == 0
    assert records(tmp_path) == [] and not v6lint(monkeypatch, capsysbinary, "k8s")[2]


def test_a_library_installed_or_upgraded_is_another_run(repo, tmp_path, monkeypatch, capsysbinary):
    """A parser upgrade can change findings: the folders the libraries are installed in are listed in
    the witness (pip renames a dist-info folder there, or replaces the package)."""
    site = tmp_path / "site"
    (site / "fakeparser").mkdir(parents=True)
    (site / "fakeparser" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(replay, "_LIBRARIES", (*replay._LIBRARIES, "fakeparser"))
    v6lint(monkeypatch, capsysbinary, "k8s")
    assert v6lint(monkeypatch, capsysbinary, "k8s")[2]
    (site / "fakeparser-2.0.dist-info").mkdir()  # (what an upgrade leaves beside the package)
    assert not v6lint(monkeypatch, capsysbinary, "k8s")[2]
    assert v6lint(monkeypatch, capsysbinary, "k8s")[2]


def test_a_library_folder_written_just_now_keeps_no_witness(tmp_path, monkeypatch):
    """(pre-commit runs v6lint from a virtualenv it has just made: nothing there is settled yet.)"""
    site = tmp_path / "fresh"
    (site / "fakeparser").mkdir(parents=True)
    (site / "fakeparser" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(replay, "_LIBRARIES", ("fakeparser",))
    witness = replay.Witness(["check"])
    assert witness.void and "just now" in witness.void
    witness.keep("ignored")
    witness.save(0)  # (nothing kept, no error)
    assert not list(tmp_path.rglob("*.run"))
