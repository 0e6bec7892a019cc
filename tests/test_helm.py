"""Helm charts are rendered and judged by what they deploy; findings land where the user writes them (issue 18)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixturelib import needs_renderer

from v6lint import helm
from v6lint.cli import main
from v6lint.helm import RenderError, backend, split_stream
from v6lint.source import SourceFile
from v6lint.sources import parse_source

CHARTS = Path(__file__).resolve().parent / "charts"
IPV6_AWS = '[cluster]\nip-family = "ipv6"\nplatform = "aws"\n'
# An internet-facing NLB for ingress-nginx on an IPv6 EKS cluster, written as a user would, but
# IPv4-only twice over: the load balancer's address type and the Service's families.
VALUES_PROD = """\
controller:
  service:
    annotations:
      service.beta.kubernetes.io/aws-load-balancer-type: external
      service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
      service.beta.kubernetes.io/aws-load-balancer-ip-address-type: ipv4
    ipFamilyPolicy: SingleStack
    ipFamilies: [IPv4]
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return root


def copy_chart(repo: Path, name: str) -> Path:
    return Path(shutil.copytree(CHARTS / name, repo / name))


def found(*args):
    result = CliRunner().invoke(main, ["check", "--output-format", "json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def where(diags):
    return sorted((d["code"], d["path"], d["range"]["start"]["line"], d["range"]["start"]["column"]) for d in diags)


@needs_renderer
def test_ingress_nginx_nlb_findings_land_on_the_values_lines_and_fix_there(repo):
    chart = copy_chart(repo, "ingress-nginx")
    (chart / "values-prod.yaml").write_text(VALUES_PROD)
    (repo / ".v6lint.toml").write_text(IPV6_AWS + '[helm.charts."ingress-nginx"]\nvalues = ["values-prod.yaml"]\n')
    code, diags = found("--no-cache")
    assert code == 1
    assert where(diags) == [("LB013", "ingress-nginx/values-prod.yaml", 6, 69),
                            ("SVC009", "ingress-nginx/values-prod.yaml", 8, 18)]
    for diag in diags:
        assert "Service default/release-name-ingress-nginx-controller from chart ingress-nginx" in diag["message"]
    # no template is reported as an unrendered template once the chart renders
    assert not [d for d in diags if d["code"] == "V6L901"]
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", "--unsafe-fixes"], catch_exceptions=False)
    assert (chart / "values-prod.yaml").read_text() == VALUES_PROD.replace(
        "ip-address-type: ipv4", "ip-address-type: dualstack").replace("[IPv4]", "[IPv6]")
    assert (chart / "values.yaml").read_text() == (CHARTS / "ingress-nginx" / "values.yaml").read_text()
    assert found("--no-cache") == (0, []), result.output


@needs_renderer
def test_the_chart_defaults_are_reported_in_values_yaml(repo):
    copy_chart(repo, "ingress-nginx")
    (repo / ".v6lint.toml").write_text(IPV6_AWS)
    code, diags = found("--no-cache")
    # type: LoadBalancer with no AWS annotations (in-tree provider) and ipFamilies [IPv4], both defaults
    assert where(diags) == [("LB011", "ingress-nginx/values.yaml", 506, 11),
                            ("SVC009", "ingress-nginx/values.yaml", 551, 9)]
    assert "set by controller.service.type in ingress-nginx/values.yaml" in diags[0]["message"]


@needs_renderer
@pytest.mark.parametrize("name", ["aws-load-balancer-controller", "aws-vpc-cni", "spark-operator-chart"])
def test_real_charts_render_cleanly_on_an_ipv6_cluster(repo, name):
    copy_chart(repo, name)
    (repo / ".v6lint.toml").write_text(IPV6_AWS + f'[helm.charts."{name}"]\nset = ["clusterName=demo"]\n')
    code, diags = found("--no-cache")
    assert (code, [d for d in diags if d["code"] != "V6L901"]) == (0, [])
    assert not [d for d in diags if d["code"] == "V6L901"]  # its templates were judged rendered


@needs_renderer
def test_a_render_error_is_one_notice_with_helms_message(repo):
    copy_chart(repo, "aws-load-balancer-controller")  # refuses to render without clusterName
    (repo / ".v6lint.toml").write_text(IPV6_AWS)
    code, diags = found("--no-cache")
    notices = [d for d in diags if d["code"] == "V6L909"]
    assert code == 0 and len(notices) == 1
    assert "Chart cannot be installed without a valid clusterName!" in notices[0]["message"]
    assert notices[0]["path"] == "aws-load-balancer-controller/templates/deployment.yaml"  # the file Helm names
    assert notices[0]["severity"] == "info"


TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: ipv4
spec:
  type: LoadBalancer
  ipFamilies:
    - {{ printf "IPv%d" 4 }}
  ports:
    - port: {{ .Values.port }}
"""


def write_chart(repo: Path, name: str, values: str, template: str) -> Path:
    """A one-template chart `name` in `repo`, judged against an IPv6 cluster on AWS."""
    chart = repo / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    (chart / "templates" / "service.yaml").write_text(template)
    (repo / ".v6lint.toml").write_text(IPV6_AWS)
    return chart


def small_chart(repo: Path) -> Path:
    return write_chart(repo, "web", "port: 80\n", TEMPLATE)


@needs_renderer
def test_a_template_literal_is_fixed_in_the_template_and_a_computed_value_is_shown_without_fix(repo, monkeypatch):
    chart = small_chart(repo)
    seen = []  # (the folder rendered, its template's text, the user's file's text) per render
    real = type(backend()).render

    def recording(self, chart_dir, values, sets):
        seen.append((chart_dir, Path(chart_dir, "templates/service.yaml").read_text(),
                     (chart / "templates/service.yaml").read_text()))
        return real(self, chart_dir, values, sets)

    monkeypatch.setattr(type(backend()), "render", recording)
    code, diags = found("--no-cache")
    assert where(diags) == [("LB013", "web/templates/service.yaml", 8, 67),
                            ("SVC009", "web/templates/service.yaml", 2, 1)]
    lb013, svc009 = sorted(diags, key=lambda d: d["code"])
    assert "written in this template" in lb013["message"] and lb013["fix"]["edits"][0]["content"] == "dualstack"
    assert svc009["fix"] is None and "could not be traced: no fix" in svc009["message"]
    # the fix run renders the fixed template (a private copy: the file is written only after) and
    # reports what that render leaves: the untraceable SVC009, no LB013
    seen.clear()
    fixing = found("--no-cache", "--fix")
    assert where(fixing[1]) == [("SVC009", "web/templates/service.yaml", 2, 1)]
    (checked,) = [s for s in seen if "type: dualstack" in s[1]]
    assert checked[0] != str(chart.resolve()) and "type: ipv4" in checked[2]  # a copy, before the write
    assert (chart / "templates/service.yaml").read_text() == TEMPLATE.replace("type: ipv4", "type: dualstack")
    assert where(found("--no-cache")[1]) == [("SVC009", "web/templates/service.yaml", 2, 1)]


def test_without_a_renderer_one_notice_per_chart_and_the_exit_code_is_unaffected(repo, monkeypatch):
    monkeypatch.setattr(helm, "backend", lambda: None)
    small_chart(repo)
    (repo / "web" / "templates" / "service.yaml").write_text("{{- /* nothing yet */ -}}\n")
    code, diags = found("--no-cache")
    notices = [d for d in diags if d["code"] == "V6L909"]
    assert code == 0 and [n["path"] for n in notices] == ["web/Chart.yaml"]
    assert "install v6lint's `helm` extra (the helm-python-sdk package" in notices[0]["message"]


@needs_renderer
def test_renders_are_cached_by_the_charts_content(repo, monkeypatch):
    chart = small_chart(repo)
    calls = []
    real = type(backend()).render

    def counting(self, *args):
        calls.append(args[0])
        return real(self, *args)

    monkeypatch.setattr(type(backend()), "render", counting)
    first = found()
    assert len(calls) == 1  # (no values leaf holds a finding's value: no traced render)
    assert found() == first and len(calls) == 1
    (chart / "values.yaml").write_text("port: 8080\n")
    found()
    assert len(calls) == 2
    found("--no-cache")
    assert len(calls) == 3


@needs_renderer
def test_a_chart_that_renders_too_much_or_too_long_is_stopped(repo, monkeypatch):
    chart = small_chart(repo)
    (chart / "templates" / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  x: {{ repeat 100000 \"ab\" | quote }}\n")
    monkeypatch.setattr(helm, "MAX_OUTPUT", 50_000)
    code, diags = found("--no-cache")
    assert [d["code"] for d in diags if d["code"] == "V6L909"] == ["V6L909"]
    assert "over 50000" in next(d for d in diags if d["code"] == "V6L909")["message"]
    monkeypatch.setattr(helm, "RENDER_TIMEOUT", 0.01)
    with pytest.raises(RenderError, match="took over 0.01 s and was stopped"):
        backend().render(str(chart), {}, [])


def test_helm_template_output_is_split_by_source():
    text = ("---\n# Source: web/templates/a.yaml\nkind: A\n---\n# Source: web/templates/b.yaml\nkind: B\n"
            "---\n# Source: web/templates/b.yaml\nkind: C\n")
    parts = split_stream(text)
    assert list(parts) == ["web/templates/a.yaml", "web/templates/b.yaml"]
    assert "kind: B" in parts["web/templates/b.yaml"] and "kind: C" in parts["web/templates/b.yaml"]


def test_a_chart_with_a_symlink_out_of_it_or_values_outside_the_project_is_not_rendered(repo, tmp_path):
    chart = small_chart(repo)
    (tmp_path / "secret.txt").write_text("key\n")
    (chart / "files").mkdir()
    (chart / "files" / "key").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(RenderError, match="leads out of the chart"):
        helm.chart_digest(str(chart), {}, [], "x")
    (chart / "files" / "key").unlink()
    (repo / ".v6lint.toml").write_text(IPV6_AWS + '[helm.charts."web"]\nvalues = ["../../secret.txt"]\n')
    result = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "json"], catch_exceptions=False)
    notices = [d for d in json.loads(result.stdout) if d["code"] == "V6L909"]
    expected = "is outside the project; not read" if backend() else "not rendered"
    assert len(notices) == 1 and expected in notices[0]["message"]


@needs_renderer
def test_an_ignore_comment_on_the_values_line_suppresses_the_rendered_finding(repo):
    chart = copy_chart(repo, "ingress-nginx")
    (chart / "values-prod.yaml").write_text(VALUES_PROD.replace("[IPv4]", "[IPv4]  # v6lint: ignore[SVC009] ok"))
    (repo / ".v6lint.toml").write_text(IPV6_AWS + '[helm.charts."ingress-nginx"]\nvalues = ["values-prod.yaml"]\n')
    assert where(found("--no-cache")[1]) == [("LB013", "ingress-nginx/values-prod.yaml", 6, 69)]


SETS_TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-api
spec:
  ipFamilyPolicy: {{ .Values.policy }}
  ipFamilies:
  {{- toYaml .Values.families | nindent 4 }}
  ports:
    - port: 80
"""


@needs_renderer
def test_each_values_set_is_rendered_once_and_its_findings_say_which(repo, monkeypatch):
    chart = repo / "api"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: api\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("policy: SingleStack\nfamilies: [IPv6]\n")
    (chart / "templates" / "service.yaml").write_text(SETS_TEMPLATE)
    (chart / "values-prod.yaml").write_text("families: [IPv6, IPv4]\n")
    (chart / "values-staging.yaml").write_text("families:\n  - IPv4\n  - IPv6\n")
    (repo / ".v6lint.toml").write_text(
        '[cluster]\nip-family = "ipv6"\n[helm.charts."api".sets.prod]\nvalues = ["values-prod.yaml"]\n'
        '[helm.charts."api".sets.staging]\nvalues = ["values-staging.yaml"]\n')
    renders = []
    real = type(backend()).render

    def counting(self, chart_dir, values, sets):
        renders.append("traced" if "v6lm" in json.dumps(values) else values["families"])
        return real(self, chart_dir, values, sets)

    monkeypatch.setattr(type(backend()), "render", counting)
    code, diags = found("--no-cache")
    assert code == 1
    # each set rendered once (the chart's values.yaml under each), plus one traced render per set
    # that has findings to place; never once per template file or per finding
    assert sorted(map(str, renders)) == sorted(map(str, [["IPv6", "IPv4"], ["IPv4", "IPv6"], "traced", "traced"]))
    by_place = {(d["code"], d["path"], d["range"]["start"]["line"]): d["message"] for d in diags}
    assert sorted(by_place) == [("SVC004", "api/values.yaml", 1),
                                ("SVC009", "api/values-prod.yaml", 1),
                                ("SVC009", "api/values-staging.yaml", 2)]
    # the same finding from both sets is one diagnostic that names both
    assert "(Service release-name-api from chart api with values sets prod, staging; set by policy " \
           "in api/values.yaml)" in by_place[("SVC004", "api/values.yaml", 1)]
    assert "from chart api with values set prod; set by families in api/values-prod.yaml" \
        in by_place[("SVC009", "api/values-prod.yaml", 1)]
    assert "from chart api with values set staging; set by families in api/values-staging.yaml" \
        in by_place[("SVC009", "api/values-staging.yaml", 2)]
    # with the cache, a second run renders nothing
    first = found()
    renders.clear()
    assert found() == first and renders == []


@needs_renderer
def test_checking_one_file_of_a_chart_renders_the_chart_and_reports_on_that_file(repo):
    small_chart(repo)
    code, diags = found("--no-cache", "web/templates/service.yaml")
    assert where(diags) == [("LB013", "web/templates/service.yaml", 8, 67),
                            ("SVC009", "web/templates/service.yaml", 2, 1)]  # rendered, not V6L901
    assert found("--no-cache", "web/values.yaml") == (0, [])  # the template's findings are not this file's


LB_TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-lb
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: {{ .Values.service.ipAddressType }}
spec:
  type: LoadBalancer
  ipFamilies: [IPv6]
  ports:
    - port: 80
"""
# A chart whose schema only allows what its authors tested (Helm validates values against it).
LB_SCHEMA = '{"properties": {"service": {"properties": {"ipAddressType": {"enum": ["ipv4"]}}}}}\n'


def lb_chart(repo: Path) -> Path:
    return write_chart(repo, "lb", "service:\n  ipAddressType: ipv4\n", LB_TEMPLATE)


@needs_renderer
def test_a_values_fix_is_rendered_again_before_it_is_written(repo, monkeypatch):
    chart = lb_chart(repo)
    renders = []
    real = type(backend()).render

    def counting(self, chart_dir, values, sets):
        renders.append(values["service"]["ipAddressType"])
        return real(self, chart_dir, values, sets)

    monkeypatch.setattr(type(backend()), "render", counting)
    assert where(found("--no-cache")[1]) == [("LB013", "lb/values.yaml", 2, 18)]
    renders.clear()
    result = CliRunner().invoke(main, ["check", "--no-cache", "--fix", "--unsafe-fixes", "--output-format", "json"],
                                catch_exceptions=False)
    # the fix run rendered the chart with the fixed value (and judged that render: nothing left)
    assert "dualstack" in renders and json.loads(result.stdout) == [] and result.exit_code == 0
    assert (chart / "values.yaml").read_text() == "service:\n  ipAddressType: dualstack\n"
    assert found("--no-cache") == (0, [])


@needs_renderer
def test_a_fix_after_which_the_chart_no_longer_renders_is_not_written(repo):
    chart = lb_chart(repo)
    (chart / "values.schema.json").write_text(LB_SCHEMA)
    code, diags = found("--no-cache")
    assert where(diags) == [("LB013", "lb/values.yaml", 2, 18)] and diags[0]["fix"] is not None
    code, diags = found("--no-cache", "--fix", "--unsafe-fixes")
    assert (chart / "values.yaml").read_text() == "service:\n  ipAddressType: ipv4\n"  # not written
    assert where(diags) == [("LB013", "lb/values.yaml", 2, 18), ("V6L906", "lb/values.yaml", 1, 1)]
    notice = next(d for d in diags if d["code"] == "V6L906")["message"]
    assert notice.startswith("fixes not applied: with them, chart lb no longer renders (") and "ipv4" in notice


def test_a_list_written_in_the_template_is_found_as_one_block():
    from v6lint.document import SEQ

    def block(template, families=("IPv6", "IPv4")):
        text = "apiVersion: v1\nkind: Service\nspec:\n  ipFamilies: [IPv6, IPv4]\n"
        doc = parse_source(SourceFile("r.yaml", text.replace("[IPv6, IPv4]", "[" + ", ".join(families) + "]"))).documents[0]
        node = doc.root.get("spec").get("ipFamilies")
        assert node.kind == SEQ
        source = SourceFile("t.yaml", template)
        found = helm._literal_block(source, ["spec", "ipFamilies"], node)
        return template[found[0]:found[1]] if found else None

    assert block("spec:\n  ipFamilies:\n    - IPv6\n    - IPv4   # both\n  ports: []\n") == "- IPv6\n    - IPv4"
    assert block("spec:\n  ipFamilies:\n  - IPv6\n  - IPv4\n  ports: []\n") == "- IPv6\n  - IPv4"
    assert block("spec:\n  ipFamilies: [IPv6, IPv4]  # x\n") == "[IPv6, IPv4]"
    assert block("spec:\n  ipFamilies:\n  {{- toYaml .Values.f | nindent 4 }}\n") is None  # computed
    assert block("spec:\n  ipFamilies: [IPv6]\n") is None  # not every value is written there
    assert block("a:\n  ipFamilies: [IPv6, IPv4]\nb:\n  ipFamilies: [IPv6, IPv4]\n") is None  # not one place


SUB_TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  ipFamilyPolicy: {{ .Values.policy }}
  ipFamilies:
  {{- toYaml .Values.families | nindent 4 }}
"""


@needs_renderer
def test_sub_charts_render_with_the_parent_and_their_defaults_are_traced(repo):
    import tarfile

    app = repo / "app"
    (app / "charts" / "db" / "templates").mkdir(parents=True)
    (app / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (app / "values.yaml").write_text("replicas: 1\n")
    (app / "charts/db/Chart.yaml").write_text("apiVersion: v2\nname: db\nversion: 0.1.0\n")
    (app / "charts/db/values.yaml").write_text("policy: SingleStack\nfamilies: [IPv4]\n")
    (app / "charts/db/templates/svc.yaml").write_text(SUB_TEMPLATE)
    (repo / ".v6lint.toml").write_text('[cluster]\nip-family = "ipv6"\n')
    code, diags = found("--no-cache")
    # the sub-chart's own default is where the value comes from
    assert where(diags) == [("SVC009", "app/charts/db/values.yaml", 2, 12)]
    assert "(Service db from chart app; set by families.0 in app/charts/db/values.yaml)" in diags[0]["message"]
    # the parent's values override it under the sub-chart's name: reported there
    (app / "values.yaml").write_text("db:\n  families: [IPv6, IPv4]\n")
    assert where(found("--no-cache")[1]) == [("SVC004", "app/charts/db/values.yaml", 1, 9),
                                             ("SVC009", "app/values.yaml", 2, 13)]
    # a packaged sub-chart (.tgz) renders with the parent too
    with tarfile.open(app / "charts" / "db-0.1.0.tgz", "w:gz") as archive:
        archive.add(app / "charts" / "db", arcname="db")
    shutil.rmtree(app / "charts" / "db")
    assert where(found("--no-cache")[1]) == [("SVC004", "app/Chart.yaml", 1, 1),
                                             ("SVC009", "app/values.yaml", 2, 13)]


def test_plain_values_are_typed_as_helm_reads_them():
    # goyaml.v2's resolution of plain scalars (kubernetes-sigs/yaml@742f5e6f goyaml.v2/resolve.go)
    from v6lint.helm import plain_value

    assert [plain_value(t) for t in ("1", "-3", "+7", "1_000", "0x1F", "0o17", "017", "0b101", "-0b11", "0")] == \
        [1, -3, 7, 1000, 31, 15, 15, 5, -3, 0]
    assert [plain_value(t) for t in ("1.5", "1e3", ".5", "08", "1.")] == [1.5, 1000.0, 0.5, 8.0, 1.0]
    assert [plain_value(t) for t in ("yes", "On", "TRUE", "n", "off", "~", "null", "")] == \
        [True, True, True, False, False, None, None, None]
    for text in ("v1", "1.2.3", "2024-01-01", ".inf", "0x", "-", ".5_0", "10.0.0.0/16", "ipv4"):
        assert plain_value(text) == text  # strings (timestamps too: decoded into interface{} they stay text)


def test_quoted_and_tagged_values_stay_strings():
    values = 'a: 1\nb: "1"\nc: !!str 1\nd: &x 2\ne: ! 3\nf: yes\ng: 0.5\n'
    source = SourceFile("values.yaml", values)
    root = parse_source(source).documents[0].root
    assert helm.to_python(root, [], source) == {"a": 1, "b": "1", "c": "1", "d": 2, "e": "3", "f": True, "g": 0.5}


@needs_renderer
def test_a_chart_whose_schema_wants_integers_renders(repo):
    # values.yaml's `replicas: 1` is an integer to Helm; passed on as the string "1" it failed the chart's
    # values.schema.json ("got string, want integer": apache/spark-kubernetes-operator's chart was not rendered)
    chart = write_chart(repo, "web", "replicas: 1\nport: 80\nfamily: IPv4\n", """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [{{ .Values.family }}]
  ports:
    - port: {{ add .Values.port 0 }}
""")
    (chart / "values.schema.json").write_text(
        '{"type": "object", "properties": {"replicas": {"type": "integer"}, "port": {"type": "integer"}}}\n')
    code, diags = found("--no-cache")
    assert where(diags) == [("SVC009", "web/values.yaml", 3, 9)]
