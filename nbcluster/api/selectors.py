"""Label and field selectors, parsed and matched like apimachinery. No I/O.

Label selectors follow ``k8s.io/apimachinery/pkg/labels/selector.go``: the same lexer
(identifiers end at whitespace or one of ``= ! ( ) , < >``), the same grammar
(``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, and the
``a>1`` / ``a<1`` integer comparisons), the same validation of keys and values
(qualified names, label values) and the same error wording, e.g.
``unable to parse requirement: found '=', expected: identifier``. Requirements are kept
sorted by key; values of ``in``/``notin`` are a sorted set, so ``str()`` is canonical.

``LabelSelector.from_dict`` is ``metav1.LabelSelectorAsSelector``: ``None`` selects
nothing, ``{}`` selects everything.

Field selectors follow ``k8s.io/apimachinery/pkg/fields/selector.go`` (``=``, ``==``,
``!=``, backslash escapes ``\\,`` ``\\=`` ``\\\\`` in values) and the per-kind field label
conversion functions of the API server (``SUPPORTED_FIELDS``); a field missing from an
object reads as ``""`` (so ``spec.nodeName=`` selects unscheduled pods), booleans and
numbers read as their Go formatting (``spec.unschedulable=false``, ``status.replicas=0``).

Left out on purpose: field selectors on ``status.podIPs`` (accepted by the API server's
conversion but not matchable here) and the legacy field label ``name``; set-based field
selectors do not exist in Kubernetes either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nbcluster.errors import BadRequest

__all__ = [
    "SUPPORTED_FIELDS",
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "escape_field_value",
    "field_value",
    "selector_from_set",
    "validate_label_key",
    "validate_label_value",
]

# selection.Operator values
DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
IN = "in"
NOT_EQUALS = "!="
NOT_IN = "notin"
EXISTS = "exists"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = [IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN]
_VALID_OPERATORS = [*_BINARY_OPERATORS, EXISTS, DOES_NOT_EXIST]

# --- validation (k8s.io/apimachinery/pkg/util/validation) -----------------------------

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_QUALIFIED_NAME_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """validation.RegexError, double spaces and all."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{fmt}')"


def _is_qualified_name(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 characters")
            if not _DNS1123_SUBDOMAIN_RE.match(prefix):
                errs.append(
                    "prefix part "
                    + _regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com")
                )
    else:
        return [
            "a qualified name "
            + _regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME_RE.match(name):
        errs.append(
            "name part "
            + _regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def _is_valid_label_value(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(_regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _go_quote(value: str) -> str:
    """Go's %q for the strings we meet (printable text)."""
    return json.dumps(value, ensure_ascii=False)


def _go_strings(values: list[str] | None) -> str:
    """Go's %#v of a []string."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in values) + "}"


def _invalid(path: str, value: str, detail: str) -> str:
    """field.Invalid(...).Error()."""
    return f"{path}: Invalid value: {value}: {detail}"


def validate_label_key(key: str, path: str = "<nil>") -> str | None:
    """The field error for an invalid label key (``None`` when valid)."""
    errs = _is_qualified_name(key)
    return _invalid(path, _go_quote(key), "; ".join(errs)) if errs else None


def validate_label_value(key: str, value: str, path: str = "values[0]") -> str | None:
    """The field error for an invalid label value (``None`` when valid)."""
    errs = _is_valid_label_value(value)
    return _invalid(f"{path}[{key}]", _go_quote(value), "; ".join(errs)) if errs else None


def _aggregate(errors: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error()."""
    if len(errors) == 1:
        return errors[0]
    return "[" + ", ".join(errors) + "]"


# --- label requirements ----------------------------------------------------------------


def _parse_int(text: str) -> int | None:
    if re.fullmatch(r"[+-]?[0-9]+", text) is None:
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


@dataclass(frozen=True)
class Requirement:
    """One ``key op values`` term (labels.Requirement). Build with :meth:`new` to validate."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: str, values: Iterable[str] | None = None) -> Requirement:
        """labels.NewRequirement: validate and build; raises BadRequest worded like Kubernetes."""
        raw = None if values is None else list(values)
        vals = raw or []
        errors: list[str] = []
        key_error = validate_label_key(key, "key")
        if key_error:
            errors.append(key_error)
        if operator in (IN, NOT_IN):
            if not vals:
                errors.append(
                    _invalid(
                        "values", _go_strings(raw), "for 'in', 'notin' operators, values set can't be empty"
                    )
                )
        elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
            if len(vals) != 1:
                errors.append(
                    _invalid(
                        "values", _go_strings(raw), "exact-match compatibility requires one single value"
                    )
                )
        elif operator in (EXISTS, DOES_NOT_EXIST):
            if vals:
                errors.append(
                    _invalid(
                        "values", _go_strings(raw), "values set must be empty for exists and does not exist"
                    )
                )
        elif operator in (GREATER_THAN, LESS_THAN):
            if len(vals) != 1:
                errors.append(
                    _invalid(
                        "values", _go_strings(raw), "for 'Gt', 'Lt' operators, exactly one value is required"
                    )
                )
            for i, v in enumerate(vals):
                if _parse_int(v) is None:
                    errors.append(
                        _invalid(
                            f"values[{i}]",
                            _go_quote(v),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        )
                    )
        else:
            supported = ", ".join(_go_quote(o) for o in _VALID_OPERATORS)
            errors.append(
                f"operator: Unsupported value: {_go_quote(operator)}: supported values: {supported}"
            )
        for i, v in enumerate(vals):
            value_error = validate_label_value(key, v, f"values[{i}]")
            if value_error:
                errors.append(value_error)
        if errors:
            raise BadRequest(_aggregate(errors))
        return cls(key, operator, tuple(vals))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Requirement.Matches: note ``!=`` and ``notin`` match when the key is absent."""
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels or len(self.values) != 1:
                return False
            have, want = _parse_int(labels[self.key]), _parse_int(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        text = ("!" if op == DOES_NOT_EXIST else "") + self.key
        if op in (EXISTS, DOES_NOT_EXIST):
            return text
        text += {
            EQUALS: "=",
            DOUBLE_EQUALS: "==",
            NOT_EQUALS: "!=",
            IN: " in ",
            NOT_IN: " notin ",
            GREATER_THAN: ">",
            LESS_THAN: "<",
        }.get(op, "")
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{text}({values})"
        return text + values


# --- lexer and parser (labels.Lexer / labels.Parser) -----------------------------------

_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _ID, _IN, _LT, _NEQ, _NOTIN, _OPEN = range(14)
_STRING_TO_TOKEN = {
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "==": _DEQ,
    "=": _EQ,
    ">": _GT,
    "in": _IN,
    "<": _LT,
    "!=": _NEQ,
    "notin": _NOTIN,
    "(": _OPEN,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            items.append((_EOS, ""))
            return items
        if text[pos] in _SPECIAL:
            buffer = ""
            last: tuple[int, str] | None = None
            while pos < end and text[pos] in _SPECIAL:
                buffer += text[pos]
                if buffer in _STRING_TO_TOKEN:
                    last = (_STRING_TO_TOKEN[buffer], buffer)
                    pos += 1
                elif last is not None:
                    break
                else:
                    pos += 1
            if last is None:
                items.append((_ERROR, f"error expected: keyword found '{buffer}'"))
            else:
                items.append(last)
        else:
            start = pos
            while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
                pos += 1
            word = text[start:pos]
            items.append((_STRING_TO_TOKEN.get(word, _ID), word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def lookahead(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.position]
        if values and tok in (_IN, _NOTIN):
            tok = _ID
        return tok, lit

    def consume(self, values: bool) -> tuple[int, str]:
        tok, lit = self.lookahead(values)
        self.position += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(True)
            if tok in (_ID, _NOT):
                try:
                    requirements.append(self.parse_requirement())
                except BadRequest as exc:
                    raise BadRequest(f"unable to parse requirement: {exc.message}") from None
                t, lit2 = self.consume(True)
                if t == _EOS:
                    return requirements
                if t == _COMMA:
                    t2, l2 = self.lookahead(True)
                    if t2 not in (_ID, _NOT):
                        raise BadRequest(f"found '{l2}', expected: identifier after ','")
                else:
                    raise BadRequest(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return requirements
            else:
                raise BadRequest(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        operator = ""
        tok, literal = self.consume(True)
        if tok == _NOT:
            operator = DOES_NOT_EXIST
            tok, literal = self.consume(True)
        if tok != _ID:
            raise BadRequest(f"found '{literal}', expected: identifier")
        key_error = validate_label_key(literal)
        if key_error:
            raise BadRequest(key_error)
        key = literal
        if self.lookahead(True)[0] in (_EOS, _COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        if operator in (EXISTS, DOES_NOT_EXIST):
            return Requirement.new(key, operator, [])
        operator = self.parse_operator()
        if operator in (IN, NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        return Requirement.new(key, operator, sorted(values))

    def parse_operator(self) -> str:
        tok, lit = self.consume(False)
        operator = {
            _IN: IN,
            _EQ: EQUALS,
            _DEQ: DOUBLE_EQUALS,
            _GT: GREATER_THAN,
            _LT: LESS_THAN,
            _NOTIN: NOT_IN,
            _NEQ: NOT_EQUALS,
        }.get(tok)
        if operator is None:
            raise BadRequest(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return operator

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(True)
        if tok != _OPEN:
            raise BadRequest(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(True)
        if tok in (_ID, _COMMA):
            values = self.parse_identifiers_list()
            if self.consume(True)[0] != _CLOSE:
                raise BadRequest(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:
            self.consume(True)
            return {""}
        raise BadRequest(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(True)
            if tok == _ID:
                values.add(lit)
                tok2, lit2 = self.lookahead(True)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise BadRequest(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not values:
                    values.add("")  # "(,"
                tok2 = self.lookahead(True)[0]
                if tok2 == _CLOSE:
                    values.add("")  # ",)"
                    return values
                if tok2 == _COMMA:
                    self.consume(True)
                    values.add("")  # ",,"
            else:
                raise BadRequest(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok = self.lookahead(True)[0]
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.consume(True)
        if tok == _ID:
            return {lit}
        raise BadRequest(f"found '{lit}', expected: identifier")


# --- label selectors -------------------------------------------------------------------

_MATCH_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: an AND of requirements sorted by key (or *nothing*)."""

    requirements: tuple[Requirement, ...] = ()
    #: labels.Nothing(): matches no object (a nil metav1.LabelSelector).
    selects_nothing: bool = field(default=False)

    # constructors -------------------------------------------------------------------
    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls((), selects_nothing=True)

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        """labels.Parse: ``"app=web,tier in (a,b),!canary"``; raises BadRequest when malformed."""
        if text is None:
            return cls()
        requirements = _Parser(text).parse()
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    @classmethod
    def from_dict(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """metav1.LabelSelectorAsSelector: ``None`` -> nothing, ``{}`` -> everything."""
        if selector is None:
            return cls.nothing()
        match_labels = selector.get("matchLabels") or {}
        match_expressions = selector.get("matchExpressions") or []
        if not match_labels and not match_expressions:
            return cls()
        requirements: list[Requirement] = []
        for key, value in match_labels.items():
            requirements.append(Requirement.new(key, EQUALS, [value]))
        for expr in match_expressions:
            operator = expr.get("operator")
            op = _MATCH_EXPRESSION_OPERATORS.get(operator) if isinstance(operator, str) else None
            if op is None:
                raise BadRequest(f"{_go_quote(str(operator or ''))} is not a valid label selector operator")
            values = expr.get("values")
            requirements.append(Requirement.new(expr.get("key", ""), op, list(values) if values else None))
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    # behaviour ----------------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        """Selector.Empty(): selects everything (``nothing`` is not empty)."""
        return not self.selects_nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def add(self, *requirements: Requirement) -> LabelSelector:
        """A new selector with more requirements (Selector.Add)."""
        if self.selects_nothing:
            return self
        return LabelSelector(tuple(sorted((*self.requirements, *requirements), key=lambda r: r.key)))

    def requires_exact_match(self, key: str) -> str | None:
        """Selector.RequiresExactMatch: the one value ``key`` must have, if any."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def equality_requirements(self) -> dict[str, str]:
        """Every ``key=value`` an index can use (``=``, ``==`` and one-value ``in``).

        A key required twice with different values cannot match anything; the last one
        wins here and :meth:`matches` still gives the right (empty) answer.
        """
        result: dict[str, str] = {}
        for r in self.requirements:
            if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                result[r.key] = r.values[0]
        return result

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def selector_from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """labels.SelectorFromSet: exact match on every pair; empty or ``None`` -> everything."""
    if not labels:
        return LabelSelector()
    return LabelSelector(tuple(Requirement(k, EQUALS, (v,)) for k, v in sorted(labels.items())))


# --- field selectors -------------------------------------------------------------------

_META = frozenset({"metadata.name", "metadata.namespace"})

#: Field labels each kind accepts (the API server's field label conversion functions).
#: Kinds not listed accept ``metadata.name`` and ``metadata.namespace`` only.
SUPPORTED_FIELDS: dict[str, set[str]] = {
    "Pod": {
        *_META,
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    },
    "Event": {
        *_META,
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    "Secret": {*_META, "type"},
    "Service": {*_META, "spec.clusterIP", "spec.type"},
    # cluster-scoped kinds with their own conversion: no metadata.namespace
    "Node": {"metadata.name", "spec.unschedulable"},
    "Namespace": {"metadata.name", "status.phase"},
    "ReplicationController": {*_META, "status.replicas"},
    "ReplicaSet": {*_META, "status.replicas"},
    "Job": {*_META, "status.successful"},
    "CertificateSigningRequest": {"metadata.name", "spec.signerName"},
}

#: Renamed labels (conversion returns another label): the legacy ``spec.host`` of pods.
_FIELD_ALIASES: dict[str, dict[str, str]] = {"Pod": {"spec.host": "spec.nodeName"}}

# Field label -> (path in the JSON object, value when missing). Most labels are their path.
_FIELD_PATHS: dict[str, tuple[str, Any]] = {
    "source": ("source.component", ""),
    "status.successful": ("status.succeeded", 0),
    "status.replicas": ("status.replicas", 0),
    "spec.unschedulable": ("spec.unschedulable", False),
    "spec.hostNetwork": ("spec.hostNetwork", False),
}


def _go_format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def field_value(obj: Mapping[str, Any], label: str) -> str:
    """The string value of field label ``label`` in ``obj`` (what a field selector compares)."""
    path, default = _FIELD_PATHS.get(label, (label, ""))
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _go_format(default)
        current = current[part]
    return _go_format(default if current is None else current)


def escape_field_value(value: str) -> str:
    """fields.EscapeValue: ``\\`` -> ``\\\\``, ``,`` -> ``\\,``, ``=`` -> ``\\=``."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune with %v: its code point
            raise BadRequest(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    if not text:
        return []
    terms: list[str] = []
    start, in_slash = 0, False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


@dataclass(frozen=True)
class FieldRequirement:
    """``field=value`` or ``field!=value`` (``==`` is read as ``=``)."""

    field: str
    operator: str  # "=" or "!="
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = field_value(obj, self.field)
        return actual == self.value if self.operator == "=" else actual != self.value

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: an AND of field requirements."""

    requirements: tuple[FieldRequirement, ...] = ()

    @classmethod
    def everything(cls) -> FieldSelector:
        return cls()

    @classmethod
    def parse(cls, text: str | None) -> FieldSelector:
        """fields.ParseSelector: ``"metadata.name=x,status.phase!=Running"``."""
        if not text:
            return cls()
        requirements: list[FieldRequirement] = []
        for part in sorted(_split_terms(text)):
            if not part:
                continue
            split = _split_term(part)
            if split is None:
                raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
            lhs, op, rhs = split
            requirements.append(
                FieldRequirement(lhs, "!=" if op == "!=" else "=", _unescape_field_value(rhs))
            )
        return cls(tuple(requirements))

    @classmethod
    def from_set(cls, fields: Mapping[str, str] | None) -> FieldSelector:
        """fields.SelectorFromSet."""
        return cls(tuple(FieldRequirement(k, "=", v) for k, v in sorted((fields or {}).items())))

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(r.matches(obj) for r in self.requirements)

    def requires_exact_match(self, label: str) -> str | None:
        for r in self.requirements:
            if r.field == label and r.operator == "=":
                return r.value
        return None

    def equality_requirements(self) -> dict[str, str]:
        return {r.field: r.value for r in self.requirements if r.operator == "="}

    def validate_for(self, kind: str) -> FieldSelector:
        """Check every field label against ``kind`` like the API server; returns the
        selector with legacy labels converted (``spec.host`` -> ``spec.nodeName``).

        Raises BadRequest: ``field label not supported: spec.foo`` for kinds with their own
        conversion, ``"spec.foo" is not a known field selector: only "metadata.name",
        "metadata.namespace"`` for the others.
        """
        aliases = _FIELD_ALIASES.get(kind, {})
        supported = SUPPORTED_FIELDS.get(kind)
        converted: list[FieldRequirement] = []
        for r in self.requirements:
            label = aliases.get(r.field, r.field)
            if supported is None:
                if label not in _META:
                    raise BadRequest(
                        f'{_go_quote(label)} is not a known field selector: only "metadata.name", '
                        '"metadata.namespace"'
                    )
            elif label not in supported:
                raise BadRequest(f"field label not supported: {r.field}")
            converted.append(FieldRequirement(label, r.operator, r.value))
        return FieldSelector(tuple(converted))

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)
