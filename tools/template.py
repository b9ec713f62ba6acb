"""Reads template.yaml (and the templates beside it) for tests and generators, keeping CloudFormation tags
(!Ref, !GetAtt, ...) as plain values, with its Fn::ForEach loops expanded as AWS::LanguageExtensions
expands them (what a loop declares is then read like any other resource)."""

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
    """The parsed template, its loops expanded."""
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)
    return expanded(loaded)


FOREACH = "Fn::ForEach::"


def expanded(loaded: dict[str, Any]) -> dict[str, Any]:
    """`loaded` with every `Fn::ForEach` of its resources, conditions and outputs expanded as the transform
    expands it: the identifier substituted in the member's key, in the strings of `Sub`s and for `Ref`s to it;
    then what became literal resolved (a `FindInMap` of literals or its default, a `Join` of literals, a `Sub`
    with nothing left to substitute, a `Ref` or `GetAtt` of a `Sub`), so a member reads as it would have been
    written by hand."""
    mappings = loaded.get("Mappings", {})
    for section in ("Resources", "Conditions", "Outputs"):
        if isinstance(loaded.get(section), dict):
            loaded[section] = _expand_section(loaded[section], mappings)
    return loaded


def _expand_section(body: dict[str, Any], mappings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if not key.startswith(FOREACH):
            out[key] = value
            continue
        identifier, collection, fragment = value
        for item in collection:
            for member, member_body in _expand_section(fragment, mappings).items():
                name = member.replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", item)
                out[name] = _resolved(_bound(member_body, identifier, item), mappings)
    return out


def _bound(value: Any, identifier: str, item: str) -> Any:
    # Where AWS::LanguageExtensions substitutes the identifier, as the local cloud's transform does (and says
    # it measured on an account): the string of an Fn::Sub and a Ref to it. A plain string keeps it.
    if isinstance(value, list):
        return [_bound(part, identifier, item) for part in value]
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        [(function, argument)] = value.items() if len(value) == 1 else [("", None)]
        if function in ("Sub", "Fn::Sub"):
            return {function: _bound_sub(argument, identifier, item)}
        return {key: _bound(part, identifier, item) for key, part in value.items()}
    return value


def _bound_sub(argument: Any, identifier: str, item: str) -> Any:
    if isinstance(argument, str):
        return argument.replace(f"${{{identifier}}}", item)
    text, variables = argument
    return [text.replace(f"${{{identifier}}}", item), _bound(variables, identifier, item)]


def _resolved(value: Any, mappings: dict[str, Any]) -> Any:
    # Intrinsics in either form: `{"Sub": ...}` as this module's loader reads a tag, `{"Fn::Sub": ...}` as
    # SAM's parser (or a long-form template) has them.
    if isinstance(value, list):
        return [_resolved(part, mappings) for part in value]
    if not isinstance(value, dict):
        return value
    value = {key: _resolved(part, mappings) for key, part in value.items()}
    if len(value) != 1:
        return value
    [(function, argument)] = value.items()
    if function in ("FindInMap", "Fn::FindInMap") and all(isinstance(part, str) for part in argument[:3]):
        found = mappings[argument[0]].get(argument[1], {})
        if argument[2] in found:
            return found[argument[2]]
        # AWS::LanguageExtensions: a key the map lacks takes the default given ({"DefaultValue": ...}).
        return argument[3]["DefaultValue"]
    joined = function in ("Join", "Fn::Join") and isinstance(argument[1], list)
    if joined and all(isinstance(part, str) for part in argument[1]):
        return str(argument[0]).join(argument[1])
    if function in ("Sub", "Fn::Sub"):
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        # A variable that is a literal, or a plain Ref or GetAtt, reads the same written into the string.
        inlined = {name: part for name, part in variables.items() if isinstance(part, str)}
        inlined |= {name: "${" + ref + "}" for name, part in variables.items() if (ref := _plain_reference(part))}
        for name, part in inlined.items():
            text = text.replace(f"${{{name}}}", part)
        rest = {name: part for name, part in variables.items() if name not in inlined}
        if rest:
            return {function: [text, rest]}
        return text if "${" not in text else {function: text}
    if function == "GetAtt" and isinstance(argument, list) and all(isinstance(part, str) for part in argument):
        return {"GetAtt": ".".join(argument)}  # as `!GetAtt Name.Attribute` reads
    return value


def _plain_reference(value: Any) -> str | None:
    """`Name` of a `Ref`, `Name.Attribute` of a `GetAtt` (either form), else None."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    [(function, argument)] = value.items()
    if function in ("Ref", "GetAtt") and isinstance(argument, str):
        return argument
    if function == "Fn::GetAtt" and isinstance(argument, list) and all(isinstance(part, str) for part in argument):
        return ".".join(argument)
    return None


def resource(logical_id: str) -> dict[str, Any]:
    """One resource of the template by logical id."""
    return template()["Resources"][logical_id]  # type: ignore[no-any-return]


def resources_of_type(kind: str) -> dict[str, dict[str, Any]]:
    """Every resource of a CloudFormation or SAM type, by logical id."""
    return {name: body for name, body in template()["Resources"].items() if body["Type"] == kind}


CONSUMER_BLOCK = TEMPLATE.parent / "blocks" / "consumer.yaml"
FORWARD_BLOCK = TEMPLATE.parent / "blocks" / "forward.yaml"


@cache
def consumer_block() -> dict[str, Any]:
    """The consumer building block's own template (blocks/consumer.yaml)."""
    loaded: dict[str, Any] = yaml.load(CONSUMER_BLOCK.read_text(), Loader=_CloudFormationLoader)
    return loaded


@cache
def forward_block() -> dict[str, Any]:
    """The forwarding building block's own template (blocks/forward.yaml)."""
    return load(FORWARD_BLOCK)


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
