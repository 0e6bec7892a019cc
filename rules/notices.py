"""V6L: notices the engine itself reports (suppressions, files it could not lint, fixes it refused)."""
from __future__ import annotations

from v6lint.rule import Rule

RULES = [
    Rule("V6L001", "unused-suppression", "A `# v6lint: ignore[...]` or `v6lint.io/ignore` that suppresses nothing.",
         "warning",
         why="Stale suppressions hide future findings and mislead readers. Codes that name no rule are "
             "reported too.",
         example="ipFamilies: [IPv6]  # v6lint: ignore[SVC001]   <- nothing to ignore here",
         fix="safe", fix_note="remove the comment (or the unused codes from it)"),
    Rule("V6L900", "parse-error", "The file is not valid YAML (or HCL/Python): nothing in it was checked.", "error",
         why="A syntax error means the file cannot be applied either; the position points at it.",
         example="spec:\n  ports: [80   # bad: unclosed flow sequence", fix="none"),
    Rule("V6L901", "unrendered-template",
         "A Helm/Go (`{{ }}`) or Terraform (`%{ }`, `${ }`) template that is not YAML until rendered.", "info",
         why="Templates are checked once rendered (`helm template ... | v6lint check -` style pipelines or the "
             "rendered output directory); the raw file is skipped so it does not produce noise. Info notices do "
             "not change the exit code.",
         example="replicas: {{ .Values.replicas }}", fix="none"),
    Rule("V6L902", "undecodable-file", "A binary file, or text that is not UTF-8 or UTF-16 (with BOM).", "warning",
         why="v6lint reads files as UTF-8 (or UTF-16 with a byte-order mark) like Kubernetes does.",
         example="(a Latin-1 encoded manifest)", fix="none"),
    Rule("V6L903", "file-too-large",
         "A file over `max-file-size` bytes, or a Python file too large to analyse, was skipped.", "info",
         why="Very large generated files would dominate run time; raise `max-file-size` in the config to lint "
             "them. Python files with Spark settings are analysed with libcst, whose cost grows with the syntax "
             "tree (about 40 us and 1.5 KB a node): over 50,000 nodes (hand-written jobs have a few thousand) "
             "they are skipped, whatever the size setting. Info notices do not change the exit code.",
         example="max-file-size = 8388608  # in [tool.v6lint]", fix="none"),
    Rule("V6L904", "alias-bomb", "A YAML document whose aliases expand to an enormous (or recursive) tree.", "warning",
         why="\"Billion laughs\" documents exhaust memory in tools that expand them; v6lint measures the "
             "expansion without performing it and skips the document.",
         example="a: &a [x, x]\nb: &b [*a, *a]\n# ... nine levels deep", fix="none"),
    Rule("V6L905", "unreadable-file", "A file could not be read (permissions, vanished, a directory...).", "warning",
         why="Reported so that nothing is skipped silently.", example="(chmod 000 svc.yaml)", fix="none"),
    Rule("V6L906", "fix-not-applied", "Fixes for a file were computed but not written.", "error",
         why="v6lint writes a fixed file only when it still parses and the fixes converge, and never over a "
             "file that changed on disk since it was read. The file is left exactly as it was.",
         example="(a fix whose result would not parse)", fix="none"),
]
RULES += [
    Rule("V6L907", "unsupported-file", "A file named on the command line that v6lint does not read.", "warning",
         why="v6lint reads YAML, Terraform (.tf, .tfvars, .tfvars.json), Python, Jupyter notebooks and Spark "
             "properties files (*.conf). A file of another kind named explicitly is reported rather than passed "
             "as if it had been checked.", example="v6lint check README.md", fix="none"),
    Rule("V6L908", "path-not-found", "A path named on the command line does not exist.", "warning",
         why="The other paths are still checked; the run fails so that a typo in a CI or pre-commit command "
             "does not pass silently.", example="v6lint check k8s/ clusters/prd/   # no such folder", fix="none"),
]
RULES.append(
    Rule("V6L909", "not-rendered", "A kustomization (or Helm chart) that v6lint could not build, so what it "
         "deploys was not checked.", "info",
         why="v6lint judges an overlay by what `kubectl kustomize` builds from it. Without a builder on PATH, when "
             "the build fails, or when the kustomization names something v6lint refuses to let it read (a remote "
             "resource, a path outside the project, Helm chart inflation), this notice says so once, with the "
             "reason; its files are then checked one by one. Info notices do not change the exit code.",
         example="resources:\n  - https://github.com/org/repo//base?ref=v1   # remote: refused", fix="none"),
)
RULES.append(
    Rule("V6L999", "internal-error", "A rule failed on a document; the rest of the run went on.", "error",
         why="This is a bug in v6lint. The message names the rule and the object; please report it with the "
             "file.", example="(none)", fix="none"),
)
