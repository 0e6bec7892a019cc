"""The cache and worker processes change speed, never findings."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from v6lint import cache
from v6lint.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The fixtures as one project (500+ files: enough for worker processes), or the corpus when present."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "fixtures", root)
    if CORPUS.is_dir():
        shutil.copytree(CORPUS, root / "corpus")
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--exit-zero", "--output-format", "json", *args],
                                catch_exceptions=False)
    return result.exit_code, result.output


def test_findings_are_identical_with_and_without_cache_and_workers(project, monkeypatch):
    from v6lint import sources

    _, baseline = run("--no-cache", "--jobs", "1")
    assert len(json.loads(baseline)) > 100
    # (800+ profile candidates: the workers read them, then lint the files whose parses they kept)
    _, parallel = run("--no-cache", "--jobs", "2")
    with monkeypatch.context() as patched:
        patched.setattr(sources.SHARED, "budget", 0)  # nothing kept: every candidate parsed again
        _, reparsed = run("--no-cache", "--jobs", "2")
    assert reparsed == parallel
    _, cold_cache = run("--jobs", "1")
    assert list(cache.location(project).rglob("results-*.sqlite"))  # outside the work tree
    assert not (project / ".v6lint_cache").exists()
    _, warm_cache = run("--jobs", "1")
    _, warm_parallel = run("--jobs", "2")
    assert parallel == baseline
    assert cold_cache == baseline
    assert warm_cache == baseline
    assert warm_parallel == baseline
    # every other output format too (fix marks, summaries, fingerprints, totals), warm as cold
    for form in (["--output-format", "full"], ["--output-format", "concise"], ["--output-format", "sarif"],
                 ["--output-format", "github"], ["--output-format", "junit"], ["--output-format", "gitlab"],
                 ["--statistics"], ["--show-fixes"], ["--diff"]):
        cold = CliRunner().invoke(main, ["check", "--exit-zero", "--no-cache", *form])
        warm = CliRunner().invoke(main, ["check", "--exit-zero", "--jobs", "2", *form])
        assert cold.exit_code == warm.exit_code == 0 and len(cold.output) > 1000
        assert warm.output == cold.output, form


def test_the_report_is_written_as_the_files_are_checked(project, monkeypatch):
    """Each file's part of the report is written once it is known, and its result let go: while the
    last file is checked, the results before it are gone and the report holds their findings."""
    import gc
    import sys
    import weakref

    from v6lint.engine import Linter

    files = sorted(str(p.relative_to(project)) for p in (project / "svc").rglob("*.yaml"))
    last = files[-1]
    seen: list = []
    alive: list[int] = []
    written: list[int] = []
    real = Linter.check_path

    def check_path(self, path, **kwargs):
        result = real(self, path, **kwargs)
        if str(path).endswith(last):
            gc.collect()
            alive.append(sum(ref() is not None for ref in seen))
            sys.stdout.flush()
            written.append(sys.stdout.buffer.tell())
        seen.append(weakref.ref(result))
        return result

    monkeypatch.setattr(Linter, "check_path", check_path)
    monkeypatch.setattr("v6lint.cli._Sink.PIECE", 1)  # each piece out at once
    code, out = run("--no-cache", "--jobs", "1", "svc")
    assert code == 0 and len(json.loads(out)) > 20
    assert len(seen) == len(files) > 30
    assert alive == [1]  # the file before it (on its way out); the last file's own is not yet made
    assert written and written[0] > len(out) // 2  # most of the report was out before the last file


def test_cache_notices_changed_files_settings_and_profile(project):
    target = project / "svc" / "SVC001" / "bad.yaml"
    _, before = run("svc/SVC001")
    target.write_text(target.read_text().replace("- ipv6   # lower case is rejected", "- IPv6"))
    _, after = run("svc/SVC001")
    assert len(json.loads(after)) == len(json.loads(before)) - 1
    _, selected = run("svc/SVC001", "--select", "SVC002")
    assert json.loads(selected) == []
    # a profile source changing (a tfvars) invalidates results that depend on it
    (project / "svc" / "SVC001" / "x.tfvars").write_text("enable_ipv6 = true\n")
    _, with_profile = run("--select", "SVC009", "svc/SVC009/bad.yaml", "--ip-family", "ipv4")
    assert all(d["profile"]["ip_family"] == "ipv4" for d in json.loads(with_profile))


def test_clean_removes_the_cache(project):
    run("svc")
    assert cache.location(project).is_dir()
    result = CliRunner().invoke(main, ["clean"])
    assert result.exit_code == 0 and f"Removed {cache.location(project)}" in result.output
    assert not cache.location(project).exists()
    assert "No cache to remove" in CliRunner().invoke(main, ["clean"]).output


def test_alias_documents_still_measured_and_plain_ones_parse_alike(tmp_path):
    """The alias-size walk is skipped only for documents without aliases: a bomb is still caught
    in the file after plain ones, and the shared loader carries nothing from file to file."""
    from v6lint.source import SourceFile
    from v6lint.yaml_source import parse_yaml

    plain = SourceFile("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(6))
    first = parse_yaml(plain)
    assert first.problem is None and [d.kind for d in first.documents] == ["Service"]
    bombed = parse_yaml(SourceFile("b.yaml", "kind: ConfigMap\n---\n" + bomb))
    assert bombed.problem is not None and bombed.problem.code == "V6L904"
    assert "document 2" in bombed.problem.message
    broken = parse_yaml(SourceFile("c.yaml", "a: [\n"))
    assert broken.problem is not None and broken.problem.code == "V6L900"
    again = parse_yaml(plain)  # after a bomb and a syntax error, the same file parses the same
    assert again.problem is None and [(d.kind, d.start, d.end) for d in again.documents] == \
        [(d.kind, d.start, d.end) for d in first.documents]


def test_bench_floor_parses_each_file_with_its_parser(tmp_path):
    from v6lint.bench import _files, floor

    (tmp_path / "a.yaml").write_text("kind: Service\n")
    (tmp_path / "b.yml").write_text("a: [\n")  # a syntax error still costs its parse
    (tmp_path / "main.tf").write_text('resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    (tmp_path / "job.py").write_text("spark = 1\n")
    parts = floor(_files(tmp_path))
    assert (parts["files"], parts["yaml_files"], parts["hcl_files"], parts["python_files"]) == (4, 2, 1, 1)
    assert all(parts[phase] >= 0 for phase in ("read", "yaml", "hcl", "python"))


def test_spark_facts_are_read_only_when_an_enabled_rule_reads_python(tmp_path, monkeypatch):
    """A Python file's Spark facts are read only when an enabled rule of the profile reads them;
    otherwise `ast` still reports its syntax errors."""
    from v6lint import python_source

    job = tmp_path / "job.py"
    job.write_text('from pyspark import SparkConf\n\n'
                   'conf = SparkConf().set("spark.kubernetes.driver.service.ipFamilies", "IPV6")\n')
    (tmp_path / "bad.py").write_text("import pyspark\ndef f(:\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    calls = []

    class Counted(python_source._Extractor):
        def facts(self):
            calls.append(self.source.path)
            return super().facts()

    monkeypatch.setattr(python_source, "_Extractor", Counted)
    _, only_yaml = run("--no-cache", "--select", "SVC001")
    assert calls == []
    assert [(d["code"], d["path"]) for d in json.loads(only_yaml)] == [("V6L900", "bad.py")]
    _, spark = run("--no-cache", "--select", "SPK")
    assert calls == ["job.py"]
    found = json.loads(spark)
    assert ("V6L900", "bad.py") in [(d["code"], d["path"]) for d in found]
    assert ("SPK003", "job.py") in [(d["code"], d["path"]) for d in found]


def test_views_are_built_once_per_document_for_all_rules(tmp_path, monkeypatch):
    from v6lint.rules.views import ServiceSpec

    built = []
    real_init = ServiceSpec.__init__
    monkeypatch.setattr(ServiceSpec, "__init__", lambda self, doc: built.append(doc) or real_init(self, doc))
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n"
                                       "  ipFamilies: [IPv6, IPv6]\n  ipFamilyPolicy: SingleStack\n---\n"
                                       "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {}\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    _, out = run("--no-cache", "--jobs", "1", "--ip-family", "ipv4")
    assert {d["code"] for d in json.loads(out)} >= {"SVC003", "SVC009"}  # several rules read the Services
    assert len(built) == 2 and built[0] is not built[1]


def test_conflicts_in_is_the_files_share_of_conflicts():
    from v6lint.rule import Profile, ProfileSource

    sources = tuple(ProfileSource(fam, "tfvars", f"f{i % 3}.tfvars:1", f"/p/f{i % 3}.tfvars", i, i + 1, "x")
                    for i, fam in enumerate(["ipv6", "ipv4", "ipv4", "ipv6", "ipv4", "dual"]))
    profile = Profile("ipv6", "f0.tfvars:1", sources)
    for path in ("/p/f0.tfvars", "/p/f1.tfvars", "/p/f2.tfvars", "/p/none", "", None):
        assert profile.conflicts_in(path) == [s for s in profile.conflicts if path and s.abspath == path]
    assert sum(len(profile.conflicts_in(f"/p/f{i}.tfvars")) for i in range(3)) == len(profile.conflicts) == 4


def test_warm_run_starts_no_pool_and_lints_only_changed_files(project, monkeypatch):
    from v6lint.workers import Workers

    _, cold = run("--jobs", "2")
    real_start = Workers._start
    pools = []
    monkeypatch.setattr(Workers, "_start", lambda self: pools.append(self.jobs) or real_start(self))
    _, warm = run("--jobs", "2")
    assert warm == cold and pools == []
    target = project / "svc" / "SVC001" / "bad.yaml"
    target.write_text(target.read_text().replace("- ipv6   # lower case is rejected", "- IPv6"))
    _, changed = run("--jobs", "2")
    # one changed file: linted here, no pool for it; the profile (its sources' stats changed) is
    # built again, its files read by workers
    assert pools == [2]
    _, fresh = run("--no-cache", "--jobs", "2")
    # a cold run: one set of workers reads the profile sources, then lints
    assert changed == fresh != warm and pools == [2, 2]


def test_profile_scan_skips_files_whose_evidence_would_not_be_kept(tmp_path, monkeypatch):
    """Only the first three pieces of a platform evidence kind are kept (by location), so a file
    that can give nothing else is not parsed once three are held before it; the profile is the
    same as when every file is parsed, also when walk order and location order differ."""
    from v6lint import project as project_module
    from v6lint.rule import Profile

    service = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  annotations:\n"
               "    service.beta.kubernetes.io/aws-load-balancer-type: external\nspec:\n  type: LoadBalancer\n")
    # os.walk visits `a` before `a-b`, but "a-b/..." sorts before "a/..." as a location
    for folder in ("a", "a-b", "b"):
        for i in range(4):
            path = tmp_path / folder / f"svc{i}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(service.format(name=f"{folder}-{i}"))
    (tmp_path / "b" / "lbc.yaml").write_text(  # names the controller: its version is a fact of its own
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: aws-load-balancer-controller\n"
        "  annotations:\n    alb.ingress.kubernetes.io/x: y\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: c\n          image: public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    parsed = []
    real_parse = project_module.parse_source
    monkeypatch.setattr(project_module, "parse_source", lambda source: parsed.append(source.path) or real_parse(source))
    skipping = project_module.build_profile(tmp_path, [], Profile())
    assert len(parsed) == 7 and "b/lbc.yaml" in parsed  # a: 3, a-b: 3 (they sort first), b: the controller
    parsed.clear()
    monkeypatch.setattr(project_module._Collector, "nothing_to_add", lambda *_args: False)
    everything = project_module.build_profile(tmp_path, [], Profile())
    assert len(parsed) == 13
    assert skipping == everything
    assert [s.location for s in skipping.platform_sources if s.kind == "aws-annotation"] == \
        ["a-b/svc0.yaml:6", "a-b/svc1.yaml:6", "a-b/svc2.yaml:6"]
    assert skipping.facts.lbc_version == ("2.7.1", "b/lbc.yaml:12")


def test_warm_run_reads_only_the_files_with_findings_or_changes(project, monkeypatch):
    """A file the cache knows, unchanged by its stat alone (size, mtime, ctime, inode), is not read
    when the report shows no source text (JSON, concise...); the full text format reads the files
    with findings (it shows their lines); a changed file is read and linted again. Output is the
    same as a cold run's."""
    import os

    from v6lint import discovery, engine

    monkeypatch.setattr(discovery, "SETTLED_NS", -10**12)  # files written by this test count as settled
    _, cold = run("--jobs", "1")
    cold_text = CliRunner().invoke(main, ["check", "--exit-zero", "--no-cache"]).output
    reads = []
    real_read = engine.read_regular
    monkeypatch.setattr(engine, "read_regular", lambda path, limit: reads.append(os.path.relpath(path))
                        or real_read(path, limit))
    _, warm = run("--jobs", "1")
    assert warm == cold
    # read still: files a kustomization builds (its findings are placed on their text) and files whose
    # notice says they could not be read or decoded (never cached)
    notices = {d["path"] for d in json.loads(cold) if d["code"] in ("V6L902", "V6L903", "V6L905")}
    assert reads and all(path in notices or path.startswith("projects/kustomize") for path in reads), reads
    with_findings = {d["path"] for d in json.loads(cold)}
    assert CliRunner().invoke(main, ["check", "--exit-zero", "--jobs", "1"]).output == cold_text
    assert set(reads) <= with_findings and len(reads) > 50
    clean = next(p for p in sorted((project / "svc").rglob("good.yaml"))
                 if p.relative_to(project).as_posix() not in with_findings)
    first = set(reads)
    reads.clear()
    clean.write_text(clean.read_text() + "\n")  # same findings (none), new stat
    again = CliRunner().invoke(main, ["check", "--exit-zero", "--jobs", "1"]).output
    assert again == cold_text and set(reads) == first | {clean.relative_to(project).as_posix()}


def test_a_warm_run_looks_at_each_file_once_by_its_stat(project, monkeypatch):
    """Nothing changed: a profile source is stat'ed once for the profile's key and once by the lint
    pass (its settled stat and real path from one lstat); none is read, and each folder is looked at
    once for a config (by the walk, project roots, settings and the profile together)."""
    import os

    from v6lint import discovery, engine

    monkeypatch.setattr(discovery, "SETTLED_NS", -10**12)  # files written by this test count as settled
    _, cold = run("--jobs", "1")
    looks: dict[str, int] = {}
    configs: dict[str, int] = {}
    for module, name in ((os, "stat"), (os, "lstat")):
        real = getattr(module, name)

        def counted(path, *args, _real=real, **kwargs):
            key = os.fspath(path)
            if isinstance(key, str) and key.endswith((".yaml", ".tf", ".py")):
                key = os.path.basename(os.path.dirname(key)) + "/" + os.path.basename(key)
                looks[key] = looks.get(key, 0) + 1
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    from v6lint import config

    real_config_in = config._config_in

    def config_in(folder):
        configs[str(folder)] = configs.get(str(folder), 0) + 1
        return real_config_in(folder)

    monkeypatch.setattr(config, "_config_in", config_in)
    reads = []
    real_read = engine.read_regular
    monkeypatch.setattr(engine, "read_regular", lambda path, limit: reads.append(str(path)) or real_read(path, limit))
    _, warm = run("--jobs", "1")
    assert warm == cold
    assert looks["SVC001/bad.yaml"] == 2 and looks["SVC009/good.yaml"] == 2, looks
    in_svc = {os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p) for p in
              map(str, (project / "svc").rglob("*.yaml"))}
    assert len(in_svc) > 30 and all(looks[name] == 2 for name in in_svc)
    assert not [path for path in reads if path.startswith("svc")]
    assert configs and max(configs.values()) == 1


def test_the_walk_and_real_paths_match_os_walk_and_realpath(tmp_path):
    """discovery._walk is os.walk (top-down, no linked folder entered, an unreadable folder skipped)
    that also names the symlinks it listed; real_folder and real_path are os.path.realpath."""
    import os

    from v6lint.discovery import _walk, real_folder, real_path

    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "z").mkdir()
    (tmp_path / "a" / "f.yaml").write_text("x: 1\n")
    (tmp_path / "z" / "g.yaml").write_text("x: 1\n")
    (tmp_path / "a" / "to-z").symlink_to(tmp_path / "z")  # a linked folder: listed, not entered
    (tmp_path / "a" / "b" / "link.yaml").symlink_to(tmp_path / "a" / "f.yaml")
    (tmp_path / "a" / "b" / "broken.yaml").symlink_to(tmp_path / "nowhere")
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path / "a")  # a loop, never followed
    (tmp_path / "locked").mkdir()
    os.chmod(tmp_path / "locked", 0)
    try:
        ours = [(folder, sorted(dirs), sorted(names), sorted(links)) for folder, dirs, names, links
                in _walk(str(tmp_path))]
        theirs = [(folder, sorted(dirs), sorted(names)) for folder, dirs, names in os.walk(str(tmp_path))]
    finally:
        os.chmod(tmp_path / "locked", 0o700)
    assert [row[:3] for row in ours] == theirs
    assert {row[0]: row[3] for row in ours}[str(tmp_path / "a" / "b")] == ["broken.yaml", "link.yaml", "up"]
    memo: dict[str, str] = {}
    for folder in (tmp_path / "a" / "to-z", tmp_path / "a" / "b" / "up" / "b", tmp_path / "a" / "b" / "c", tmp_path):
        assert real_folder(str(folder), memo) == os.path.realpath(folder)
    for path in ("a/b/link.yaml", "a/b/up/f.yaml", "a/to-z/g.yaml", "a/b/broken.yaml", "a/b/../f.yaml"):
        assert real_path(tmp_path / path, memo) == os.path.realpath(tmp_path / path), path


def test_a_file_written_just_now_is_judged_by_its_digest_not_its_stat(tmp_path):
    target = tmp_path / "svc.yaml"
    target.write_text("apiVersion: v1\nkind: Service\n")
    assert cache.ResultCache.stat_key(target) is None  # written within SETTLED_NS: a stat cannot vouch yet
    assert cache.ResultCache.stat_key(tmp_path / "missing.yaml") is None


def test_bench_corpus_is_a_realistic_mix_and_deterministic(tmp_path):
    """`python -m v6lint.bench corpus`: the same files for the same seed; most files hold nothing the
    rules report, a few do (Services, VPCs, Spark jobs), and every file parses."""
    from v6lint.bench import main as bench

    assert bench(["corpus", str(tmp_path / "a"), "--files", "400", "--seed", "3"]) == 0
    assert bench(["corpus", str(tmp_path / "b"), "--files", "400", "--seed", "3"]) == 0
    first = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(first) == 400
    assert first == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in first)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--exit-zero", "--output-format", "json",
                                       str(tmp_path / "a")])
    found = json.loads(result.output)
    flagged = {d["path"] for d in found}
    assert 0 < len(flagged) < len(first) // 10  # about 1 file in 20 matters for IPv6
    assert not [d for d in found if d["code"].startswith("V6L")]  # every generated file parses
    assert {d["code"] for d in found} <= {"LB003", "SPK001", "TF007", "SVC010", "LB001", "LB002"}


def test_the_quick_nesting_check_never_misses_a_deep_file():
    """may_nest_deeper is the cheap guard before nesting_bound: whenever the bound passes MAX_DEPTH,
    the guard said it might (deep indentation, `- ` runs, brackets, with blank and comment lines)."""
    from hypothesis import given, settings, strategies as st

    from v6lint.yaml_source import MAX_DEPTH, may_nest_deeper, nesting_bound

    piece = st.sampled_from([" ", "- ", "? ", "-", "[", "{", "]", "}", "a: ", "#", "\n", "\r\n", "x"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(piece, st.integers(1, 120)), max_size=12))
    def check(parts):
        text = "".join(p * n for p, n in parts)
        if nesting_bound(text) > MAX_DEPTH:
            assert may_nest_deeper(text)

    check()
    assert may_nest_deeper("- " * 101 + "x\n") and nesting_bound("- " * 101 + "x\n") > MAX_DEPTH
    assert not may_nest_deeper("a:\n  b: [1, 2]\n  c: {d: e}\n")
    deep = " " * MAX_DEPTH + "- x"  # on the first line, after a line break, not after a lone CR
    assert may_nest_deeper(deep) and may_nest_deeper("a: 1\n" + deep) and not may_nest_deeper("a: 1\r" + deep)
    assert not may_nest_deeper(" " * MAX_DEPTH + "x") and not may_nest_deeper("a: 1\nb:" + deep)


def test_result_cache_entries_of_a_wrong_shape_are_misses(tmp_path, monkeypatch):
    """Findings are stored as one JSON string per file, decoded only on use; anything else is a miss."""
    import sqlite3

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cache.ResultCache, "READS", 1)  # (each look-up sees the rows written before it)
    results = cache.ResultCache(tmp_path, "k")
    assert results.entry("/p/a.yaml") is None and not results.has_entries
    results.put("/p/b.yaml", "d", None, None, [])
    results.save()
    stat = "1,2,3,4,5"

    def row(*values) -> None:
        with sqlite3.connect(results.file) as db:
            db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)", (b"/p/a.yaml", *values))

    for findings in ("not json", "{}", "[1]", '[{"code": "SVC001"}]', "[" * 100_000):
        row("d", findings, stat)
        entry = results.entry("/p/a.yaml")
        assert entry is not None and entry.fresh(stat) and results.findings(entry, "a.yaml") is None
    for values in ((b"d", "[]", stat), ("d", b"[]", stat), ("d", "[]", b"1,2,3,4,5")):  # SQLite keeps any type
        row(*values)
        assert results.entry("/p/a.yaml") is None
    row("d", "[]", stat)
    entry = results.entry("/p/a.yaml")
    assert entry == ("d", "[]", stat) and results.findings(entry, "a.yaml") == [] and entry.fresh(stat)
    assert not entry.fresh("1,2,3,4,6") and not entry.fresh(None)


def test_the_result_cache_is_read_row_by_row_and_written_in_batches(tmp_path, monkeypatch):
    """A run never holds the whole cache: rows are looked up one file at a time, and written every
    BATCH results (a killed run keeps what it wrote); other settings' caches beyond the newest few
    and the whole-JSON caches of earlier versions are removed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cache.ResultCache, "BATCH", 3)
    home = cache.location(tmp_path) / cache.__version__
    for n in range(cache.MAX_PROFILES + 1):
        other = cache.ResultCache(tmp_path, f"other{n}")
        other.put("/p/0.yaml", "d", None, None, [])
        other.save()
    (home / "results-old.json").write_text("{}")
    results = cache.ResultCache(tmp_path, "k")
    for n in range(7):
        results.put(f"/p/{n}.yaml", f"d{n}", None, None, [])
        assert (home / "results-k.sqlite").exists() == (n >= 2)
    assert cache.ResultCache(tmp_path, "k").entry("/p/5.yaml") == ("d5", "[]", None)  # (another reader)
    assert cache.ResultCache(tmp_path, "k").entry("/p/6.yaml") is None  # not yet written
    results.save()
    assert cache.ResultCache(tmp_path, "k").entry("/p/6.yaml") == ("d6", "[]", None)
    assert len(list(home.glob("results-*.sqlite"))) == cache.MAX_PROFILES
    assert not list(home.glob("*.json")) and (home / "results-k.sqlite").exists()


def test_a_forked_worker_never_uses_its_parents_cache_connection(tmp_path, monkeypatch):
    """SQLite forbids carrying a connection across fork: a child sets the parent's aside (neither
    used nor closed there) and reads through its own; the parent's goes on working."""
    import os

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    results = cache.ResultCache(tmp_path, "k")
    results.put("/p/a.yaml", "d", None, None, [])
    results.save()
    inherited = results._db
    assert inherited is not None and results.entry("/p/a.yaml") == ("d", "[]", None)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        ok = results._db is None and inherited in cache._ABANDONED and results.entry("/p/a.yaml") == ("d", "[]", None) \
            and results._db is not inherited
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    assert results._db is inherited and results.entry("/p/a.yaml") == ("d", "[]", None)


def test_the_garbage_collector_waits_while_a_file_is_judged_and_comes_back(monkeypatch):
    import gc

    from v6lint import engine
    from v6lint.config import Settings
    from v6lint.source import SourceFile

    seen = []
    real = engine._judge
    monkeypatch.setattr(engine, "_judge", lambda source, linters: seen.append(gc.isenabled()) or real(source, linters))
    linter = engine.Linter(Settings())
    assert gc.isenabled()
    found = linter.lint_source(SourceFile("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                                                      "spec:\n  ipFamilies: [ipv6]\n"))
    assert seen == [False] and gc.isenabled() and [d.code for d in found] == ["SVC001"]
    monkeypatch.setattr(engine, "_judge", lambda source, linters: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        linter.lint_source(SourceFile("svc.yaml", "a: 1\n"))
    assert gc.isenabled()  # also after an error
    gc.disable()
    try:
        monkeypatch.setattr(engine, "_judge", real)
        linter.lint_source(SourceFile("svc.yaml", "a: 1\n"))
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()


def _parsed_documents(monkeypatch) -> list:
    """Weak references to the documents of every parse from now on."""
    import weakref

    from v6lint import sources

    refs: list = []
    real = sources._parse

    def parse(source, *args):
        parsed = real(source, *args)
        refs.extend(weakref.ref(doc) for doc in parsed.documents)
        return parsed

    monkeypatch.setattr(sources, "_parse", parse)
    return refs


_SPARK_IMDS = ("apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata: {name: j}\nspec:\n"
               "  driver:\n    env:\n    - name: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE\n      value: IPv6\n")


def test_judged_documents_are_freed_without_the_cycle_collector(monkeypatch):
    """A view holds its document (a reference cycle): once a file is judged its documents' views are
    dropped, so the documents are freed when the last reference goes, not by the cyclic garbage
    collector walking every node again. Views are still shared by the rules of the file."""
    import gc

    from v6lint import engine
    from v6lint.config import Settings
    from v6lint.rules.views import ServiceSpec
    from v6lint.source import SourceFile

    refs = _parsed_documents(monkeypatch)
    built = []
    real_init = ServiceSpec.__init__
    monkeypatch.setattr(ServiceSpec, "__init__", lambda self, doc: built.append(1) or real_init(self, doc))
    linter = engine.Linter(Settings())
    gc.disable()
    try:
        found = linter.lint_source(SourceFile("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
                                                          "spec:\n  ipFamilies: [ipv6, IPv6, IPv6]\n"))
        assert {d.code for d in found} == {"SVC001", "SVC003"} and built == [1]  # two rules, one view
        assert len(refs) == 1 and refs[0]() is None  # freed while the collector was off
    finally:
        gc.enable()


def test_the_profile_scan_frees_the_documents_it_does_not_keep(monkeypatch):
    """The scan reads a Spark job's env through a view: a parse it does not keep for the lint pass is
    freed at once; a kept one keeps its views for the lint pass, which then frees it."""
    import gc

    from v6lint import engine, project
    from v6lint.config import Settings
    from v6lint.sources import SHARED

    refs = _parsed_documents(monkeypatch)
    path = Path("/nowhere/job.yaml")
    gc.disable()
    try:
        part, parsed = project.file_facts(path, str(path), _SPARK_IMDS)
        # (the job's place is shown relative to the working folder when that is near: either spelling)
        [job] = part.facts.imds_ipv6_jobs
        assert job.endswith("nowhere/job.yaml:1") and not parsed.documents[0].views
        del parsed
        assert len(refs) == 1 and refs[0]() is None
        SHARED.clear()
        taken = SHARED.taken
        part, parsed = project.file_facts(path, str(path), _SPARK_IMDS, share=True)
        assert part.facts.imds_ipv6_jobs and len(parsed.documents[0].views) == 1  # kept with its view
        source = SHARED.kept[str(path)][0]
        del parsed
        engine.Linter(Settings()).lint_source(source)
        assert SHARED.taken == taken + 1 and refs[1]() is None
    finally:
        gc.enable()
        SHARED.clear()


def test_the_profile_scan_spells_a_files_path_for_display_only_when_it_shows_or_weighs_it(tmp_path, monkeypatch):
    """Most profile candidates hold nothing the profile reads: the scan works out how a file's path is
    shown (display_path) only for a file whose evidence it weighs or whose parse it makes, not per file."""
    from v6lint import project

    (tmp_path / "plain.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n")
    (tmp_path / "job.yaml").write_text(_SPARK_IMDS)
    shown = []
    real = project.display_path
    monkeypatch.setattr(project, "display_path", lambda path: shown.append(os.path.basename(path)) or real(path))
    files = [str(tmp_path / "plain.yaml"), str(tmp_path / "job.yaml")]
    collected = project.collect(files)
    assert [job.rsplit(":", 1)[0] for job in collected.facts.imds_ipv6_jobs] == [real(files[1])]
    assert "plain.yaml" not in shown and "job.yaml" in shown
    assert project._share_of(files[0], {}, project._Collector()) is None and "plain.yaml" not in shown


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_scan_chunk_freezes_what_it_keeps_and_collects_its_young_cycles(monkeypatch):
    """A worker's scan chunk ends with a collection of the young generations, then gc.freeze: what
    the chunk keeps (a parse for the lint pass) is frozen, so later collections do not walk it,
    while a reference cycle the chunk let go is collected, not frozen for the rest of the run."""
    import gc
    import signal
    import weakref

    from v6lint import project, workers

    kept: list = []
    dropped: list = []

    def share_of(path, dirs, held, keep=()):
        kept.append(_Cycle())  # held past the chunk, as a kept parse is
        dropped.append(weakref.ref(_Cycle()))  # garbage the reference counts cannot free
        return None

    class Conn:
        def __init__(self, messages):
            self.messages, self.sent = list(messages), []

        def recv(self):
            return self.messages.pop(0)

        def send(self, message):
            self.sent.append(message)

    monkeypatch.setattr(project, "_share_of", share_of)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # (the test process keeps its handlers)
    conn = Conn([("scan", (1, ["a.yaml", "b.yaml"])), ("stop", None)])
    try:
        workers._serve(conn, workers.Workers(2))
        young = [o for generation in range(3) for o in gc.get_objects(generation)]
        assert conn.sent == [("ok", (None, [], []))]
        assert len(kept) == 2 and gc.is_tracked(kept[0]) and not any(o is k for o in young for k in kept)  # frozen
        assert [ref() for ref in dropped] == [None, None]  # collected
    finally:
        gc.unfreeze()


def test_profiles_of_other_versions_or_options_are_kept_beside_the_newest(tmp_path):
    """Two builds (or two sets of options) sharing a checkout each keep their cached profile: saving
    one deletes only what is beyond the newest few, oldest first."""
    import os
    import time

    from v6lint.rule import Profile

    (tmp_path / ".git").mkdir()
    for n in range(cache.MAX_PROFILES + 2):
        cache.save_profile(tmp_path, f"k{n}", Profile(f"ipv{4 if n % 2 else 6}"))
        written = cache.location(tmp_path) / cache.__version__ / f"profile-k{n}.json"
        stamp = time.time_ns() - (100 - n) * 10**9  # one second apart, in order
        os.utime(written, ns=(stamp, stamp))
    kept = sorted(p.name for p in (cache.location(tmp_path) / cache.__version__).glob("profile-*.json"))
    assert kept == [f"profile-k{n}.json" for n in range(2, cache.MAX_PROFILES + 2)]
    assert cache.load_profile(tmp_path, "k2") == Profile("ipv6") and cache.load_profile(tmp_path, "k1") is None


def _related(directory: str, other: str) -> bool:  # the rule's old scan, as the reference
    import os

    return directory == other or directory.startswith(other + os.sep) or other.startswith(directory + os.sep)


def test_prefix_delegation_near_is_the_first_related_place_of_the_old_scan():
    from hypothesis import given
    from hypothesis import strategies as st

    from v6lint.project import ProjectFacts

    folders = st.lists(st.sampled_from(["a", "b", "ab", "a-b"]), min_size=0, max_size=4).map(lambda p: "/" + "/".join(p))

    @given(st.lists(folders, max_size=6), folders)
    def check(places, here):
        facts = ProjectFacts(prefix_delegation_all=[(p, f"f{i}.yaml:1") for i, p in enumerate(places)])
        expected = next((where for place, where in facts.prefix_delegation_all if _related(here, place)), None)
        assert facts.prefix_delegation_near(here) == expected

    check()


def test_prefix_delegation_near_costs_the_same_per_file_at_any_corpus_size():
    """Every node-group document asks for the prefix delegation near it; the old scan went through
    every place for every document (quadratic). 4x the places and the askers: ~4x the time, not 16x."""
    import time

    from v6lint.project import ProjectFacts

    def seconds(n: int) -> float:
        facts = ProjectFacts(prefix_delegation_all=[(f"/repo/team-{i}/stack", f"t{i}.tf:3") for i in range(n)])
        start = time.process_time()
        for i in range(n):
            facts.prefix_delegation_near(f"/repo/other-{i}/nodes")  # none related: the old scan's worst case
        return time.process_time() - start

    seconds(200)  # warm up
    small, large = min(seconds(2000) for _ in range(3)), min(seconds(8000) for _ in range(3))
    assert large < 8 * small, (small, large)


def test_each_file_is_parsed_once_per_run_and_findings_are_the_same(tmp_path, monkeypatch):
    """The profile scan keeps its parses (within a budget) for the lint pass of the same process:
    a file holding a profile source or a fact is parsed once, not twice; with no budget it is
    parsed twice and the findings are the same."""
    import os
    from collections import Counter

    from v6lint import sources

    (tmp_path / ".git").mkdir()
    (tmp_path / "prod.tfvars").write_text("enable_ipv6 = true\n")
    (tmp_path / "cluster.yaml").write_text("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n"
                                           "metadata: {name: c, region: us-east-1}\nkubernetesNetworkConfig:\n"
                                           "  ipFamily: IPv4\n")
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n"
                                       "    service.beta.kubernetes.io/aws-load-balancer-type: external\n"
                                       "spec:\n  type: LoadBalancer\n  ipFamilies: [IPv4]\n")
    (tmp_path / "plain.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    monkeypatch.chdir(tmp_path)
    parsed: Counter = Counter()
    real_parse = sources._parse
    monkeypatch.setattr(sources, "_parse", lambda source, *a: parsed.update([os.path.basename(source.abspath or "")])
                        or real_parse(source, *a))
    _, once = run("--no-cache", "--jobs", "1")
    # (plain.yaml: no rule can find anything in it, only syntax-checked; see test_gates)
    assert parsed == Counter({"prod.tfvars": 1, "cluster.yaml": 1, "svc.yaml": 1})
    assert "PRF001" in once and "SVC009" in once
    parsed.clear()
    monkeypatch.setattr(sources.SHARED, "budget", 0)
    _, twice = run("--no-cache", "--jobs", "1")
    assert parsed == Counter({"prod.tfvars": 2, "cluster.yaml": 2, "svc.yaml": 2})
    assert twice == once


def _parse_log(monkeypatch, log: Path):
    """Each parse's real path appended to `log` (worker processes inherit the wrapper and write there)."""
    from v6lint import sources

    real_parse = sources._parse

    def counted(source, *args):
        with open(log, "a") as handle:
            handle.write(f"{source.abspath}\n")
        return real_parse(source, *args)

    monkeypatch.setattr(sources, "_parse", counted)

    def counts():
        from collections import Counter

        found = Counter(log.read_text().splitlines()) if log.exists() else Counter()
        log.unlink(missing_ok=True)
        return found

    return counts


def test_each_file_is_parsed_once_with_worker_processes_also_through_a_symlink(tmp_path, monkeypatch):
    """With --jobs 2 the profile scan and the lint pass run in the same worker processes: a worker
    lints the files whose parse it kept from the scan, so every file is parsed once, also when the
    project is reached through a symlinked folder (the scan shows its files by the real path, the
    lint pass by the link). With no budget the scan's files are parsed twice; the findings are the
    same each way, and as one process finds them."""
    from v6lint import sources

    project = tmp_path / "real" / "project"
    (project / ".git").mkdir(parents=True)
    (project / "prod.tfvars").write_text("enable_ipv6 = true\n")
    (project / "cluster.yaml").write_text("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n"
                                          "metadata: {name: c, region: us-east-1}\nkubernetesNetworkConfig:\n"
                                          "  ipFamily: IPv4\n")
    for i in range(120):  # profile candidates: Terraform stacks and IRSA service accounts
        (project / f"stack{i}").mkdir()
        (project / f"stack{i}" / "main.tf").write_text(
            f'variable "region{i}" {{\n  default = "us-east-1"\n}}\n'
            f'resource "aws_vpc" "v{i}" {{\n  cidr_block = "10.{i}.0.0/16"\n}}\n')
        (project / f"stack{i}" / "sa.yaml").write_text(
            f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app{i}\n  annotations:\n"
            f"    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/app{i}\n")
        (project / f"stack{i}" / "svc.yaml").write_text(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: web{i}\nspec:\n  ipFamilies: [IPv4]\n"
            f"  ipFamilyPolicy: SingleStack\n")
    (tmp_path / "via").symlink_to(project)
    monkeypatch.chdir(tmp_path)
    counts = _parse_log(monkeypatch, tmp_path / "parses.log")
    _, one = run("--no-cache", "--jobs", "1", "via")
    assert counts()[str(project.resolve() / "prod.tfvars")] == 1  # --jobs 1: through the link as well
    _, once = run("--no-cache", "--jobs", "2", "via")
    parsed = counts()
    candidates = {str(project.resolve() / name) for name in ("prod.tfvars", "cluster.yaml")} | {
        str(project.resolve() / f"stack{i}" / name) for i in range(120) for name in ("main.tf", "sa.yaml")}
    assert set(parsed) >= candidates and max(parsed.values()) == 1
    findings = json.loads(once)
    assert {d["code"] for d in findings} >= {"PRF001", "SVC009"}
    assert all(d["path"].startswith("via/") for d in findings)
    assert "real/project/prod.tfvars:1" in once  # the profile's sources by their real path, as before
    monkeypatch.setattr(sources.SHARED, "budget", 0)
    _, twice = run("--no-cache", "--jobs", "2", "via")
    assert [n for path, n in counts().items() if path in candidates] == [2] * len(candidates)
    assert once == twice == one


@pytest.mark.parametrize("failure", ["raises", "dies"])
def test_a_worker_that_fails_ends_the_run_as_an_internal_error(project, monkeypatch, failure):
    """An exception in a worker is the run's internal error, as in one process; a worker that dies
    (killed, out of memory) ends the run the same way, in the profile scan or the lint pass."""
    import os

    from v6lint import engine, project as project_module

    def failing(real):
        def fail(path, *args, **kwargs):
            if str(path).endswith(("SVC001/bad.yaml", ".tfvars")) and os.getpid() != parent:
                if failure == "dies":
                    os._exit(3)
                raise RuntimeError(f"failed on {os.path.basename(path)}")
            return real(path, *args, **kwargs)
        return fail

    parent = os.getpid()
    for phase, module, name in (("lint", engine, "read_regular"), ("scan", project_module, "read_regular")):
        with monkeypatch.context() as patched:
            patched.setattr(project_module, "PARALLEL_MIN_FILES", 1)  # the profile scan in workers too
            patched.setattr(module, name, failing(getattr(module, name)))
            result = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", "2", "--output-format", "json"])
        assert result.exit_code == 2, (phase, result.output)
        expected = "RuntimeError: failed on" if failure == "raises" else "BrokenProcessPool"
        assert f"v6lint: internal error: {expected}" in result.output, (phase, result.output)


def test_a_kept_parse_serves_only_an_equal_source_and_the_budget_holds():
    from v6lint.source import SourceFile
    from v6lint.sources import ParseShare, parse_source

    share = ParseShare(budget=30)
    first = SourceFile("a.yaml", "kind: ConfigMap\n", abspath="/r/a.yaml")
    share.offer(first, parse_source(first))
    share.offer(SourceFile("b.yaml", "x" * 20, abspath="/r/b.yaml"), parse_source(first))  # over the budget
    assert list(share.kept) == ["/r/a.yaml"] and share.size == len(first.text)
    assert share.take(SourceFile("a.yaml", "kind: Secret\n", abspath="/r/a.yaml")) is None  # changed meanwhile
    assert share.size == 0 and share.take(first) is None  # taken (and dropped) once
    share.offer(first, parsed := parse_source(first))
    assert share.take(SourceFile("a.yaml", "kind: ConfigMap\n", abspath="/r/a.yaml")) is parsed
    assert share.take(SourceFile("a.yaml", "kind: ConfigMap\n", abspath="/r/a.yaml", language="spark-conf")) is None


def test_a_full_budget_keeps_terraform_parses_in_place_of_yaml_ones():
    """Terraform parses cost ~3.5x YAML ones to build again for about the same memory: when the
    budget is full, a Terraform parse takes the place of the YAML parses kept last (their views,
    which may refer to their document, dropped with them), never of other Terraform ones."""
    from v6lint.source import SourceFile
    from v6lint.sources import ParseShare, parse_source

    share = ParseShare(budget=55)
    a, b = (SourceFile(f"{n}.yaml", "kind: ConfigMap\n", abspath=f"/r/{n}.yaml") for n in "ab")
    share.offer(a, parse_source(a))
    share.offer(b, dropped := parse_source(b))
    dropped.documents[0].views["view"] = dropped.documents[0]
    main_tf = SourceFile("main.tf", 'variable "v" {\n  default = 1\n}\n', abspath="/r/main.tf")
    share.offer(main_tf, parse_source(main_tf))  # 31 characters: b (16) makes room, a stays
    assert list(share.kept) == ["/r/a.yaml", "/r/main.tf"] and share.size == 16 + 31
    assert dropped.documents[0].views == {}
    big_tf = SourceFile("big.tf", 'variable "w" {\n  default = 1\n}\n' * 2, abspath="/r/big.tf")
    share.offer(big_tf, parse_source(big_tf))  # not even with a's room: nothing let go for it
    share.offer(c := SourceFile("c.yaml", "kind: Secret\n", abspath="/r/c.yaml"), parse_source(c))  # no room
    assert list(share.kept) == ["/r/a.yaml", "/r/main.tf"] and share.size == 16 + 31
    assert share.take(main_tf) is not None and share.take(a) is not None and share.size == 0


def _group(pgid: int) -> list[int]:
    """The processes of a process group that are still running (zombies are done)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_run_with_workers_leaves_no_process_behind(tmp_path, how):
    """Ctrl-C (SIGINT to the whole process group) mid-run exits 130 as in one process; a SIGTERM to
    the parent alone ends it, and its workers end as soon as they find their parent gone."""
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "many"
    for i in range(3000):
        folder = root / f"d{i % 30}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"s{i}.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n"
                                           "    service.beta.kubernetes.io/aws-load-balancer-type: external\n"
                                           "spec:\n  ipFamilies: [IPv4, IPv4]\n  ipFamilyPolicy: SingleStack\n")
    (root / ".git").mkdir()
    exe = str(Path(sys.executable).parent / "v6lint")
    proc = subprocess.Popen([exe, "check", "--no-cache", "--jobs", "2", "."], cwd=root, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(_group(proc.pid)) < 3:
        time.sleep(0.01)
    assert proc.poll() is None and len(_group(proc.pid)) == 3  # the parent and its two workers, at work
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        assert proc.stderr is not None and b"v6lint: interrupted" in proc.stderr.read()
    else:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == -signal.SIGTERM
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _group(proc.pid):
        time.sleep(0.05)
    assert _group(proc.pid) == []


def test_nodes_survive_pickling_whole_with_shared_and_cyclic_nodes():
    """Worker processes send nodes (profile facts) pickled as one tuple each: every field comes
    back, a node shared by two parents (a YAML alias) stays one node, and a cycle loads."""
    import pickle

    from v6lint.document import Node, walk
    from v6lint.source import SourceFile
    from v6lint.sources import parse_source

    text = "base: &b {port: 80, tags: [a, 'b']}\none: *b\ntwo: *b\nnull_value: ~\nblock: |\n  x\n"
    root = parse_source(SourceFile("a.yaml", text)).documents[0].root
    again = pickle.loads(pickle.dumps(root))
    fields = Node.__slots__[:1] + Node.__slots__[2:]
    assert [[getattr(n, f) for f in fields] for n in walk(again)] == [[getattr(n, f) for f in fields] for n in walk(root)]
    one, two = again.get("one"), again.get("two")
    assert one is two and one is again.get("base") and one.str_at("tags") is None and one.get("port").text == "80"
    cyclic = Node("seq", [], "", None, False, 0, 4)
    cyclic.value.append(cyclic)
    loaded = pickle.loads(pickle.dumps(cyclic))
    assert loaded.value[0] is loaded and (loaded.kind, loaded.start, loaded.end) == ("seq", 0, 4)


_SMALL_PIPES = """
import os, socket, sys
from v6lint import workers
from v6lint.cli import main

fork = workers.fork_context


class Small:  # the fork context, its pipes holding as little as the system allows (a few KiB)
    def __getattr__(self, name):
        return getattr(fork(), name)

    def Pipe(self):
        ends = fork().Pipe()
        for end in ends:
            sock = socket.socket(fileno=os.dup(end.fileno()))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1024)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            sock.close()
        return ends


workers.fork_context = Small
main(sys.argv[1:])
"""


def test_workers_never_wait_for_each_other_whatever_the_pipe_holds(tmp_path):
    """Messages and replies larger than the pipes between the processes hold (here the smallest
    the system allows: scan chunks of ~190 paths, replies holding their variables): a worker
    writing a reply waits for it to be read while the next message for it is written; both sides
    waiting for each other hung the run (with these pipes, and with the 100k-file corpus's chunks
    on the usual ones). Same findings as one process."""
    import subprocess
    import sys

    root = tmp_path / "deep" / ("folder-with-a-long-name-" * 4) / "project"
    zones = ", ".join(f'"zone-{k}"' for k in range(30))
    for i in range(3000):
        stack = root / f"stack-{i:04d}"
        stack.mkdir(parents=True)
        (stack / "main.tf").write_text(f'variable "enable_ipv6" {{\n  default = {str(i % 2 == 0).lower()}\n}}\n'
                                       f'variable "zones" {{\n  default = [{zones}]\n}}\n')
    (root / ".git").mkdir()
    args = ["check", "--no-cache", "--exit-zero", "--output-format", "json", str(root)]
    small = subprocess.run([sys.executable, "-c", _SMALL_PIPES, *args, "--jobs", "2"], capture_output=True,
                           timeout=120, cwd=tmp_path)
    one = subprocess.run([sys.executable, "-c", _SMALL_PIPES, *args, "--jobs", "1"], capture_output=True,
                         timeout=120, cwd=tmp_path)
    assert small.returncode == one.returncode == 0, small.stderr[-2000:]
    assert small.stdout == one.stdout and len(json.loads(small.stdout)) >= 1500


_SERVICES = """# Sérvice — ✓ 🚀
apiVersion: v1
kind: Service
metadata:
  name: wëb
  namespace: shop
spec:
  ipFamily: IPv6
  ipFamilyPolicy: SingleStack   # ünï 🚀
  ipFamilies:
    - IPv6   # ✓
    # the old family, kept while the 🚀 migration runs
    #
    #
    - IPv4
---
apiVersion: v1
kind: Service
metadata: {name: "wïde🚀", namespace: shop}
spec: {selector: {app: "wëb🚀"}, ipFamilyPolicy: RequireDualStack, ipFamilies: [ipv6, IPv4]}
"""


def _awkward_project(root: Path) -> None:
    """Files whose positions are easy to miscount: CRLF with a UTF-8 BOM, lone CR (one line to
    v6lint), UTF-16 with its BOM, astral and other non-ASCII characters before a finding on its
    line, a range over more lines than a snippet shows, tabs before a finding, a notebook cell."""
    (root / "k8s").mkdir(parents=True)
    (root / "tf").mkdir()
    (root / ".v6lint.toml").write_text('[cluster]\nip-family = "ipv6"\nplatform = "aws"\n')
    (root / "k8s" / "crlf.yaml").write_bytes(b"\xef\xbb\xbf" + _SERVICES.replace("\n", "\r\n").encode())
    (root / "k8s" / "cr.yaml").write_bytes(_SERVICES.replace("\n", "\r").encode())
    (root / "k8s" / "utf16.yaml").write_bytes(_SERVICES.encode("utf-16"))
    (root / "k8s" / "wide.yaml").write_text(_SERVICES, encoding="utf-8")
    (root / "tf" / "tabs.tf").write_bytes(b'module "eks" {\r\n\tsource\t= "terraform-aws-modules/eks/aws"\r\n'
                                          b'\tcluster_name = "sh\xc3\xb6p"  # \xf0\x9f\x9a\x80\r\n'
                                          b'\tip_family\t= "IPV6"\r\n}\r\n')
    cell = ["from pyspark.sql import SparkSession\n", "spark = (SparkSession.builder  # 🚀\n",
            '    .config("spark.kubernetes.driver.service.ipFamilies", "ipv6")\n', "    .getOrCreate())"]
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# ETL ✓"]},
                          {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": cell}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "job.ipynb").write_text(json.dumps(notebook, indent=1))


def test_findings_shown_without_their_text_equal_those_shown_from_it(tmp_path, monkeypatch):
    """A worker sends back no file text: each finding keeps what the report reads of it (the
    places of its fix's edits, the lines its snippet shows, the text its fingerprint reads;
    output.excerpt). Every format prints the same as from the whole text, with --jobs 1 and 2."""
    import pickle

    from v6lint import output
    from v6lint.workers import Workers

    _awkward_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    sent: dict[str, bytes] = {}
    real_map = Workers.map

    def recorded(self, paths, *args):
        for path, result in zip(paths, real_map(self, paths, *args)):
            sent[Path(path).as_posix()] = pickle.dumps(result)
            yield result

    def out(*args) -> str:
        result = CliRunner().invoke(main, ["check", "--exit-zero", "--no-cache", *args], catch_exceptions=False)
        assert result.exit_code == 0
        return result.output

    forms = (["--output-format", "full"], ["--output-format", "concise"], ["--output-format", "json"],
             ["--output-format", "sarif"], ["--output-format", "gitlab"], ["--output-format", "github"],
             ["--output-format", "junit"], ["--statistics"], ["--show-fixes"])
    for form in forms:
        with monkeypatch.context() as patched:
            patched.setattr(output, "excerpt", lambda *_args: False)  # every text kept to the report
            whole = out("--jobs", "1", *form)
        one = out("--jobs", "1", *form)
        with monkeypatch.context() as patched:
            patched.setattr(Workers, "map", recorded)
            two = out("--jobs", "2", *form)
        assert one == whole and two == whole, form
        assert len(sent) == 6
        if form != ["--show-fixes"]:  # (it shows each fix as a diff of the whole text)
            for name, unshown in (("k8s/crlf.yaml", "Sérvice"), ("k8s/utf16.yaml", "Sérvice"),
                                  ("k8s/wide.yaml", "Sérvice"), ("tf/tabs.tf", "terraform-aws-modules")):
                assert unshown.encode() not in sent[name], (form, name)  # a line no finding shows
            assert "SparkSession".encode() in sent["job.ipynb"]  # (a cell's lines are read from the notebook)
        sent.clear()
    full = out("--jobs", "2")
    assert "\n.. |\n15 |     - IPv4\n" in full and "\n4 | \tip_family\t= \"IPV6\"\n  | \t         \t  ^^^^^^\n" in full
    assert '20 | spec: {selector: {app: "wëb🚀"}, ipFamilyPolicy: RequireDualStack, ipFamilies: [ipv6, IPv4]}\n' \
           '   |                                                                                ^^^^\n' in full
