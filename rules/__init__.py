"""The rule catalog: an explicit list, so nothing registers by import side effect."""
from __future__ import annotations

from v6lint.rule import Rule
from v6lint.rules import cni, eks, kadm, lb, net, node, notices, prf, spk, svc, tf

ALL_RULES: list[Rule] = [*svc.RULES, *lb.RULES, *spk.RULES, *cni.RULES, *node.RULES, *eks.RULES, *kadm.RULES, *tf.RULES, *net.RULES, *prf.RULES, *notices.RULES]
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL_RULES}
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL_RULES}


def lookup(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())
