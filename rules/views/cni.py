"""The VPC CNI view: the aws-node settings wherever a project writes them (the DaemonSet, the chart's
values, an eksctl add-on's configurationValues, a Terraform add-on), with the edits each form allows."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from v6lint.diagnostics import Edit
from v6lint.document import MAP, SEQ, Document, Node, per_document
from v6lint.hcl_source import EXPR, walk_blocks
from v6lint.rule import contains
from v6lint.rules.views.kube import add_env, containers, env_items
from v6lint.yaml_edit import delete_entry, delete_item, insert_entries


@dataclass
class EnvVar:
    name: str
    value: str | None
    name_node: Node
    value_node: Node | None
    entry: Node | None = None  # the `- name:/value:` item (DaemonSet) or None (maps)


@dataclass
class CniSettings:
    """The VPC CNI env, wherever it is written. Edits are offered where the file form allows."""

    doc: Document
    label: str
    anchor: tuple[int, int]
    env: dict[str, EnvVar] = field(default_factory=dict)
    init_env: dict[str, EnvVar] | None = None
    image: Node | None = None  # aws-node image (version checks)
    version: Node | None = None  # add-on version
    add: Callable[[str, str], list[Edit] | None] = lambda name, value: None
    remove: Callable[[EnvVar], Edit | None] = lambda var: None
    add_init: Callable[[str, str], list[Edit] | None] = lambda name, value: None

    def value(self, name: str) -> str | None:
        var = self.env.get(name)
        return var.value if var else None

    def flag(self, name: str) -> bool | None:
        value = self.value(name)
        return True if value in TRUE_VALUES else False if value in FALSE_VALUES else None


def _list_env(items: list[Node]) -> dict[str, EnvVar]:
    out = {}
    for item in items:
        name = item.get("name")
        if name is not None and name.text:
            value = item.get("value")
            out[name.text] = EnvVar(name.text, value.text if value is not None else None, name, value, item)
    return out


def _map_env(mapping: Node | None) -> dict[str, EnvVar]:
    out = {}
    for key, value in mapping.entries() if mapping is not None and mapping.kind == MAP else []:
        if key.text:
            out[key.text] = EnvVar(key.text, value.text if value.kind == "scalar" and value.tag != EXPR else None,
                                   key, value)
    return out


def _daemonset(doc: Document) -> CniSettings | None:
    if doc.kind != "DaemonSet" or doc.name != "aws-node":
        return None
    main = next((c for c in containers(doc.root) if c.str_at("name") == "aws-node"), None)
    if main is None:
        return None
    init = next((c for c in containers(doc.root) if c.str_at("name") == "aws-vpc-cni-init"), None)
    name_node = doc.tree.path("metadata", "name")
    assert name_node is not None  # (doc.name is "aws-node")
    settings = CniSettings(doc, f"{doc.object_name}", (name_node.start, name_node.end), _list_env(env_items(main)),
                           _list_env(env_items(init)) if init is not None else None, image=main.get("image"))

    def adder(container: Node) -> Callable[[str, str], list[Edit] | None]:
        def add(name: str, value: str):
            return add_env(doc, container, name, value)
        return add

    settings.add = adder(main)
    if init is not None:
        settings.add_init = adder(init)

    def remove(var: EnvVar) -> Edit | None:
        env = main.get("env")
        items = env.items() if env is not None else []
        return delete_item(doc.source, env, items.index(var.entry)) \
            if env is not None and var.entry in items and len(items) > 1 else None

    settings.remove = remove
    return settings


def _helm_values(doc: Document) -> CniSettings | None:
    root = doc.root
    if doc.is_kubernetes or root is None or root.kind != MAP:
        return None
    env_entry = root.entry("env")
    env = env_entry[1] if env_entry is not None else None
    if env_entry is None or env is None or env.kind != MAP or \
            not any(k.text and k.text.startswith(("AWS_VPC_", "ENABLE_", "WARM_")) for k, _v in env.entries()):
        return None
    key = env_entry[0]
    init = root.path("init", "env")
    settings = CniSettings(doc, "aws-vpc-cni values", (key.start, key.end), _map_env(env),
                           _map_env(init) if init is not None else None, image=root.path("image", "tag"))
    settings.add = lambda name, value: [insert_entries(doc.source, env, [(name, value)], root)]
    if init is not None and init.kind == MAP and init.entries():
        settings.add_init = lambda name, value: [insert_entries(doc.source, init, [(name, value)], root)]
    settings.remove = lambda var: delete_entry(doc.source, env, var.name) if len(env.entries()) > 1 else None
    return settings


def _json_env(node: Node) -> dict[str, EnvVar]:
    try:
        env = json.loads(node.text or "").get("env", {})
    except (ValueError, AttributeError):
        return {}
    return {k: EnvVar(k, str(v).lower() if isinstance(v, bool) else str(v), node, node) for k, v in env.items()}


def _eksctl(doc: Document) -> list[CniSettings]:
    if doc.kind != "ClusterConfig" or doc.root is None:
        return []
    out = []
    addons = doc.root.get("addons")
    for addon in addons.items() if addons is not None and addons.kind == SEQ else []:
        if addon.str_at("name") != "vpc-cni":
            continue
        values = addon.get("configurationValues")
        settings = CniSettings(doc, "eksctl vpc-cni add-on", (addon.start, addon.start), version=addon.get("version"))
        if values is not None and values.text:
            settings.env = _json_env(values)  # JSON inside a YAML string: reported at the string, no edits
            settings.anchor = (values.start, values.end)
        out.append(settings)
    return out


def _terraform(doc: Document) -> list[CniSettings]:
    out = []
    for block in walk_blocks(doc.blocks):
        body = block.body
        candidates = []
        if block.type == "resource" and block.labels[:1] == ["aws_eks_addon"] and body.str_at("addon_name") == "vpc-cni":
            candidates.append(body)
        addons = body.get("cluster_addons") or body.get("addons")
        if addons is not None and addons.kind == MAP:
            candidates.extend(v for k, v in addons.entries() if k.text == "vpc-cni" and v.kind == MAP)
        for addon in candidates:
            config = addon.get("configuration_values")
            env = config.get("env") if config is not None and config.kind == MAP else None  # jsonencode({...})
            settings = CniSettings(doc, "Terraform vpc-cni add-on", (addon.start, addon.start), _map_env(env),
                                   version=addon.get("addon_version"))
            if config is not None and config.kind == "scalar" and config.tag != EXPR:
                settings.env = _json_env(config)  # a JSON string: reported at the string, no edits
            if config is not None:
                settings.anchor = (config.start, config.end)
            out.append(settings)
    return out


# cni_settings finds nothing in a YAML file without one of these: the DaemonSet's name, the chart's
# env key prefixes, the eksctl add-on's name (the gate of every rule reading it).
CNI_TEXT = contains("aws-node", "AWS_VPC_", "ENABLE_", "WARM_", "vpc-cni")


@per_document
def cni_settings(doc: Document) -> list[CniSettings]:
    if doc.language == "hcl":
        return _terraform(doc)
    found = _daemonset(doc) or _helm_values(doc)
    return [found] if found else _eksctl(doc)


TRUE_VALUES, FALSE_VALUES = ("1", "t", "T", "TRUE", "true", "True"), ("0", "f", "F", "FALSE", "false", "False")
