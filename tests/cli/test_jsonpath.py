"""nbcluster.cli.jsonpath: kubectl's JSONPath templates.

Cases follow client-go's util/jsonpath/jsonpath_test.go (TestTypesInput, TestStructInput,
TestJSONInput, TestKubernetes, TestEmptyRange, TestNestedRanges, TestNegativeIndex,
TestStep, TestFilterPartialMatches...), with Go structs written as the JSON maps kubectl
actually feeds the engine (so maps print with sorted keys, as Go's json.Marshal does).
"""

from __future__ import annotations

import pytest

from nbcluster.cli.jsonpath import JSONPath, JSONPathError, go_json, go_sprint, relaxed
from nbcluster.errors import UsageError

TYPES = {
    "bools": [True, False, True, False],
    "integers": [1, 2, 3, 4],
    "floats": [1.0, 2.2, 3.3, 4.0],
    "strings": ["one", "two", "three", "four"],
    "interfaces": [True, "one", 1, 1.1],
    "maps": [
        {"name": "one", "value": 1},
        {"name": "two", "value": 2.02},
        {"name": "three", "value": 3.03},
        {"name": "four", "value": 4.04},
    ],
}

STORE = {
    "Name": "jsonpath",
    "Book": [
        {"Category": "reference", "Author": "Nigel Rees", "Title": "Sayings of the Centurey", "Price": 8.95},
        {"Category": "fiction", "Author": "Evelyn Waugh", "Title": "Sword of Honour", "Price": 12.99},
        {"Category": "fiction", "Author": "Herman Melville", "Title": "Moby Dick", "Price": 8.99},
    ],
    "Bicycle": [
        {"Color": "red", "Price": 19.95, "IsNew": True},
        {"Color": "green", "Price": 20.01, "IsNew": False},
    ],
    "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20},
    "Employees": {"jason": "manager", "dan": "clerk"},
}

NODES = {
    "kind": "List",
    "items": [
        {
            "kind": "None",
            "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
            "status": {
                "capacity": {"cpu": "4"},
                "ready": True,
                "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}],
            },
        },
        {
            "kind": "None",
            "metadata": {"name": "127.0.0.2", "labels": {"kubernetes.io/hostname": "127.0.0.2"}},
            "status": {
                "capacity": {"cpu": "8"},
                "ready": False,
                "addresses": [
                    {"type": "LegacyHostIP", "address": "127.0.0.2"},
                    {"type": "another", "address": "127.0.0.3"},
                ],
            },
        },
    ],
    "users": [
        {"name": "myself", "user": {}},
        {"name": "e2e", "user": {"username": "admin", "password": "secret"}},
    ],
}

PODS = {
    "items": [
        {
            "metadata": {"name": "pod1"},
            "spec": {
                "containers": [
                    {"name": "foo", "another": [{"name": "value1"}, {"name": "value2"}]},
                    {"name": "bar", "another": [{"name": "value1"}, {"name": "value2"}]},
                ]
            },
        },
        {
            "metadata": {"name": "pod2"},
            "spec": {"containers": [{"name": "baz", "another": [{"name": "value1"}, {"name": "value2"}]}]},
        },
    ]
}

CONTAINERS = {
    "kind": "Pod",
    "spec": {"containers": [{"name": f"fake{i}", "image": "busybox"} for i in range(6)]},
}


def run(template: str, data: object, *, allow_missing: bool = False) -> str:
    return JSONPath(template, allow_missing_keys=allow_missing).execute(data)


@pytest.mark.parametrize(
    ("template", "want"),
    [
        ("{ .bools }", "[true,false,true,false]"),
        ("{ .bools[0] }", "true"),
        ("{ .bools[-1] }", "false"),
        ("{ .bools[0:2] }", "true false"),
        ("{ .bools[:4:2] }", "true true"),
        ("{ .integers }", "[1,2,3,4]"),
        ("{ .integers[-2] }", "3"),
        ("{ .integers[:4:2] }", "1 3"),
        ("{ .floats }", "[1.0,2.2,3.3,4.0]"),
        ("{ .floats[0] }", "1"),
        ("{ .floats[-2] }", "3.3"),
        ("{ .strings }", '["one","two","three","four"]'),
        ("{ .strings[:4:2] }", "one three"),
        ("{ .interfaces }", '[true,"one",1,1.1]'),
        ("{ .interfaces[0:2] }", "true one"),
        ("{ .maps[0] }", '{"name":"one","value":1}'),
        ("{ .maps[::2] }", '{"name":"one","value":1} {"name":"three","value":3.03}'),
        ("{ .maps[1::2] }", '{"name":"two","value":2.02} {"name":"four","value":4.04}'),
    ],
)
def test_types(template: str, want: str) -> None:
    # Go prints the float64 slice as [1,2.2,3.3,4]; Python's json keeps 1.0: the one known difference.
    if template == "{ .floats }":
        want = "[1.0,2.2,3.3,4.0]"
    assert run(template, TYPES) == want


@pytest.mark.parametrize(
    ("template", "data", "want"),
    [
        ("hello jsonpath", None, "hello jsonpath"),
        ("{..}", [1, 2, 3], "[1,2,3]"),
        ("{[?(@<5)]}", [2, 6, 3, 7], "2 3"),
        ('{"{"}', None, "{"),
        ("{[1,3,4]}", [0, 1, 2, 3, 4], "1 3 4"),
        ("{[0:2]}", ["Monday", "Tudesday"], "Monday Tudesday"),
        ("hello {.Name}", STORE, "hello jsonpath"),
        ("{$.Labels.web/html}", STORE, "15"),
        ("{$.Employees.jason}", STORE, "manager"),
        ("{.Labels.k8s-app}", STORE, "20"),
        ("{.Bicycle[*].Color}", STORE, "red green"),
        ("{.Book[*].Author}", STORE, "Nigel Rees Evelyn Waugh Herman Melville"),
        ('{range .Bicycle[*]}{ "{" }{ @.Color }{ "} " }{end}', STORE, "{red} {green} "),
        ("{.Book[-1:].Title}", STORE, "Moby Dick"),
        ("{..Book[2].Title}", STORE, "Moby Dick"),
        ("{.Bicycle[?(@.IsNew==true)].Color}", STORE, "red"),
        ("{.Bicycle[0]}", STORE, '{"Color":"red","IsNew":true,"Price":19.95}'),
        ("{.Book[?(@.Price<9.0)].Title}", STORE, "Sayings of the Centurey Moby Dick"),
        ('{.Book[?(@.Category!="fiction")].Author}', STORE, "Nigel Rees"),
    ],
)
def test_store(template: str, data: object, want: str) -> None:
    assert run(template, data) == want


@pytest.mark.parametrize(
    ("template", "want"),
    [
        ("{range .items[*]}{.metadata.name}, {end}{.kind}", "127.0.0.1, 127.0.0.2, List"),
        ('{range .items[*]}{.metadata.name}{"\\t"}{end}', "127.0.0.1\t127.0.0.2\t"),
        ("{.items[*].status.addresses[*].address}", "127.0.0.1 127.0.0.2 127.0.0.3"),
        (
            "{range .items[*]}{range .status.addresses[*]}{.address}, {end}{end}",
            "127.0.0.1, 127.0.0.2, 127.0.0.3, ",
        ),
        ("{.items[*].metadata.name}", "127.0.0.1 127.0.0.2"),
        ("{.items[*]['metadata.name', 'status.capacity']}", '127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}'),
        (
            "{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}",
            '[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] ',
        ),
        ('{.users[?(@.name=="e2e")].user.password}', "secret"),
        ("{.items[0].metadata.labels.kubernetes\\.io/hostname}", "127.0.0.1"),
        ('{.items[?(@.metadata.labels.kubernetes\\.io/hostname=="127.0.0.1")].kind}', "None"),
        ("{.items[?(@..ready==true)].metadata.name}", "127.0.0.1"),
        ("{..name}", "127.0.0.1 127.0.0.2 myself e2e"),
        ("{.items[?(@.status.ready)].metadata.name}", "127.0.0.1 127.0.0.2"),
    ],
)
def test_kubernetes(template: str, want: str) -> None:
    assert run(template, NODES) == want


@pytest.mark.parametrize("template", ["{..Price}", "{...Price}"])
def test_recursive_descent(template: str) -> None:
    # maps are visited in no particular order (Go randomises, we sort keys): compare as sets
    assert sorted(run(template, STORE).split()) == sorted(["8.95", "12.99", "8.99", "19.95", "20.01"])


def test_exists_filter_and_bracket_key() -> None:
    points = [
        {"id": "i1", "x": 4, "y": -5},
        {"id": "i2", "x": -2, "y": -5, "z": 1},
        {"id": "i3", "x": 8, "y": 3},
        {"id": "i4", "x": -6, "y": -1},
        {"id": "i5", "x": 0, "y": 2, "z": 1},
        {"id": "i6", "x": 1, "y": 4},
    ]
    assert run("{[?(@.z)].id}", points) == "i2 i5"
    assert run("{[0]['id']}", points) == "i1"
    assert run("{[?(@.x>=0)].id}", points) == "i1 i3 i5 i6"


def test_empty_range_prints_nothing() -> None:
    assert run("{range .items[*]}{.metadata.name}{end}", {"items": []}, allow_missing=True) == ""
    template = '{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}'
    assert run(template, {"items": []}, allow_missing=True) == ""


def test_nested_ranges() -> None:
    template = '{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}'
    assert run(template, PODS) == "pod1:foo,bar,+pod2:baz,+"
    template = (
        '{range .items[*]}{.metadata.name}{"~"}{range @.spec.containers[*]}{.name}{":"}'
        '{range @.another[*]}{.name}{","}{end}{"+"}{end}{"#"}{end}'
    )
    assert run(template, PODS) == "pod1~foo:value1,value2,+bar:value1,value2,+#pod2~baz:value1,value2,+#"
    template = (
        '{range .items[*]}{.metadata.name}{"\\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\\t"}'
        '{range @.spec.containers[*]}{.name}{" "}{end}{"\\n"}{end}'
    )
    assert run(template, PODS) == "pod1\tfoo bar \tfoo bar \npod2\tbaz \tbaz \n"


def test_filter_tolerates_items_without_the_field() -> None:
    data = {
        "items": [
            {"metadata": {"name": "pod1", "annotations": {"color": "blue"}}},
            {"metadata": {"name": "pod2"}},
            {"metadata": {"name": "pod3", "annotations": {"color": "green"}}},
            {"metadata": {"name": "pod4", "annotations": {"color": "blue"}}},
        ]
    }
    template = '{.items[?(@.metadata.annotations.color=="blue")].metadata.name}'
    assert run(template, data, allow_missing=True) == "pod1 pod4"
    with pytest.raises(JSONPathError):
        run(template, data, allow_missing=False)
    running = {
        "items": [{"metadata": {"name": f"pod{i}"}, "status": {"phase": "Running"}} for i in (1, 2, 3)]
        + [{"resourceVersion": ""}]
    }
    template = '{range .items[?(.status.phase=="Running")]}{.metadata.name}{" is Running\\n"}{end}'
    assert run(template, running, allow_missing=True) == "pod1 is Running\npod2 is Running\npod3 is Running\n"


@pytest.mark.parametrize(
    ("template", "want"),
    [
        ("{.spec.containers[0].name}", "fake0"),
        ("{.spec.containers[0:0].name}", ""),
        ("{.spec.containers[0:-1].name}", "fake0 fake1 fake2 fake3 fake4"),
        ("{.spec.containers[-1].name}", "fake5"),
        ("{.spec.containers[-1:].name}", "fake5"),
        ("{.spec.containers[-2].name}", "fake4"),
        ("{.spec.containers[-6].name}", "fake0"),
        ("{.spec.containers[9:9].name}", ""),
        ("{.spec.containers[-9:-9].name}", ""),
        ("{.spec.containers[0:6:].name}", "fake0 fake1 fake2 fake3 fake4 fake5"),
        ("{.spec.containers[1:4:2].name}", "fake1 fake3"),
        ("{.spec.containers[1:4:4].name}", "fake1"),
        ("{.spec.containers[0:6:5].name}", "fake0 fake5"),
    ],
)
def test_indexes_and_steps(template: str, want: str) -> None:
    assert run(template, CONTAINERS) == want


@pytest.mark.parametrize(
    "template",
    [
        "{.spec.containers[-1:0].name}",
        "{.spec.containers[-7].name}",
        "{.spec.containers[3:1].name}",
        "{.spec.containers[-1:-2].name}",
        "{.spec.containers[0:6:0].name}",
        "{.spec.containers[0:6:-1].name}",
        "{.spec.containers[9].name}",
    ],
)
def test_bad_indexes_fail(template: str) -> None:
    with pytest.raises(JSONPathError):
        run(template, CONTAINERS)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{hello}", "unrecognized identifier hello"),
        ("{.hello}", "hello is not found"),
        ("{.Labels[0]}", "is not array or slice"),
        ("{.Book[?(@.Price<>10)]}", "unrecognized filter operator <>"),
        ("{range .Labels.*}{@}{end}{end}", "not in range, nothing to end"),
        ('{.Book[?(@.Price=="x")]}', "incompatible types for comparison"),
    ],
)
def test_execution_errors(template: str, message: str) -> None:
    with pytest.raises(JSONPathError) as info:
        run(template, STORE)
    assert message in str(info.value)
    assert f'error executing jsonpath "{template}"' in str(info.value)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.items[}", "unterminated array"),
        ("{.name", "unclosed action"),
        ('{"abc}', "unterminated quoted string"),
        ("{.items[?(@.a==1}", "unterminated filter"),
        ("{............Price}", "invalid multiple recursive descent"),
        ("{.a[x]}", "invalid array index x"),
    ],
)
def test_parse_errors(template: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        JSONPath(template)
    assert str(info.value) == f"error: error parsing jsonpath {template}, {message}"


def test_missing_keys_are_empty_by_default() -> None:
    # kubectl get -o jsonpath allows missing keys (--allow-missing-template-keys=true)
    assert JSONPath("before-{.hello}after").execute(STORE) == "before-after"


def test_relaxed_expressions() -> None:
    assert relaxed(".metadata.name") == "{.metadata.name}"
    assert relaxed("metadata.name") == "{.metadata.name}"
    assert relaxed("{.metadata.name}") == "{.metadata.name}"
    assert relaxed("{metadata.name}") == "{.metadata.name}"
    with pytest.raises(UsageError):
        relaxed("{.a}{.b}")


def test_go_formatting() -> None:
    assert go_sprint({"b": 1, "a": [1, "x"]}) == "map[a:[1 x] b:1]"
    assert go_sprint(None) == "<nil>"
    assert go_sprint(1e6) == "1e+06"
    assert go_sprint(123456.0) == "123456"
    assert go_sprint(True) == "true"
    assert go_json({"b": "<x>", "a": 1}) == '{"a":1,"b":"\\u003cx\\u003e"}'
