"""JSON Schema of the YAML intent format, generated from the model (``netc schema``).

Editors (for example the YAML language server, through a ``# yaml-language-server:
$schema=...`` comment) can validate intent files with it as they are typed. A
document is a project or an expectation document (netc.intent.expectation).
"""

from __future__ import annotations

from typing import Union

from pydantic import TypeAdapter

from netc.intent.expectation import Expectations
from netc.intent.model import Project

SCHEMA_ID = "https://netc.invalid/schema/intent-v1.json"


def intent_json_schema() -> dict:
    schema = TypeAdapter(Union[Project, Expectations]).json_schema(by_alias=True,
                                                                    mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = ("netc intent (one project, or one expectation document, per YAML "
                       "document)")
    return schema
