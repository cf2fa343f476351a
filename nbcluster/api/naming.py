"""Name and key formats, worded exactly like Kubernetes' apimachinery validation. No I/O.

Ports ``k8s.io/apimachinery/pkg/util/validation`` (``IsDNS1123Subdomain``,
``IsDNS1123Label``, ``IsQualifiedName``, ``IsValidLabelValue``, ``IsConfigMapKey``...) and
the ``ValidateLabels`` / ``ValidateAnnotations`` helpers of ``pkg/api/validation``.

The ``is_*`` functions return a list of problem strings (empty when valid), like Go's
``[]string``; the ``validate_*`` functions return :class:`~nbcluster.errors.FieldError`
lists ready to join an object's error list. ``generate_name_suffix`` is the 5-character
suffix ``metadata.generateName`` gets.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence

from nbcluster.errors import CauseType, FieldError

__all__ = [
    "DNS1035_LABEL_MAX_LENGTH",
    "DNS1123_LABEL_MAX_LENGTH",
    "DNS1123_SUBDOMAIN_MAX_LENGTH",
    "GENERATE_NAME_ALPHABET",
    "LABEL_VALUE_MAX_LENGTH",
    "MAX_GENERATED_NAME_LENGTH",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "empty_error",
    "generate_name",
    "generate_name_suffix",
    "inclusive_range_error",
    "is_c_identifier",
    "is_config_map_key",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_env_var_name",
    "is_http_header_name",
    "is_qualified_name",
    "is_relaxed_env_var_name",
    "is_valid_label_value",
    "is_valid_path_segment_name",
    "is_valid_percent",
    "is_valid_port_name",
    "is_valid_port_num",
    "mask_trailing_dash",
    "max_len_error",
    "name_is_dns1035_label",
    "name_is_dns_label",
    "name_is_dns_subdomain",
    "regex_error",
    "validate_annotations",
    "validate_dns1123_label",
    "validate_dns1123_subdomain",
    "validate_label_name",
    "validate_labels",
    "validate_qualified_name",
]

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
DNS1035_LABEL_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
_QUALIFIED_NAME_MAX_LENGTH = 63
#: ``ValidateAnnotationsSize``: keys + values of one object's annotations, 256 KiB.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10)

#: ``k8s.io/apimachinery/pkg/util/rand``: no vowels (no words), no look-alikes (0/1/3).
GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_GENERATE_NAME_SUFFIX_LENGTH = 5
#: ``names.SimpleNameGenerator``: a generated name stays a valid 63-character label.
MAX_GENERATED_NAME_LENGTH = 63 - _GENERATE_NAME_SUFFIX_LENGTH

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_ERR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_QNAME_CHAR_FMT = "[A-Za-z0-9]"
_QNAME_EXT_CHAR_FMT = "[-A-Za-z0-9_.]"
_QUALIFIED_NAME_FMT = "(" + _QNAME_CHAR_FMT + _QNAME_EXT_CHAR_FMT + "*)?" + _QNAME_CHAR_FMT
_QUALIFIED_NAME_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV_VAR_NAME_ERR = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit"
)
_RELAXED_ENV_VAR_NAME_ERR = (
    "a valid environment variable name must consist only of printable ASCII characters other than '='"
)
_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_ERR = (
    "a valid C identifier must start with alphabetic character or '_', "
    "followed by a string of alphanumeric characters or '_'"
)
_PERCENT_FMT = "[0-9]+%"
_PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'"
_HTTP_HEADER_NAME_FMT = "[-A-Za-z0-9]+"
_HTTP_HEADER_NAME_ERR = "a valid HTTP header must consist of alphanumeric characters or '-'"


def _full(fmt: str) -> re.Pattern[str]:
    # Go's regexp "^...$" never matches a trailing newline; fullmatch behaves the same.
    return re.compile(fmt)


_DNS1123_LABEL_RE = _full(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = _full(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE = _full(_DNS1035_LABEL_FMT)
_QUALIFIED_NAME_RE = _full(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_CONFIG_MAP_KEY_RE = _full(_CONFIG_MAP_KEY_FMT)
_ENV_VAR_NAME_RE = _full(_ENV_VAR_NAME_FMT)
_C_IDENTIFIER_RE = _full(_C_IDENTIFIER_FMT)
_PERCENT_RE = _full(_PERCENT_FMT)
_HTTP_HEADER_NAME_RE = _full(_HTTP_HEADER_NAME_FMT)
_PORT_NAME_CHARSET_RE = _full("[-a-z0-9]+")
_PORT_NAME_ONE_LETTER_RE = re.compile("[a-z]")


# --- message builders (apimachinery's MaxLenError, RegexError, ...) -------------------


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Go's ``RegexError``, including its quirky ``'a',  or 'b', `` joining."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    text = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{fmt}')"


def empty_error() -> str:
    return "must be non-empty"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


# --- string checks -----------------------------------------------------------------


def is_dns1123_label(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            # A valid subdomain but not a label: the length is checked, so it is the dots.
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > DNS1035_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1035_LABEL_ERR, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """A label key / qualified name: ``[prefix/]name`` (``app.kubernetes.io/name``)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + empty_error())
        else:
            errs.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part " + empty_error())
    elif len(name) > _QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + max_len_error(_QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errs.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _has_chdir_prefix(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_config_map_key(value: str) -> list[str]:
    """A key of ConfigMap/Secret ``data`` (``[-._a-zA-Z0-9]+``, not ``.``/``..``)."""
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _CONFIG_MAP_KEY_RE.fullmatch(value):
        errs.append(regex_error(_CONFIG_MAP_KEY_ERR, _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    errs.extend(_has_chdir_prefix(value))
    return errs


def is_env_var_name(value: str) -> list[str]:
    """The strict (pre-1.32) environment variable name rule."""
    errs: list[str] = []
    if not _ENV_VAR_NAME_RE.fullmatch(value):
        errs.append(
            regex_error(_ENV_VAR_NAME_ERR, _ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1")
        )
    errs.extend(_has_chdir_prefix(value))
    return errs


def is_relaxed_env_var_name(value: str) -> list[str]:
    """RelaxedEnvironmentVariableValidation (on by default since 1.32): printable ASCII but '='."""
    errs: list[str] = []
    if not value:
        errs.append("environment variable name " + empty_error())
    for ch in value:
        if ord(ch) > 127 or not ch.isprintable() or ch == "=":
            errs.append(_RELAXED_ENV_VAR_NAME_ERR)
            break
    return errs


def is_c_identifier(value: str) -> list[str]:
    if not _C_IDENTIFIER_RE.fullmatch(value):
        return [regex_error(_C_IDENTIFIER_ERR, _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]
    return []


def is_valid_port_num(port: int) -> list[str]:
    if 1 <= port <= 65535:
        return []
    return [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    """An IANA_SVC_NAME: at most 15 of ``[-a-z0-9]``, at least one letter, no ``--``."""
    errs: list[str] = []
    if len(port) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_ONE_LETTER_RE.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_percent(percent: str) -> list[str]:
    if not _PERCENT_RE.fullmatch(percent):
        return [regex_error(_PERCENT_ERR, _PERCENT_FMT, "1%", "93%")]
    return []


def is_http_header_name(value: str) -> list[str]:
    if not _HTTP_HEADER_NAME_RE.fullmatch(value):
        return [regex_error(_HTTP_HEADER_NAME_ERR, _HTTP_HEADER_NAME_FMT, "X-Header-Name")]
    return []


def is_valid_path_segment_name(name: str) -> list[str]:
    """``path.IsValidPathSegmentName``: what RBAC object names and scale targets must be."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    errs = []
    for illegal in ("/", "%"):
        if illegal in name:
            errs.append(f"may not contain '{illegal}'")
    return errs


# --- object-name checks (ValidateNameFunc: the name, or the generateName prefix) -----


def mask_trailing_dash(name: str) -> str:
    """A generateName prefix may end in '-': the random suffix follows it."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-1] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool = False) -> list[str]:
    return is_dns1123_subdomain(mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool = False) -> list[str]:
    return is_dns1123_label(mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool = False) -> list[str]:
    return is_dns1035_label(mask_trailing_dash(name) if prefix else name)


# --- FieldError helpers ----------------------------------------------------------------


def _invalid(path: str, value: object, msgs: Sequence[str]) -> list[FieldError]:
    return [FieldError(path, CauseType.INVALID, msg, value) for msg in msgs]


def validate_dns1123_label(value: str, path: str) -> list[FieldError]:
    return _invalid(path, value, is_dns1123_label(value))


def validate_dns1123_subdomain(value: str, path: str) -> list[FieldError]:
    return _invalid(path, value, is_dns1123_subdomain(value))


def validate_qualified_name(value: str, path: str) -> list[FieldError]:
    return _invalid(path, value, is_qualified_name(value))


def validate_label_name(key: str, path: str) -> list[FieldError]:
    """``ValidateLabelName``: one label key (reported at ``path``, e.g. ``metadata.labels``)."""
    return _invalid(path, key, is_qualified_name(key))


def validate_labels(labels: Mapping[str, object] | None, path: str) -> list[FieldError]:
    """``ValidateLabels``: every key a qualified name, every value a label value.

    Like Kubernetes, errors are reported at the map's path (``metadata.labels``), the
    offending key or value being the error's value.
    """
    errs: list[FieldError] = []
    if not isinstance(labels, Mapping):
        return errs
    for key, value in labels.items():
        errs.extend(validate_label_name(str(key), path))
        if isinstance(value, str):
            errs.extend(_invalid(path, value, is_valid_label_value(value)))
    return errs


def validate_annotations(annotations: Mapping[str, object] | None, path: str) -> list[FieldError]:
    """``ValidateAnnotations``: keys are qualified names (case-insensitive), total <= 256 KiB."""
    errs: list[FieldError] = []
    if not isinstance(annotations, Mapping):
        return errs
    total = 0
    for key, value in annotations.items():
        key = str(key)
        errs.extend(_invalid(path, key, is_qualified_name(key.lower())))
        total += len(key.encode()) + (len(value.encode()) if isinstance(value, str) else 0)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(
            FieldError(path, CauseType.TOO_LONG, f"may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes")
        )
    return errs


# --- generateName ------------------------------------------------------------------------

# Names need to be unlikely to collide, not unpredictable: the Mersenne Twister is plenty
# (and twenty times cheaper than SystemRandom's os.urandom per character).
_SYSTEM_RANDOM = random.Random()


def generate_name_suffix(rng: random.Random | None = None) -> str:
    """Five characters from Kubernetes' name alphabet, e.g. ``x7k2q``."""
    chooser = rng or _SYSTEM_RANDOM
    # One choices() call draws all five (uniformly, like five choice() calls) in a third of the time.
    return "".join(chooser.choices(GENERATE_NAME_ALPHABET, k=_GENERATE_NAME_SUFFIX_LENGTH))


def generate_name(base: str, rng: random.Random | None = None) -> str:
    """``SimpleNameGenerator.GenerateName``: ``base`` (cut to 58 chars) + a 5-char suffix."""
    return base[:MAX_GENERATED_NAME_LENGTH] + generate_name_suffix(rng)
