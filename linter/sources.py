"""Which parser reads which file: YAML, HCL (Terraform), Python, Spark properties or a notebook."""
from __future__ import annotations

from v6lint.discovery import SUFFIXES, TEMPLATE_SUFFIXES, untemplated
from v6lint.document import Document, release
from v6lint.hcl_source import parse_hcl
from v6lint.source import SourceFile
from v6lint.yaml_source import ParsedYaml, ParseProblem, parse_yaml

class ParseShare:
    """Parses the profile scan made in this process (project.collect), kept for the lint pass of
    the same run so that a file is parsed once: at most `budget` characters of text (a tree takes
    about ten bytes a character: memory stays bounded whatever the corpus size), each taken once.
    Terraform parses are kept first: per character their trees take about the memory of YAML
    ones and cost ~3.5x the time to build again (tree-sitter and our builder against libyaml's
    compose), so when the budget is full a Terraform parse takes the place of kept YAML ones.
    A parse is a function of the SourceFile's fields only, so a kept one serves only a source
    equal to it in every field (a file changed in between is parsed again) but its shown path:
    kept by real path, it also serves the file reached another way (through a symlinked folder),
    its documents then made the lint pass's source's (and their views, which may hold the shown
    path, built again)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.kept: dict[str, tuple[SourceFile, ParsedYaml]] = {}  # real path -> (source, its parse)
        self.cheap: dict[str, int] = {}  # the kept parses that are not Terraform's: real path -> size
        self.size = 0  # of the kept parses' texts
        self.cheap_size = 0  # of those not Terraform's
        self.taken = 0  # parses the lint pass did not repeat

    def offer(self, source: SourceFile, parsed: ParsedYaml) -> bool:
        """Whether the parse is kept."""
        size, real = len(source.text), source.abspath
        if not real or real in self.kept:
            return False
        dear = (source.language or language_of(real)) == "hcl"
        if dear and self.size + size > self.budget >= self.size - self.cheap_size + size:
            while self.size + size > self.budget:  # room made by the YAML parses kept last
                release(self._drop(next(reversed(self.cheap)))[1].documents)
        if self.size + size > self.budget:
            return False
        self.kept[real] = (source, parsed)
        self.size += size
        if not dear:
            self.cheap[real] = size
            self.cheap_size += size
        return True

    def _drop(self, real: str) -> tuple[SourceFile, ParsedYaml]:
        kept, parsed = self.kept.pop(real)
        size = len(kept.text)
        self.size -= size
        if self.cheap.pop(real, None) is not None:
            self.cheap_size -= size
        return kept, parsed

    def take(self, source: SourceFile) -> ParsedYaml | None:
        if not self.kept or source.abspath not in self.kept:
            return None
        kept, parsed = self._drop(source.abspath)
        if (kept.text, kept.encoding, kept.bom, kept.language) != \
                (source.text, source.encoding, source.bom, source.language):
            return None
        if kept.path != source.path:
            for doc in parsed.documents:
                doc.source = source
                doc.views.clear()
        self.taken += 1
        return parsed

    def clear(self) -> None:
        self.kept.clear()
        self.cheap.clear()
        self.size = self.cheap_size = 0


# ~34 MB of trees (measured for 4M characters); profile sources are ~6M characters at 10k bench files.
# With 2M, a worker's half of the Terraform at 30k bench files did not fit: a third of it was parsed
# again (+1.0 s of 20 s CPU); with 4M, peak memory at 30k/100k files is 81/110 MB (was 62/94).
SHARED = ParseShare(4_000_000)


def language_of(path: str) -> str:
    """The parser a file's name asks for (discovery.SUFFIXES); YAML for any other name."""
    name = untemplated(path)
    return next((language for language, suffixes in SUFFIXES.items() if name.endswith(suffixes)), "yaml")


def parse_source(source: SourceFile, python_facts: bool = True) -> ParsedYaml:
    """The file's documents and why it does not parse. With python_facts False a Python file is only
    syntax-checked (stdlib `ast`): its Spark facts are for rules, and no enabled rule reads them."""
    parsed = _parse(source, python_facts)
    name = source.abspath or source.path
    if parsed.problem is not None and parsed.problem.code == "V6L900" and untemplated(name) != name:
        # A `.j2`/`.tpl`/... file that is not yet YAML or HCL: an unrendered template, not an error.
        suffix = next(s for s in TEMPLATE_SUFFIXES if name.endswith(s))
        return ParsedYaml([], ParseProblem("V6L901", f"template ({suffix}) that does not parse until rendered "
                                                     f"({parsed.problem.message}); skipped",
                                           parsed.problem.start, parsed.problem.end))
    return parsed


def _parse(source: SourceFile, python_facts: bool = True) -> ParsedYaml:
    language = source.language or language_of(source.abspath or source.path)
    if language == "spark-conf":
        return ParsedYaml([Document(source, None, 0, 0, len(source.text), language="spark-conf")])
    if language == "notebook":
        from v6lint.notebook import parse_notebook

        return parse_notebook(source)
    if language == "hcl":
        return parse_hcl(source)
    if language == "python":
        from v6lint.python_source import parse_python  # (imported by the runs that read Python only)

        return parse_python(source, python_facts)
    parsed = parse_yaml(source)  # JSON is YAML: .tfvars.json keeps exact positions this way
    if language == "tfvars-json":
        for doc in parsed.documents:
            doc.language, doc.api_version, doc.kind = "hcl", None, None
    return parsed
