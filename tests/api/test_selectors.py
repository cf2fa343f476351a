"""Selectors: cases from apimachinery's pkg/labels/selector_test.go and pkg/fields/selector_test.go."""

from __future__ import annotations

import pytest

from nbcluster.api.selectors import (
    SUPPORTED_FIELDS,
    FieldSelector,
    LabelSelector,
    Requirement,
    escape_field_value,
    field_value,
    selector_from_set,
)
from nbcluster.errors import BadRequest

# --- labels: TestSelectorParse ---------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"]
)
def test_parse_good_strings_round_trip(text: str) -> None:
    assert str(LabelSelector.parse(text)) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        (
            "x<a",
            'unable to parse requirement: values[0]: Invalid value: "a": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        ("x,,y", "found ',', expected: identifier after ','"),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
        (
            "x nott in (y)",
            "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("a in (xyz),", "found '', expected: identifier after ','"),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        ("x in y", "unable to parse requirement: found 'y' expected: '('"),
        ("/a", 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'),
    ],
)
def test_parse_bad_strings(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        LabelSelector.parse(text)
    assert str(info.value) == message
    assert info.value.code == 400


def test_invalid_value_and_key_wording() -> None:
    with pytest.raises(BadRequest) as info:
        LabelSelector.parse("x=a||y=b")
    assert str(info.value) == (
        'unable to parse requirement: values[0][x]: Invalid value: "a||y": a valid label must be an empty '
        "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation "
        "is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )
    with pytest.raises(BadRequest) as info:
        LabelSelector.parse("-x")
    assert str(info.value).startswith(
        'unable to parse requirement: <nil>: Invalid value: "-x": name part must'
    )
    with pytest.raises(BadRequest, match="name part must be no more than 63 characters"):
        LabelSelector.parse("a" * 64)


def test_deterministic_parse() -> None:
    assert str(LabelSelector.parse("x=a,a=x")) == str(LabelSelector.parse("a=x,x=a")) == "a=x,x=a"


# --- labels: TestSelectorMatches / TestSetMatches ---------------------------------------

MATCH_CASES = [
    ("", {"x": "y"}, True),
    ("x=y", {"x": "y"}, True),
    ("x=y,z=w", {"x": "y", "z": "w"}, True),
    ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
    ("notin=in", {"notin": "in"}, True),
    ("x", {"x": "z"}, True),
    ("!x", {"y": "z"}, True),
    ("x>1", {"x": "2"}, True),
    ("x<1", {"x": "0"}, True),
    ("x=z", {}, False),
    ("x=y", {"x": "z"}, False),
    ("x=y,z=w", {"x": "w", "z": "w"}, False),
    ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
    ("x", {"y": "z"}, False),
    ("!x", {"x": "z"}, False),
    ("x>1", {"x": "0"}, False),
    ("x<1", {"x": "2"}, False),
    ("foo=bar", {"foo": "bar", "baz": "blah"}, True),
    ("baz=blah", {"foo": "bar", "baz": "blah"}, True),
    ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}, True),
    ("foo=blah", {"foo": "bar", "baz": "blah"}, False),
    ("baz=bar", {"foo": "bar", "baz": "blah"}, False),
    ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}, False),
    # set-based
    ("env in (prod,qa)", {"env": "qa"}, True),
    ("env in (prod,qa)", {}, False),
    ("env notin (prod)", {}, True),  # notin matches a missing key
    ("env notin (prod)", {"env": "prod"}, False),
    ("x!=y", {}, True),
    ("x in ()", {"x": ""}, True),
    ("x>1", {"x": "v2"}, False),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCH_CASES)
def test_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    assert LabelSelector.parse(text).matches(labels) is expected


def test_matches_none_labels() -> None:
    assert LabelSelector.parse("").matches(None)
    assert LabelSelector.parse("!x").matches(None)
    assert not LabelSelector.parse("x").matches(None)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [({}, True), ({"foo": "bar"}, True), ({"baz": "blah"}, True), ({"foo": "bar", "baz": "blah"}, True)],
)
def test_selector_from_set(selector: dict[str, str], expected: bool) -> None:
    assert selector_from_set(selector).matches({"foo": "bar", "baz": "blah"}) is expected


def test_selector_from_set_is_empty_and_sorted() -> None:
    assert selector_from_set(None).is_empty
    assert selector_from_set({}).is_empty
    assert str(selector_from_set({"b": "2", "a": "1"})) == "a=1,b=2"
    assert selector_from_set({"b": "2", "a": "1"}).equality_requirements() == {"a": "1", "b": "2"}


# --- labels: TestRequirementConstructor / TestToString ----------------------------------


@pytest.mark.parametrize(
    ("key", "op", "values", "ok"),
    [
        ("x", "in", None, False),
        ("x", "notin", [], False),
        ("x", "in", ["foo"], True),
        ("x", "notin", ["foo"], True),
        ("x", "exists", None, True),
        ("x", "!", None, True),
        ("1foo", "in", ["bar"], True),
        ("1234", "in", ["bar"], True),
        ("y", "gt", ["1"], True),
        ("z", "lt", ["6"], True),
        ("foo", "gt", ["bar"], False),
        ("barz", "lt", ["blah"], False),
        ("a" * 254, "exists", None, False),
        ("x", "=", ["a", "b"], False),
        ("x", "exists", ["a"], False),
        ("x", "like", ["a"], False),
    ],
)
def test_requirement_constructor(key: str, op: str, values: list[str] | None, ok: bool) -> None:
    if ok:
        Requirement.new(key, op, values)
    else:
        with pytest.raises(BadRequest):
            Requirement.new(key, op, values)


@pytest.mark.parametrize(
    ("reqs", "text"),
    [
        (
            [("x", "in", ["abc", "def"]), ("y", "notin", ["jkl"]), ("z", "exists", [])],
            "x in (abc,def),y notin (jkl),z",
        ),
        (
            [("x", "notin", ["abc", "def"]), ("y", "!=", ["jkl"]), ("z", "!", [])],
            "x notin (abc,def),y!=jkl,!z",
        ),
        (
            [("x", "notin", ["abc"]), ("y", "in", ["jkl", "mno"]), ("z", "notin", [""])],
            "x notin (abc),y in (jkl,mno),z notin ()",
        ),
        (
            [("x", "=", ["abc"]), ("y", "==", ["jkl"]), ("z", "!=", ["a"]), ("z", "exists", [])],
            "x=abc,y==jkl,z!=a,z",
        ),
        ([("x", "gt", ["2"]), ("y", "lt", ["8"]), ("z", "exists", [])], "x>2,y<8,z"),
    ],
)
def test_to_string(reqs: list[tuple[str, str, list[str]]], text: str) -> None:
    selector = LabelSelector().add(*(Requirement.new(k, op, v) for k, op, v in reqs))
    assert str(selector) == text


# --- labels: TestSetSelectorParser -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\rx", [("x", "exists", ())]),
        (
            "this-is-a-dns.domain.com/key-with-dash",
            [("this-is-a-dns.domain.com/key-with-dash", "exists", ())],
        ),
        (
            "this-is-another-dns.domain.com/key-with-dash in (so,what)",
            [("this-is-another-dns.domain.com/key-with-dash", "in", ("so", "what"))],
        ),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            [("0.1.2.domain/99", "notin", ("10.10.100.1", "tick.tack.clock"))],
        ),
        ("foo  in\t (abc)", [("foo", "in", ("abc",))]),
        ("x notin\n (abc)", [("x", "notin", ("abc",))]),
        ("x  notin\t\t\t(abc,def)", [("x", "notin", ("abc", "def"))]),
        ("x in (abc,def)", [("x", "in", ("abc", "def"))]),
        ("x in (abc,)", [("x", "in", ("", "abc"))]),
        ("x in ()", [("x", "in", ("",))]),
        (
            "x notin (abc,def),bar,z in (),w",
            [("bar", "exists", ()), ("w", "exists", ()), ("x", "notin", ("abc", "def")), ("z", "in", ("",))],
        ),
        ("x,y in (a)", [("x", "exists", ()), ("y", "in", ("a",))]),
        ("x=a", [("x", "=", ("a",))]),
        ("x>1", [("x", "gt", ("1",))]),
        ("x<7", [("x", "lt", ("7",))]),
        ("x=a,y!=b", [("x", "=", ("a",)), ("y", "!=", ("b",))]),
        ("x=a,y!=b,z in (h,i,j)", [("x", "=", ("a",)), ("y", "!=", ("b",)), ("z", "in", ("h", "i", "j"))]),
        ("x notin ( )", [("x", "notin", ("",))]),
        ("x notin (, a)", [("x", "notin", ("", "a"))]),
        ("a ", [("a", "exists", ())]),
        ("a in (x,y,notin, z,in)", [("a", "in", ("in", "notin", "x", "y", "z"))]),
        ("a==b", [("a", "==", ("b",))]),
    ],
)
def test_set_selector_parser(text: str, expected: list[tuple[str, str, tuple[str, ...]]]) -> None:
    parsed = LabelSelector.parse(text)
    assert [(r.key, r.operator, r.values) for r in parsed.requirements] == expected


# --- labels: metav1.LabelSelectorAsSelector ---------------------------------------------


def test_from_dict_none_selects_nothing_and_empty_selects_everything() -> None:
    nothing = LabelSelector.from_dict(None)
    assert not nothing.matches({"a": "b"})
    assert not nothing.matches({})
    assert not nothing.is_empty
    assert str(nothing) == ""
    everything = LabelSelector.from_dict({})
    assert everything.is_empty
    assert everything.matches({"a": "b"})
    assert LabelSelector.from_dict({"matchLabels": {}, "matchExpressions": []}).is_empty


def test_from_dict_match_labels_and_expressions() -> None:
    selector = LabelSelector.from_dict(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "cache"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "team", "operator": "Exists"},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert str(selector) == "app=web,!canary,env notin (dev),team,tier in (cache,frontend)"
    assert selector.matches({"app": "web", "tier": "cache", "team": "a"})
    assert not selector.matches({"app": "web", "tier": "cache", "team": "a", "canary": "1"})
    assert not selector.matches({"app": "web", "tier": "db", "team": "a"})
    assert selector.equality_requirements() == {"app": "web"}
    assert selector.requires_exact_match("app") == "web"
    assert selector.requires_exact_match("tier") is None
    assert not selector.is_empty


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Seriously"}]},
            '"Seriously" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "name", "operator": "In", "values": []}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "name", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
        ),
        ({"matchLabels": {"bad key": "x"}}, 'key: Invalid value: "bad key": name part must consist of'),
    ],
)
def test_from_dict_errors(selector: dict, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        LabelSelector.from_dict(selector)
    assert str(info.value).startswith(message)


def test_equality_requirements_for_index() -> None:
    selector = LabelSelector.parse("app=web,tier==db,zone in (a),env in (x,y),x!=1,y")
    assert selector.equality_requirements() == {"app": "web", "tier": "db", "zone": "a"}


def test_selectors_are_values() -> None:
    assert LabelSelector.parse("b=1,a=2") == LabelSelector.parse("a=2, b=1")
    assert hash(LabelSelector.parse("a=1")) == hash(LabelSelector.parse("a=1"))


# --- fields: pkg/fields/selector_test.go --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("", ""),
        ("x!=a,y=b", "x!=a,y=b"),
        (r"x=a||y\=b", r"x=a||y\=b"),
        (r"x=a\=\=b", r"x=a\=\=b"),
        ("x==a", "x=a"),
        (r"x=a\,b", r"x=a\,b"),
        ("z=c,,x=a", "x=a,z=c"),
    ],
)
def test_field_selector_parse(text: str, canonical: str) -> None:
    assert str(FieldSelector.parse(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x=a||y=b", "invalid field selector: unescaped character in value: 61"),
        ("x==a==b", "invalid field selector: unescaped character in value: 61"),
        ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
        ("x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"),
        ("x", "invalid selector: 'x'; can't understand 'x'"),
        (r"x=a\b", r"invalid field selector: invalid escape sequence: \b"),
        ("x=a\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_selector_bad(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        FieldSelector.parse(text)
    assert str(info.value) == message


def test_escape_round_trip() -> None:
    value = r"a,b=c\d"
    assert escape_field_value(value) == r"a\,b\=c\\d"
    selector = FieldSelector.parse("metadata.name=" + escape_field_value(value))
    assert selector.matches({"metadata": {"name": value}})


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "node-a", "restartPolicy": "Always", "containers": []},
    "status": {"phase": "Running", "podIP": "10.0.0.5"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metadata.name=web-1", True),
        ("metadata.name=web-2", False),
        ("metadata.name=web-1,status.phase!=Running", False),
        ("metadata.namespace=default,status.phase==Running", True),
        ("spec.nodeName=node-a", True),
        ("spec.nodeName=", False),
        ("spec.nodeName!=", True),
        ("status.nominatedNodeName=", True),  # missing reads as ""
        ("spec.hostNetwork=false", True),  # bools default like Go
        ("status.podIP=10.0.0.5", True),
    ],
)
def test_field_selector_matches_pod(text: str, expected: bool) -> None:
    selector = FieldSelector.parse(text).validate_for("Pod")
    assert selector.matches(POD) is expected


def test_unscheduled_pods() -> None:
    pending = {"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}}
    assert FieldSelector.parse("spec.nodeName=").matches(pending)


def test_kind_specific_field_values() -> None:
    node = {"metadata": {"name": "n1"}, "spec": {}}
    assert field_value(node, "spec.unschedulable") == "false"
    assert FieldSelector.parse("spec.unschedulable=true").matches({"spec": {"unschedulable": True}})
    job = {"metadata": {"name": "j"}, "status": {"succeeded": 2}}
    assert FieldSelector.parse("status.successful=2").validate_for("Job").matches(job)
    assert field_value({"status": {}}, "status.successful") == "0"
    assert field_value({"status": {}}, "status.replicas") == "0"
    event = {
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default", "uid": "u1"},
        "reason": "Scheduled",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
    }
    selector = FieldSelector.parse(
        "involvedObject.kind=Pod,involvedObject.name=web-1,source=default-scheduler,type=Normal"
    ).validate_for("Event")
    assert selector.matches(event)
    secret = {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}
    assert FieldSelector.parse("type=kubernetes.io/tls").validate_for("Secret").matches(secret)


def test_validate_for_wording() -> None:
    with pytest.raises(BadRequest) as info:
        FieldSelector.parse("spec.foo=x").validate_for("Pod")
    assert str(info.value) == "field label not supported: spec.foo"
    assert info.value.code == 400
    with pytest.raises(BadRequest) as info:
        FieldSelector.parse("spec.replicas=3").validate_for("Deployment")
    assert (
        str(info.value)
        == '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    # Node and Namespace have their own conversion, without metadata.namespace
    with pytest.raises(BadRequest, match=r"field label not supported: metadata\.namespace"):
        FieldSelector.parse("metadata.namespace=x").validate_for("Node")
    FieldSelector.parse("metadata.name=x,metadata.namespace=y").validate_for("ConfigMap")
    FieldSelector.parse("status.phase=Active").validate_for("Namespace")
    FieldSelector.parse("status.replicas=0").validate_for("ReplicaSet")


def test_legacy_spec_host_is_converted() -> None:
    selector = FieldSelector.parse("spec.host=node-a").validate_for("Pod")
    assert str(selector) == "spec.nodeName=node-a"
    assert selector.matches(POD)


def test_supported_fields_table() -> None:
    for kind in ("Pod", "Event", "Secret", "Job", "ReplicaSet"):
        assert {"metadata.name", "metadata.namespace"} <= SUPPORTED_FIELDS[kind]
    assert {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName"} <= (
        SUPPORTED_FIELDS["Pod"]
    )
    assert {"status.phase", "status.podIP", "status.nominatedNodeName"} <= SUPPORTED_FIELDS["Pod"]
    assert {
        "involvedObject.kind",
        "involvedObject.name",
        "involvedObject.namespace",
        "involvedObject.uid",
    } <= (SUPPORTED_FIELDS["Event"])
    assert {"reason", "type", "source"} <= SUPPORTED_FIELDS["Event"]
    assert "type" in SUPPORTED_FIELDS["Secret"]
    assert "spec.unschedulable" in SUPPORTED_FIELDS["Node"]
    assert "status.successful" in SUPPORTED_FIELDS["Job"]
    assert "status.phase" in SUPPORTED_FIELDS["Namespace"]
    assert "status.replicas" in SUPPORTED_FIELDS["ReplicaSet"]


def test_field_selector_helpers() -> None:
    selector = FieldSelector.parse("metadata.name=a,status.phase!=Running")
    assert selector.requires_exact_match("metadata.name") == "a"
    assert selector.requires_exact_match("status.phase") is None
    assert selector.equality_requirements() == {"metadata.name": "a"}
    assert not selector.is_empty
    assert FieldSelector.parse("").is_empty
    assert FieldSelector.parse(None).matches({})
    assert str(FieldSelector.from_set({"b": "1", "a": "x,y"})) == r"a=x\,y,b=1"
