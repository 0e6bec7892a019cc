"""Speed yardsticks measured on this machine, in one run.

    python -m v6lint.bench floor CORPUS [--jobs 1] [--runs 3]
    python -m v6lint.bench corpus OUT [--files 10000] [--seed 7]

`floor` measures the parse floor of CORPUS in this process: reading every file v6lint lints,
libyaml composing every YAML (and .tfvars.json) file, tree-sitter parsing every HCL file and the
stdlib `ast` parsing every Python file. Nothing more can be skipped without skipping the files.
It then runs `v6lint check --no-cache` on the same files `--runs` times (a child process each,
CPU = user + sys of the child) and prints v6lint's median CPU as a multiple of the floor.
Ratios of the same run are the figures to compare; absolute seconds depend on the load.

`corpus` writes a generated monorepo with a realistic mix, where most files touch no IPv6 field:
application Deployments with ClusterIP Services, ConfigMaps, CronJobs, CustomResourceDefinitions,
Helm-style values, Terraform modules without networking, plain Python, and about 1 file in 20 that
matters here (LoadBalancer Services, VPCs, Spark jobs). Deterministic for a given seed. It beside
`../shared/bench/make_corpus.py` (the common, IPv6-heavy yardstick) shows what a pre-filter is worth.
"""
from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path


def _files(corpus: Path) -> list[Path]:
    from v6lint.discovery import discover

    return [Path(path) for path in discover([str(corpus)], [], corpus.resolve()).files]


def _yaml_composer():
    """ruamel.yaml's safe composer on libyaml, plain scalars tagged with one dict lookup: the floor's
    YAML phase (the linter builds its nodes from libyaml's events itself, which costs less; the
    floor stays this composition so that ratios compare across versions)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    from v6lint.yaml_source import _PLAIN_TAGS, PURE

    class PlainResolver(VersionedResolver):
        def resolve(self, kind, value, implicit):
            if kind is ScalarNode and implicit[0]:
                return _PLAIN_TAGS.get(value, "tag:yaml.org,2002:str")
            return super().resolve(kind, value, implicit)

    made = YAML(typ="safe", pure=PURE)
    made.Resolver = PlainResolver
    return made


def floor(files: list[Path]) -> dict[str, float]:
    """CPU seconds per phase (read, yaml, hcl, python) and file counts, for `files`."""
    from tree_sitter import Parser

    from v6lint.hcl_source import _LANGUAGE
    from v6lint.source import DecodeError, decode
    from v6lint.sources import language_of

    texts: list[tuple[str, str]] = []
    t0 = time.process_time()
    for path in files:
        try:
            texts.append((language_of(str(path)), decode(path.read_bytes())[0]))
        except (OSError, DecodeError):
            continue
    out = {"read": time.process_time() - t0, "files": float(len(texts))}
    yaml, parser = _yaml_composer(), Parser(_LANGUAGE)
    phases = {"yaml": ("yaml", "tfvars-json"), "hcl": ("hcl",), "python": ("python",)}
    for phase, languages in phases.items():
        t0 = time.process_time()
        count = 0
        for language, text in texts:
            if language not in languages:
                continue
            count += 1
            try:
                if phase == "yaml":
                    for _ in yaml.compose_all(text):
                        pass
                elif phase == "hcl":
                    parser.parse(text.encode("utf-8"))
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        ast.parse(text)
            except Exception:  # noqa: BLE001 - a file that does not parse still cost its parse
                pass
        out[phase] = time.process_time() - t0
        out[f"{phase}_files"] = float(count)
    return out


def child_cpu(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {team}
  labels: {{app: {name}}}
spec:
  replicas: {n}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      serviceAccountName: {name}
      containers:
        - name: {name}
          image: registry.example.com/{team}/{name}:1.{n}.0
          ports: [{{containerPort: 8080}}]
          env:
            - {{name: LOG_LEVEL, value: info}}
            - {{name: UPSTREAM, value: "http://{name}-api.{team}.svc.cluster.local:8080"}}
          resources: {{requests: {{cpu: 50m, memory: 64Mi}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {team}}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
"""
_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}-config, namespace: {team}}}
data:
  application.yaml: |
    server.port: 8080
    feature.{name}: true
    retries: {n}
"""
_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}-nightly, namespace: {team}}}
spec:
  schedule: "{n} 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: registry.example.com/{team}/{name}-job:2.{n}
              args: ["--batch-size", "{n}00"]
"""
_CRD_FIELD = """\
                {field}:
                  type: string
                  description: {field} of the {name} resource
"""
_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {name}s.{team}.example.com}}
spec:
  group: {team}.example.com
  names: {{kind: {kind}, plural: {name}s}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
{fields}"""
_VALUES = """\
replicaCount: {n}
image: {{repository: registry.example.com/{team}/{name}, tag: "3.{n}"}}
resources: {{limits: {{memory: 256Mi}}}}
podAnnotations: {{team: {team}}}
"""
_TERRAFORM = """\
resource "aws_s3_bucket" "{name}" {{
  bucket = "{team}-{name}-artifacts"
  tags = {{ team = "{team}" }}
}}

resource "aws_iam_role" "{name}" {{
  name               = "{team}-{name}"
  assume_role_policy = data.aws_iam_policy_document.{name}.json
}}

data "aws_iam_policy_document" "{name}" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }}
  }}
}}
"""
_PYTHON = """\
import json


def handler(event, context):
    \"\"\"{name}: reads the batch and writes a summary.\"\"\"
    items = json.loads(event["body"])
    return {{"count": len(items), "team": "{team}", "limit": {n}}}
"""
_LOADBALANCER = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}-public
  namespace: {team}
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
spec:
  type: LoadBalancer
  ipFamilyPolicy: {policy}
  selector: {{app: {name}}}
  ports: [{{port: 443, targetPort: 8443}}]
"""
_VPC = """\
module "vpc_{name}" {{
  source          = "terraform-aws-modules/vpc/aws"
  name            = "{team}-{name}"
  cidr            = "10.{n}.0.0/16"
  enable_ipv6     = {ipv6}
  private_subnets = ["10.{n}.1.0/24", "10.{n}.2.0/24"]
}}
"""
_SPARK = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {{name: {name}-etl, namespace: {team}}}
spec:
  type: Scala
  mode: cluster
  image: registry.example.com/{team}/spark:3.5.{n}
  mainClass: com.example.{kind}
  mainApplicationFile: local:///opt/app/{name}.jar
  sparkVersion: 3.5.1
  sparkConf:
    spark.driver.bindAddress: 0.0.0.0
  driver: {{cores: 1, memory: 1g}}
  executor: {{cores: 2, instances: {n}, memory: 2g}}
"""
# (weight, folder, file name, template): about 1 file in 20 holds something IPv6 rules read.
_MIX = ((30, "apps", "deployment.yaml", _DEPLOYMENT), (18, "apps", "configmap.yaml", _CONFIGMAP),
        (8, "jobs", "cronjob.yaml", _CRONJOB), (8, "crds", "crd.yaml", _CRD), (9, "charts", "values.yaml", _VALUES),
        (12, "terraform", "main.tf", _TERRAFORM), (10, "lambdas", "handler.py", _PYTHON),
        (2, "edge", "service.yaml", _LOADBALANCER), (2, "network", "vpc.tf", _VPC), (1, "data", "spark.yaml", _SPARK))


def realistic_corpus(out: Path, files: int, seed: int = 7) -> int:
    """Write `files` generated files (see the module's doc) below `out`; the number written."""
    import random

    rng = random.Random(seed)
    weights = [w for w, *_ in _MIX]
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster.tfvars").write_text('ip_family = "ipv6"\n')
    for i in range(files - 1):
        _w, folder, name, template = rng.choices(_MIX, weights)[0]
        team, n = f"team-{i % 37:02d}", rng.randint(1, 9)
        values = dict(team=team, name=f"svc{i:06d}", n=n, kind=f"Kind{i}", ipv6=rng.choice(["true", "false"]),
                      policy=rng.choice(["SingleStack", "PreferDualStack"]))
        if template is _CRD:
            values["fields"] = "".join(_CRD_FIELD.format(field=f"field{k}", name=values["name"])
                                       for k in range(rng.randint(5, 40)))
        path = out / team / folder / f"{values['name']}-{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m v6lint.bench", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    fl = sub.add_parser("floor", help="parse floor of a corpus, and v6lint's CPU as a multiple of it")
    fl.add_argument("corpus", type=Path)
    fl.add_argument("--jobs", default="1", help="v6lint --jobs (default 1: the floor is one process)")
    fl.add_argument("--runs", type=int, default=3)
    fl.add_argument("--v6lint", help="v6lint executable to time (default: this Python's), e.g. an older build")
    gen = sub.add_parser("corpus", help="write a generated monorepo with a realistic mix (most files touch no IPv6 field)")
    gen.add_argument("out", type=Path)
    gen.add_argument("--files", type=int, default=10_000)
    gen.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.command == "corpus":
        if args.out.exists() and any(args.out.iterdir()):
            ap.error(f"{args.out} is not empty")
        count = realistic_corpus(args.out, args.files, args.seed)
        print(f"{count} files in {args.out}")
        return 0
    files = _files(args.corpus)
    parts = floor(files)
    total = parts["read"] + parts["yaml"] + parts["hcl"] + parts["python"]
    print(f"files: {int(parts['files'])} (yaml {int(parts['yaml_files'])}, hcl {int(parts['hcl_files'])}, "
          f"python {int(parts['python_files'])})")
    print(f"floor CPU s: read {parts['read']:.2f} + yaml compose {parts['yaml']:.2f} + tree-sitter "
          f"{parts['hcl']:.2f} + ast {parts['python']:.2f} = {total:.2f}")
    exe = [args.v6lint] if args.v6lint else [sys.executable, "-m", "v6lint"]
    cmd = [*exe, "check", "--no-cache", "--exit-zero", "--jobs", args.jobs,
           "--output-format", "json", str(args.corpus)]
    runs = [child_cpu(cmd) for _ in range(max(args.runs, 1))]
    cpu = statistics.median(r[1] for r in runs)
    wall = statistics.median(r[0] for r in runs)
    peak = max(r[2] for r in runs) / 1024
    print(f"{' '.join(exe)} --jobs {args.jobs}: CPU {cpu:.2f} s, wall {wall:.2f} s, peak {peak:.0f} MB (median of {len(runs)})")
    print(f"v6lint CPU / floor: {cpu / total:.2f}x" if total else "floor is 0: nothing to parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
