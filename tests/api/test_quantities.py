"""Quantities: cases from apimachinery's pkg/api/resource/quantity_test.go."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nbcluster.api.quantities import (
    QUANTITY_REGEX,
    add_resources,
    canonical_quantity,
    compare_quantities,
    cpu_millis,
    format_bytes,
    format_cpu_millis,
    format_quantity,
    memory_bytes,
    parse_quantity,
    parse_quantity_with_format,
    subtract_resources,
    sum_resources,
)

D = Decimal

# TestQuantityParse: (input, value, format)
PARSE_CASES = [
    ("0", D(0), "DecimalSI"),
    ("0n", D(0), "DecimalSI"),
    ("0u", D(0), "DecimalSI"),
    ("0m", D(0), "DecimalSI"),
    ("0Ki", D(0), "BinarySI"),
    ("0k", D(0), "DecimalSI"),
    ("0Mi", D(0), "BinarySI"),
    ("0M", D(0), "DecimalSI"),
    ("0Gi", D(0), "BinarySI"),
    ("0G", D(0), "DecimalSI"),
    ("0Ti", D(0), "BinarySI"),
    ("0T", D(0), "DecimalSI"),
    ("1", D(1), "DecimalSI"),
    ("1Ki", D(1024), "BinarySI"),
    ("8Ki", D(8 * 1024), "BinarySI"),
    ("7Mi", D(7 * 1024**2), "BinarySI"),
    ("6Gi", D(6 * 1024**3), "BinarySI"),
    ("5Ti", D(5 * 1024**4), "BinarySI"),
    ("4Pi", D(4 * 1024**5), "BinarySI"),
    ("3Ei", D(3 * 1024**6), "BinarySI"),
    ("10Ti", D(10 * 1024**4), "BinarySI"),
    ("100Ti", D(100 * 1024**4), "BinarySI"),
    ("5n", D("5e-9"), "DecimalSI"),
    ("4u", D("4e-6"), "DecimalSI"),
    ("3m", D("3e-3"), "DecimalSI"),
    ("9", D(9), "DecimalSI"),
    ("8k", D("8e3"), "DecimalSI"),
    ("50k", D("5e4"), "DecimalSI"),
    ("7M", D("7e6"), "DecimalSI"),
    ("6G", D("6e9"), "DecimalSI"),
    ("5T", D("5e12"), "DecimalSI"),
    ("40T", D("4e13"), "DecimalSI"),
    ("300T", D("3e14"), "DecimalSI"),
    ("2P", D("2e15"), "DecimalSI"),
    ("1E", D("1e18"), "DecimalSI"),
    ("1E-3", D("1e-3"), "DecimalExponent"),
    ("1e3", D("1e3"), "DecimalExponent"),
    ("1E6", D("1e6"), "DecimalExponent"),
    ("1e9", D("1e9"), "DecimalExponent"),
    ("1E12", D("1e12"), "DecimalExponent"),
    ("1e15", D("1e15"), "DecimalExponent"),
    ("1E18", D("1e18"), "DecimalExponent"),
    ("1e14", D("1e14"), "DecimalExponent"),
    ("1e13", D("1e13"), "DecimalExponent"),
    ("100.035k", D(100035), "DecimalSI"),
    ("0.001", D("1e-3"), "DecimalSI"),
    ("0.0005k", D("5e-1"), "DecimalSI"),
    ("0.005", D("5e-3"), "DecimalSI"),
    ("0.05", D("5e-2"), "DecimalSI"),
    ("0.5", D("5e-1"), "DecimalSI"),
    ("0.00050k", D("5e-1"), "DecimalSI"),
    ("0.00500", D("5e-3"), "DecimalSI"),
    ("0.05000", D("5e-2"), "DecimalSI"),
    ("0.50000", D("5e-1"), "DecimalSI"),
    ("0.5e0", D("5e-1"), "DecimalExponent"),
    ("0.5e-1", D("5e-2"), "DecimalExponent"),
    ("0.5e-2", D("5e-3"), "DecimalExponent"),
    ("10.035M", D("10035e3"), "DecimalSI"),
    ("1.2e3", D("12e2"), "DecimalExponent"),
    ("1.3E+6", D("13e5"), "DecimalExponent"),
    ("1.40e9", D("14e8"), "DecimalExponent"),
    ("1.53E12", D("153e10"), "DecimalExponent"),
    ("1.6e15", D("16e14"), "DecimalExponent"),
    ("1.7E18", D("17e17"), "DecimalExponent"),
    ("9.01", D("901e-2"), "DecimalSI"),
    ("8.1k", D("81e2"), "DecimalSI"),
    ("7.123456M", D(7123456), "DecimalSI"),
    ("6.987654321G", D(6987654321), "DecimalSI"),
    ("5.444T", D("5444e9"), "DecimalSI"),
    ("40.1T", D("401e11"), "DecimalSI"),
    ("300.2T", D("3002e11"), "DecimalSI"),
    ("2.5P", D("25e14"), "DecimalSI"),
    ("1.01E", D("101e16"), "DecimalSI"),
    # Things that saturate/round
    ("3.001n", D("4e-9"), "DecimalSI"),
    ("1.1E-9", D("2e-9"), "DecimalExponent"),
    ("0.0000000001", D("1e-9"), "DecimalSI"),
    ("0.0000000005", D("1e-9"), "DecimalSI"),
    ("0.00000000050", D("1e-9"), "DecimalSI"),
    ("0.5e-9", D("1e-9"), "DecimalExponent"),
    ("0.9n", D("1e-9"), "DecimalSI"),
    ("0.00000012345", D("124e-9"), "DecimalSI"),
    ("0.00000012354", D("124e-9"), "DecimalSI"),
    ("9Ei", D(2**63 - 1), "BinarySI"),
    ("9223372036854775807Ki", D(2**63 - 1), "BinarySI"),
    ("12E", D("12e18"), "DecimalSI"),
    # fractional binary
    ("100.035Ki", D("10243584e-2"), "BinarySI"),
    ("0.5Mi", D(512 * 1024), "BinarySI"),
    ("0.05Gi", D("536870912e-1"), "BinarySI"),
    ("0.025Ti", D("274877906944e-1"), "BinarySI"),
    # Things written by trolls
    ("0.000000000001Ki", D("2e-9"), "DecimalSI"),
    (".001", D("1e-3"), "DecimalSI"),
    (".0001k", D("100e-3"), "DecimalSI"),
    ("1.", D(1), "DecimalSI"),
    ("1.G", D("1e9"), "DecimalSI"),
]


@pytest.mark.parametrize(("text", "value", "fmt"), PARSE_CASES)
def test_parse_table(text: str, value: Decimal, fmt: str) -> None:
    assert parse_quantity_with_format(text) == (value, fmt)
    # apimachinery runs the same table with an explicit sign
    assert parse_quantity_with_format("+" + text) == (value, fmt)
    assert parse_quantity_with_format("-" + text) == (-value, fmt)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.1.M", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("1+1.0M", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("0.1mi", "unable to parse quantity's suffix"),
        ("0.1am", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("aoeu", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        (".5i", "unable to parse quantity's suffix"),
        ("1i", "unable to parse quantity's suffix"),
        ("-3.01i", "unable to parse quantity's suffix"),
        ("-3.01e-", "unable to parse quantity's suffix"),
        (" 1", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("1 ", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("1Kb", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
        ("lots", f"quantities must match the regular expression '{QUANTITY_REGEX}'"),
    ],
)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity(text)
    assert str(info.value) == message


def test_regex_wording_is_apimachinerys() -> None:
    assert QUANTITY_REGEX == "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


def test_numbers_from_yaml() -> None:
    # YAML gives ints and floats for `cpu: 2` or `cpu: 0.5`
    assert parse_quantity(2) == 2
    assert parse_quantity(0.5) == D("0.5")
    assert parse_quantity(0.1) == D("0.1")  # no binary float noise
    with pytest.raises(ValueError):
        parse_quantity(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_quantity(float("nan"))


# TestQuantityString: (value, format, canonical)
STRING_CASES = [
    (D(1024**3), "BinarySI", "1Gi"),
    (D(300 * 1024**2), "BinarySI", "300Mi"),
    (D(6 * 1024), "BinarySI", "6Ki"),
    (D(1001 * 1024**3), "BinarySI", "1001Gi"),
    (D(1024**4), "BinarySI", "1Ti"),
    (D(5), "BinarySI", "5"),
    (D("0.5"), "BinarySI", "500m"),
    (D("1e9"), "DecimalSI", "1G"),
    (D("1e-3"), "DecimalSI", "1m"),
    (D("80e-3"), "DecimalSI", "80m"),
    (D("1080e-3"), "DecimalSI", "1080m"),
    (D("300e6"), "DecimalSI", "300M"),
    (D("1e12"), "DecimalSI", "1T"),
    (D("1e18"), "DecimalSI", "1E"),
    (D("1e21"), "DecimalSI", "1e21"),
    (D("5e21"), "DecimalSI", "5e21"),
    (D("1234567e6"), "DecimalSI", "1234567M"),
    (D("1234567e-3"), "BinarySI", "1234567m"),
    (D("3e3"), "DecimalSI", "3k"),
    (D(1025), "BinarySI", "1025"),
    (D(0), "DecimalSI", "0"),
    (D(0), "BinarySI", "0"),
    (D("1e9"), "DecimalExponent", "1e9"),
    (D("1e-3"), "DecimalExponent", "1e-3"),
    (D("1e-9"), "DecimalExponent", "1e-9"),
    (D("80e-3"), "DecimalExponent", "80e-3"),
    (D("300e6"), "DecimalExponent", "300e6"),
    (D("3e3"), "DecimalExponent", "3e3"),
    (D(0), "DecimalExponent", "0"),
    (D("1e-9"), "DecimalSI", "1n"),
    (D("1080e-9"), "DecimalSI", "1080n"),
    (D("1e-6"), "DecimalSI", "1u"),
    (D("1080e-6"), "DecimalSI", "1080u"),
]


@pytest.mark.parametrize(("value", "fmt", "expect"), STRING_CASES)
def test_format_table(value: Decimal, fmt: str, expect: str) -> None:
    assert format_quantity(value, fmt) == expect  # type: ignore[arg-type]
    if value:
        assert format_quantity(-value, fmt) == "-" + expect  # type: ignore[arg-type]
    # the canonical string parses back to the same value
    assert parse_quantity(expect) == value


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        # TestQuantityParseEmit
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        # alternates from TestQuantityString
        ("1.5Gi", "1536Mi"),
        ("307200Ki", "300Mi"),
        ("0.001T", "1G"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        ("5000m", "5"),
        ("1000E", "1e21"),
        (".001e12", "1e9"),
        ("1000e-12", "1e-9"),
        ("00", "0"),
    ],
)
def test_parse_emit(text: str, expect: str) -> None:
    assert canonical_quantity(text) == expect


@pytest.mark.parametrize(
    ("text", "millis"),
    [("250m", 250), ("1", 1000), ("2", 2000), ("0.5", 500), ("0.1m", 1), ("1.0001", 1001), ("100u", 1)],
)
def test_cpu_millis_rounds_up_like_milli_value(text: str, millis: int) -> None:
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("64Mi", 64 * 1024**2),
        ("1Gi", 1024**3),
        ("1k", 1000),
        ("1M", 10**6),
        ("0.5", 1),
        ("1e3", 1000),
        (128, 128),
    ],
)
def test_memory_bytes_rounds_up_like_value(text: str | int, n: int) -> None:
    assert memory_bytes(text) == n


def test_format_cpu_and_bytes() -> None:
    assert format_cpu_millis(250) == "250m"
    assert format_cpu_millis(2000) == "2"
    assert format_cpu_millis(1500) == "1500m"
    assert format_cpu_millis(0) == "0"
    assert format_bytes(64 * 1024**2) == "64Mi"
    assert format_bytes(1024**3) == "1Gi"
    assert format_bytes(1536) == "1536"
    assert format_bytes(512) == "512"
    assert format_bytes(0) == "0"
    # TestNewSet
    assert format_quantity(1000, "DecimalSI") == "1k"
    assert format_quantity(1234000, "DecimalSI") == "1234k"
    assert format_quantity(1024, "BinarySI") == "1Ki"
    assert format_quantity(1000000, "DecimalExponent") == "1e6"


def test_compare() -> None:
    # TestQuantityCmp
    assert compare_quantities("0", "0") == 0
    assert compare_quantities("100m", "50m") == 1
    assert compare_quantities("50m", "100m") == -1
    assert compare_quantities("10000T", "100Gi") == 1


def test_resource_list_arithmetic() -> None:
    a = {"cpu": "250m", "memory": "64Mi"}
    b = {"cpu": "1", "memory": "64Mi", "pods": "1"}
    assert add_resources(a, b) == {"cpu": "1250m", "memory": "128Mi", "pods": "1"}
    assert a == {"cpu": "250m", "memory": "64Mi"}  # inputs untouched
    assert subtract_resources({"cpu": "1"}, {"cpu": "250m", "memory": "1Gi"}) == {
        "cpu": "750m",
        "memory": "-1Gi",
    }
    assert add_resources(None, {"cpu": 2}) == {"cpu": "2"}
    # TestQuantityAddZeroPreservesSuffix: zero takes the other operand's format
    assert add_resources({"memory": "0"}, {"memory": "1Gi"}) == {"memory": "1Gi"}
    assert add_resources({"memory": "1Gi"}, {"memory": "0"}) == {"memory": "1Gi"}
    assert sum_resources([{"cpu": "100m"}, None, {"cpu": "900m", "memory": "1Gi"}]) == {
        "cpu": "1",
        "memory": "1Gi",
    }
