"""Turn pydantic validation errors into SCHEMA_ERROR diagnostics people can act on."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ValidationError

from netc.diagnostics import Code, Diagnostics
from netc.intent import model
from netc.intent.source import SourceMap

_NAME_RULE = "lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters"


def _model_at(loc: tuple, root: type[BaseModel]) -> type[BaseModel] | None:
    """The intent model class that owns the field at ``loc`` of a ``root`` document
    (for 'did you mean')."""
    current: type[BaseModel] | None = root
    for step in loc:
        if current is None or isinstance(step, int):
            continue
        field = current.model_fields.get(step) or next(
            (f for f in current.model_fields.values() if f.alias == step), None)
        if field is None:
            return current
        current = _inner_model(field.annotation)
    return current


def _inner_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _field_names(owner: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in owner.model_fields.items()]


def _message(error: dict, root: type[BaseModel]) -> str:
    loc = error["loc"]
    field = ".".join(str(p) for p in loc) or "document"
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1], root)
        names = _field_names(owner) if owner else []
        hint = difflib.get_close_matches(str(loc[-1]), names, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {', '.join(names)}"
        return f"unknown field {field!r}{suggestion}"
    if kind == "missing":
        return f"missing required field {field!r}"
    if kind == "string_pattern_mismatch":
        return f"{field}: {error['input']!r} is not a valid name ({_NAME_RULE})"
    if kind == "value_error":
        return f"{field}: {error['ctx']['error']}"
    if kind == "literal_error":
        return f"{field}: {error['input']!r} is not allowed; expected {error['ctx']['expected']}"
    if kind == "string_type" and isinstance(error.get("input"), int) and str(loc[-1]) == "mac":
        return (f"{field}: expected a string; YAML read this MAC address as a number, "
                "write it in quotes")
    got = type(error.get("input")).__name__ if "input" in error else ""
    return f"{field}: {error['msg'].lower()}" + (f" (got {got})" if got else "")


def report_validation_error(exc: ValidationError, source: SourceMap, diagnostics: Diagnostics,
                            root: type[BaseModel] = model.Project) -> None:
    """One SCHEMA_ERROR per pydantic error of a ``root`` document, at the offending value.

    A union such as ``int | str`` produces one error per alternative; only the first
    at each location is kept, the rest say the same thing again.
    """
    seen: set[tuple] = set()
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p in ("int", "str")))
        if loc in seen:
            continue
        seen.add(loc)
        error = {**error, "loc": loc}
        path = loc[:-1] if error["type"] == "missing" else loc
        diagnostics.error(Code.SCHEMA_ERROR, _message(error, root), source.locate(path))
