"""What a run holds per file stays small, and holding it compactly changes no path and no finding."""
from __future__ import annotations

import gc
import json
import os
import tracemalloc
from pathlib import Path

from click.testing import CliRunner

from v6lint.cli import main
from v6lint.discovery import Files, discover, display_path

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ipFamilies: [IPv4, IPv4]\n"


def _tree(root: Path) -> None:
    """Files in many folders, a symlinked file, a symlinked folder, and a name that is not UTF-8."""
    for n in range(40):
        folder = root / f"team-{n:02d}" / ("deep/er" if n % 3 else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "svc.yaml").write_text(SERVICE)
        (folder / "main.tf").write_text('variable "x" {}\n')
        (folder / "notes.txt").write_text("not read\n")
    (root / "team-00" / "again.yaml").symlink_to(root / "team-00" / "svc.yaml")  # the plain name wins
    (root / "linked").symlink_to(root / "team-01")  # a linked folder is not entered
    fd = os.open(os.path.join(os.fsencode(root), b"caf\xe9.yaml"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, SERVICE.encode())
    os.close(fd)


def _expected(top: str) -> list[str]:
    """What discovery gave as a list of Paths (str of each), worked out with os.walk: a file met
    through a symlink first is listed there by its plain name."""
    found: list[str] = []
    at: dict[str, int] = {}
    for folder, dirs, names in os.walk(top):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(folder, name)
            if name.endswith((".yaml", ".tf")):
                real = os.path.realpath(full)
                if real not in at:
                    at[real] = len(found)
                    found.append(str(Path(folder) / name))
                elif not os.path.islink(full):
                    found[at[real]] = str(Path(folder) / name)
    return found


def test_files_are_the_paths_a_list_of_paths_gave(tmp_path, monkeypatch):
    """Discovered files are held per folder (Files), and read back as exactly the strings the Paths
    of a list spelled: walked from an absolute, a relative, a `./` and a trailing-slash folder, named
    on the command line, through a symlinked file, with a name that is not valid UTF-8."""
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    expected = _expected(str(tmp_path))
    assert len(expected) == 81 and any("\udce9" in p for p in expected)
    for given, shown in ((str(tmp_path), str(tmp_path)), (".", "."), ("./", "."), (str(tmp_path) + "/", str(tmp_path))):
        files = discover([given], [], tmp_path).files
        assert isinstance(files, Files)
        want = [str(Path(shown) / os.path.relpath(p, tmp_path)) for p in expected]
        assert list(files) == want, given
        assert [files[i] for i in range(len(files))] == want and files[-1] == want[-1]
        assert files[3:9] == want[3:9] and len(files) == len(want)
        assert ["".join(entry) for entry in files.entries()] == want
    # named on the command line first, then walked; a file met twice (the same real path) is listed once
    files = discover(["team-05/deep/er/svc.yaml", "./team-00/again.yaml", "team-05"], [], tmp_path).files
    assert list(files) == ["team-05/deep/er/svc.yaml", "team-00/again.yaml", "team-05/deep/er/main.tf"]
    files = discover(["team-00", "."], [], tmp_path).files  # a folder inside another one given
    assert list(files) == ["team-00/svc.yaml", "team-00/main.tf"] + [
        p for p in (str(Path(os.path.relpath(e, tmp_path))) for e in expected) if not p.startswith("team-00/")]
    assert list(Files.of([Path("a/b.yaml"), "c.yaml", "/d/./e.yaml", Path("/f.yaml")])) == [
        "a/b.yaml", "c.yaml", "/d/e.yaml", "/f.yaml"]


def test_a_file_whose_name_is_not_utf8_is_reported_by_the_same_path(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["check", "--no-cache", "--exit-zero", "--output-format", "json",
                                           "--jobs", jobs, "."], catch_exceptions=False)
        paths = {d["path"] for d in json.loads(result.output)}
        assert "caf\\xe9.yaml" in paths and display_path(os.fsdecode(b"caf\xe9.yaml")) == "caf\\xe9.yaml"
        assert "team-00/svc.yaml" in paths and "team-00/again.yaml" not in paths
        assert len([p for p in paths if p.endswith("svc.yaml")]) == 40  # none through the linked folder


def test_discovered_files_take_a_few_dozen_bytes_each(tmp_path):
    """A run holds its discovered files (twice: its own and its profile scan's) while its workers fork,
    and each worker inherits them: kept per folder, ~30 bytes a file (a Path each took ~340)."""
    for n in range(200):
        folder = tmp_path / f"service-{n:03d}" / "manifests"
        folder.mkdir(parents=True)
        for m in range(15):
            (folder / f"deployment-{m:02d}.yaml").write_text("")
    discover([str(tmp_path)], [], tmp_path)  # (the names pathlib interns are interned before measuring)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        found = discover([str(tmp_path)], [], tmp_path)
        gc.collect()
        held = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
    assert len(found.files) == 3000
    assert held / 3000 < 60, f"{held / 3000:.0f} bytes a file"
