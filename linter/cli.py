"""The `v6lint` command line."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import click

from v6lint import __version__, replay
from v6lint.config import ConfigError, NearestConfigs, Settings, check_selectors, find_config, load_settings
from v6lint.discovery import READ_FILES, Discovered, Files, discover, display_path
from v6lint.cache import ResultCache, facts_digest, fingerprint
from v6lint.cache import clean as clean_cache
from v6lint.engine import (PARALLEL_MIN_FILES, FileResult, Linter, WriteError, check_files, counts_as_failure,
                           fix_files, judge, raise_on_sigterm, stream_files, write_atomic)
from v6lint.plan import TARGETS as PLAN_TARGETS
from v6lint.plan import project_plan, render_after_fix, target_profile, without_controller_pin
from v6lint.plan import render_html as render_plan_html
from v6lint.plan import render_json as render_plan_json
from v6lint.plan import render_text as render_plan_text
from v6lint.output import (GithubReport, GitlabReport, JsonReport, JunitReport, Report, SarifReport,
                           StatisticsReport, TextReport, Spool, no_changes_note, printable, render_diff, render_fixes,
                           reads, render_ignored)
from v6lint.project import (STRENGTH, Project, Projects, build_profile, clusters_of_other_families, find_project_root,
                            nested_projects, not_checked_message)
from v6lint.diagnostics import FAMILY_LABELS
from v6lint.rule import IP_FAMILIES, PLATFORMS, Profile
from v6lint.rules import ALL_RULES, lookup
from v6lint.workers import Workers, fork_context

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(values: tuple[str, ...]) -> list[str]:
    return [c.strip() for value in values for c in value.split(",") if c.strip()]


def _common_root(paths: list[str]) -> Path:
    existing = [Path(p).resolve() for p in paths if Path(p).exists()]
    if not existing:
        return Path.cwd()
    dirs = [p if p.is_dir() else p.parent for p in existing]
    common = dirs[0]
    for d in dirs[1:]:
        while common not in (d, *d.parents):
            common = common.parent
    return common


def _overridden(chosen: Settings, ip_family: str | None, platform: str | None, preview: bool | None,
                exclude: tuple[str, ...] = (), extend_exclude: tuple[str, ...] = ()) -> Settings:
    """A project's settings with the command line's options on top."""
    if ip_family:
        chosen.profile = replace(chosen.profile, ip_family=ip_family, source="--ip-family")
    if platform:
        chosen.profile = replace(chosen.profile, platform=platform, platform_source="--platform")
    if preview:
        chosen.preview = True
    if exclude:
        chosen.exclude = _codes(exclude)
    chosen.exclude = chosen.exclude + _codes(extend_exclude)
    return chosen


def load(config: str | None, paths: list[str], configs: dict[str, Path | None] | None = None) -> Settings:
    """The settings of `config`, or of the config nearest to `paths` (`configs`: see config.config_in)."""
    path = Path(config) if config else find_config(_common_root(paths), configs)
    if config and not Path(config).is_file():
        raise ConfigError(f"{config}: no such config file")
    return load_settings(path, ALL_RULES)


def _discover(paths: list[str], config: str | None, overridden, force_exclude: bool | None = None,
              warned: Path | None = None, configs: dict[str, Path | None] | None = None) -> Discovered:
    """The files to lint below `paths`, each folder judged by its nearest config (or --config) as
    the run applies it (`overridden`): a nested project's own excludes hold inside it. The warnings
    of each config read (but `warned`'s, already printed) go to stderr."""
    judges = NearestConfigs(lambda path: overridden(load_settings(path, ALL_RULES)), Path(config) if config else None,
                            configs)
    found = discover(paths, [], Path.cwd(), force_exclude=force_exclude, judges=judges)
    for path, settings in judges.loaded.items():
        if path is not None and (warned is None or path.resolve() != warned.resolve()):
            for warning in settings.warnings:
                _unreplayable("a warning was printed")
                click.echo(f"v6lint: warning: {warning}", err=True)
    return found


def _remember_verbose(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.meta["v6lint.verbose"] = True  # meta is shared by the group's and the command's contexts


def _verbose_option() -> click.Option:
    return click.Option(["--verbose"], is_flag=True, expose_value=False, callback=_remember_verbose,
                        help="On an internal error, print its traceback.")


class _Main(click.Group):
    """Every command takes --verbose. Ctrl-C exits 130, as shells expect (click would say 1), after the
    write in progress cleaned up. An internal error (an exception v6lint did not expect) exits 2 with
    one line on stderr; its traceback only with --verbose."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.append(_verbose_option())
        super().add_command(cmd, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("v6lint: interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, EOFError):
            raise  # click's own: usage errors (exit 2), --help, Ctrl-D
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # output piped to a reader that went away: click exits quietly
            verbose = ctx.meta.get("v6lint.verbose", False)
            if verbose:
                click.echo(traceback.format_exc(), err=True, nl=False)
            click.echo(printable(f"v6lint: internal error: {type(exc).__name__}: {exc}")
                       + ("" if verbose else " (run with --verbose for the traceback)"), err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="v6lint")
def main() -> None:
    """v6lint: find and fix what breaks Kubernetes, Spark and Terraform configuration on IPv6 and
    dual-stack clusters (EKS IPv6 mode).

    \b
    Examples:
      v6lint check .                       lint a repository
      v6lint check --ip-family ipv6 k8s/   judge files against an IPv6 cluster
      v6lint check --fix --diff .          show what --fix would change
      v6lint rule SVC004                   explain a rule
      v6lint plan --to ipv6 .              what breaks if the cluster moves to IPv6
    """


main.params.append(_verbose_option())  # `v6lint --verbose check` as well as `v6lint check --verbose`


OUTPUT_FORMATS = ["full", "concise", "text", "json", "sarif", "github", "junit", "gitlab"]
TEXT_FORMATS = ("full", "concise", "text")  # text: the same as full (the name of earlier releases)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Apply safe fixes in place (and unsafe ones with --unsafe-fixes).")
@click.option("--unsafe-fixes", is_flag=True, default=None,
              help="Also apply fixes that change behaviour (config: fix.unsafe).")
@click.option("--fix-only", is_flag=True,
              help="Apply fixes like --fix but report only what was fixed; remaining problems do not fail the run.")
@click.option("--exit-non-zero-on-fix", is_flag=True,
              help="Exit 1 when --fix changed a file, even if no problems remain (for fixing pre-commit hooks).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of what --fix would change and write nothing; exit 1 if it would change a file.")
@click.option("--add-ignore", "add_ignore", is_flag=False, flag_value="", default=None, metavar="[REASON]",
              help="Add a `# v6lint: ignore[CODE] REASON` comment (or the v6lint.io/ignore annotation) for every "
                   "current finding, to adopt v6lint on an existing repository.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules: codes, prefixes (SVC), names or ALL; comma-separated or repeated.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Enable these rules on top of the selection.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Disable these rules.")
@click.option("--exclude", multiple=True, metavar="PATTERNS",
              help="Paths not to lint (gitignore syntax; replaces the config's exclude).")
@click.option("--extend-exclude", multiple=True, metavar="PATTERNS", help="More paths not to lint.")
@click.option("--force-exclude/--no-force-exclude", default=None,
              help="Apply the excludes to files named on the command line too, as pre-commit passes them "
                   "(config: force-exclude).")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="full", show_default=True,
              help="full: each finding with its source line (text is the same); concise: one line each; json "
                   "(a list of diagnostics); sarif (2.1.0, for code scanning); github (workflow annotations); "
                   "junit (XML); gitlab (code quality report).")
@click.option("--statistics", is_flag=True, help="Print a count per rule instead of each finding.")
@click.option("--show-fixes", is_flag=True,
              help="Show each finding's fix as a diff; with --fix, also list what was fixed in each file.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only: no summary, no notes.")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--ip-family", type=click.Choice(IP_FAMILIES), default=None,
              help="The cluster's IP family; overrides cluster.ip-family in the config.")
@click.option("--platform", type=click.Choice(PLATFORMS), default=None,
              help="Where the cluster runs (aws: EKS or Kubernetes on EC2); overrides cluster.platform and "
                   "detection. Rules about AWS components run only on aws.")
@click.option("--preview", is_flag=True, default=None,
              help="Also run preview rules (config: preview = true); a preview rule selected by its exact "
                   "code runs without it.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems remain.")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the result cache (in the user cache directory).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes: 0 = all cores for runs of 200+ files, 1 = no workers.")
@click.option("--config", type=click.Path(dir_okay=False), default=None,
              help="Use this config file instead of the nearest .v6lint.toml / pyproject.toml.")
@click.option("--show-files", is_flag=True, help="List the files that would be linted, and exit.")
@click.option("--show-settings", is_flag=True,
              help="Print the settings and cluster profile the first of PATHS is judged by, with their sources, "
                   "and exit.")
@click.option("--stdin-filename", default=None, metavar="PATH",
              help="With `-` as the path: the name of the stream read from standard input, for output, config "
                   "and profile (e.g. `helm template ... | v6lint check - --stdin-filename chart/rendered.yaml`). "
                   "With --fix the fixed stream is written to standard output and the report to standard error.")
def check(paths, fix, unsafe_fixes, fix_only, exit_non_zero_on_fix, show_diff, add_ignore, select, extend_select,
          ignore, exclude, extend_exclude, force_exclude, output_format, statistics, show_fixes, quiet, output_file,
          ip_family, platform, preview, exit_zero, no_cache, jobs, config, show_files, show_settings,
          stdin_filename) -> None:
    """Lint PATHS (files or directories; default: the current directory).

    \b
    Exit codes: 0 no problems (or all fixed), 1 problems remain,
                2 bad arguments, bad configuration or an internal error.
    Info notices about skipped files (templates, oversized files) do not fail a run.
    """
    def refuse(message: str) -> None:
        click.echo(f"v6lint: error: {message}", err=True)
        sys.exit(EXIT_ERROR)

    machine = output_format not in TEXT_FORMATS
    if statistics and output_format not in (*TEXT_FORMATS, "json"):
        refuse(f"--statistics prints a count per rule, which --output-format {output_format} cannot hold; "
               f"use --statistics alone (or with --output-format json)")
    if add_ignore is not None and (fix or fix_only):
        refuse("--add-ignore suppresses findings and --fix repairs them: run one, then the other")
    if add_ignore is not None and statistics:
        refuse("--add-ignore cannot be combined with --statistics")
    fix = fix or fix_only
    paths = list(paths) or ["."]
    stdin = "-" in paths
    if stdin and paths != ["-"]:
        refuse("`-` (standard input) cannot be combined with other paths")
    if stdin and (show_diff or add_ignore is not None or show_files):
        refuse("--diff, --add-ignore and --show-files need files; standard input is checked, or fixed with --fix")
    if stdin_filename is not None and not stdin:
        refuse("--stdin-filename names standard input: give `-` as the path")
    stdin_path = Path(stdin_filename or "stdin.yaml")
    configs: dict[str, Path | None] = {}  # folder -> its v6lint config: looked at once per run (config.config_in)
    if stdin:
        paths = [os.path.dirname(os.path.abspath(stdin_path))]
    # A plain check started as `v6lint` records what its output is made of, to be replayed while
    # none of it changes (see v6lint.replay).
    replay.WITNESS = replay.Witness(replay.ARGV) if replay.ARGV is not None and not (
        stdin or fix or show_diff or add_ignore is not None or show_settings or show_files or no_cache
        or output_file is not None) else None
    try:
        settings = load(config, paths, configs)
        for flag, values in (("--select", select), ("--extend-select", extend_select)):
            check_selectors(_codes(values), ALL_RULES, flag)
        check_selectors(_codes(ignore), ALL_RULES, "--ignore", settings.warnings)
    except ConfigError as exc:
        refuse(str(exc))
    for warning in settings.warnings:
        _unreplayable("a warning was printed")
        click.echo(f"v6lint: warning: {warning}", err=True)

    def overridden(chosen: Settings) -> Settings:
        return _overridden(chosen, ip_family, platform, preview, exclude, extend_exclude)

    settings = overridden(settings)
    unsafe = settings.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    if stdin:
        found = _stdin_found(stdin_path)
    else:
        try:
            found = _discover(paths, config, overridden, force_exclude, settings.config_path, configs)
        except ConfigError as exc:
            refuse(str(exc))
    if not quiet:
        for folder in found.empty:
            _unreplayable("a note was printed")
            click.echo(f"v6lint: no files to check under {folder}", err=True)
    selected, extended, ignored = _codes(select) or None, _codes(extend_select), _codes(ignore)

    def linter_of(settings: Settings) -> Linter:
        return Linter(settings, select=selected, extend_select=extended, ignore=ignored)

    fallback = _common_root(paths)

    plain = not (stdin or add_ignore is not None or fix or show_diff or show_settings or show_files)
    workers = None
    if plain and jobs != 1 and (jobs > 1 or len(found.files) >= PARALLEL_MIN_FILES) and fork_context() is not None:
        # One set of worker processes for the profile scan and the lint pass: a worker lints the
        # files whose parse it kept from the scan (see workers.Workers); forked before the routes
        # exist, they build theirs from what the profile scan found (`given`, see routes).
        workers = Workers(jobs or min(os.cpu_count() or 1, 8), lintable=found.files,
                          factory=lambda given: routes(None, not no_cache, given)[0].__getitem__)

    def routes(overlay: dict[str, str] | None, cached: bool,
               given: tuple | None = None) -> tuple[_Routes, dict[Path, tuple]]:
        """Each file's (linter, result cache), and each project root's, for the projects of this run:
        a file is judged by the settings and profile of its own project (profiles never leak).
        `given`: in a worker process, what its parent found: (each project's profile by its root,
        and the number of each folder's project in that order)."""
        projects = Projects(lambda root: overridden(load(config, [str(root)], configs)), fallback, overlay=overlay,
                            use_cache=not no_cache and not overlay, jobs=jobs,
                            workers=workers if given is None else None, given=given[0] if given else None,
                            configs=configs, walk=found if given is None else None)

        def make(project: Project) -> tuple:
            linter = linter_of(project.settings)
            return linter, _result_cache(project, linter) if cached else None, project

        if given is None:
            per_file, per_root = _by_project(found.files, projects, make)
            return per_file.cut(2), per_root
        profiles, owners = given
        made = [make(projects.at(root))[:2] for root in profiles]
        return _Routes({folder: made[number] for folder, number in owners.items()}), {}

    latest: list = []  # the routes of the last project build (fix rounds rebuild them)

    def rebuild(overlay: dict[str, str], keyed: bool = True):
        """The routes for `overlay`, and (`keyed`: what fix rounds compare) a key of every project's facts."""
        latest[:] = routes(overlay or None, cached=not no_cache and not (fix or show_diff or add_ignore is not None))
        return latest[0].__getitem__, _facts_key(project for _l, _c, project in latest[1].values()) if keyed else None

    try:
        rebuild({}, keyed=False)
        if workers is not None and workers.started:  # (forked for the profile scan)
            number = {id(linter): n for n, (linter, _c, _p) in enumerate(latest[1].values())}
            workers.given = ({root: project.profile for root, (_l, _c, project) in latest[1].items()},
                             latest[0].by_folder(lambda route: number[id(route[0])]))
        if show_settings:
            click.echo(_show_settings(found.files[0] if found.files else Path(paths[0]), latest[0]), nl=False)
            return
        if show_files:
            click.echo("".join(f"{display_path(path)}\n" for path in found.files), nl=False)
            return
        if not (stdin or add_ignore is not None or fix or show_diff):
            _stream_check(found, latest, output_format=output_format, statistics=statistics, unsafe=unsafe,
                          jobs=jobs, show_fixes=show_fixes, quiet=quiet, output_file=output_file,
                          exit_zero=exit_zero, use_cache=not no_cache, notices=linter_of(settings), workers=workers)
        with _progress(found.files, output_format) as bar:
            tick = bar.update if bar is not None else None
            if stdin:
                linter = latest[0][found.files[0]][0]
                results = [_check_stdin(linter, found.files[0], fix, unsafe)]
            elif add_ignore is not None:
                results = check_files(latest[0].__getitem__, found.files, fix=False, unsafe=unsafe, jobs=jobs,
                                      progress=tick, ignore_reason=add_ignore)
            else:
                results = fix_files(found.files, rebuild, unsafe=unsafe, jobs=jobs, progress=tick)
    except ConfigError as exc:
        refuse(str(exc))
    finally:
        replay.WITNESS = None
        if workers is not None:
            workers.close(wait=False)  # (the lint pass ends them when done; here: it did not run, or failed)
    per_file, per_root = latest
    if not (stdin or add_ignore is not None):
        results = _through_builds(results, found.files, latest[0].__getitem__, unsafe, not no_cache)
    results += _not_read(found, linter_of(settings))
    applied: list[tuple[str, list]] = []
    diffs: list[str] = []
    restore_sigterm = raise_on_sigterm()  # SIGTERM mid-write: the temp file is removed, then exit 143
    for index, (path, result) in enumerate(zip(found.files, results)):
        linter, _cache = per_file[path]
        if result.fixed is None or result.source is None:  # (a fixed file was read)
            continue
        if show_diff:
            diffs.append(render_diff(result))
            continue
        if stdin:
            applied.append((result.path, result.fixes_applied))
            continue
        try:
            write_atomic(path, result.source.encode(), result.fixed.encode())
            applied.append((result.path, result.fixes_applied))
        except WriteError as exc:
            results[index] = FileResult(result.path, result.source, linter.lint_source(result.source)
                                        + linter.notice(result.path, "V6L906", f"fixes not applied: {exc}"))
    restore_sigterm()

    if show_diff:
        click.echo("".join(diffs), nl=False)
        would_change = bool(diffs)
        if not would_change and not quiet:
            click.echo(no_changes_note(results, unsafe), err=True)
        sys.exit(EXIT_FINDINGS if would_change and not exit_zero else EXIT_OK)
    fixed_count = sum(len(diags) for _path, diags in applied)
    if add_ignore is not None:
        report = render_ignored(results, applied, quiet=quiet)
        _emit(report, output_file, color=False)
        failing = any(counts_as_failure(d) for r in results for d in r.diagnostics)
        sys.exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_OK)
    if fix_only:
        # Only what was fixed, and what stopped a fix, is reported (ruff's --fix-only).
        results = [FileResult(r.path, r.source, [d for d in r.diagnostics if d.code in ("V6L906", "V6L908")],
                              r.fixed) for r in results]
    parts: list[str] = []
    color = not machine and not statistics and output_file is None and use_color(sys.stdout)
    if show_fixes and applied and not machine and not statistics:
        parts.append(render_fixes(applied))
    made = _report(parts.append, output_format, statistics=statistics, unsafe=unsafe, show_fixes=show_fixes,
                   color=color, quiet=quiet, fix_only=fix_only)
    for result in results:
        made.add(result)
    _finish(made, parts.append, per_root, fixed_count=fixed_count, fixing=fix)
    report = "".join(parts)
    if stdin and fix:
        # As ruff: the (fixed) stream on stdout, for pipelines; the report on stderr.
        fixed = results[0].fixed or results[0].source
        if fixed is not None:
            sys.stdout.buffer.write(fixed.encode())
            sys.stdout.flush()
        if output_file is None:
            click.echo(report, nl=False, err=True)
            report = ""
    _emit(report, output_file, color=color)
    _exit(made, exit_zero, exit_non_zero_on_fix and bool(applied))


def _report(write, output_format: str, *, statistics: bool, unsafe: bool, show_fixes: bool, color: bool,
            quiet: bool, fix_only: bool = False) -> Report:
    """The report of this format (see output.Report), writing to `write`."""
    if statistics:
        return StatisticsReport(write, unsafe=unsafe, as_json=output_format == "json")
    machine = {"json": JsonReport, "sarif": SarifReport, "github": GithubReport, "junit": JunitReport,
               "gitlab": GitlabReport}.get(output_format)
    if machine is not None:
        return machine(write)
    return TextReport(write, unsafe=unsafe, concise=output_format == "concise", show_fixes=show_fixes,
                      color=color, quiet=quiet, fix_only=fix_only)


def _finish(report: Report, write, per_root: dict, *, fixed_count: int = 0, fixing: bool = False) -> None:
    """The report's end; after a text report, what each project could not check (unless quiet)."""
    if not isinstance(report, TextReport):
        report.finish()
        return
    report.finish(fixed_count)
    if not report.quiet:
        write("".join(_not_checked(project, linter) for linter, _c, project in per_root.values()))
        if report.show_fixes and not fixing:
            write("(--show-fixes: each fix is shown under its finding; nothing was changed. "
                  "Run with --fix to apply the safe ones.)\n")


def _exit(report: Report, exit_zero: bool, fixed: bool = False) -> None:
    sys.exit(_exit_code(report, exit_zero, fixed))


def _exit_code(report: Report, exit_zero: bool, fixed: bool = False) -> int:
    if report.crashed:
        # A rule crashed: the other findings are reported, but the run is not a verdict on the code, so it
        # exits as any internal error does (2), whatever --exit-zero says.
        return EXIT_ERROR
    if fixed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if report.failing and not exit_zero else EXIT_OK


def _unreplayable(why: str) -> None:
    """This run's output is not only its report (or depends on what a witness cannot vouch for)."""
    if replay.WITNESS is not None:
        replay.WITNESS.refuse(why)


def _not_read(found: Discovered, notices: Linter) -> list[FileResult]:
    """What v6lint could not look at is reported, never passed silently."""
    return [FileResult(missing, None, notices.notice(missing, "V6L908", "no such file or directory"))
            for missing in found.missing] + [FileResult(display_path(p), None, notices.notice(
                display_path(p), "V6L907", f"v6lint does not read this kind of file (it reads {READ_FILES}); "
                                           f"nothing was checked")) for p in found.unsupported]


def _stream_check(found: Discovered, latest: list, *, output_format: str, statistics: bool, unsafe: bool,
                  jobs: int, show_fixes: bool, quiet: bool, output_file: str | None, exit_zero: bool,
                  use_cache: bool, notices: Linter, workers=None) -> None:
    """`v6lint check` without fixing: each file's part of the report is written as soon as its result
    is known (and the results before it), then let go; the result caches get each file's entry on
    the way. Exits."""
    per_file, per_root = latest
    route = per_file.__getitem__
    color = output_format in TEXT_FORMATS and not statistics and output_file is None and use_color(sys.stdout)
    witness = replay.WITNESS
    if witness is not None:
        if color or (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
            witness.refuse("the report is coloured, or not written as UTF-8")
        for path in found.files:  # (stat'ed before they are read: a file written since is not vouched for)
            witness.read(path)
    with _progress(found.files, output_format) as bar:
        if bar is not None:
            _unreplayable("a progress bar is shown")
        # a progress bar and the report on one terminal would mix: the report then waits for the end
        sink = _Sink(output_file, color, hold=bar is not None and sys.stdout.isatty(), witness=witness)
        report = _report(sink.write, output_format, statistics=statistics, unsafe=unsafe, show_fixes=show_fixes,
                         color=color, quiet=quiet)
        stream = stream_files(route, found.files, fix=False, unsafe=unsafe, jobs=jobs,
                              progress=bar.update if bar is not None else None, workers=workers,
                              shows=reads(output_format, statistics=statistics, show_fixes=show_fixes))
        try:
            for result in _placed(stream, found.files, route, use_cache):
                report.add(result)
        finally:
            stream.close()  # (the worker pool ends now, also on an error)
    for result in _not_read(found, notices):
        report.add(result)
    for _linter, cache, _project in per_root.values():
        if cache is not None:
            cache.save()
    _finish(report, sink.write, per_root)
    sink.close()
    code = _exit_code(report, exit_zero)
    if witness is not None and code in (EXIT_OK, EXIT_FINDINGS):
        witness.save(code)
    replay.WITNESS = None
    sys.exit(code)


class _Sink:
    """Where a streamed report goes: standard output in pieces of 64 KiB, or (`hold`, or an output
    file, which is only replaced once the report is whole) a spool written out at the end."""

    PIECE = 1 << 16  # characters written to standard output at once

    def __init__(self, output_file: str | None, color: bool, hold: bool, witness: replay.Witness | None = None):
        self.output_file, self.color = output_file, color
        self.held = Spool() if output_file is not None or hold else None
        self.pieces: list[str] = []
        self.size = 0
        self.witness = witness  # (it keeps what is written, for a replay)

    def write(self, text: str) -> None:
        if self.witness is not None:
            self.witness.keep(text)
        if self.held is not None:
            self.held.write(text)
            return
        self.pieces.append(text)
        self.size += len(text)
        if self.size >= self.PIECE:
            self.flush()

    def flush(self) -> None:
        if self.pieces:
            click.echo("".join(self.pieces), nl=False, color=self.color)
            self.pieces, self.size = [], 0

    def close(self) -> None:
        if self.held is None:
            self.flush()
        elif self.output_file is None:
            self.held.copy_to(self.write_out)
        else:
            try:
                with open(self.output_file, "w", encoding="utf-8") as handle:
                    self.held.copy_to(handle.write)
            except OSError as exc:
                click.echo(f"v6lint: error: {self.output_file}: {exc.strerror}", err=True)
                sys.exit(EXIT_ERROR)

    def write_out(self, text: str) -> None:
        click.echo(text, nl=False, color=self.color)


def _builds(files: Sequence[Path | str], route, use_cache: bool):
    """(what the kustomizations and charts among `files` build, or None when nothing; the charts')."""
    from v6lint.helm import check_charts
    from v6lint.kustomize import check_overlays

    built = check_overlays(files, route, use_cache)
    charts = check_charts(files, route, use_cache=use_cache)
    built.members |= charts.members
    built.used |= charts.used
    for shown, diagnostics in charts.diagnostics.items():
        built.diagnostics.setdefault(shown, []).extend(diagnostics)
    if not built.diagnostics and not built.members and not built.used:
        return None, charts
    return built, charts


def _placed(results: Iterator[FileResult], files: Sequence[Path | str], route, use_cache: bool) -> Iterator[FileResult]:
    """The results (in file order, one per file) as the builds judge them (see _place), each file's own
    findings stored in its result cache first; then the builds' findings on files not linted. The
    builds run once the first result is in: beside the workers, which go on linting."""
    def ordered(first: FileResult | None) -> Iterator[FileResult]:
        if first is not None:
            yield first
            del first  # (let go once passed on)
            yield from results

    head = next(results, None)
    built, _charts = _builds(files, route, use_cache)
    rest, head = ordered(head), None
    for result, path in zip(rest, files):
        cache = route(path)[1]
        if cache is not None and result.cache_entry is not None:
            # the cache holds the file's own findings; what builds add is computed afresh each run
            cache.put(*result.cache_entry, result.source, result.diagnostics)
        yield _place(built, path, result, route, False, False) if built is not None else result
    if built is not None:
        yield from (FileResult(path, None, diagnostics) for path, diagnostics in built.diagnostics.items())


def _through_builds(results: list[FileResult], files: Sequence[Path | str], route, unsafe: bool,
                    use_cache: bool) -> list[FileResult]:
    """Fixing: the results as the builds judge them (see _place), then the builds' findings on files
    not linted, and charts whose files were fixed rendered again."""
    from v6lint.helm import recheck_fixed

    built, charts = _builds(files, route, use_cache)
    if built is None:
        return results
    out = [_place(built, path, result, route, True, unsafe) for path, result in zip(files, results)]
    out += [FileResult(path, None, diagnostics) for path, diagnostics in built.diagnostics.items()]
    return recheck_fixed(out, files, route, charts, use_cache)


def _place(built, path: Path | str, result: FileResult, route, fixing: bool, unsafe: bool) -> FileResult:
    """Kustomizations and Helm charts are judged by what they build: the files they read (a chart's
    templates) lose their own findings on Kubernetes objects, and get the build's, placed where each
    field is written (taken from `built.diagnostics`). Fixing, a build's fixes are applied to a file
    that its own fixes left unchanged (the next run sees the rest)."""
    from v6lint.engine import apply_edits, choose_fixes
    from v6lint.sources import parse_source

    extra = built.diagnostics.pop(result.path, [])
    if result.dropped and (extra or (result.diagnostics and result.abspath in built.members)):
        result = route(path)[0].reread(path, result)
    diagnostics = built.own(result.source, result.diagnostics)
    fixed, applied, passes = result.fixed, result.fixes_applied, result.passes
    chosen = choose_fixes(extra, unsafe) if fixing and result.source is not None and fixed is None else []
    if chosen and result.source is not None:
        edits = [edit for diag in chosen if diag.fix is not None for edit in diag.fix.edits]
        candidate = result.source.with_text(apply_edits(result.source.text, edits))
        before, after = parse_source(result.source).problem, parse_source(candidate).problem
        # a template stays a template (V6L901); anything else must still parse
        if after is None or (before is not None and before.code == after.code == "V6L901"):
            fixed, applied, passes = candidate, chosen, [(result.source.text, edits)]
            extra = [d for d in extra if d not in chosen]
    return FileResult(result.path, result.source, sorted(diagnostics + extra, key=lambda d: d.sort_key),
                      fixed, applied, None, passes)


def _stdin_found(path: Path) -> Discovered:
    return Discovered(Files.of([os.path.abspath(path)]), [])


def _check_stdin(linter: Linter, path: Path | str, fix: bool, unsafe: bool) -> FileResult:
    """The stream on standard input, read like a file named `path` (never read from disk)."""
    from v6lint.rendered import name_sources
    from v6lint.source import DecodeError, SourceFile, decode

    shown = display_path(path)
    limit = linter.settings.max_file_size
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        return FileResult(shown, None, linter.notice(
            shown, "V6L903", f"standard input is over max-file-size ({limit} bytes); skipped"))
    try:
        text, encoding, bom = decode(data)
    except DecodeError as exc:
        return FileResult(shown, None, linter.notice(shown, "V6L902", f"cannot decode: {exc}"))
    source = SourceFile(shown, text, encoding, bom, str(path))
    result = linter.fix_source(source, unsafe) if fix else FileResult(shown, source, linter.lint_source(source))
    name_sources((result.fixed or source).text, result.diagnostics)
    return result


_T = TypeVar("_T")


class _Routes:
    """Each file's route (its project's linter, result cache...), held per folder: a file's project
    is its folder's (Projects.root_of), so the table grows with the folders of a run, not its files."""

    __slots__ = ("_by_folder",)

    def __init__(self, by_folder: dict[str, tuple] | None = None) -> None:
        self._by_folder: dict[str, tuple] = by_folder if by_folder is not None else {}

    def __getitem__(self, path: Path | str) -> tuple:
        return self._by_folder[os.path.dirname(path)]

    def __contains__(self, path: Path | str) -> bool:
        return os.path.dirname(path) in self._by_folder

    def add(self, path: Path | str, route: tuple) -> None:
        self._by_folder.setdefault(os.path.dirname(path), route)

    def by_folder(self, change: Callable[[tuple], _T]) -> dict[str, _T]:
        """{folder: change(its route)}."""
        return {folder: change(route) for folder, route in self._by_folder.items()}

    def cut(self, size: int) -> "_Routes":
        """The same routes, each holding only its first `size` items."""
        return _Routes(self.by_folder(lambda route: route[:size]))


def _by_project(files: Sequence[Path | str], projects: Projects, make) -> tuple[_Routes, dict]:
    """(each file's route, {project root: route}) with route = make(project), built once per
    project: a file is judged by the settings and profile of its own project (profiles never
    leak). Which files those are, its nearest config decided when they were found (_discover)."""
    per_root: dict[Path, tuple] = {}
    per_file = _Routes()
    for path in files:
        if path in per_file:  # (a folder whose project is known)
            continue
        project = projects.of(path, is_file=True)  # (discovered: never a folder)
        if project.root not in per_root:
            per_root[project.root] = make(project)
        per_file.add(path, per_root[project.root])
    return per_file, per_root


def _emit(report: str, output_file: str | None, *, color: bool) -> None:
    if output_file:
        try:
            Path(output_file).write_text(report, encoding="utf-8")
        except OSError as exc:
            click.echo(f"v6lint: error: {output_file}: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
    else:
        click.echo(report, nl=False, color=color)


def use_color(stream) -> bool:
    """Colour on a terminal; NO_COLOR (any value) turns it off, FORCE_COLOR (any value) on (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"


def _show_settings(path: Path | str, per_file: _Routes) -> str:
    """What `--show-settings` prints: the file's project, config chain, settings and profile."""
    if path not in per_file:
        return f"{display_path(path)}: not linted (excluded by its config, or not a file v6lint reads)\n"
    linter, _cache = per_file[path]
    s, profile = linter.settings, linter.profile
    family, platform = linter.wanting_profile()
    config = "none (defaults)" if s.config_path is None else display_path(s.config_path) + (
        f" (extends {', '.join(display_path(p) for p in s.extends)})" if s.extends else "")
    lines = [f"File: {display_path(path)}", f"Project root: {display_path(profile.root or '.')}", f"Config: {config}",
             "Settings:"]
    for key, value in (("select", s.select), ("extend-select", s.extend_select), ("ignore", s.ignore),
                       ("per-file-ignores", s.per_file_ignores), ("exclude", s.exclude),
                       ("force-exclude", s.force_exclude), ("spark-conf", s.spark_conf), ("severity", s.severity),
                       ("preview", s.preview), ("fix.unsafe", s.unsafe_fixes), ("max-file-size", s.max_file_size)):
        lines.append(f"  {key} = {json.dumps(value)}")
    lines += ["Cluster profile:",
              f"  ip-family = {profile.ip_family or 'unknown'}" + (f" (per {profile.source})" if profile.source else ""),
              f"  platform = {profile.platform or 'unknown'}"
              + (f" (per {profile.platform_source})" if profile.platform_source else ""),
              f"Rules enabled for this file: {len(linter.enabled_for(str(path)))}"
              + (f" ({family + platform} of them wait for a profile)" if family + platform else "")]
    return "\n".join(lines) + "\n"


def _result_cache(project: Project, linter: Linter) -> ResultCache:
    """The project's result cache, keyed by everything its findings depend on."""
    settings, profile = project.settings, project.profile
    return ResultCache(project.root, fingerprint(
        sorted(linter.enabled), settings.severity, settings.per_file_ignores, settings.max_file_size,
        profile.ip_family, profile.source, profile.platform, facts_digest(profile.facts), settings.spark_conf,
        [r.code for r in ALL_RULES]))


def _facts_key(projects) -> str:
    """What a fix in one file can change for the others: every project's profile and facts."""
    return fingerprint(sorted(((str(p.root), p.profile.ip_family, p.profile.source, p.profile.sources,
                                p.profile.platform, p.profile.facts) for p in projects), key=lambda t: t[0]))


def _not_checked(project: Project, linter: Linter) -> str:
    message = not_checked_message(display_path(project.root), *linter.wanting_profile())
    return message + "\n" if message else ""


PROGRESS_MIN_FILES = 50


def _progress(files: Sequence[Path | str], output_format: str):
    """A progress bar on stderr for long runs in a terminal; never in pipes, CI or machine formats."""
    show = (output_format in TEXT_FORMATS and len(files) >= PROGRESS_MIN_FILES and sys.stderr.isatty()
            and not os.environ.get("CI"))
    if not show:
        return contextlib.nullcontext(None)
    return click.progressbar(length=len(files), label="v6lint", file=sys.stderr, show_pos=True, width=30)


@main.command("plan")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--to", "target", type=click.Choice(PLAN_TARGETS), required=True,
              help="The family the cluster moves to: ipv6 (EKS IPv6 mode) or dual (dual-stack).")
@click.option("--output-format", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="text: a short summary; json: the documented shape (docs/plan.md); html: one self-contained "
                   "page (no network) with a chart per unit and class.")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the plan to this file instead of stdout.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes the plan lists, then print what remains manual.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix, also apply the unsafe fixes the plan lists.")
@click.option("--platform", type=click.Choice(PLATFORMS), default=None,
              help="Where the cluster runs; overrides cluster.platform and detection.")
@click.option("--preview", is_flag=True, default=None, help="Also run preview rules.")
@click.option("--config", type=click.Path(dir_okay=False), default=None, help="Use this config file.")
def plan_command(paths, target, output_format, output_file, fix, unsafe_fixes, platform, preview, config) -> None:
    """What breaks if the project(s) under PATHS move to IPv6 or dual-stack, and in what order to fix it.

    \b
    Every file is parsed once and judged twice: by its project's own profile and by the same profile
    (platform, facts) with the target family. The plan lists every finding under the target, marked
    `new` when today's profile does not show it, grouped by project, deployable unit (Terraform stack,
    chart, kustomization, folder of manifests, Spark job) and class: rejected (the API server, eksctl,
    kubeadm or Terraform refuses it), breaks at run time, degrades (warnings); each with its fix
    coverage (safe, unsafe, manual). Units come in order: what must change before the cluster flips
    (Terraform, eksctl, kubeadm, VPC CNI, nodes, an AWS Load Balancer Controller too old for what the
    Services ask), the switch (the tfvars flag...), then workloads. --fix makes files right for the
    target (apply them together with the flip), asks nothing, and prints each fix it applied, the
    fixes it left (unsafe ones apply only with --unsafe-fixes) and what remains manual.
    Exit codes: 0 the plan was written, 2 bad arguments or configuration.
    """
    if unsafe_fixes and not fix:
        click.echo("v6lint: error: --unsafe-fixes only goes with --fix", err=True)
        sys.exit(EXIT_ERROR)
    paths = list(paths) or ["."]
    try:
        settings = load(config, paths)
    except ConfigError as exc:
        click.echo(f"v6lint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    def overridden(chosen: Settings) -> Settings:
        return _overridden(chosen, None, platform, preview)

    settings = overridden(settings)
    try:
        found = _discover(paths, config, overridden)
    except ConfigError as exc:
        click.echo(f"v6lint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    fallback = _common_root(paths)

    def build(overlay: dict[str, str] | None):
        """Each file's (project, linters: by its profile, by the target[, by the target with no
        controller pin]), per project root."""
        projects = Projects(lambda root: overridden(load(config, [str(root)])), fallback, overlay=overlay)

        def linters(project: Project) -> tuple:
            aimed = target_profile(project.profile, target)
            unpinned = without_controller_pin(aimed)
            return project, [Linter(project.settings), *(Linter(replace(project.settings, profile=p))
                                                         for p in (aimed, unpinned) if p is not None)]
        return _by_project(found.files, projects, linters)

    def make_plans() -> list:
        per_file, per_root = build(None)
        judged: dict[Path, list] = {root: [] for root in per_root}
        for path in found.files:
            project, judges = per_file[path]
            source, notices, _data = judges[0].read(path)
            verdicts = judge(source, judges) if source is not None else [notices] * len(judges)
            judged[project.root].append((source, *verdicts[:2], verdicts[2] if len(verdicts) > 2 else None))
        return [project_plan(per_root[root][0], target, judged[root]) for root in sorted(per_root)]

    applied: list = []  # the findings whose fixes --fix wrote
    try:
        if fix:
            files = list(found.files)

            def rebuild(overlay):
                per_file, per_root = build(overlay or None)
                key = _facts_key(project for project, _judges in per_root.values())
                return (lambda path: (per_file[path][1][1], None)), key

            restore_sigterm = raise_on_sigterm()
            for path, result in zip(files, fix_files(files, rebuild, unsafe=unsafe_fixes)):
                if result.fixed is None or result.source is None:  # (a fixed file was read)
                    continue
                try:
                    write_atomic(path, result.source.encode(), result.fixed.encode())
                    applied += result.fixes_applied
                except WriteError as exc:
                    click.echo(f"v6lint: {display_path(path)}: {exc}", err=True)
            restore_sigterm()
        plans = make_plans()
    except ConfigError as exc:
        click.echo(f"v6lint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if output_format == "json":
        report = render_plan_json(plans, target, applied if fix else None)
    elif output_format == "html":
        report = render_plan_html(plans, target, applied if fix else None)
    else:
        report = render_plan_text(plans, target, len(applied) if fix else None)
        if fix:
            report += render_after_fix(plans, applied, unsafe_fixes)
    _emit(report, output_file, color=False)


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True))
@click.option("--config", type=click.Path(dir_okay=False), default=None, help="Use this config file.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def profile(path, config, output_format) -> None:
    """Print the cluster profile v6lint detects for the project around PATH, with every source."""
    try:
        settings = load(config, [path])
    except ConfigError as exc:
        click.echo(f"v6lint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    root = find_project_root(Path(path))
    found = build_profile(root, settings.exclude, settings.profile)
    nearest = NearestConfigs(lambda path: load_settings(path, ALL_RULES), Path(config) if config else None)
    try:
        nested = [display_path(p) for p in nested_projects(root, settings.exclude, nearest)]
    except ConfigError as exc:
        click.echo(f"v6lint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if output_format == "json":
        click.echo(json.dumps({
            "root": display_path(root), "ip_family": found.ip_family, "source": found.source,
            "sources": [{"ip_family": s.ip_family, "kind": s.kind, "location": s.location, "setting": s.what,
                         "agrees": s.ip_family == found.ip_family} for s in found.sources],
            "platform": found.platform, "platform_source": found.platform_source,
            "platform_sources": [{"platform": s.platform, "kind": s.kind, "location": s.location, "evidence": s.what,
                                  "agrees": s.platform == found.platform} for s in found.platform_sources],
            "nested_projects": nested}, indent=2))
        return
    click.echo(f"Project root: {display_path(root)}")
    others = clusters_of_other_families(found.facts, found.sources[0].ip_family) if found.sources else []
    if found.ip_family is None and others:
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        click.echo(f"IP family: unknown (the project defines clusters of different families: "
                   f"{found.sources[0].location} says {FAMILY_LABELS[found.sources[0].ip_family]}, but "
                   f"{', '.join(others[:3])}{more} define clusters that are IPv4 by default; profile-dependent rules "
                   f"stay silent; set it with --ip-family "
                   f"or cluster.ip-family)")
    elif found.ip_family is None:
        click.echo("IP family: unknown (no source found; profile-dependent rules stay silent)")
    else:
        click.echo(f"IP family: {found.ip_family} (per {found.source})")
    if found.sources:
        click.echo("Sources, strongest first:")
        for s in found.sources:
            mark = "" if s.ip_family == found.ip_family or not found.ip_family else "   <- conflicts (PRF001)"
            click.echo(f"  {s.ip_family:<5} {s.kind:<17} {s.location}  {s.what}{mark}")
    click.echo("Strength: " + " > ".join(dict.fromkeys(STRENGTH)))
    if found.platform is None:
        why = "evidence of equal strength disagrees" if found.platform_sources else "no evidence found"
        click.echo(f"Platform: unknown ({why}; rules about AWS components stay silent; set it with --platform "
                   f"or [cluster] platform)")
    else:
        click.echo(f"Platform: {found.platform} (per {found.platform_source})")
    if found.platform_sources:
        click.echo("Platform evidence, strongest first:")
        for p in found.platform_sources:
            mark = "" if p.platform == found.platform else "   <- disagrees"
            click.echo(f"  {p.platform:<5} {p.kind:<28} {p.location}  {p.what}{mark}")
    if nested:
        click.echo(f"Projects below, judged by their own profiles (`v6lint profile DIR`): {', '.join(nested)}")


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, file_okay=False))
def init(path) -> None:
    """Write a v6lint config for the project at PATH with the detected cluster profile.

    Adds a [tool.v6lint] table to pyproject.toml when there is one, else writes .v6lint.toml.
    Refuses to overwrite an existing v6lint configuration.
    """
    root = Path(path).resolve()
    pyproject, dotfile = root / "pyproject.toml", root / ".v6lint.toml"
    existing = dotfile if dotfile.exists() else pyproject if pyproject.exists() and find_config(root) == pyproject \
        else None
    if existing is not None:
        click.echo(f"v6lint: error: {display_path(existing)} already holds a v6lint configuration; "
                   f"not overwritten", err=True)
        sys.exit(EXIT_ERROR)
    found = build_profile(find_project_root(root), [], Profile())
    in_pyproject = pyproject.exists()
    prefix = "tool.v6lint." if in_pyproject else ""
    lines = ["# v6lint configuration: https://github.com/v6lint/v6lint/blob/main/docs/rules.md"]
    if not in_pyproject:
        lines += ["# select = [\"ALL\"]", "# ignore = []"]
    else:
        lines += ["[tool.v6lint]", "# select = [\"ALL\"]", "# ignore = []"]
    lines += ["", f"[{prefix}cluster]"]
    if found.ip_family:
        source = next((s for s in found.sources if s.location == found.source), None)
        lines.append(f"# detected from {found.source}" + (f" ({source.what})" if source else ""))
        for other in found.conflicts:
            lines.append(f"# note: {other.location} ({other.what}) disagrees")
        lines.append(f'ip-family = "{found.ip_family}"')
    else:
        lines += ["# no cluster profile was detected (tfvars, eksctl, kubeadm, kind, aws-node); set it here",
                  '# ip-family = "ipv6"   # ipv4 | ipv6 | dual']
    if found.platform:
        evidence = next((s for s in found.platform_sources if s.location == found.platform_source), None)
        lines.append(f"# platform detected from {found.platform_source}" + (f" ({evidence.what})" if evidence else ""))
        lines += [f"# note: {s.location} ({s.what}) disagrees" for s in found.platform_sources
                  if s.platform != found.platform]
        lines.append(f'platform = "{found.platform}"')
    else:
        lines += ["# the platform was not detected (EKS Terraform, eksctl, aws-node, Karpenter, kind, kubeadm...); "
                  "set it here", '# platform = "aws"   # aws | other']
    text = "\n".join(lines) + "\n"
    if in_pyproject:
        current = pyproject.read_text(encoding="utf-8")
        pyproject.write_text(current + ("" if current.endswith("\n") else "\n") + "\n" + text, encoding="utf-8")
        target = pyproject
    else:
        dotfile.write_text(text, encoding="utf-8")
        target = dotfile
    detected = ([f"ip-family = {found.ip_family}, from {found.source}"] if found.ip_family else []) + \
        ([f"platform = {found.platform}, from {found.platform_source}"] if found.platform else [])
    click.echo(f"Wrote {display_path(target)}" + (f" ({'; '.join(detected)})" if detected else " (no profile detected)"))


@main.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, file_okay=False))
def clean(path) -> None:
    """Delete the result cache of the project at PATH (kept in the user cache directory)."""
    removed = clean_cache(find_project_root(Path(path)))
    replay.clean()  # (a replayed run would show what the cache held)
    click.echo(f"Removed {removed}" if removed is not None else "No cache to remove")


@main.command()
def server() -> None:
    """Run the language server (LSP over stdio) for editors."""
    from v6lint.lsp.server import main as serve

    serve()


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule, one per line, starting with its code.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the rule (or with --all, every rule) as JSON objects.")
def rule(code, show_all, output_format) -> None:
    """Explain a rule given its CODE (SVC004) or NAME (single-stack-two-families)."""
    if output_format == "json":
        if show_all:
            click.echo(json.dumps([r.as_json() for r in ALL_RULES], indent=2))
            return
        found = lookup(code) if code else None
        if found is None:
            click.echo(f"v6lint: error: no rule {code!r} (`v6lint rule --all` lists them)", err=True)
            sys.exit(EXIT_ERROR)
        click.echo(json.dumps(found.as_json(), indent=2))
        return
    if show_all:
        for r in ALL_RULES:
            profile = ",".join(r.profiles) if r.profiles else "any"
            mark = "preview" if r.maturity == "preview" else "stable"
            click.echo(f"{r.code}  {r.name:<38} {mark:<8} {r.severity:<8} fix:{r.fix:<12} profile:{profile:<10} "
                       f"{r.summary}")
        return
    if not code:
        raise click.UsageError("give a rule CODE or NAME, or --all")
    found = lookup(code)
    if found is None:
        click.echo(f"v6lint: error: no rule {code!r} (`v6lint rule --all` lists them)", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(found.explain(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
