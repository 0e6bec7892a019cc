"""Which parser reads which file: YAML, HCL (Terraform), Python, Spark properties or a notebook."""
from __future__ import annotations

from v6lint.discovery import SUFFIXES, TEMPLATE_SUFFIXES, untemplated
from v6lint.document import Document
from v6lint.hcl_source import parse_hcl
from v6lint.source import SourceFile
from v6lint.yaml_source import ParsedYaml, ParseProblem, parse_yaml

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
