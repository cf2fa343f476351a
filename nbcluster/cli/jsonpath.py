"""kubectl's JSONPath templates (``-o jsonpath=…``, ``custom-columns``, ``--sort-by``). No I/O.

A port of client-go ``util/jsonpath`` (parser.go, jsonpath.go): text outside ``{}``
is printed as is; inside, ``.field``, ``['key']``, ``[n]``, ``[start:end:step]``,
``[*]``, ``..`` (recursive descent), ``[a,b]`` (union), ``[?(@.x == "y")]``
(filters, also ``<``, ``>``, ``<=``, ``>=``, ``!=`` and bare existence ``[?(@.x)]``),
quoted text ``{"\\t"}``, ``{range …}…{end}``, ``@`` and ``$``. The results of one
``{}`` are joined by spaces; maps and lists print as compact JSON (Go's
``json.Marshal``), scalars as Go's ``fmt.Print`` does.

``JSONPath(template).execute(data)`` → text; ``find(data)`` → the raw result lists;
:func:`relaxed` turns ``.metadata.name`` into ``{.metadata.name}`` (custom-columns,
``--sort-by``). Errors are :class:`~nbcluster.errors.UsageError` (parsing) and
:class:`~nbcluster.errors.BadRequest` (executing), worded like kubectl.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from nbcluster.errors import BadRequest, UsageError

__all__ = ["JSONPath", "JSONPathError", "go_json", "go_sprint", "relaxed"]

_EOF = ""
_DICT_KEY = re.compile(r"^'([^']*)'$")
_SLICE = re.compile(r"^(-?\d*)(:-?\d*)?(:-?\d*)?$")
_FILTER = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)$", re.DOTALL)
_OPERATORS = ("<", ">", "==", "!=", "<=", ">=")
_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


class JSONPathError(BadRequest):
    """A template that cannot be executed on the given data."""


# ------------------------------------------------------------------------ nodes


@dataclass
class _List:
    nodes: list[Any] = field(default_factory=list)


@dataclass
class _Text:
    text: str


@dataclass
class _Field:
    name: str


@dataclass
class _Param:
    value: int = 0
    known: bool = False
    derived: bool = False  # ``[n]`` is ``[n:n+1]``: the end follows the (normalised) start


@dataclass
class _Array:
    params: tuple[_Param, _Param, _Param]


@dataclass
class _Filter:
    left: _List
    right: _List
    operator: str


@dataclass
class _Int:
    value: int


@dataclass
class _Float:
    value: float


@dataclass
class _Bool:
    value: bool


@dataclass
class _Wildcard:
    pass


@dataclass
class _Recursive:
    pass


@dataclass
class _Union:
    nodes: list[_List]


@dataclass
class _Identifier:
    name: str


# ------------------------------------------------------------------------ parser


class _ParseError(Exception):
    pass


def _is_terminator(r: str) -> bool:
    return r in (_EOF, " ", "\t", "\r", "\n", ".", ",", "[", "]", "$", "@", "{", "}")


def _is_alnum(r: str) -> bool:
    return r != _EOF and (r == "_" or r.isalpha() or r.isdigit())


class _Parser:
    """parser.go, one rune at a time."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.width = 0
        self.root = _List()

    def parse(self) -> _List:
        self._parse_text(self.root)
        return self.root

    # -- scanning --------------------------------------------------------------

    def _consume(self) -> str:
        value = self.input[self.start : self.pos]
        self.start = self.pos
        return value

    def _next(self) -> str:
        if self.pos >= len(self.input):
            self.width = 0
            return _EOF
        r = self.input[self.pos]
        self.width = 1
        self.pos += 1
        return r

    def _peek(self) -> str:
        r = self._next()
        self._backup()
        return r

    def _backup(self) -> None:
        self.pos -= self.width

    # -- grammar ---------------------------------------------------------------

    def _parse_text(self, cur: _List) -> None:
        while True:
            if self.input.startswith("{", self.pos):
                if self.pos > self.start:
                    cur.nodes.append(_Text(self._consume()))
                self._parse_left_delim(cur)
                return
            if self._next() == _EOF:
                break
        if self.pos > self.start:
            cur.nodes.append(_Text(self._consume()))

    def _parse_left_delim(self, cur: _List) -> None:
        self.pos += 1
        self._consume()
        node = _List()
        cur.nodes.append(node)
        self._parse_inside(node)

    def _parse_inside(self, cur: _List) -> None:
        while True:
            rest = self.input[self.pos :]
            if rest.startswith("}"):
                self.pos += 1
                self._consume()
                self._parse_text(self.root)
                return
            if rest.startswith("[?("):
                self._parse_filter(cur)
                continue
            if rest.startswith(".."):
                self._parse_recursive(cur)
                continue
            r = self._next()
            if r == _EOF or r in "\r\n":
                raise _ParseError("unclosed action")
            if r in (" ", "@", "$"):
                self._consume()
            elif r == "[":
                self._parse_array(cur)
            elif r in ('"', "'"):
                self._parse_quote(cur, r)
            elif r == ".":
                self._parse_field(cur)
            elif r in "+-" or r.isdigit():
                self._backup()
                self._parse_number(cur)
            elif _is_alnum(r):
                self._backup()
                self._parse_identifier(cur)
            else:
                raise _ParseError(f"unrecognized character in action: U+{ord(r):04X} {r!r}")

    def _parse_identifier(self, cur: _List) -> None:
        while True:
            r = self._next()
            if _is_terminator(r):
                if r != _EOF:
                    self._backup()
                break
        value = self._consume()
        if value in ("true", "false"):
            cur.nodes.append(_Bool(value == "true"))
        else:
            cur.nodes.append(_Identifier(value))

    def _parse_recursive(self, cur: _List) -> None:
        if cur.nodes and isinstance(cur.nodes[-1], _Recursive):
            raise _ParseError("invalid multiple recursive descent")
        self.pos += 2
        self._consume()
        cur.nodes.append(_Recursive())
        if _is_alnum(self._peek()):
            self._parse_field(cur)

    def _parse_number(self, cur: _List) -> None:
        if self._peek() in "+-" and self._peek() != _EOF:
            self._next()
        while True:
            r = self._next()
            if r == _EOF:
                break
            if r != "." and not r.isdigit():
                self._backup()
                break
        value = self._consume()
        try:
            cur.nodes.append(_Int(int(value)))
            return
        except ValueError:
            pass
        try:
            cur.nodes.append(_Float(float(value)))
        except ValueError:
            raise _ParseError(f"cannot parse number {value}") from None

    def _parse_array(self, cur: _List) -> None:
        while True:
            r = self._next()
            if r in (_EOF, "\n"):
                raise _ParseError("unterminated array")
            if r == "]":
                break
        text = self._consume()[1:-1]
        if text == "*":
            text = ":"
        parts = text.split(",")
        if len(parts) > 1:
            union = [_parse_action(f"[{part.strip(' ')}]") for part in parts]
            cur.nodes.append(_Union(union))
            return
        key = _DICT_KEY.match(text)
        if key:
            cur.nodes.extend(_parse_action(f".{key.group(1)}").nodes)
            return
        match = _SLICE.match(text)
        if not match:
            raise _ParseError(f"invalid array index {text}")
        groups = [match.group(1) or "", match.group(2) or "", match.group(3) or ""]
        params = [_Param(), _Param(), _Param()]
        for i in range(3):
            value = groups[i]
            if value:
                if i > 0:
                    value = value[1:]
                if i > 0 and value == "":
                    params[i] = _Param(0, False)
                else:
                    try:
                        params[i] = _Param(int(value), True)
                    except ValueError:
                        raise _ParseError(f"array index {value} is not a number") from None
            elif i == 1:
                params[i] = _Param(params[0].value + 1, True, derived=True)
            else:
                params[i] = _Param(0, False)
        cur.nodes.append(_Array((params[0], params[1], params[2])))

    def _parse_filter(self, cur: _List) -> None:
        self.pos += 3
        self._consume()
        begin = end = False
        pair = ""
        while True:
            r = self._next()
            if r in (_EOF, "\n"):
                raise _ParseError("unterminated filter")
            if r in ('"', "'"):
                if not begin:
                    begin, pair = True, r
                    continue
                if self.input[self.pos - 2] != "\\" and r == pair:
                    end = True
            elif r == ")" and begin == end:
                break
        if self._next() != "]":
            raise _ParseError("unclosed array expect ]")
        text = self._consume()[:-2]
        match = _FILTER.match(text)
        if match is None:
            cur.nodes.append(_Filter(_parse_action(text), _List(), "exists"))
        else:
            cur.nodes.append(
                _Filter(_parse_action(match.group(1)), _parse_action(match.group(3)), match.group(2))
            )

    def _parse_quote(self, cur: _List, end: str) -> None:
        while True:
            r = self._next()
            if r in (_EOF, "\n"):
                raise _ParseError("unterminated quoted string")
            if r == end and self.input[self.pos - 2] != "\\":
                break
        value = self._consume()
        cur.nodes.append(_Text(_unquote(value)))

    def _parse_field(self, cur: _List) -> None:
        self._consume()
        while True:
            r = self._next()
            if r == "\\":
                self._next()
            elif _is_terminator(r):
                if r != _EOF:
                    self._backup()
                break
        value = self._consume()
        if value == "*":
            cur.nodes.append(_Wildcard())
        else:
            cur.nodes.append(_Field(value.replace("\\", "")))


def _parse_action(text: str) -> _List:
    root = _Parser("{" + text + "}").parse()
    return root.nodes[0]


_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


def _unquote(value: str) -> str:
    """UnquoteExtend: Go's strconv.Unquote, single quotes allowed for strings."""
    if len(value) < 2 or value[0] != value[-1] or value[0] not in "\"'":
        raise _ParseError(f"unquote string {value} error invalid syntax")
    body, out, i = value[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(body):
            raise _ParseError(f"unquote string {value} error invalid syntax")
        esc = body[i + 1]
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        elif esc in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[esc]
            digits = body[i + 2 : i + 2 + size]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                raise _ParseError(f"unquote string {value} error invalid syntax") from None
            i += 2 + size
        elif esc in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise _ParseError(f"unquote string {value} error invalid syntax")
    return "".join(out)


# ------------------------------------------------------------------------ Go formatting


def _go_float(value: float) -> str:
    """Go's ``%v`` of a float64 (strconv 'g' with the shortest precision)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    exp = len(digits) + int(exponent) - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:  # %e when the exponent is < -4 or >= 6 (shortest precision)
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    plain = repr(abs(value))
    if plain.endswith(".0"):
        plain = plain[:-2]
    return prefix + plain


def go_sprint(value: Any) -> str:
    """Go's ``fmt.Sprint`` of a decoded JSON value (custom-columns cells)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    return str(value)


def go_json(value: Any) -> str:
    """Go's ``json.Marshal``: compact, keys sorted, ``<>&`` escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _to_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return go_json(value)
    return go_sprint(value)


def _go_type(value: Any) -> str:
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "<nil>"


# ------------------------------------------------------------------------ comparison


def _basic_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise JSONPathError("invalid type for comparison")


def _compare(left: Any, right: Any, operator: str) -> bool:
    k1, k2 = _basic_kind(left), _basic_kind(right)
    if k1 != k2:
        raise JSONPathError("incompatible types for comparison")
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if k1 == "bool":
        raise JSONPathError("invalid type for comparison")
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">=":
        return bool(left >= right)
    raise JSONPathError(f"unrecognized filter operator {operator}")


# ------------------------------------------------------------------------ evaluation


class JSONPath:
    """A parsed kubectl JSONPath template."""

    def __init__(self, template: str, *, allow_missing_keys: bool = True) -> None:
        self.template = template
        self.allow_missing_keys = allow_missing_keys
        try:
            self._root = _Parser(template).parse()
        except _ParseError as exc:
            raise UsageError(f"error: error parsing jsonpath {template}, {exc}") from None

    def execute(self, data: Any) -> str:
        """The text kubectl prints for ``data``."""
        try:
            results = self._find(self._root.nodes, data)
        except JSONPathError as exc:
            raise JSONPathError(
                f'error: error executing jsonpath "{self.template}": Error executing template: '
                f"{exc}. Printing more information for debugging the template:\n"
                f"\ttemplate was:\n\t\t{self.template}"
            ) from None
        return "".join(" ".join(_to_text(v) for v in values) for values in results)

    def find(self, data: Any) -> list[list[Any]]:
        """The result lists, one per ``{}`` action or text (``FindResults``)."""
        return self._find(self._root.nodes, data)

    # -- walking ---------------------------------------------------------------

    def _find(self, nodes: list[Any], data: Any) -> list[list[Any]]:
        results: list[list[Any]] = []
        cur = [data]
        i = 0
        while i < len(nodes):
            node = nodes[i]
            head = node.nodes[0] if isinstance(node, _List) and node.nodes else None
            if isinstance(head, _Identifier) and head.name == "range":
                values = self._eval_list(cur, node.nodes[1:])
                end = _matching_end(nodes, i)
                body = nodes[i + 1 : end] if end is not None else nodes[i + 1 :]
                for value in values:
                    results.extend(self._find(body, value))
                if not values or end is None:
                    break  # like client-go: nothing after an empty range is printed
                i = end + 1
                continue
            if isinstance(head, _Identifier) and head.name == "end":
                raise JSONPathError("not in range, nothing to end")
            results.append(self._walk(cur, node))
            i += 1
        return results

    def _walk(self, values: list[Any], node: Any) -> list[Any]:
        if isinstance(node, _List):
            return self._eval_list(values, node.nodes)
        if isinstance(node, _Text):
            return [node.text]
        if isinstance(node, _Field):
            return self._eval_field(values, node)
        if isinstance(node, _Array):
            return self._eval_array(values, node)
        if isinstance(node, _Filter):
            return self._eval_filter(values, node)
        if isinstance(node, (_Int, _Float, _Bool)):
            return [node.value for _ in values]
        if isinstance(node, _Wildcard):
            return [child for value in values for child in _children(value)]
        if isinstance(node, _Recursive):
            return self._eval_recursive(values)
        if isinstance(node, _Union):
            out: list[Any] = []
            for branch in node.nodes:
                out.extend(self._eval_list(values, branch.nodes))
            return out
        if isinstance(node, _Identifier):
            raise JSONPathError(f"unrecognized identifier {node.name}")
        raise JSONPathError(f"unexpected Node {node!r}")

    def _eval_list(self, values: list[Any], nodes: list[Any]) -> list[Any]:
        for node in nodes:
            values = self._walk(values, node)
        return values

    def _eval_field(self, values: list[Any], node: _Field) -> list[Any]:
        if not values:
            return []
        if node.name == "":
            return [v for v in values if v is not None]
        results = [v[node.name] for v in values if isinstance(v, dict) and node.name in v]
        if not results and not self.allow_missing_keys:
            raise JSONPathError(f"{node.name} is not found")
        return results

    def _eval_array(self, values: list[Any], node: _Array) -> list[Any]:
        results: list[Any] = []
        for value in values:
            if value is None:
                continue
            if not isinstance(value, list):
                raise JSONPathError(f"{_go_type(value)} is not array or slice")
            length = len(value)
            start = node.params[0].value if node.params[0].known else 0
            if start < 0:
                start += length
            stop = node.params[1].value if node.params[1].known else length
            if node.params[1].derived:
                stop = start + 1
            elif stop < 0:
                stop += length
            if stop != start:
                if start >= length or start < 0:
                    raise JSONPathError(f"array index out of bounds: index {start}, length {length}")
                if stop > length:
                    raise JSONPathError(f"array index out of bounds: index {stop - 1}, length {length}")
            if stop < start:
                raise JSONPathError(f"slice bounds out of range [{start}:{stop}]")
            if node.params[2].known:
                if node.params[2].value <= 0:
                    raise JSONPathError("step must be > 0")
                results.extend(value[start : stop : node.params[2].value])
            else:
                results.extend(value[start:stop])
        return results

    def _eval_filter(self, values: list[Any], node: _Filter) -> list[Any]:
        results: list[Any] = []
        for value in values:
            if not isinstance(value, list):
                raise JSONPathError(f"{go_sprint(value)} is not array or slice and cannot be filtered")
            for item in value:
                if node.operator == "exists":
                    try:
                        lefts = self._eval_list([item], node.left.nodes)
                    except JSONPathError:
                        lefts = []
                    if lefts:
                        results.append(item)
                    continue
                if node.operator not in _OPERATORS:
                    raise JSONPathError(f"unrecognized filter operator {node.operator}")
                lefts = self._eval_list([item], node.left.nodes)
                if not lefts:
                    continue  # an item without the field does not match
                if len(lefts) > 1:
                    raise JSONPathError("can only compare one element at a time")
                rights = self._eval_list([item], node.right.nodes)
                if len(rights) != 1:
                    raise JSONPathError("can only compare one element at a time")
                if _compare(lefts[0], rights[0], node.operator):
                    results.append(item)
        return results

    def _eval_recursive(self, values: list[Any]) -> list[Any]:
        result: list[Any] = []
        for value in values:
            children = _children(value)
            if children:
                result.append(value)
                result.extend(self._eval_recursive(children))
        return result


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return list(value.encode())  # Go indexes a string's bytes
    return []


def _matching_end(nodes: list[Any], start: int) -> int | None:
    depth = 0
    for j in range(start + 1, len(nodes)):
        node = nodes[j]
        head = node.nodes[0] if isinstance(node, _List) and node.nodes else None
        if isinstance(head, _Identifier):
            if head.name == "range":
                depth += 1
            elif head.name == "end":
                if depth == 0:
                    return j
                depth -= 1
    return None


def relaxed(expression: str) -> str:
    """RelaxedJSONPathExpression: ``metadata.name`` / ``.metadata.name`` / ``{.metadata.name}``."""
    if not expression:
        return expression
    match = _RELAXED.match(expression)
    if match is None:
        raise UsageError(
            "error: unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            "'{name1.name2}' or '{.name1.name2}'"
        )
    return "{." + (match.group(1) or match.group(2)) + "}"
