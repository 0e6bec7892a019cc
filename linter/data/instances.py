"""EC2 instance network limits for the NODE and CNI rules.

The table ships as `instance_limits.csv` beside this file, written by
`python -m v6lint.data.instances ../shared/data/instance-limits.csv` from the shared data, which was
extracted from aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go at
b52188387f2e2f10bf289ace929d6a63b176a4fa (v1.23.1). The first line records that source.

Prefix delegation (and so EKS IPv6) needs Nitro: `hypervisor == "nitro" or bare_metal`, as the CNI's
IsPrefixDelegationSupported decides. vCPUs are not in the source; `vcpus_at_most_30` derives what
NODE004 needs from the size name: `Nxlarge` has 4N vCPUs, `xlarge` 4, `large` and smaller at most 2;
`metal` sizes vary and stay unknown.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

SOURCE = ("aws/amazon-vpc-cni-k8s pkg/vpc/vpc_ip_resource_limit.go at b52188387f2e2f10bf289ace929d6a63b176a4fa "
          "(via shared/data/instance-limits.csv)")


@dataclass(frozen=True)
class Instance:
    name: str
    enis: int
    ipv4_per_eni: int
    hypervisor: str
    bare_metal: bool

    @property
    def nitro(self) -> bool:
        return self.hypervisor == "nitro" or self.bare_metal

    @property
    def max_pods(self) -> int:
        """The secondary-IP formula behind eni-max-pods.txt: enis * (ips - 1) + 2."""
        return self.enis * (self.ipv4_per_eni - 1) + 2

    @property
    def vcpus_at_most_30(self) -> bool | None:
        size = self.name.split(".", 1)[1] if "." in self.name else ""
        if "metal" in size:
            return None
        match = re.fullmatch(r"(\d+)xlarge", size)
        return 4 * int(match.group(1)) <= 30 if match else True


@lru_cache(maxsize=1)
def table() -> dict[str, Instance]:
    text = resources.files("v6lint.data").joinpath("instance_limits.csv").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", "instance_type")):
            continue
        name, enis, ips, hypervisor, metal = line.split(",")
        out[name] = Instance(name, int(enis), int(ips), hypervisor, metal == "true")
    return out


def regenerate(source_csv: str) -> None:
    with open(source_csv, encoding="utf-8") as handle:
        body = handle.read()
    target = resources.files("v6lint.data").joinpath("instance_limits.csv")
    with open(str(target), "w", encoding="utf-8") as handle:
        handle.write(f"# source: {SOURCE}\n" + body)


if __name__ == "__main__":
    regenerate(sys.argv[1])
