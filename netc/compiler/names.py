"""Names of the rows netc writes: their OVN ``name`` column and their ``netc:key``.

Two kinds of identity, for two readers:

- ``netc:key`` (external_ids) is netc's stable identity of a row, used to diff. It is
  built from intent keys (``ORG/PROJECT/NAME``) and a row kind, e.g.
  ``switch:acme/web/default``, so it survives renames of nothing and reorderings of
  everything.
- The OVN ``name`` is what ovn-nbctl, ovn-trace and matches see. Logical switch ports
  are named by the port id of contract section 6: a uuid5 of ``ORG/PROJECT/PORT`` in
  :data:`PORT_NAMESPACE`. Port groups need names that are also valid address-set
  names (OVN derives ``$<name>_ip4``): letters, digits and ``_``, not starting with a
  digit. They are ``netc_<hash>_<readable>``, the hash making them unique per netc
  owner and per group even when the readable part is trimmed or ambiguous.

Other names join intent names with ``.``: intent names never contain one, so
``acme.web.default`` cannot be read two ways (``-`` could: ``a-b/c`` vs ``a/b-c``).
"""

from __future__ import annotations

import hashlib
import re
import uuid

PORT_NAMESPACE = uuid.UUID("6b1d3f6e-0c9a-5d43-9a8e-6e6574632e31")
"""Fixed namespace of port ids (uuid5). Changing it renames every port in OVN."""

_READABLE_MAX = 40
_NAMESPACE_BYTES = PORT_NAMESPACE.bytes
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_]")


def port_id(port_key: str) -> str:
    """The Logical_Switch_Port name of the port ``ORG/PROJECT/PORT``:
    ``str(uuid.uuid5(PORT_NAMESPACE, port_key))``, computed without building UUID
    objects (a third of the time, for every port of every compile)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + port_key.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def router_key(project: str) -> str:
    """The netc:key of the Logical_Router of project ``ORG/PROJECT``."""
    return f"router:{project}"


def short_hash(*parts: str, length: int = 8) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return digest[:length]


def ovn_identifier(owner: str, identity: str, readable: str) -> str:
    """A port-group / address-set name: ``netc_<hash>_<readable>``, valid in matches."""
    text = _NOT_IN_A_NAME.sub("_", readable)[:_READABLE_MAX].strip("_")
    return f"netc_{short_hash(owner, identity)}_{text}"


def dotted(key: str) -> str:
    """``acme/web/default`` -> ``acme.web.default``."""
    return key.replace("/", ".")
