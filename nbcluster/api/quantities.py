"""Resource quantities (``250m``, ``64Mi``, ``1e3``) like apimachinery's resource.Quantity. No I/O.

Follows ``k8s.io/apimachinery/pkg/api/resource/quantity.go``:

* ``parse_quantity`` accepts ``<sign><number><suffix>`` where the suffix is a binary SI
  suffix (``Ki Mi Gi Ti Pi Ei``), a decimal SI suffix (``n u m "" k M G T P E``) or a
  decimal exponent (``e3``, ``E-2``). Garbage raises ``ValueError`` with Kubernetes' own
  wording (``quantities must match the regular expression ...``, ``unable to parse
  quantity's suffix``, ``unable to parse numeric part of quantity``).
* Like ParseQuantity, a non-zero value finer than ``1n`` is rounded away from zero to the
  nano (``0.9n`` -> ``1n``) and a binary-SI value is capped at 2^63-1.
* ``cpu_millis`` is MilliValue (ceil(q*1000)), ``memory_bytes`` is Value (ceil(q)).
* ``format_quantity`` is Quantity.String(): the canonical form keeps the suffix family the
  value was written in (``1.5Gi`` -> ``1536Mi``, ``1.5`` -> ``1500m``, ``1e3`` -> ``1e3``).

Deliberately left out: the int64 overflow of Value()/MilliValue() (Python ints do not
overflow) and the "cached original string" of Quantity (we always recompute).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal

__all__ = [
    "QUANTITY_REGEX",
    "Format",
    "add_resources",
    "canonical_quantity",
    "compare_quantities",
    "cpu_millis",
    "format_bytes",
    "format_cpu_millis",
    "format_quantity",
    "memory_bytes",
    "parse_quantity",
    "parse_quantity_with_format",
    "subtract_resources",
    "sum_resources",
]

Format = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

#: apimachinery's splitREString, quoted in its "wrong format" error.
QUANTITY_REGEX = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

_ERR_FORMAT = f"quantities must match the regular expression '{QUANTITY_REGEX}'"
_ERR_NUMERIC = "unable to parse numeric part of quantity"
_ERR_SUFFIX = "unable to parse quantity's suffix"

# Plenty of precision: quantities are exact fixed-point numbers, never floats.
_CTX = decimal.Context(prec=200, rounding=decimal.ROUND_CEILING, Emin=-999999, Emax=999999)

_DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_DECIMAL_BY_EXPONENT = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_BY_EXPONENT = {v: k for k, v in _BINARY_SUFFIXES.items()}

_NANO = Decimal("1e-9")
_MAX_INT64 = Decimal(2**63 - 1)
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_EXPONENT_RE = re.compile(r"[eE][-+]?[0-9]+")


def _scan(text: str) -> tuple[str, str]:
    """apimachinery's parseQuantityString: split ``text`` into (signed number, suffix)."""
    pos, end = 0, len(text)
    if pos < end and text[0] in "+-":
        pos += 1
    # leading zeros, then the integer digits
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return "0", ""  # "-", "+", "000" are all zero, like apimachinery
    while pos < end and text[pos].isascii() and text[pos].isdigit():
        pos += 1
    if pos < end and text[pos] == ".":
        pos += 1
        while pos < end and text[pos].isascii() and text[pos].isdigit():
            pos += 1
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isascii() and text[pos].isdigit():
        pos += 1
    if pos < end:
        raise ValueError(_ERR_FORMAT)
    return value, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, Format]:
    """(base, exponent, format) for a suffix, like quantitySuffixer.interpret."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], "DecimalSI"
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], "BinarySI"
    if len(suffix) > 1 and _EXPONENT_RE.fullmatch(suffix):
        return 10, int(suffix[1:]), "DecimalExponent"
    raise ValueError(_ERR_SUFFIX)


def parse_quantity_with_format(value: str | int | float) -> tuple[Decimal, Format]:
    """Parse a quantity and also return the format it was written in (kept by String())."""
    if isinstance(value, bool):
        raise ValueError(_ERR_FORMAT)
    if isinstance(value, int):
        return Decimal(value), "DecimalSI"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(_ERR_FORMAT)
        # repr() gives the shortest string that round-trips, so 0.1 stays 0.1.
        value = repr(value)
    if not isinstance(value, str):
        raise ValueError(_ERR_FORMAT)
    text = value
    if not text:
        raise ValueError(_ERR_FORMAT)
    if text == "0":
        return Decimal(0), "DecimalSI"
    number, suffix = _scan(text)
    base, exponent, fmt = _interpret_suffix(suffix)
    digits = number.lstrip("+-")
    if digits == "." and fmt == "BinarySI":
        # apimachinery's slow path (inf.Dec.SetString(".")) fails; its fast path reads 0.
        raise ValueError(_ERR_NUMERIC)
    whole, _, fraction = digits.partition(".")  # "1." and ".5" are allowed ("1.G" too)
    amount = Decimal(f"{whole or '0'}.{fraction or '0'}")
    if base == 10:
        amount = amount.scaleb(exponent, _CTX)
    else:
        amount = _CTX.multiply(amount, Decimal(2**exponent))
    # Round non-zero values away from zero to the nano: "if you want some resources,
    # you should get some resources".
    if amount != 0:
        amount = amount.quantize(_NANO, rounding=decimal.ROUND_UP, context=_CTX)
    if fmt == "BinarySI" and amount > _MAX_INT64:
        amount = _MAX_INT64
    if fmt == "BinarySI" and 0 < amount < 1:
        fmt = "DecimalSI"
    if number.startswith("-"):
        amount = -amount
    return _normalize(amount), fmt


def parse_quantity(value: str | int | float) -> Decimal:
    """The exact value of a Kubernetes quantity (``"250m"`` -> ``Decimal("0.25")``).

    Raises ``ValueError`` worded like apimachinery for anything that is not a quantity.
    """
    return parse_quantity_with_format(value)[0]


def _normalize(amount: Decimal) -> Decimal:
    if amount == 0:
        return Decimal(0)
    return amount.normalize(_CTX)


def _ceil(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=decimal.ROUND_CEILING, context=_CTX))


def cpu_millis(value: str | int | float) -> int:
    """MilliValue(): ceil(q * 1000) — ``"250m"`` -> 250, ``"1"`` -> 1000, ``"0.1m"`` -> 1."""
    return _ceil(parse_quantity(value).scaleb(3, _CTX))


def memory_bytes(value: str | int | float) -> int:
    """Value(): ceil(q) — ``"64Mi"`` -> 67108864, ``"1k"`` -> 1000, ``"0.5"`` -> 1."""
    return _ceil(parse_quantity(value))


def format_cpu_millis(m: int) -> str:
    """Canonical CPU string for a milli value: 250 -> ``"250m"``, 2000 -> ``"2"``."""
    if m % 1000 == 0:
        return str(m // 1000)
    return f"{m}m"


def format_bytes(n: int) -> str:
    """Canonical BinarySI string of a byte count: ``"64Mi"``, ``"1Gi"``, ``"1536"``, ``"512"``."""
    return format_quantity(Decimal(n), "BinarySI")


def _canonical_decimal(amount: Decimal) -> tuple[int, int]:
    """(mantissa, exponent) with exponent a multiple of 3 and no lost precision (AsCanonicalBytes)."""
    sign, digits, exp = amount.as_tuple()
    assert isinstance(exp, int)
    mantissa = int("".join(map(str, digits)) or "0")
    while mantissa and mantissa % 10 == 0:
        mantissa //= 10
        exp += 1
    while exp % 3:
        mantissa *= 10
        exp -= 1
    return (-mantissa if sign else mantissa), exp


def format_quantity(value: Decimal | int, fmt: Format = "DecimalSI") -> str:
    """Quantity.String(): the canonical form of ``value`` in format ``fmt``.

    DecimalSI picks the largest suffix that loses no precision (``1500`` -> ``"1500"``,
    ``2000`` -> ``"2k"``, ``0.5`` -> ``"500m"``); BinarySI picks the largest power of 1024
    that divides the value (``1536`` -> ``"1536"``, ``1572864`` -> ``"1536Ki"``) and falls back to
    DecimalSI below 1024 or for fractions; DecimalExponent writes ``e<N>``.
    """
    amount = Decimal(value)
    if amount == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < amount < 1024 or amount != amount.to_integral_value():
            fmt = "DecimalSI"
        else:
            number = int(amount)
            exponent = 0
            while number % 1024 == 0 and exponent < 60:
                number //= 1024
                exponent += 10
            return f"{number}{_BINARY_BY_EXPONENT.get(exponent, '')}"
    mantissa, exponent = _canonical_decimal(amount)
    if fmt == "DecimalSI" and exponent in _DECIMAL_BY_EXPONENT:
        return f"{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"
    # DecimalExponent, or a DecimalSI exponent with no suffix (beyond E or finer than n):
    # apimachinery falls back to exponent notation.
    if exponent == 0:
        return str(mantissa)
    return f"{mantissa}e{exponent}"


def canonical_quantity(value: str | int | float) -> str:
    """Parse and re-emit in canonical form, keeping the written format (``"1024Mi"`` -> ``"1Gi"``)."""
    amount, fmt = parse_quantity_with_format(value)
    return format_quantity(amount, fmt)


def compare_quantities(a: str | int | float, b: str | int | float) -> int:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b`` (Quantity.Cmp)."""
    x, y = parse_quantity(a), parse_quantity(b)
    return (x > y) - (x < y)


ResourceList = Mapping[str, "str | int | float"]


def _combine(a: ResourceList | None, b: ResourceList | None, sign: int) -> dict[str, str]:
    result: dict[str, str] = {}
    a = a or {}
    b = b or {}
    for name in list(a) + [n for n in b if n not in a]:
        if name in a and name in b:
            x, fx = parse_quantity_with_format(a[name])
            y, fy = parse_quantity_with_format(b[name])
            # Quantity.Add/Sub keep the receiver's format unless the receiver is zero.
            fmt = fy if x == 0 else fx
            result[name] = format_quantity(x + sign * y, fmt)
        elif name in a:
            result[name] = canonical_quantity(a[name])
        else:
            y, fy = parse_quantity_with_format(b[name])
            result[name] = format_quantity(sign * y, fy)
    return result


def add_resources(a: ResourceList | None, b: ResourceList | None) -> dict[str, str]:
    """A new ResourceList ``a + b`` (names in either; values in canonical quantity form).

    Like quota's ``Add``: ``{"cpu": "250m"} + {"cpu": "1", "memory": "64Mi"}`` ->
    ``{"cpu": "1250m", "memory": "64Mi"}``.
    """
    return _combine(a, b, 1)


def subtract_resources(a: ResourceList | None, b: ResourceList | None) -> dict[str, str]:
    """A new ResourceList ``a - b`` (names only in ``b`` become negative, like quota's Subtract)."""
    return _combine(a, b, -1)


def sum_resources(lists: Iterable[ResourceList | None]) -> dict[str, str]:
    """The sum of many ResourceLists (e.g. the requests of every container of a pod)."""
    total: dict[str, str] = {}
    for item in lists:
        total = add_resources(total, item)
    return total
