"""TF: Terraform variables, tfvars and module blocks (terraform-aws-modules/eks and /vpc)."""
from __future__ import annotations

import difflib
import ipaddress
import os
import re
from typing import Iterator

from v6lint.diagnostics import Edit, Finding, Fix
from v6lint.discovery import untemplated
from v6lint.document import Document, Node
from v6lint.hcl_source import EXPR, HclBlock, walk_blocks
from v6lint.rule import Profile, rule
from v6lint.yaml_edit import delete_entry

EKS_MODULE = "https://github.com/terraform-aws-modules/terraform-aws-eks/blob/master/variables.tf"
EKS_NODE_GROUP_CNI = ("https://github.com/terraform-aws-modules/terraform-aws-eks/blob/bef29c4d9523523e57fe898643fde2895106b339/modules/eks-managed-node-group/main.tf")  # ipv6_cni_policy local
VPC_MODULE = "https://github.com/terraform-aws-modules/terraform-aws-vpc/blob/master/variables.tf"
PROVIDER_EKS = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/eks_cluster#kubernetes_network_config"
EKS_IPV6 = "https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html"
FAMILY_KEYS = ("ip_family", "cluster_ip_family")
SUBNET_KINDS = ("public", "private", "intra", "database", "elasticache", "redshift")


def _is_tfvars(doc: Document) -> bool:
    return untemplated(doc.source.abspath or doc.source.path).endswith((".tfvars", ".tfvars.json"))


def _bodies(doc: Document) -> Iterator[tuple[Node, HclBlock | None]]:
    """The tfvars root, or every block body of a .tf file."""
    if _is_tfvars(doc):
        yield doc.tree, None
        return
    for block in walk_blocks(doc.blocks):
        yield block.body, block


def _is_vpc_module(block: HclBlock | None) -> bool:
    if block is None or block.type != "module":
        return False
    source = (block.body.str_at("source") or "").split("?")[0]
    # `terraform-aws-modules/vpc/aws//modules/vpc-endpoints` and other submodules are not VPCs
    return "terraform-aws-modules/vpc" in source and "//" not in source.split("terraform-aws-modules/vpc", 1)[1]


@rule("TF001", "invalid-ip-family-value", "error",
      fix="safe", languages=("hcl",), platforms=("aws",),
      rejected_by="Terraform (the AWS provider, at plan)", references=(PROVIDER_EKS, EKS_MODULE))
def invalid_ip_family_value(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`ip_family` / `cluster_ip_family` is not exactly "ipv4" or "ipv6".

    Why:
        The AWS provider validates `kubernetes_network_config.ip_family` case-sensitively; `"IPv6"` fails the
        plan.

    Example:
        cluster_ip_family = "IPv6"   # bad
        cluster_ip_family = "ipv6"   # good

    Fix:
        lower-case
    """
    for body, block in _bodies(doc):
        if block is not None and block.type == "variable":
            continue
        for key in FAMILY_KEYS:
            node = body.get(key)
            if node is None or node.tag == EXPR or node.text is None or node.text in ("ipv4", "ipv6"):
                continue
            lower = node.text.strip().lower()
            fix = Fix.safe(f'Use "{lower}"', Edit(node.start, node.end, f'"{lower}"')) \
                if lower in ("ipv4", "ipv6") else None
            yield Finding(node.start, node.end,
                          f'`{key} = "{node.text}"`: the AWS provider accepts exactly "ipv4" or "ipv6" '
                          f"(case-sensitive) and the plan fails", fix)


def _declared(doc: Document, profile: Profile) -> dict | None:
    facts = profile.facts
    directory = os.path.dirname(doc.source.abspath or "")
    if facts is None or directory in facts.incomplete_stacks:
        return None
    return facts.variables.get(directory) or None


@rule("TF002", "undeclared-variable", "error", fix="safe", languages=("hcl",))
def undeclared_variable(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A tfvars key that no `variable` block of the stack declares.

    Why:
        Terraform only warns about values for undeclared variables and ignores them: a typo such as
        `enable_ipV6` leaves the cluster IPv4 without an error. Checked against the `variable` blocks in the
        tfvars file's own directory (silent when that directory declares none).

    Example:
        enable_ipV6 = true   # bad: enable_ipv6

    Fix:
        rename when exactly one declared variable is a close match
    """
    declared = _declared(doc, profile)
    if not _is_tfvars(doc) or not declared:
        return
    for key, _value in doc.tree.entries():
        name = key.value
        if name in declared:
            continue
        close = [d for d in declared if d.lower() == name.lower()] or difflib.get_close_matches(name, list(declared), n=2, cutoff=0.85)
        fix = Fix.safe(f"Rename to `{close[0]}`", Edit(key.start, key.end, close[0])) if len(close) == 1 else None
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        yield Finding(key.start, key.end,
                      f"`{name}` is not declared by any `variable` block in this stack{hint}; Terraform warns and "
                      f"ignores it, so the setting silently has no effect", fix)


@rule("TF003", "variable-type-mismatch", "warning", fix="safe", languages=("hcl",))
def variable_type_mismatch(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A tfvars value whose type differs from its variable's (`"true"` for a bool).

    Why:
        Terraform converts strings to bool or number only for exact spellings: `"True"` or `"yes"` fail, and
        quoted booleans invite them.

    Example:
        enable_ipv6 = "true"   # bad
        enable_ipv6 = true     # good

    Fix:
        unquote
    """
    declared = _declared(doc, profile)
    if not _is_tfvars(doc) or not declared:
        return
    for key, value in doc.tree.entries():
        decl = declared.get(key.value)
        if decl is None or not decl.type or value.style != '"':
            continue
        kind = decl.type.strip()
        text = value.text or ""
        if kind == "bool" or (kind == "number" and _is_number(text)):
            ok = text in ("true", "false") if kind == "bool" else True
            fix = Fix.safe(f"Write {text} unquoted", Edit(value.start, value.end, text)) if ok else None
            yield Finding(value.start, value.end,
                          f'`{key.value} = "{text}"` is a string but the variable is `{kind}`; Terraform converts '
                          f"only exact spellings" + ("" if ok else f', and "{text}" is not one of them'), fix)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@rule("TF004", "service-ipv6-cidr-set", "error",
      fix="safe", languages=("hcl",), platforms=("aws",),
      rejected_by="Terraform (the AWS provider, at plan)", references=(PROVIDER_EKS,))
def service_ipv6_cidr_set(doc: Document, profile: Profile) -> Iterator[Finding]:
    """`service_ipv6_cidr` is configured.

    Why:
        EKS picks the IPv6 Service CIDR itself; the provider's `service_ipv6_cidr` is computed-only and
        setting it fails the plan.

    Example:
        service_ipv6_cidr = "fd00::/108"   # bad: remove

    Fix:
        remove the attribute
    """
    for body, block in _bodies(doc):
        if block is not None and block.type == "variable":
            continue
        found = body.entry("service_ipv6_cidr")
        if found is None:
            continue
        key, value = found
        yield Finding(key.start, value.end,
                      "`service_ipv6_cidr` cannot be set: EKS assigns the IPv6 Service range itself (the provider "
                      "attribute is computed-only)",
                      Fix.safe("Remove `service_ipv6_cidr`", delete_entry(doc.source, body, "service_ipv6_cidr")))


@rule("TF005", "cni-ipv6-policy-missing", "warning",
      fix="none", languages=("hcl",), profiles=("ipv6",), platforms=("aws",), maturity="preview",
      references=(EKS_IPV6, EKS_MODULE, EKS_NODE_GROUP_CNI))
def cni_ipv6_policy_missing(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Node roles attach `AmazonEKS_CNI_IPv6_Policy` but no stack creates it, or two stacks create it.

    Why:
        Unlike the IPv4 CNI policy, `AmazonEKS_CNI_IPv6_Policy` is not AWS-managed: something must create it
        (`create_cni_ipv6_iam_policy = true` in terraform-aws-modules/eks, an `aws_iam_policy`, or the CLI as
        the EKS guide does), and only once per account, since the name is fixed. A stack that creates its own
        policy granting `ec2:AssignIpv6Addresses` under another name and attaches it by reference needs
        neither. terraform-aws-eks's node-group modules attach the policy by ARN on their own for
        `cluster_ip_family = "ipv6"` (their `ipv6_cni_policy` local); that implicit attachment is not judged,
        since the policy may come from outside the repository. Preview: the account's policies and which
        stacks share an account are not visible in code.

    Example:
        create_cni_ipv6_iam_policy = true   # in exactly one stack
    """
    facts = profile.facts
    if facts is None:
        return
    here = doc.source.abspath
    if facts.cni_policy_refs and not facts.cni_policy_creators and not facts.cni_policy_own:
        for path, start, end in facts.cni_policy_refs:
            if path == here:
                yield Finding(start, end,
                              "node roles attach `AmazonEKS_CNI_IPv6_Policy`, but no stack in this repository creates "
                              "it (AWS has no managed policy of that name): set `create_cni_ipv6_iam_policy = true` "
                              "in one stack, or create the policy once per account as the EKS guide does")
    for path, start, end in facts.cni_policy_creators[1:]:
        if path == here:
            yield Finding(start, end,
                          "a second stack creates `AmazonEKS_CNI_IPv6_Policy`; the name is fixed, so the second "
                          "apply fails with EntityAlreadyExists: create it in one stack only")


@rule("TF006", "vpc-ipv6-subnets-incomplete", "error",
      fix="none", languages=("hcl",), profiles=("ipv6",), platforms=("aws",),
      references=(VPC_MODULE, EKS_IPV6))
def vpc_ipv6_subnets_incomplete(doc: Document, profile: Profile) -> Iterator[Finding]:
    """Subnets an IPv6 EKS cluster uses lack IPv6 prefixes (or have too few) or do not assign IPv6 addresses.

    Why:
        With `enable_ipv6 = true` terraform-aws-modules/vpc gives a subnet an IPv6 CIDR only when its
        `*_subnet_ipv6_prefixes` entry exists, and instances get IPv6 addresses only with
        `*_assign_ipv6_address_on_creation` (terraform-aws-vpc main.tf). EKS needs both IP families on the
        subnets of an IPv6 cluster (EKS API KubernetesNetworkConfigRequest.ipFamily), and IPv6 nodes need IPv6
        addresses. Only the subnet groups that an `aws_eks_cluster`, `aws_eks_node_group`,
        `aws_eks_fargate_profile` or EKS module of the same stack references (`module.VPC.KIND_subnets`) are
        judged: a VPC's database subnets, or a VPC whose subnets the stack never gives to EKS, are fine.

    Example:
        enable_ipv6 = true
        private_subnets = ["10.0.1.0/24", "10.0.2.0/24"]
        private_subnet_ipv6_prefixes = [3, 4]
        private_subnet_assign_ipv6_address_on_creation = true
        # ...used by: module "eks" { subnet_ids = module.vpc.private_subnets }
    """
    facts = profile.facts
    # Only subnets an EKS cluster or node group of this stack uses must carry IPv6; a VPC whose
    # subnets the stack never hands to EKS (database subnets, a VPC-only stack) is not judged.
    used = facts.eks_subnet_refs.get(os.path.dirname(doc.source.abspath or doc.source.path), set()) if facts else set()
    for block in walk_blocks(doc.blocks):
        if not _is_vpc_module(block) or (block.body.str_at("enable_ipv6") or "") != "true":
            continue
        body = block.body
        label = block.labels[0] if block.labels else ""
        for kind in SUBNET_KINDS:
            subnets = body.get(f"{kind}_subnets")
            if subnets is None or f"{label}.{kind}" not in used:
                continue
            prefixes = body.get(f"{kind}_subnet_ipv6_prefixes")
            if prefixes is None:
                yield Finding(subnets.start, subnets.end,
                              f"`{kind}_subnets` (used by EKS in this stack) without `{kind}_subnet_ipv6_prefixes`: "
                              f"with enable_ipv6 these subnets get no IPv6 CIDR, and an IPv6 cluster needs both "
                              f"families on its subnets")
            elif subnets.kind == "seq" and prefixes.kind == "seq" and len(subnets.items()) != len(prefixes.items()):
                yield Finding(prefixes.start, prefixes.end,
                              f"`{kind}_subnet_ipv6_prefixes` has {len(prefixes.items())} entries for "
                              f"{len(subnets.items())} `{kind}_subnets`; each subnet needs one")
            assign = body.get(f"{kind}_subnet_assign_ipv6_address_on_creation") or body.get(
                "assign_ipv6_address_on_creation")
            if assign is None or (assign.text or "") != "true":
                where = assign if assign is not None else subnets
                yield Finding(where.start, where.end,
                              f"`{kind}_subnets` (used by EKS in this stack) without "
                              f"`{kind}_subnet_assign_ipv6_address_on_creation = true`: nodes launched there get no "
                              f"IPv6 address")


@rule("TF007", "eks-ipv6-vpc-ipv4", "error",
      fix="none", languages=("hcl",), profiles=("ipv6",), platforms=("aws",),
      references=(VPC_MODULE, EKS_IPV6))
def eks_ipv6_vpc_ipv4(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An IPv6 cluster's VPC module has `enable_ipv6` false or unset.

    Why:
        An EKS cluster in IPv6 mode needs a dual-stack VPC and subnets; terraform-aws-modules/vpc leaves IPv6
        off by default.

        When an EKS cluster, node group or EKS module of the same stack takes its subnets from a VPC module
        (`module.VPC.private_subnets`), only that VPC is the cluster's: another VPC of the stack (a client or
        peering VPC) may stay IPv4. A stack without such a reference (a VPC-only stack) is judged whole.

    Example:
        module "vpc" {
          source      = "terraform-aws-modules/vpc/aws"
          enable_ipv6 = true
        }
    """
    facts = profile.facts
    used = facts.eks_subnet_refs.get(os.path.dirname(doc.source.abspath or doc.source.path), set()) if facts else set()
    clusters_vpcs = {ref.split(".", 1)[0] for ref in used}
    for block in walk_blocks(doc.blocks):
        if not _is_vpc_module(block) or (clusters_vpcs and (block.labels or [""])[0] not in clusters_vpcs):
            continue
        value = block.body.get("enable_ipv6")
        if value is None:
            yield Finding(block.type_start, block.body.start if block.body.entries() else block.end,
                          f'module "{block.labels[0] if block.labels else "?"}" builds an IPv4-only VPC '
                          f"(enable_ipv6 defaults to false), but the cluster is IPv6: EKS IPv6 needs a dual-stack VPC")
        elif (value.text or "") == "false":
            yield Finding(value.start, value.end,
                          "`enable_ipv6 = false` on the VPC of an IPv6 cluster: EKS IPv6 needs a dual-stack VPC")


# --- IPv6 VPC layout (terraform-aws-modules/vpc main.tf, the EC2 API) ----------------------------
# terraform-aws-modules/vpc main.tf as read at 00ba9a313346e76cbe2011c0403d916ca987ac65: the private
# route tables get `::/0 -> egress-only internet gateway` only when `create_egress_only_igw` (default
# true) and `enable_ipv6`; subnets get `cidrsubnet(<VPC /56>, 8, prefix)`, a /64.
VPC_MAIN = ("https://github.com/terraform-aws-modules/terraform-aws-vpc/blob/"
            "00ba9a313346e76cbe2011c0403d916ca987ac65/main.tf")
EC2_CREATE_VPC = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html"
EC2_SUBNET_SIZING = "https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html"
AMAZON_IPV6_PREFIX = 56  # an Amazon-provided VPC IPv6 block is always a /56 (CreateVpc)
SUBNET_IPV6_PREFIX_MAX = 64  # no subnet IPv6 CIDR is smaller than a /64
_CIDRSUBNET = re.compile(r"^cidrsubnet\(\s*aws_vpc\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.ipv6_cidr_block\s*,\s*(\d+)\s*,")


@rule("TF008", "private-subnets-without-ipv6-egress", "warning",
      fix="none", languages=("hcl",), platforms=("aws",), references=(VPC_MAIN, EKS_IPV6))
def private_subnets_without_ipv6_egress(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A dual-stack terraform-aws-modules/vpc with private subnets and `create_egress_only_igw = false`.

    Why:
        terraform-aws-modules/vpc routes `::/0` from the private route tables to an egress-only internet
        gateway only when `create_egress_only_igw` (default true) and `enable_ipv6` are both true. Turned off,
        private subnets have no IPv6 egress: IPv6 nodes and pods there cannot reach registries or AWS APIs
        over IPv6.

    Example:
        enable_ipv6            = true
        private_subnets        = ["10.0.1.0/24"]
        create_egress_only_igw = true   # the default; false leaves private subnets without IPv6 egress
    """
    for block in walk_blocks(doc.blocks):
        body = block.body
        if not _is_vpc_module(block) or (body.str_at("enable_ipv6") or "") != "true" or body.get("private_subnets") is None:
            continue
        flag = body.get("create_egress_only_igw")
        if flag is None or flag.tag == EXPR or (flag.text or "") != "false":
            continue
        yield Finding(flag.start, flag.end,
                      "`create_egress_only_igw = false` with IPv6 private subnets: the module then adds no `::/0` "
                      "route to their route tables, so nodes and pods there have no IPv6 egress (image pulls, AWS "
                      "APIs over IPv6)")


def _amazon_provided_vpcs(doc: Document) -> set[str]:
    """Names of `aws_vpc` resources in this file that take an Amazon-provided (/56) IPv6 block."""
    return {b.labels[1] for b in walk_blocks(doc.blocks)
            if b.type == "resource" and b.labels[:1] == ["aws_vpc"] and len(b.labels) > 1
            and (b.body.str_at("assign_generated_ipv6_cidr_block") or "") == "true"}


@rule("TF009", "subnet-ipv6-cidr-too-small", "error",
      fix="none", languages=("hcl",), platforms=("aws",), rejected_by="the EC2 API (terraform apply)",
      references=(EC2_CREATE_VPC, EC2_SUBNET_SIZING, VPC_MAIN))
def subnet_ipv6_cidr_too_small(doc: Document, profile: Profile) -> Iterator[Finding]:
    """An `aws_subnet` IPv6 CIDR smaller than a /64 (a literal, or `cidrsubnet` of an Amazon-provided /56 with
    more than 8 new bits).

    Why:
        An Amazon-provided VPC IPv6 block is always a /56 (CreateVpc: "you cannot specify ... the size of the
        CIDR block"), and a subnet's IPv6 CIDR is never smaller than a /64; EC2 rejects `/80` or
        `cidrsubnet(aws_vpc.main.ipv6_cidr_block, 16, 1)`. terraform-aws-modules/vpc uses 8 new bits (/64).

    Example:
        ipv6_cidr_block = cidrsubnet(aws_vpc.main.ipv6_cidr_block, 8, 1)   # a /64
    """
    amazon = None
    for block in walk_blocks(doc.blocks):
        if block.type != "resource" or block.labels[:1] not in (["aws_subnet"], ["aws_subnet_ipv6_cidr_block_association"]):
            continue
        node = block.body.get("ipv6_cidr_block")
        if node is None or not node.text:
            continue
        if node.tag != EXPR:
            try:
                prefix = ipaddress.ip_network(node.text.strip(), strict=False).prefixlen if "/" in node.text else None
            except ValueError:
                prefix = None
            why = f"{node.text} is a /{prefix}"
        else:
            match = _CIDRSUBNET.match(node.text.strip())
            amazon = _amazon_provided_vpcs(doc) if amazon is None and match else amazon
            prefix = AMAZON_IPV6_PREFIX + int(match.group(2)) \
                if match and amazon is not None and match.group(1) in amazon else None
            why = (f"cidrsubnet adds {match.group(2)} bits to aws_vpc.{match.group(1)}'s Amazon-provided "
                   f"/{AMAZON_IPV6_PREFIX}, giving a /{prefix}") if match and prefix is not None else ""
        if prefix is not None and prefix > SUBNET_IPV6_PREFIX_MAX:
            yield Finding(node.start, node.end,
                          f"subnet IPv6 CIDR smaller than a /{SUBNET_IPV6_PREFIX_MAX}: {why}; EC2 refuses it "
                          f"(VPCs get a /{AMAZON_IPV6_PREFIX}, subnets a /{SUBNET_IPV6_PREFIX_MAX})")


# --- private IPv6 (ULA) ranges ---------------------------------------------------------------------
# Amazon VPC IPAM, "Enable provisioning private IPv6 GUA CIDRs": a private scope pool takes a ULA range
# "anything under fd00::/8" that does not overlap fd00::/16, which Amazon reserves. So a ULA in fc00::/8,
# or one touching fd00::/16, is refused; the rest of fd00::/8 is allowed (through IPAM).
IPAM_PRIVATE_IPV6 = "https://docs.aws.amazon.com/vpc/latest/ipam/enable-prov-ipv6-gua.html"
ULA_ALLOWED = ipaddress.IPv6Network("fd00::/8")
ULA_RESERVED = ipaddress.ip_network("fd00::/16")
ULA_ALL = ipaddress.ip_network("fc00::/7")
_VPC_IPV6_ATTRS = {"aws_vpc": "ipv6_cidr_block", "aws_vpc_ipv6_cidr_block_association": "ipv6_cidr_block",
                   "aws_vpc_ipam_pool_cidr": "cidr"}


@rule("TF010", "vpc-ipv6-ula-refused", "error",
      fix="none", languages=("hcl",), platforms=("aws",), rejected_by="the EC2 API (terraform apply)",
      references=(IPAM_PRIVATE_IPV6, EC2_CREATE_VPC))
def vpc_ipv6_ula_refused(doc: Document, profile: Profile) -> Iterator[Finding]:
    """A VPC or IPAM pool IPv6 CIDR in ULA space AWS refuses: outside fd00::/8, or overlapping fd00::/16.

    Why:
        A VPC's IPv6 range is Amazon-provided, your own (BYOIP) or, for private IPv6, a ULA or GUA range
        provisioned to an IPAM pool in a private scope. AWS accepts ULA space only under fd00::/8 and not
        overlapping fd00::/16, which it reserves; anything else is rejected when the CIDR is provisioned.
        (Other fd00::/8 ranges are allowed today, through IPAM, so they are not reported.)

    Example:
        resource "aws_vpc_ipam_pool_cidr" "ula" {
          ipam_pool_id = aws_vpc_ipam_pool.private.id
          cidr         = "fd12:3456:789a::/48"   # not fd00::/16
        }
    """
    for block in walk_blocks(doc.blocks):
        attr = _VPC_IPV6_ATTRS.get(block.labels[0]) if block.type == "resource" and block.labels else None
        node = block.body.get(attr) if attr else None
        if node is None or node.tag == EXPR or not node.text or "/" not in node.text:
            continue
        try:
            net = ipaddress.ip_network(node.text.strip(), strict=False)
        except ValueError:
            continue
        if not isinstance(net, ipaddress.IPv6Network) or not net.overlaps(ULA_ALL):
            continue
        if not net.subnet_of(ULA_ALLOWED):
            why = f"{net} is outside fd00::/8, the only ULA space AWS accepts"
        elif net.overlaps(ULA_RESERVED):
            why = f"{net} overlaps fd00::/16, which Amazon reserves"
        else:
            continue
        yield Finding(node.start, node.end, f"private IPv6 range refused: {why} (VPC IPAM private scope)")


RULES = [
    invalid_ip_family_value,
    undeclared_variable,
    variable_type_mismatch,
    service_ipv6_cidr_set,
    cni_ipv6_policy_missing,
    vpc_ipv6_subnets_incomplete,
    eks_ipv6_vpc_ipv4,
    private_subnets_without_ipv6_egress,
    subnet_ipv6_cidr_too_small,
    vpc_ipv6_ula_refused,
]
