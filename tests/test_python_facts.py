"""The Python front end reads Spark facts with the stdlib `ast`: the same facts, at the same offsets, as
the libcst reader it replaced (tests/libcst_oracle.py), on every Python file and notebook of the
fixtures and ../shared/corpus and on generated PySpark code full of what `ast` gives no position for
(quotes, string prefixes, implicit concatenation, line continuations, comments, the dot of `.config`)
and of what its byte columns get wrong unconverted (non-ASCII text, tabs, CRLF and lone CR)."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st
from libcst_oracle import libcst_facts

from v6lint.notebook import notebook_view
from v6lint.python_source import TRIGGERS, PySetting, PythonFacts, parse_python
from v6lint.source import SourceFile, decode
from fixturelib import shared

ROOT = Path(__file__).resolve().parent.parent
CORPUS = shared("corpus")


def facts(text: str) -> PythonFacts:
    [doc] = parse_python(SourceFile("job.py", text)).documents
    assert doc.payload is not None
    return doc.payload


def same_as_libcst(text: str) -> PythonFacts:
    """The `ast` reader's facts, asserted equal to libcst's on the same text. A lone CR is a line
    break to both parsers but not to SourceFile, whose lines the oracle's positions are counted on:
    it reads the text with each lone CR made an LF (same length, same offsets, same program)."""
    if not any(t in text for t in TRIGGERS):
        text += "\n# pyspark\n"  # (past every fact: the gate passes and no offset moves)
    found = facts(text)
    assert found == libcst_facts(SourceFile("job.py", re.sub(r"\r(?!\n)", "\n", text))), text
    return found


def python_texts() -> list[tuple[str, str]]:
    paths = sorted(p for base in (ROOT / "fixtures", CORPUS) for suffix in ("*.py", "*.ipynb")
                   for p in base.rglob(suffix))
    out = []
    for path in paths:
        text = decode(path.read_bytes())[0]
        if path.suffix == ".ipynb":
            text = notebook_view(SourceFile(str(path), text)).python.text
        try:
            ast.parse(text)
        except SyntaxError:
            continue  # (a V6L900 fixture: no facts either way)
        out.append((os.path.relpath(path, ROOT.parent), text))  # (../shared may be a link: no resolving)
    return out


def test_every_python_file_and_notebook_of_fixtures_and_corpus_gives_the_libcst_facts():
    texts = python_texts()
    assert len(texts) >= 25
    with_facts = 0
    for _name, text in texts:
        found = same_as_libcst(text)
        with_facts += bool(found.settings or found.masters or found.resolution_calls)
    assert with_facts >= 15  # (most of them hold Spark settings: the comparison compares something)


# --- generated PySpark code ----------------------------------------------------------------------
KEYS = ["spark.kubernetes.driver.service.ipFamilies", "spark.driver.host", "spark.driver.bindAddress",
        "spark.kubernetes.driver.service.ipFamilyPolicy", "spark.ui.host", "spark.app.name"]
VALUES = ["IPv6", "IPV4", "::", "0.0.0.0", "SingleStack", "PreferDualStack", "", "jöb-ünïcode-名前", "a'b", 'x"y',
          "tab\there", "back\\slash", "k8s://https://kubernetes.default.svc:443", "hostname -i", "--conf a=b"]
MASTERS = ["k8s://https://10.0.0.1:6443", "k8s://https://[fd00::1]:6443", "local[*]", "yarn", "spark://h:7077"]
TEXT = ["é", "名前", "🚀", "\t", "ß ü", "x"]  # non-ASCII and tabs before and inside strings


@st.composite
def literal(draw, value: str) -> str:
    """A Python string literal for `value`, written one of the ways people write them."""
    prefix = draw(st.sampled_from(["", "", "", "r", "u", "R", "U", "b", "f", "rb", "Rb", "fr", "F"]))
    if "b" in prefix.lower() and not value.isascii():
        prefix = prefix.lower().replace("b", "")
    quote = draw(st.sampled_from(['"', "'", '"""', "'''"]))
    body = value
    if "r" in prefix.lower():
        body = "".join(c for c in body if c not in "\\'\"\t")
    else:
        body = body.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0]).replace("\t", draw(
            st.sampled_from(["\\t", "\t"])))
    if "f" in prefix.lower():
        body = body.replace("{", "{{").replace("}", "}}")
        if draw(st.booleans()):
            inner = draw(st.sampled_from(["x", "'--conf k=v'", "socket.gethostbyname(h)", "a.config('k', 'v')",
                                          "x!r", "x:>{w}", "x:{'q'}", "['--conf', 'a=b']"]))
            other = "'" if quote[0] == '"' else '"'
            body += "{" + inner.replace("'", other) + "}"
    text = prefix + quote + body + quote
    if draw(st.integers(0, 5)) == 0:  # implicit concatenation, maybe over lines with comments
        gap = draw(st.sampled_from([" ", "", "  ", " \\\n  ", "\n    ", "  # note é\n  "]))
        more = draw(literal(draw(st.sampled_from(VALUES + TEXT))))
        if gap.strip(" ") and not gap.startswith(" \\"):
            return f"({text}{gap}{more})"
        if ("b" in prefix.lower()) == ("b" in more.split(more.lstrip("rRbBuUfF")[:1])[0].lower()):
            text = text + gap + more
    if draw(st.integers(0, 6)) == 0:
        text = f"({text})"
    return text


@st.composite
def value_expr(draw, value: str) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from(["ip_family", "None", "42", "cfg['x']", "os.environ.get('X', 'IPv6')"]))
    return draw(literal(value))


@st.composite
def statement(draw) -> str:
    k, v = draw(literal(draw(st.sampled_from(KEYS + TEXT)))), draw(value_expr(draw(st.sampled_from(VALUES))))
    recv = draw(st.sampled_from(["SparkSession.builder", "builder", "(SparkSession.builder)", "spark_builder()",
                                 "SparkSession \\\n    .builder"]))
    sep = draw(st.sampled_from([", ", ",", ",\t", ",\n        ", ", # é\n    "]))
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return f"spark = {recv}.config({k}{sep}{v}).getOrCreate()"
    if kind == 1:
        dot = draw(st.sampled_from(["\n    .", "\n\t.", "  # c\n    .", " \\\n    .", ".  # after the dot\n    "]))
        return f"spark = ({recv}{dot}appName({k}){dot}config({k}{sep}{v}){dot}master({v}){dot}getOrCreate())"
    if kind == 2:
        return f"spark = {recv}.config(key={k}, value={v}).getOrCreate()"
    if kind == 3:
        return f"spark = {recv}.config(value={v}, key={k})"
    if kind == 4:
        return f"spark = {recv}.config(map={{{k}: {v}, **extra, {v}: {k}}})"
    if kind == 5:
        return f"conf = SparkConf().set({k}{sep}{v}).setAll([({k}, {v}), ({v}, {k}), pair, *pairs, *[({k}, {v})]])"
    if kind == 6:
        return f"conf.setAll((({k}, {v}),))\nspark.conf.set({k}, {v})"
    if kind == 7:
        master = draw(literal(draw(st.sampled_from(MASTERS))))
        return f"b = SparkSession.builder.master({master})\nb.master(m).config(*pair).config(**opts)"
    if kind == 8:
        host = draw(literal(draw(st.sampled_from(["db", "hostname -i", "名前.local"]))))
        return f"addr = socket.gethostbyname({host})\nip = gethostbyname(host)\nbad = (gethostbyname)(host)"
    if kind == 9:
        cmd = draw(literal(draw(st.sampled_from(["hostname -i", "hostname -I | cut -d' ' -f1", "hostname -f"]))))
        return f"subprocess.check_output({cmd}, shell=True)"
    if kind in (10, 11):
        master = draw(literal(draw(st.sampled_from(MASTERS))))
        pair = draw(literal(draw(st.sampled_from(KEYS)) + "=" + draw(st.sampled_from(VALUES))))
        flag = draw(literal("--conf"))
        open_, close = draw(st.sampled_from([("[", "]"), ("(", ")"), ("x[", "]"), ("x[(", ")]"), ("", ",")]))
        return (f"cmd = {open_}'spark-submit', {flag}, {pair}, '--master', {master}, '--conf',\n"
                f"       {pair}, *extra{close}")
    if kind == 12:
        conf = draw(literal("spark-submit --conf " + draw(st.sampled_from(KEYS)) + "=" + draw(
            st.sampled_from(["IPv6", "::", "'x'", '"y"', "a b"])) + " --conf=spark.ui.host=0.0.0.0 app.py"))
        return f"os.system({conf})"
    if kind == 13:
        return (f"@decorate(SparkConf().set({k}, {v}))\ndef job(x={recv}.config({k}, {v})):\n"
                f"    return [c.config({k}, {v}) for c in builders]")
    if kind == 14:
        return f"spark = {recv}.config({recv}.config({k}, {v}).get({k}), {v})"
    if kind == 15:
        return f"x[{k}, {v}] = y[('--conf'), ('a=b')]\nz = x['--conf', {v}]"
    if kind == 16:
        return f"b'--conf k=v'\nspark = {recv}.config({k}, b'IPv6').config(b'k', {v})"
    if kind == 17:
        return f"if True:\n\tspark = {recv}\\\n\t\t.config({k}, {v})\n\tspark.config(conf={v})"
    if kind == 18:
        return f"spark = {recv}.config(\n    {k},  # the key\n    {v}  # the value\n).master({v})"
    return f"lambda: {recv}.config({k}, {v}) if {k} else spark.conf.set({k}, {{'a': {v}}})"


@st.composite
def pyspark_file(draw) -> str:
    lines = ["from pyspark.sql import SparkSession", "from pyspark import SparkConf", "import socket"]
    if draw(st.booleans()):
        lines.insert(0, "# -*- coding: utf-8 -*- " + draw(st.sampled_from(TEXT)))
    for _ in range(draw(st.integers(1, 6))):
        before = draw(st.sampled_from(["", "", "x = '" + draw(st.sampled_from(TEXT)) + "'; ", "# 名前 é\n"]))
        lines.append(before + draw(statement()))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    return newline.join("\n".join(lines).split("\n")) + draw(st.sampled_from([newline, ""]))


def valid(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pyspark_file().filter(valid))
@example('import pyspark\nx = a.config("k", "v")\rfoo.config("k2", "v2")\n')  # lone CR: both count it a line break
@example('import pyspark\nx = f"{a.config(\'k\', \'v\')} --conf q=r" "--conf s=t"\n')
@example('import pyspark\nx = (f"{a}" "f --conf k=v"  # c\n     r"--conf b=c" \'--conf é=ü\' f"{\'--conf x=y\'}")\n')
def test_generated_pyspark_code_gives_the_libcst_facts(text):
    same_as_libcst(text)


# --- what the facts are, independent of any reference -------------------------------------------
def test_offsets_are_characters_inside_the_quotes_whatever_comes_before():
    text = ('import pyspark\né = "名前"; spark = (SparkSession.builder  # 🚀\n'
            '\t.config(rb"k" if 0 else "spark.driver.host",\tu"::1")\n'
            "\t.config(key='''spark.ui.host''', value=R'0.0.0.0')\n"
            '\t.config("a" "b", "v").config(f"k", "v").config(b"k", b"v"))\r\n')
    found = same_as_libcst(text)
    assert [(s.key, s.value, text[s.value_start:s.value_end]) for s in found.settings] == [
        ("spark.ui.host", "0.0.0.0", "0.0.0.0")]
    call = found.settings[0]
    assert text[call.call_start:call.call_end] == text[text.index("SparkSession"):text.index("\n\t.config(\"a")]
    # each `.config` starts a line: a new one goes before it, with its indentation
    # a `.config` that starts a line: a new one goes before it, with its indentation; else after the call
    assert [(text[o:o + 7], indent) for o, indent in found.builder_inserts] == [
        (".config", "\t")] * 3 + [(".config", ""), (")\r\n", "")]


def test_concatenated_strings_are_read_part_by_part_and_bytes_never():
    text = ('import pyspark\ncmd = ("spark-submit --conf spark.ui.host=:: "  # é\n'
            "       r'--conf spark.driver.host=h')\n"
            "args = ['--conf', 'spark.app.name=名前', '--master', 'k8s://https://[fd00::1]:443', '--conf', b'k=v']\n"
            'x = "--conf" "a=b"\nrun("hostname -i")\n')
    found = same_as_libcst(text)
    assert [(s.key, s.value, text[s.value_start:s.value_end], s.via) for s in found.settings] == [
        ("spark.ui.host", "::", "::", "submit"), ("spark.driver.host", "h", "h", "submit"),
        ("spark.app.name", "名前", "名前", "submit")]
    assert [(m, text[s:e]) for m, s, e in found.masters] == [
        ("k8s://https://[fd00::1]:443", "'k8s://https://[fd00::1]:443'")]
    assert [(text[s:e], what) for s, e, what in found.resolution_calls] == [('"hostname -i"', "hostname -i/-I")]


def test_a_subscript_is_no_argument_list_but_a_tuple_in_brackets_is():
    text = "import pyspark\nx['--conf', 'a=b']\nx[('--conf'), ('c=d')]\nx[('--conf', 'e=f')]\n"
    assert [s.key for s in same_as_libcst(text).settings] == ["e"]


def test_identifiers_count_as_written_not_as_normalised():
    """`ast` normalises identifiers (NFKC): `ｃｏｎｆｉｇ` is `config` to it, not to libcst nor to Spark."""
    text = ('import pyspark\nb.ｃｏｎｆｉｇ("k", "v")\nb.config(ｋｅｙ="k", value="v")\nｇｅｔｈｏｓｔｂｙｎａｍｅ(h)\n'
            'b.config(key="k2", value="v2")\n')
    found = same_as_libcst(text)
    assert [(s.key, s.value) for s in found.settings] == [("k2", "v2")] and found.resolution_calls == []


def test_an_fstring_reusing_its_quotes_hides_no_plain_string():
    text = 'import pyspark\nx = f"{d["k"]}" "--conf a=b" f"{"--conf c=d"}"\n'
    if sys.version_info >= (3, 12):  # PEP 701: an f-string may reuse its quotes inside {}
        assert [(s.key, text[s.value_start:s.value_end]) for s in facts(text).settings] == [("a", "b"), ("c", "d")]
    else:  # the same text is a syntax error before 3.12: reported as one, no fact guessed from it
        parsed = parse_python(SourceFile("job.py", text))
        assert parsed.problem is not None and parsed.problem.code == "V6L900" and parsed.documents == []


def test_notebook_facts_keep_their_cells_positions(tmp_path):
    from v6lint.notebook import parse_notebook

    nb = ('{"cells": [{"cell_type": "markdown", "source": ["# é"]},\n'
          ' {"cell_type": "code", "source": ["%pip install pyspark\\n", "spark = SparkSession.builder\\\\\\n",'
          ' "    .config(\\"spark.driver.host\\", \\"名前\\")\\n"]}], "nbformat": 4}')
    source = SourceFile("n.ipynb", nb)
    view = notebook_view(source)
    [doc] = parse_notebook(source).documents
    assert doc.payload == libcst_facts(view.python)
    [setting] = doc.payload.settings
    assert view.python.text[setting.value_start:setting.value_end] == "名前"
    assert nb[view.to_file(setting.value_start):view.to_file(setting.value_end, prefer_next=False)] == "名前"


def test_a_file_without_a_trigger_is_not_parsed_and_a_syntax_error_is_reported_where_ast_says():
    assert parse_python(SourceFile("a.py", "x = (")).problem is None  # (no trigger: not read)
    problem = parse_python(SourceFile("a.py", "import pyspark\nx = 'é' + (\n")).problem
    assert problem is not None and (problem.code, problem.start) == ("V6L900", 25)
    assert problem.message == "Python syntax error (Python 3 expected): '(' was never closed"


def test_pysetting_is_what_the_rules_read():
    assert [f.name for f in PySetting.__dataclass_fields__.values()] == [
        "key", "value", "value_start", "value_end", "call_start", "call_end", "via"]


def test_linting_python_never_imports_libcst(tmp_path):
    """libcst is only this test suite's reference: the lint path reads Python with the stdlib."""
    job = tmp_path / "job.py"
    job.write_text('from pyspark import SparkConf\nconf = SparkConf().set("spark.kubernetes.driver.service.ipFamilies",'
                   ' "IPV6")\n')
    code = ("import json, sys\nfrom click.testing import CliRunner\nfrom v6lint.cli import main\n"
            f"out = CliRunner().invoke(main, ['check', '--no-cache', '--output-format', 'json', {str(job)!r}]).output\n"
            "print(json.dumps([[d['code'] for d in json.loads(out)], [m for m in sys.modules if 'libcst' in m]]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert json.loads(done.stdout) == [["SPK003"], []]


def test_a_job_with_classic_mac_line_breaks_is_found_and_fixed_at_the_value(tmp_path):
    """A lone CR ends a line for Python but not for SourceFile: the finding must still cover the value
    and its fix change exactly it (it once landed past the end of the file and changed nothing)."""
    from click.testing import CliRunner
    from v6lint.cli import main

    text = ('from pyspark import SparkConf\r\rconf = (SparkConf()\r    .set("spark.kubernetes.driver.service.ipFamilies",'
            ' "IPV6"))\r')
    job = tmp_path / "job.py"
    job.write_bytes(text.encode())
    out = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "json", str(job)]).output
    [found] = json.loads(out)
    column = text.index("IPV6") + 1  # (one line to SourceFile)
    assert (found["code"], found["range"]) == ("SPK003", {"start": {"line": 1, "column": column},
                                                            "end": {"line": 1, "column": column + 4}})
    CliRunner().invoke(main, ["check", "--no-cache", "--fix", str(job)])
    assert job.read_bytes() == text.replace("IPV6", "IPv6").encode()
    compile(job.read_bytes(), "job.py", "exec")
