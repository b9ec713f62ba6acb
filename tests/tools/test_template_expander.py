"""tools.template.expanded reads a loop as AWS::LanguageExtensions expands it, so that the tests of template.yaml
see what the stack would get: the identifier only in the member's key, Sub strings and Refs to it."""

from __future__ import annotations

from typing import Any

from tools.template import expanded


def _loop(fragment: dict[str, Any], mappings: dict[str, Any] | None = None) -> dict[str, Any]:
    template = {
        "Mappings": mappings or {},
        "Resources": {"Fn::ForEach::Things": ["Thing", ["Alpha", "Beta"], fragment]},
    }
    resources: dict[str, Any] = expanded(template)["Resources"]
    return resources


def test_the_identifier_is_substituted_in_keys_sub_strings_and_refs_but_not_in_plain_strings() -> None:
    resources = _loop(
        {
            "${Thing}Alarm": {
                "Properties": {
                    "Plain": "${Thing} stays",
                    "Sub": {"Sub": "${Thing} goes"},
                    "SubWithVariables": {"Sub": ["${Thing}-${x}", {"x": "${Thing}"}]},
                    "Ref": {"Ref": "Thing"},
                }
            }
        }
    )
    assert set(resources) == {"AlphaAlarm", "BetaAlarm"}
    assert resources["AlphaAlarm"]["Properties"] == {
        "Plain": "${Thing} stays",
        "Sub": "Alpha goes",
        # The variable map's own plain string is not a Sub string: it keeps its placeholder (and the stack
        # would then look for something called Thing).
        "SubWithVariables": {"Sub": "Alpha-${Thing}"},
        "Ref": "Alpha",
    }


def test_what_became_literal_is_resolved_a_missing_key_by_its_default() -> None:
    mappings = {"Table": {"Alpha": {"List": ["a", "b"]}, "Beta": {"List": ["c"], "Width": "4"}}}
    resources = _loop(
        {
            "${Thing}Queue": {
                "Properties": {
                    "Joined": {"Join": ['", "', {"FindInMap": ["Table", {"Ref": "Thing"}, "List"]}]},
                    "Width": {"FindInMap": ["Table", {"Ref": "Thing"}, "Width", {"DefaultValue": "2"}]},
                    "Arn": {"GetAtt": [{"Sub": "${Thing}Table"}, "Arn"]},
                }
            }
        },
        mappings,
    )
    assert resources["AlphaQueue"]["Properties"] == {
        "Joined": 'a", "b',
        "Width": "2",
        "Arn": {"GetAtt": "AlphaTable.Arn"},
    }
    assert resources["BetaQueue"]["Properties"]["Width"] == "4"
