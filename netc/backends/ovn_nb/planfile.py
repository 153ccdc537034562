"""Saved plans (``netc plan --out PLAN``): exactly the reviewed changes, and the state
they were computed against.

``netc apply PLAN`` must apply what was reviewed or nothing. So the file holds the
changes themselves (whole rows to create, changed columns of rows to update, keys
to destroy), the rendered plan text to show again, and the fingerprint of the owned
rows that were read (:meth:`OwnedState.fingerprint`). Applying re-reads the owned
rows and refuses if the fingerprint differs: the database moved, so the reviewed
diff may no longer be the right one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from netc.backends.ovn_nb.schema import NbSchema
from netc.backends.ovn_nb.txn import Update
from netc.compiler.rows import Row
from netc.compiler.rows import _as_ref as as_ref  # the reading rule of netc.rows/v1

FORMAT = "netc.saved-plan/v1"
"""Not ``netc.plan/v1`` (the JSON rendering of a plan): this one can be applied."""


class PlanFileError(ValueError):
    """A file that is not a readable netc plan."""


@dataclass(frozen=True)
class Changes:
    """The changes of one plan, in the form the transaction builder takes."""

    creates: tuple[Row, ...] = ()
    updates: tuple[Update, ...] = ()
    destroys: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.creates or self.updates or self.destroys)

    def summary(self) -> str:
        return (f"{len(self.creates)} to add, {len(self.updates)} to change, "
                f"{len(self.destroys)} to destroy")


@dataclass(frozen=True)
class SavedPlan:
    owner: str
    remote: str
    fingerprint: str
    changes: Changes
    text: str
    """The plan as it was shown (Terraform-style), to show again before applying."""
    prune: bool = False


def looks_like_plan(path: str) -> bool:
    """True when ``path`` is a saved plan rather than an intent file or folder."""
    file = Path(path)
    if not file.is_file() or file.suffix in (".yaml", ".yml", ".netc"):
        return False
    try:
        with file.open("rb") as stream:
            head = stream.read(200)
    except OSError:
        return False
    return FORMAT.encode() in head


def dumps(plan: SavedPlan) -> str:
    changes = plan.changes
    data = {
        "format": FORMAT,
        "owner": plan.owner,
        "remote": plan.remote,
        "fingerprint": plan.fingerprint,
        "prune": plan.prune,
        "creates": [_row_json(row) for row in changes.creates],
        "updates": [dict(_row_json(u.row), changed=list(u.columns)) for u in changes.updates],
        "destroys": [{"table": table, "key": key} for table, key in changes.destroys],
        "text": plan.text,
    }
    # "format" first, so looks_like_plan() finds it in the first bytes.
    return json.dumps(data, indent=1) + "\n"


def loads(text: str, schema: NbSchema) -> SavedPlan:
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise PlanFileError(f"not a {FORMAT} file")
        changes = Changes(
            creates=tuple(_row(item, schema) for item in data["creates"]),
            updates=tuple(Update(_row(item, schema), tuple(item["changed"]))
                          for item in data["updates"]),
            destroys=tuple((item["table"], item["key"]) for item in data["destroys"]))
        return SavedPlan(owner=data["owner"], remote=data["remote"],
                         fingerprint=data["fingerprint"], changes=changes,
                         text=data["text"], prune=bool(data.get("prune")))
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"not JSON: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PlanFileError):
            raise
        raise PlanFileError(f"malformed {FORMAT} file: {exc!r}") from None


def _row_json(row: Row) -> dict:
    return {"table": row.table, "key": row.key, "columns": row.columns}


def _row(item: dict, schema: NbSchema) -> Row:
    table = schema.table(item["table"])
    refs = table.ref_columns
    columns = {name: as_ref(value) if name in refs else value
               for name, value in item["columns"].items()}
    return Row(item["table"], item["key"], columns)

