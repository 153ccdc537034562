"""Expectation documents: reachability tests written beside the intent (contract section 8).

A YAML document with a top-level ``expect`` list and no ``org`` is not a project but a
test that ``netc test`` runs and ``netc check`` checks; every other command skips it
unread. The DSL writes the same entries as ``expect`` statements outside any project
block; a run of them is one document::

    expect:
      - {from: acme/web/web-1, to: acme/db/pg-1, protocol: tcp, port: 5432, verdict: allow}
    # the same in the DSL:
    expect allow acme/web/web-1 -> acme/db/pg-1 tcp 5432

Like the intent model, this keeps what was written: which ports an entry names and
whether its traffic makes sense are decided against the world (netc.expect), so that
an unknown port gets a position and a precise code, not a SCHEMA_ERROR. Only what no
syntax could write back (a protocol that is not one) is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from pydantic import Field, ValidationError, field_validator

from netc.diagnostics import Diagnostics, Location
from netc.intent.model import IntentModel, Project
from netc.intent.schema_errors import report_validation_error
from netc.intent.source import Document, SourceMap

EXPECT_KEY = "expect"
WILDCARD = "*"
"""In an endpoint, every project (``acme/*/*``) or every port (``acme/web/*``)."""
PROTOCOL_WORDS = ("tcp", "udp", "icmp", "all")
_NAMED_NUMBERS = {1: "icmp", 6: "tcp", 17: "udp"}


def _protocol_schema(schema: dict) -> None:
    """What Expectation's protocol validator accepts, said to editors: a word or a number."""
    schema.pop("type", None)
    schema["anyOf"] = [{"enum": list(PROTOCOL_WORDS)},
                       {"type": "integer", "minimum": 0, "maximum": 255}]


class Expectation(IntentModel):
    """One entry: new connections ``from`` -> ``to`` with this traffic pass, or do not."""

    from_: str = Field(alias="from",
                       description="ORG/PROJECT/PORT; '*' for every project or every port.")
    to: str = Field(description="ORG/PROJECT/PORT; '*' for every project or every port.")
    protocol: str = Field("all", description="tcp, udp, icmp, all or an IP protocol number.",
                          json_schema_extra=_protocol_schema)
    port: int | None = Field(None, description="Destination port (tcp and udp); default every port.")
    verdict: Literal["allow", "deny"]

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol(cls, value: object) -> object:
        """A word of :data:`PROTOCOL_WORDS` or a number 0-255 (written as a string),
        never a number that has a name."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value in PROTOCOL_WORDS:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
            number = int(value)
            if number in _NAMED_NUMBERS:
                raise ValueError(f"write protocol {number} by its name, {_NAMED_NUMBERS[number]}")
            if number <= 255:
                return str(number)
        raise ValueError(f"{value!r} is not a protocol: expected tcp, udp, icmp, all or an "
                         "IP protocol number 0-255")


class Expectations(IntentModel):
    """One expectation document, as written."""

    expect: list[Expectation]


@dataclass(frozen=True)
class ExpectationDocument:
    """An expectation document with the means to point back into its file."""

    expectations: Expectations
    source: SourceMap
    written: tuple[int, ...]
    """The written index of each entry of :attr:`expectations` (entries with schema
    errors are left out, reported)."""
    complete: bool = True
    """False when some entries had schema errors."""

    def locate(self, entry: int, *path: str | int) -> Location:
        """Where entry ``entry`` (an index into :attr:`expectations`), or a field of it,
        was written."""
        return self.source.locate((EXPECT_KEY, self.written[entry], *path))


Loaded = Union[Document, ExpectationDocument]
"""One document of an intent file: a project or an expectation document."""


def is_expectation_document(data: object) -> bool:
    return isinstance(data, dict) and EXPECT_KEY in data and "org" not in data


def read_expectations(data: dict, source: SourceMap,
                      diagnostics: Diagnostics) -> ExpectationDocument:
    """The document's valid entries; each schema error reported at its value."""
    try:
        document = Expectations.model_validate(data)
    except ValidationError as exc:
        report_validation_error(exc, source, diagnostics, root=Expectations)
        entries = data.get(EXPECT_KEY)
        bad = {error["loc"][1] for error in exc.errors(include_url=False)
               if len(error["loc"]) > 1 and error["loc"][0] == EXPECT_KEY}
        kept = [(index, entry) for index, entry in enumerate(entries)
                if index not in bad] if isinstance(entries, list) else []
        return ExpectationDocument(
            Expectations(expect=[Expectation.model_validate(entry) for _, entry in kept]),
            source, tuple(index for index, _ in kept), complete=False)
    return ExpectationDocument(document, source, tuple(range(len(document.expect))))


Written = Union[Project, Expectations]


def canonical_documents(loaded: list[Loaded]) -> tuple[list[Written], dict[int, tuple[int | None, int]]]:
    """The documents of a file as the canonical writers print them: expectation
    documents next to each other become one (the DSL cannot tell them apart) and
    empty ones go (the DSL cannot write them).

    Also returns where each loaded document went: its index among the written ones
    (None: dropped) and the number of entries written before its own in that one,
    for ``netc fmt`` to move the comments along."""
    written: list[Written] = []
    moves: dict[int, tuple[int | None, int]] = {}
    for index, item in enumerate(loaded):
        if isinstance(item, Document):
            written.append(item.project)
            moves[index] = (len(written) - 1, 0)
            continue
        entries = item.expectations.expect
        if not entries:
            moves[index] = (None, 0)
        elif written and isinstance(written[-1], Expectations):
            offset = len(written[-1].expect)
            written[-1] = Expectations(expect=[*written[-1].expect, *entries])
            moves[index] = (len(written) - 1, offset)
        else:
            written.append(item.expectations)
            moves[index] = (len(written) - 1, 0)
    return written, moves
