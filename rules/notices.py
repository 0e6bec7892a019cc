"""V6L: notices the engine itself reports (suppressions, files it could not lint, fixes it refused)."""
from __future__ import annotations

from v6lint.rule import notice


RULES = [
    notice("V6L001", "unused-suppression", "warning", fix="safe", doc="""A `# v6lint: ignore[...]` or `v6lint.io/ignore` that suppresses nothing.

    Why:
        Stale suppressions hide future findings and mislead readers. Codes that name no rule are reported too.

    Example:
        ipFamilies: [IPv6]  # v6lint: ignore[SVC001]   <- nothing to ignore here

    Fix:
        remove the comment (or the unused codes from it)
    """),
    notice("V6L900", "parse-error", "error", fix="none", doc="""The file is not valid YAML (or HCL/Python): nothing in it was checked.

    Why:
        A syntax error means the file cannot be applied either; the position points at it.

    Example:
        spec:
          ports: [80   # bad: unclosed flow sequence
    """),
    notice("V6L901", "unrendered-template", "info", fix="none", doc="""A Helm/Go (`{{ }}`) or Terraform (`%{ }`, `${ }`) template that is not YAML until rendered.

    Why:
        Templates are checked once rendered (`helm template ... | v6lint check -` style pipelines or the
        rendered output directory); the raw file is skipped so it does not produce noise. Info notices do not
        change the exit code.

    Example:
        replicas: {{ .Values.replicas }}
    """),
    notice("V6L902", "undecodable-file", "warning", fix="none", doc="""A binary file, or text that is not UTF-8 or UTF-16 (with BOM).

    Why:
        v6lint reads files as UTF-8 (or UTF-16 with a byte-order mark) like Kubernetes does.

    Example:
        (a Latin-1 encoded manifest)
    """),
    notice("V6L903", "file-too-large", "info", fix="none", doc="""A file over `max-file-size` bytes, or a Python file too large to analyse, was skipped.

    Why:
        Very large generated files would dominate run time; raise `max-file-size` in the config to lint them.
        Python files with Spark settings over 50,000 syntax nodes (hand-written jobs have a few thousand)
        are not analysed, whatever the size setting. Info notices do not change the exit code.

    Example:
        max-file-size = 8388608  # in [tool.v6lint]
    """),
    notice("V6L904", "alias-bomb", "warning", fix="none", doc="""A YAML document whose aliases expand to an enormous (or recursive) tree.

    Why:
        "Billion laughs" documents exhaust memory in tools that expand them; v6lint measures the expansion
        without performing it and skips the document.

    Example:
        a: &a [x, x]
        b: &b [*a, *a]
        # ... nine levels deep
    """),
    notice("V6L905", "unreadable-file", "warning", fix="none", doc="""A file could not be read (permissions, vanished, a directory...).

    Why:
        Reported so that nothing is skipped silently.

    Example:
        (chmod 000 svc.yaml)
    """),
    notice("V6L906", "fix-not-applied", "error", fix="none", doc="""Fixes for a file were computed but not written.

    Why:
        v6lint writes a fixed file only when it still parses and the fixes converge, and never over a file
        that changed on disk since it was read. The file is left exactly as it was.

    Example:
        (a fix whose result would not parse)
    """),
    notice("V6L907", "unsupported-file", "warning", fix="none", doc="""A file named on the command line that v6lint does not read.

    Why:
        v6lint reads YAML, Terraform (.tf, .tfvars, .tfvars.json), Python, Jupyter notebooks and Spark
        properties files (*.conf). A file of another kind named explicitly is reported rather than passed as
        if it had been checked.

    Example:
        v6lint check README.md
    """),
    notice("V6L908", "path-not-found", "warning", fix="none", doc="""A path named on the command line does not exist.

    Why:
        The other paths are still checked; the run fails so that a typo in a CI or pre-commit command does not
        pass silently.

    Example:
        v6lint check k8s/ clusters/prd/   # no such folder
    """),
    notice("V6L909", "not-rendered", "info", fix="none", doc="""A kustomization (or Helm chart) that v6lint could not build, so what it deploys was not checked.

    Why:
        v6lint judges an overlay by what `kubectl kustomize` builds from it. Without a builder on PATH, when
        the build fails, or when the kustomization names something v6lint refuses to let it read (a remote
        resource, a path outside the project, Helm chart inflation), this notice says so once, with the
        reason; its files are then checked one by one. Info notices do not change the exit code.

    Example:
        resources:
          - https://github.com/org/repo//base?ref=v1   # remote: refused
    """),
    notice("V6L999", "internal-error", "error", fix="none", doc="""A rule failed on a document; the rest of the run went on.

    Why:
        This is a bug in v6lint. The message names the rule and the object; please report it with the file.

    Example:
        (none)
    """),
]
