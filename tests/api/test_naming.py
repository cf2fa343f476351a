"""Naming rules: messages compared with apimachinery's pkg/util/validation wording."""

from __future__ import annotations

import random

import pytest

from nbcluster.api.naming import (
    GENERATE_NAME_ALPHABET,
    generate_name,
    generate_name_suffix,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_relaxed_env_var_name,
    is_valid_label_value,
    is_valid_path_segment_name,
    is_valid_percent,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns_subdomain,
    regex_error,
    validate_annotations,
    validate_labels,
)
from nbcluster.errors import CauseType

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize("name", ["a", "example.com", "my-app-1", "1.2.3", "a" * 253])
def test_valid_subdomains(name: str) -> None:
    assert is_dns1123_subdomain(name) == []


@pytest.mark.parametrize("name", ["Example.com", "-abc", "abc-", "a..b", "a_b", "", "abc."])
def test_invalid_subdomains_use_kubernetes_wording(name: str) -> None:
    assert is_dns1123_subdomain(name) == [SUBDOMAIN_MSG]


def test_subdomain_too_long_reports_length_and_nothing_else() -> None:
    assert is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]


def test_label_message_keeps_kubernetes_double_space() -> None:
    assert is_dns1123_label("My_Name") == [LABEL_MSG]
    assert "'my-name',  or '123-abc'" in LABEL_MSG


def test_label_with_dots_says_so() -> None:
    assert is_dns1123_label("a.b") == ["must not contain dots"]


def test_label_too_long() -> None:
    assert is_dns1123_label("a" * 63) == []
    assert is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]


def test_dns1035_label_must_start_with_a_letter() -> None:
    assert is_dns1035_label("abc-123") == []
    assert is_dns1035_label("1abc") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
        "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
        "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


@pytest.mark.parametrize("key", ["app", "app.kubernetes.io/name", "A_b.C-d", "example.com/MyName"])
def test_valid_qualified_names(key: str) -> None:
    assert is_qualified_name(key) == []


def test_qualified_name_parts() -> None:
    name_part = (
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    )
    assert is_qualified_name("-app") == [name_part]
    assert is_qualified_name("example.com/") == ["name part must be non-empty", name_part]
    assert is_qualified_name("/app") == ["prefix part must be non-empty"]
    assert is_qualified_name("Example.com/app") == ["prefix part " + SUBDOMAIN_MSG]
    assert is_qualified_name("a" * 64) == ["name part must be no more than 63 characters"]
    assert is_qualified_name("a/b/c")[0].startswith("a qualified name must consist of alphanumeric")
    assert is_qualified_name("a/b/c")[0].endswith(
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    )


def test_label_values() -> None:
    assert is_valid_label_value("") == []
    assert is_valid_label_value("v1.2_3-x") == []
    assert is_valid_label_value("a" * 64) == ["must be no more than 63 characters"]
    assert is_valid_label_value("bad value") == [
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
        "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    ]


def test_config_map_keys() -> None:
    assert is_config_map_key("game.properties") == []
    assert is_config_map_key(".dockerconfigjson") == []
    assert is_config_map_key(".") == ["must not be '.'"]
    assert is_config_map_key("..") == ["must not be '..'"]
    assert is_config_map_key("..data") == ["must not start with '..'"]
    assert is_config_map_key("a/b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    ]


def test_port_names_are_iana_service_names() -> None:
    assert is_valid_port_name("http") == []
    assert is_valid_port_name("web-8080") == []
    assert is_valid_port_name("a-very-long-port-name") == ["must be no more than 15 characters"]
    assert is_valid_port_name("8080") == ["must contain at least one letter (a-z)"]
    assert is_valid_port_name("HTTP") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)",
    ]
    assert is_valid_port_name("a--b") == ["must not contain consecutive hyphens"]
    assert is_valid_port_name("-ab") == ["must not begin or end with a hyphen"]


def test_port_numbers() -> None:
    assert is_valid_port_num(1) == []
    assert is_valid_port_num(65535) == []
    assert is_valid_port_num(0) == ["must be between 1 and 65535, inclusive"]
    assert is_valid_port_num(65536) == ["must be between 1 and 65535, inclusive"]


def test_env_var_names_strict_and_relaxed() -> None:
    assert is_env_var_name("MY_VAR.name-1") == []
    assert is_env_var_name("1ABC")[0].startswith(
        "a valid environment variable name must consist of alphabetic"
    )
    assert is_relaxed_env_var_name("1 ABC") == []
    assert is_relaxed_env_var_name("A=B") == [
        "a valid environment variable name must consist only of printable ASCII characters other than '='"
    ]
    assert is_relaxed_env_var_name("") == ["environment variable name must be non-empty"]


def test_percent_and_path_segments() -> None:
    assert is_valid_percent("25%") == []
    assert is_valid_percent("25")[0].startswith("a valid percent string must be a numeric string")
    assert is_valid_path_segment_name("..") == ["may not be '..'"]
    assert is_valid_path_segment_name("a/b%c") == ["may not contain '/'", "may not contain '%'"]


def test_generate_name_prefix_may_end_with_a_dash() -> None:
    assert name_is_dns_subdomain("web-", prefix=True) == []
    assert name_is_dns_subdomain("web-", prefix=False) == [SUBDOMAIN_MSG]


def test_regex_error_without_examples() -> None:
    assert regex_error("bad", "x+") == "bad (regex used for validation is 'x+')"


def test_validate_labels_reports_at_the_map_path() -> None:
    errors = validate_labels({"app": "web", "bad key": "ok", "tier": "bad value"}, "metadata.labels")
    assert [(e.path, e.type, e.value) for e in errors] == [
        ("metadata.labels", CauseType.INVALID, "bad key"),
        ("metadata.labels", CauseType.INVALID, "bad value"),
    ]
    assert str(errors[0]).startswith('metadata.labels: Invalid value: "bad key": name part must consist of')


def test_validate_annotations_keys_are_case_insensitive_and_size_limited() -> None:
    assert validate_annotations({"Example.COM/Key": "x"}, "metadata.annotations") == []
    errors = validate_annotations({"big": "x" * (256 * 1024)}, "metadata.annotations")
    assert [str(e) for e in errors] == ["metadata.annotations: Too long: may not be more than 262144 bytes"]


def test_generate_name_suffix() -> None:
    suffix = generate_name_suffix()
    assert len(suffix) == 5
    assert set(suffix) <= set(GENERATE_NAME_ALPHABET)
    assert GENERATE_NAME_ALPHABET == "bcdfghjklmnpqrstvwxz2456789"
    assert generate_name_suffix(random.Random(7)) == generate_name_suffix(random.Random(7))
    assert len({generate_name_suffix() for _ in range(50)}) > 45


def test_generate_name_cuts_the_base_to_keep_a_valid_label() -> None:
    name = generate_name("x" * 80)
    assert len(name) == 63
    assert name.startswith("x" * 58)
    assert generate_name("web-").startswith("web-")
