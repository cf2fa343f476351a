"""nbcluster.api.yamlio: manifests in (kubectl apply -f), manifests out (-o yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nbcluster.api.yamlio import Document, dump_yaml, load_documents, load_path
from nbcluster.errors import NotFound, YAMLError
from tests.examples import EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def _kinds(docs: list[Document]) -> list[str]:
    return [d.obj["kind"] for d in docs]


# --------------------------------------------------------------------------- examples


def test_examples_folder_is_there():
    assert len(EXAMPLE_FILES) >= 60


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_loads(path: Path):
    docs = load_path(path)
    assert docs, f"{path.name} gave no objects"
    for doc in docs:
        assert isinstance(doc.obj, dict)
        assert isinstance(doc.obj["apiVersion"], str) and doc.obj["apiVersion"]
        assert isinstance(doc.obj["kind"], str) and doc.obj["kind"]
        assert doc.source == str(path)
        assert doc.line >= 1
    # Same answer through PyYAML's own reader (our loader only tightens scalars).
    expected = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert [d.obj["metadata"]["name"] for d in docs] == [d["metadata"]["name"] for d in expected]


def test_multi_document_file_gives_index_and_start_line():
    docs = load_path(EXAMPLES / "application__zookeeper__zookeeper.yaml")
    assert _kinds(docs) == ["Service", "Service", "PodDisruptionBudget", "StatefulSet"]
    assert [d.index for d in docs] == [0, 1, 2, 3]
    text = (EXAMPLES / "application__zookeeper__zookeeper.yaml").read_text().splitlines()
    for doc in docs:
        # the line a document starts on is its first key
        assert text[doc.line - 1].startswith(("apiVersion:", "kind:"))


def test_leading_separator_and_document_end_marker_without_newline():
    path = EXAMPLES / "service__access__backend-deployment.yaml"
    raw = path.read_bytes()
    assert raw.startswith(b"---\n") and raw.endswith(b"...")  # the quirks under test
    docs = load_path(path)
    assert len(docs) == 1
    assert docs[0].index == 0
    assert docs[0].line == 2
    assert docs[0].obj["spec"]["replicas"] == 3
    assert docs[0].obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80


def test_file_without_trailing_newline():
    path = EXAMPLES / "application__deployment-sidecar.yaml"
    assert not path.read_bytes().endswith(b"\n")
    (doc,) = load_path(path)
    assert doc.obj["kind"] == "Deployment"


def test_flow_sequences():
    (doc,) = load_path(EXAMPLES / "pods__commands.yaml")
    container = doc.obj["spec"]["containers"][0]
    assert container["command"] == ["printenv"]
    assert container["args"] == ["HOSTNAME", "KUBERNETES_PORT"]


def test_comments_inside_lists_and_mappings():
    (svc,) = load_path(EXAMPLES / "application__guestbook__frontend-service.yaml")
    assert svc.line == 2  # line 1 is a comment
    assert svc.obj["spec"]["ports"] == [{"port": 80}]
    assert "type" not in svc.obj["spec"]  # commented out
    (ds,) = load_path(EXAMPLES / "controllers__daemonset.yaml")
    tolerations = ds.obj["spec"]["template"]["spec"]["tolerations"]
    assert tolerations[0]["key"] == "node-role.kubernetes.io/control-plane"


def test_trailing_space_after_a_value_is_not_part_of_it():
    docs = load_path(EXAMPLES / "examples-repo__web__guestbook__all-in-one__frontend.yaml")
    svc = next(d for d in docs if d.obj["kind"] == "Service")
    assert svc.obj["spec"]["type"] == "NodePort"


# --------------------------------------------------------------------------- documents


def test_separators_empty_documents_and_end_markers():
    text = (
        "# just a comment\n"
        "---\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata: {name: a}\n"
        "...\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata: {name: b}\n"
        "---\n"
    )
    docs = load_documents(text, source="cell[3]")
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "b"]
    # empty documents are skipped, but still counted: index is the document's position
    assert [d.index for d in docs] == [1, 2]
    assert [d.line for d in docs] == [4, 9]
    assert {d.source for d in docs} == {"cell[3]"}


def test_null_and_empty_input_give_nothing():
    assert load_documents("") == []
    assert load_documents("# nothing here\n") == []
    assert load_documents("---\n...\n---\nnull\n") == []


def test_json_document():
    (doc,) = load_documents('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}}')
    assert doc.obj == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}}


def test_list_is_expanded_into_its_items():
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one}
- apiVersion: v1
  kind: Secret
  metadata: {name: two}
---
apiVersion: v1
kind: PodList
items: []
---
apiVersion: v1
kind: Namespace
metadata: {name: three}
"""
    docs = load_documents(text)
    assert _kinds(docs) == ["ConfigMap", "Secret", "Namespace"]
    assert [d.index for d in docs] == [0, 0, 2]
    assert [d.line for d in docs] == [4, 7, 15]


def test_list_item_without_kind_is_an_error_at_the_item():
    text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  metadata: {name: x}\n"
    with pytest.raises(YAMLError) as info:
        load_documents(text)
    assert info.value.line == 4
    assert info.value.document == 1
    assert "kind not set" in info.value.problem


def test_scalars_follow_kubernetes_not_pyyaml():
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: x
  creationTimestamp: 2024-05-01T10:00:00Z
data:
  date: 2024-05-01
  clock: 12:30
  1: one
  true: yes-key
"""
    (doc,) = load_documents(text)
    assert doc.obj["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"
    assert doc.obj["data"]["date"] == "2024-05-01"
    assert doc.obj["data"]["clock"] == "12:30"
    # keys become strings, and 1 / true stay two keys
    assert doc.obj["data"]["1"] == "one"
    assert doc.obj["data"]["true"] == "yes-key"


def test_aliases_give_independent_copies():
    text = "apiVersion: v1\nkind: X\nbase: &b {a: 1}\nother: *b\n"
    (doc,) = load_documents(text)
    assert doc.obj["base"] == doc.obj["other"] == {"a": 1}
    assert doc.obj["base"] is not doc.obj["other"]


def test_merge_keys_are_not_duplicates():
    text = "apiVersion: v1\nkind: X\nbase: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n"
    (doc,) = load_documents(text)
    assert doc.obj["m"] == {"a": 1, "b": 3}


# --------------------------------------------------------------------------- errors


def test_broken_yaml_names_document_line_and_column():
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
        "---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n labels: {}\n"
    )
    with pytest.raises(YAMLError) as info:
        load_documents(text, source="app.yaml")
    err = info.value
    assert err.document == 2
    assert err.line == 9
    assert err.column == 2
    assert err.source == "app.yaml"
    assert str(err).startswith("error parsing app.yaml:9:2 (document 2): ")


def test_mapping_value_in_a_plain_scalar():
    with pytest.raises(YAMLError) as info:
        load_documents("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a: b\n")
    assert (info.value.document, info.value.line, info.value.column) == (1, 4, 10)
    assert "mapping values are not allowed" in info.value.problem


def test_tab_indentation_is_an_error():
    with pytest.raises(YAMLError) as info:
        load_documents("apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n")
    assert (info.value.line, info.value.column) == (4, 1)


def test_unclosed_flow_sequence_in_third_document():
    text = "apiVersion: v1\nkind: X\n---\napiVersion: v1\nkind: X\n---\napiVersion: v1\nkind: X\nc: [1, 2\n"
    with pytest.raises(YAMLError) as info:
        load_documents(text)
    assert info.value.document == 3
    assert info.value.line == 10  # PyYAML notices at the end of the stream
    assert "while parsing a flow sequence" in info.value.problem


def test_missing_apiversion_and_kind_names_the_document_line():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# no type\nmetadata:\n  name: b\n"
    with pytest.raises(YAMLError) as info:
        load_documents(text, source="x.yaml")
    err = info.value
    assert err.problem == "error validating data: [apiVersion not set, kind not set]"
    assert err.document == 2
    assert err.line == 6
    assert str(err) == (
        "error parsing x.yaml:6 (document 2): error validating data: [apiVersion not set, kind not set]"
    )


def test_missing_kind_alone():
    with pytest.raises(YAMLError) as info:
        load_documents("---\napiVersion: v1\nmetadata: {name: a}\n")
    assert info.value.problem == "error validating data: kind not set"
    assert (info.value.document, info.value.line) == (1, 2)


@pytest.mark.parametrize(
    ("text", "json_type"),
    [("- a\n- b\n", "array"), ("hello\n", "string"), ("42\n", "number")],
)
def test_document_that_is_not_a_mapping(text: str, json_type: str):
    with pytest.raises(YAMLError) as info:
        load_documents(text)
    assert info.value.problem == (
        f"json: cannot unmarshal {json_type} into Go value of type map[string]interface {{}}"
    )
    assert (info.value.document, info.value.line) == (1, 1)


def test_duplicate_key_is_an_error_with_its_position():
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx
    image: httpd
"""
    with pytest.raises(YAMLError) as info:
        load_documents(text)
    err = info.value
    assert err.problem == 'json: duplicate field "spec.containers[0].image"'
    assert (err.document, err.line, err.column) == (1, 9, 5)


def test_duplicate_top_level_key():
    with pytest.raises(YAMLError) as info:
        load_documents("apiVersion: v1\nkind: Pod\nkind: Service\n")
    assert info.value.problem == 'json: duplicate field "kind"'
    assert (info.value.line, info.value.column) == (3, 1)


def test_same_key_in_sibling_mappings_is_fine():
    text = "apiVersion: v1\nkind: X\na: {name: 1}\nb: {name: 2}\n"
    (doc,) = load_documents(text)
    assert doc.obj["a"]["name"] == 1 and doc.obj["b"]["name"] == 2


def test_recursive_alias_is_refused():
    with pytest.raises(YAMLError):
        load_documents("apiVersion: v1\nkind: X\na: &a [*a]\n")


def test_billion_laughs_is_refused_quickly():
    lines = ["apiVersion: v1", "kind: X", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(YAMLError) as info:
        load_documents("\n".join(lines) + "\n")
    assert "excessive aliasing" in info.value.problem


# --------------------------------------------------------------------------- load_path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def test_load_path_folder_in_name_order_and_only_manifests(tmp_path: Path):
    _write(tmp_path / "b.yaml", _cm("b"))
    _write(tmp_path / "a.yml", _cm("a"))
    _write(tmp_path / "c.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}')
    _write(tmp_path / "README.md", "# not a manifest")
    _write(tmp_path / "notes.txt", "kind: nope")
    _write(tmp_path / "sub" / "d.yaml", _cm("d"))
    docs = load_path(tmp_path)
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "b", "c"]
    assert docs[0].source == str(tmp_path / "a.yml")


def test_load_path_recursive_walks_subfolders_where_they_sort(tmp_path: Path):
    _write(tmp_path / "a.yaml", _cm("a"))
    _write(tmp_path / "m" / "x.yaml", _cm("m-x"))
    _write(tmp_path / "m" / "deeper" / "y.yaml", _cm("m-deeper-y"))
    _write(tmp_path / "z.yaml", _cm("z"))
    docs = load_path(str(tmp_path), recursive=True)
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "m-deeper-y", "m-x", "z"]
    assert docs[1].source == str(tmp_path / "m" / "deeper" / "y.yaml")


def test_load_path_file_with_any_extension(tmp_path: Path):
    _write(tmp_path / "manifest.txt", _cm("t"))
    (doc,) = load_path(tmp_path / "manifest.txt")
    assert doc.obj["metadata"]["name"] == "t"


def test_load_path_missing(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(NotFound) as info:
        load_path(missing)
    assert str(info.value) == f'the path "{missing}" does not exist'


def test_load_path_error_names_the_file(tmp_path: Path):
    _write(tmp_path / "bad.yaml", "apiVersion: v1\nkind: X\n  oops: [\n")
    with pytest.raises(YAMLError) as info:
        load_path(tmp_path)
    assert info.value.source == str(tmp_path / "bad.yaml")


# --------------------------------------------------------------------------- dump_yaml


def test_dump_yaml_prints_like_kubectl():
    pod = {
        "status": {"phase": "Running"},
        "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
        "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": "2024-05-01T10:00:00Z"},
        "kind": "Pod",
        "apiVersion": "v1",
    }
    assert dump_yaml(pod) == (
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata:\n"
        '  creationTimestamp: "2024-05-01T10:00:00Z"\n'
        "  labels:\n"
        "    app: web\n"
        "  name: web\n"
        "spec:\n"
        "  containers:\n"
        "  - image: nginx\n"
        "    name: web\n"
        "    ports:\n"
        "    - containerPort: 80\n"
        "status:\n"
        "  phase: Running\n"
    )


def test_dump_yaml_sorts_every_mapping_like_go_yaml():
    cm = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "cfg"},
        "data": {"b": "x", "a10": "y", "a2": "z", "port": "80", "flag": "yes", "empty": ""},
    }
    assert dump_yaml(cm) == (
        "apiVersion: v1\n"
        "data:\n"
        "  a2: z\n"
        "  a10: y\n"
        "  b: x\n"
        '  empty: ""\n'
        '  flag: "yes"\n'
        '  port: "80"\n'
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: cfg\n"
    )


def test_dump_yaml_multiline_strings_and_long_lines():
    long = "x" * 300
    text = dump_yaml({"data": {"script": "echo hi\necho bye\n", "long": long}, "empty": {}, "none": []})
    assert "  script: |\n    echo hi\n    echo bye\n" in text
    assert f"  long: {long}\n" in text
    assert "empty: {}\n" in text and "none: []\n" in text


def test_dump_then_load_round_trips_every_example():
    for path in EXAMPLE_FILES:
        for doc in load_path(path):
            (again,) = load_documents(dump_yaml(doc.obj))
            assert again.obj == doc.obj, path.name
