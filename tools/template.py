"""Reads template.yaml (and the templates beside it) for tests and generators, keeping CloudFormation tags
(!Ref, !GetAtt, ...) as plain values."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that turns every `!Tag value` into `{"Tag": value}`."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CloudFormationLoader.add_multi_constructor("!", _tag)  # type: ignore[no-untyped-call]


@cache
def template() -> dict[str, Any]:
    """The parsed template."""
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    return loaded


def resource(logical_id: str) -> dict[str, Any]:
    """One resource of the template by logical id."""
    return template()["Resources"][logical_id]  # type: ignore[no-any-return]


def resources_of_type(kind: str) -> dict[str, dict[str, Any]]:
    """Every resource of a CloudFormation or SAM type, by logical id."""
    return {name: body for name, body in template()["Resources"].items() if body["Type"] == kind}


CONSUMER_BLOCK = TEMPLATE.parent / "blocks" / "consumer.yaml"


@cache
def consumer_block() -> dict[str, Any]:
    """The consumer building block's own template (blocks/consumer.yaml)."""
    loaded: dict[str, Any] = yaml.load(CONSUMER_BLOCK.read_text(), Loader=_CloudFormationLoader)
    return loaded


def load(path: Path) -> dict[str, Any]:
    """Any CloudFormation/SAM template."""
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_CloudFormationLoader)
    return loaded


def subscriptions(path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """Each consumer of a template (`<Consumer>Subscription`, a use of the building block) by consumer
    name, with its parameters; `EventPattern` parsed from its JSON."""
    found = {}
    loaded = template() if path == TEMPLATE else load(path)
    for logical_id, body in loaded["Resources"].items():
        if body["Type"] != "AWS::Serverless::Application":
            continue
        if (path.parent / body["Properties"]["Location"]).resolve() != CONSUMER_BLOCK:
            continue
        parameters = dict(body["Properties"]["Parameters"])
        parameters["EventPattern"] = json.loads(parameters["EventPattern"])
        found[logical_id.removesuffix("Subscription")] = parameters
    return found
