"""The subset of OVN's match language that netc's ACLs may use: parsed, checked, evaluated.

OVN accepts any string in ``ACL.match``; a match that ovn-controller cannot parse is
stored, passed on by ovn-northd, and then silently never matches. So this module is
strict where OVN is strict (ovn-sb(5), "Logical_Flow: match"), and refuses everything
it does not model, rather than guessing:

- ``&&`` and ``||`` need parentheses when used together; ``!`` needs parentheses
  around a comparison (``!(tcp.dst == 22)``, never ``!tcp.dst == 22``).
- Nominal fields (``inport``, ``outport``, ``eth.type``, ``ip.proto``) are only
  tested for equality once enclosing ``!`` are counted, and nominal predicates
  (``ip4``, ``tcp``, ...) only positively: ``inport != "p"`` and ``!ip4`` are errors.
- Masked constants have no 1-bits outside the mask (``10.1.0.5/24`` is an error);
  ``<``, ``<=``, ``>``, ``>=`` take one unmasked constant, on ordinal fields only.
- Sets ``{a, b}`` (commas optional), address sets ``$name`` (an ``Address_Set`` row,
  or the automatic ``$<port_group>_ip4``), port groups ``@name`` (for inport/outport);
  ``f == {..}`` is any-of, ``f != {..}`` is none-of, an empty set is the constant
  ``1``/``0`` as OVN makes it; ranges ``1024 <= tcp.dst <= 2048``; a constant may come
  first (``80 == tcp.dst``); ``0`` and ``1`` alone are false and true.
- Using a field implies its prerequisites: ``tcp.dst != 80`` means
  ``tcp && tcp.dst != 80``, so it is false for a UDP packet, while
  ``!(tcp.dst == 80)`` is true for one.

Anything else (IPv6 fields, subfields ``f[..]``, ``ct.*``, functions, comments) raises
:class:`MatchError`, so the evaluator can never silently misread what the compiler wrote.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Callable, Protocol

Value = int | str
Packet = dict[str, Value]
"""Field name -> value (ints for addresses and numbers, str for inport/outport)."""


class MatchError(ValueError):
    """A match outside the modelled subset, or one OVN itself would refuse."""

    def __init__(self, message: str, text: str = "", position: int | None = None) -> None:
        where = f" at column {position + 1}" if position is not None else ""
        super().__init__(f"{message}{where} in match {text!r}" if text else message)


class Names(Protocol):
    """What ``$name`` and ``@name`` resolve to; None for a name that does not exist."""

    def address_set(self, name: str) -> list[str] | None: ...

    def port_group(self, name: str) -> list[str] | None: ...


@dataclass(frozen=True)
class _Field:
    width: int  # bits; 0 = string
    nominal: bool
    prerequisite: str | None


_FIELDS: dict[str, _Field] = {
    "inport": _Field(0, True, None),
    "outport": _Field(0, True, None),
    "eth.src": _Field(48, False, None),
    "eth.dst": _Field(48, False, None),
    "eth.type": _Field(16, True, None),
    "ip.proto": _Field(8, True, "ip"),
    "ip.ttl": _Field(8, False, "ip"),
    "ip4.src": _Field(32, False, "ip4"),
    "ip4.dst": _Field(32, False, "ip4"),
    "tcp.src": _Field(16, False, "tcp"),
    "tcp.dst": _Field(16, False, "tcp"),
    "udp.src": _Field(16, False, "udp"),
    "udp.dst": _Field(16, False, "udp"),
    "sctp.src": _Field(16, False, "sctp"),
    "sctp.dst": _Field(16, False, "sctp"),
    "icmp4.type": _Field(8, False, "icmp4"),
    "icmp4.code": _Field(8, False, "icmp4"),
}

_PREDICATES: dict[str, str] = {
    "ip4": "eth.type == 0x800",
    "ip6": "eth.type == 0x86dd",
    "ip": "ip4 || ip6",
    "arp": "eth.type == 0x806",
    "icmp4": "ip4 && ip.proto == 1",
    "icmp6": "ip6 && ip.proto == 58",
    "icmp": "icmp4 || icmp6",
    "tcp": "ip.proto == 6",
    "udp": "ip.proto == 17",
    "sctp": "ip.proto == 132",
}
"""OVN's predicates over the fields above; all of them are nominal."""

_RELOPS = ("==", "!=", "<", "<=", ">", ">=")
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>//|/\*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<addrset>\$[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<portgroup>@[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![0-9A-Za-z_.:]))
  | (?P<ipv4>\d{1,3}(?:\.\d{1,3}){3}(?![0-9A-Za-z_.:]))
  | (?P<number>(?:0[xX][0-9A-Fa-f]+|\d+)(?![0-9A-Za-z_.:]))
  | (?P<id>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\{|\}|,|/)
""", re.VERBOSE)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise MatchError(f"unsupported syntax {text[position:position + 12]!r}", text,
                             position)
        kind = found.lastgroup
        if kind == "comment":
            raise MatchError("comments are not supported", text, position)
        if kind != "space":
            tokens.append(_Token(kind, found.group(), position))
        position = found.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------- expressions

class Expr(Protocol):
    def evaluate(self, packet: Packet) -> bool: ...


@dataclass(frozen=True)
class _Const:
    value: Value
    mask: int | None = None  # None = exact

    def test(self, op: str, actual: Value) -> bool:
        if self.mask is not None:
            equal = (int(actual) & self.mask) == self.value
        else:
            equal = actual == self.value
        if op == "==":
            return equal
        if op == "!=":
            return not equal
        return _ORDER[op](actual, self.value)


_ORDER: dict[str, Callable[[Value, Value], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class _Bool:
    value: bool

    def evaluate(self, packet: Packet) -> bool:
        return self.value


@dataclass(frozen=True)
class _Not:
    operand: Expr

    def evaluate(self, packet: Packet) -> bool:
        return not self.operand.evaluate(packet)


@dataclass(frozen=True)
class _All:
    operands: tuple[Expr, ...]

    def evaluate(self, packet: Packet) -> bool:
        return all(e.evaluate(packet) for e in self.operands)


@dataclass(frozen=True)
class _Any:
    operands: tuple[Expr, ...]

    def evaluate(self, packet: Packet) -> bool:
        return any(e.evaluate(packet) for e in self.operands)


@dataclass(frozen=True)
class _Compare:
    """``field op c1 || field op c2 ...`` (``==``), or ``&&`` of them (``!=``), under the
    field's prerequisite."""

    field: str
    op: str
    constants: tuple[_Const, ...]
    prerequisite: Expr | None

    def evaluate(self, packet: Packet) -> bool:
        if self.prerequisite is not None and not self.prerequisite.evaluate(packet):
            return False
        if self.field not in packet:
            raise MatchError(f"the packet has no value for {self.field}")
        actual = packet[self.field]
        if self.op == "!=":
            return all(c.test("!=", actual) for c in self.constants)
        return any(c.test(self.op, actual) for c in self.constants)


# ---------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text: str, names: Names | None) -> None:
        self.text = text
        self.names = names
        self.tokens = _tokens(text)
        self.index = 0
        self.negated = False  # odd number of enclosing "!" (OVN's ctx->not)

    # -- token helpers
    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> MatchError:
        return MatchError(message, self.text, (token or self.peek).position)

    def expect(self, text: str) -> None:
        if self.peek.text != text:
            raise self.error(f"expected {text!r}, found {self.peek.text or 'end of match'!r}")
        self.take()

    # -- grammar
    def parse(self) -> Expr:
        expr = self.disjunction_or_conjunction()
        if self.peek.kind != "end":
            raise self.error(f"unexpected {self.peek.text!r}")
        return expr

    def disjunction_or_conjunction(self) -> Expr:
        first = self.negation()
        op = self.peek.text
        if op not in ("&&", "||"):
            return first
        operands = [first]
        while self.peek.text == op:
            self.take()
            operands.append(self.negation())
        if self.peek.text in ("&&", "||"):
            raise self.error("&& and || must be parenthesized when used together")
        return _All(tuple(operands)) if op == "&&" else _Any(tuple(operands))

    def negation(self) -> Expr:
        if self.peek.text != "!":
            return self.primary()
        self.take()
        self.negated = not self.negated
        token = self.peek
        operand = self.negation() if token.text == "!" else self.primary(under_not=True)
        self.negated = not self.negated
        return _Not(operand)

    def primary(self, under_not: bool = False) -> Expr:
        token = self.peek
        if token.text == "(":
            self.take()
            expr = self.disjunction_or_conjunction()
            self.expect(")")
            return expr
        if token.kind == "id":
            self.take()
            if self.peek.text == "(":
                raise self.error(f"function {token.text}() is not supported", token)
            if self.peek.text in _RELOPS:
                if under_not:
                    raise self.error("! must be followed by parentheses around a comparison",
                                     token)
                op = self.take().text
                return self.comparison(token, op, self.constant_set())
            return self.bare_symbol(token)
        if token.kind in ("number", "ipv4", "mac", "string", "addrset", "portgroup") \
                or token.text == "{":
            constants = self.constant_set()
            if self.peek.text not in _RELOPS:
                return self.boolean_literal(token, constants)
            if under_not:
                raise self.error("! must be followed by parentheses around a comparison", token)
            written = self.take().text
            field = self.take()
            if field.kind != "id":
                raise self.error("expected a field after the comparison operator", field)
            first = self.comparison(field, _FLIP[written], constants)
            if self.peek.text not in _RELOPS:
                return first
            second_op = self.take().text
            if {written, second_op} - {"<", "<="} and {written, second_op} - {">", ">="}:
                raise self.error("a range needs both operators pointing the same way")
            return _All((first, self.comparison(field, second_op, self.constant_set())))
        raise self.error(f"unexpected {token.text or 'end of match'!r}")

    def boolean_literal(self, token: _Token, constants: list) -> Expr:
        if len(constants) == 1 and constants[0] in ((0, None, "number"), (1, None, "number")) \
                and token.kind == "number":
            return _Bool(bool(constants[0][0]))
        raise self.error("a constant alone must be 0 or 1", token)

    def bare_symbol(self, token: _Token) -> Expr:
        name = token.text
        if name in _PREDICATES:
            if self.negated:
                raise self.error(f"nominal predicate {name} may only be tested positively "
                                 f"(OVN refuses !{name})", token)
            return self.predicate(name)
        if name in _FIELDS:
            raise self.error(f"{name} needs an explicit comparison", token)
        raise self.error(f"unknown or unsupported symbol {name!r}", token)

    def predicate(self, name: str) -> Expr:
        return _predicate(name)

    # -- constants: a list of (value, mask, kind) before typing against a field
    def constant_set(self) -> list[tuple[Value, int | None, str]]:
        if self.peek.text == "{":
            self.take()
            values: list = []
            while self.peek.text != "}":
                if self.peek.kind == "end":
                    raise self.error("unterminated set")
                values.extend(self.constant())
                if self.peek.text == ",":
                    self.take()
            self.take()
            return values
        return self.constant()

    def constant(self) -> list[tuple[Value, int | None, str]]:
        token = self.take()
        if token.kind == "addrset":
            return self.address_set(token)
        if token.kind == "portgroup":
            return self.port_group(token)
        if token.kind == "string":
            return [(json.loads(token.text), None, "string")]
        if token.kind not in ("number", "ipv4", "mac"):
            raise self.error(f"expected a constant, found {token.text or 'end of match'!r}",
                             token)
        value = self.integer(token)
        if self.peek.text != "/":
            return [(value, None, token.kind)]
        self.take()
        mask_token = self.take()
        if mask_token.kind not in ("number", "ipv4", "mac"):
            raise self.error("expected a mask after '/'", mask_token)
        mask = self.integer(mask_token)
        if token.kind == "ipv4" and mask_token.kind == "number":
            if mask > 32:
                raise self.error(f"prefix length {mask} is longer than 32", mask_token)
            mask = (0xFFFFFFFF << (32 - mask)) & 0xFFFFFFFF
        if value & ~mask:
            raise self.error(f"value {token.text} has 1-bits outside its mask "
                             f"{mask_token.text}", token)
        return [(value, mask, token.kind)]

    def integer(self, token: _Token) -> int:
        if token.kind == "ipv4":
            try:
                return _address(token.text)
            except ValueError:
                raise self.error(f"{token.text!r} is not an IPv4 address", token) from None
        if token.kind == "mac":
            return int(token.text.replace(":", ""), 16)
        return int(token.text, 0) if token.text.lower().startswith("0x") else int(token.text)

    def address_set(self, token: _Token) -> list[tuple[Value, int | None, str]]:
        name = token.text[1:]
        cache = getattr(self.names, "constant_cache", None)
        if cache is not None and name in cache:
            return cache[name]
        members = self.names.address_set(name) if self.names else None
        if members is None:
            raise self.error(f"no address set named {name!r}", token)
        constants = self._address_constants(token, name, members)
        if cache is not None:
            cache[name] = cache[("list", id(constants))] = constants
        return constants

    def _address_constants(self, token: _Token, name: str,
                           members: list[str]) -> list[tuple[Value, int | None, str]]:
        constants = []
        for member in members:
            try:
                value, mask = _network(member)
            except ValueError:
                raise self.error(f"address set {name!r} holds {member!r}, "
                                 "not an IPv4 address or CIDR", token) from None
            constants.append((value, None if mask == 0xFFFFFFFF else mask, "ipv4"))
        return constants

    def port_group(self, token: _Token) -> list[tuple[Value, int | None, str]]:
        name = token.text[1:]
        cache = getattr(self.names, "constant_cache", None)
        if cache is not None and token.text in cache:
            return cache[token.text]
        members = self.names.port_group(name) if self.names else None
        if members is None:
            raise self.error(f"no port group named {name!r}", token)
        constants = [(port, None, "string") for port in members]
        if cache is not None:
            cache[token.text] = cache[("list", id(constants))] = constants
        return constants

    def typed(self, token: _Token, field: _Field, constants: list) -> tuple[_Const, ...]:
        name = token.text
        typed: list[_Const] = []
        for value, mask, kind in constants:
            if (kind == "string") != (field.width == 0):
                raise self.error(f"{name} cannot be compared with {value!r}", token)
            if field.width and int(value) >> field.width:
                raise self.error(f"{value} does not fit the {field.width}-bit field {name}",
                                 token)
            typed.append(_Const(value, mask))
        return tuple(typed)

    # -- typing and OVN's rules for a comparison
    def comparison(self, token: _Token, op: str, constants: list) -> Expr:
        name = token.text
        field = _FIELDS.get(name)
        if field is None:
            if name in _PREDICATES:
                raise self.error(f"compare predicate {name} by naming it alone", token)
            raise self.error(f"unknown or unsupported field {name!r}", token)
        if field.nominal and any(mask is not None for _, mask, _ in constants):
            raise self.error(f"nominal field {name} cannot be masked", token)
        if field.nominal and op != ("!=" if self.negated else "=="):
            raise self.error(f"nominal field {name} may only be tested for equality "
                             "(taking enclosing ! into account)", token)
        if op not in ("==", "!="):
            if len(constants) != 1 or constants[0][1] is not None:
                raise self.error(f"{op} takes one unmasked constant", token)
        cache = getattr(self.names, "constant_cache", None)
        key = (id(constants), name)
        known = cache.get(key) if cache is not None else None
        if known is not None and known[0] is constants:
            typed = known[1]
        else:
            typed = self.typed(token, field, constants)
            if cache is not None and cache.get(("list", id(constants))) is constants:
                cache[key] = (constants, typed)
        if not typed:  # OVN turns a comparison with an empty set into a constant
            return _Bool(op == "!=")
        prerequisite = self.predicate(field.prerequisite) if field.prerequisite else None
        return _Compare(name, op, typed, prerequisite)


def _address(text: str) -> int:
    """A dotted quad as an integer, as strictly as IPv4Address (four decimal parts of
    0-255 without leading zeros), without its cost: address sets hold thousands."""
    parts = text.split(".")
    if len(parts) == 4 and all(p.isdigit() and p.isascii() and len(p) <= 3
                               and (p == "0" or p[0] != "0") for p in parts):
        a, b, c, d = (int(p) for p in parts)
        if a < 256 and b < 256 and c < 256 and d < 256:
            return a << 24 | b << 16 | c << 8 | d
    return int(IPv4Address(text))  # raises the same ValueError IPv4Address would


def _network(text: str) -> tuple[int, int]:
    """(network, mask) of ``A.B.C.D`` or ``A.B.C.D/LEN``, strict: no host bits set."""
    address, slash, length = text.partition("/")
    if slash and not (length.isdigit() and length.isascii() and int(length) <= 32):
        network = IPv4Network(text, strict=True)  # raises, or parses a netmask form
        return int(network.network_address), int(network.netmask)
    value = _address(address)
    mask = (0xFFFFFFFF << (32 - int(length))) & 0xFFFFFFFF if slash else 0xFFFFFFFF
    if value & ~mask & 0xFFFFFFFF:
        raise ValueError(f"{text} has host bits set")
    return value, mask


@functools.cache
def _predicate(name: str) -> Expr:
    return _Parser(_PREDICATES[name], None).parse()


@dataclass(frozen=True)
class Match:
    """A parsed, checked match; ``evaluate`` tells whether a packet matches it."""

    text: str
    expr: Expr

    def evaluate(self, packet: Packet) -> bool:
        return self.expr.evaluate(packet)


def parse_match(text: str, names: Names | None = None) -> Match:
    """Parse ``text`` against ``names``; :class:`MatchError` when it is outside the subset."""
    return Match(text, _Parser(text, names).parse())
