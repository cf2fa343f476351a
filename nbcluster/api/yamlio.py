"""Manifests in, manifests out: what ``kubectl apply -f`` reads and ``-o yaml`` writes.

``load_documents`` splits a YAML/JSON stream into Kubernetes objects (plain dicts)
the way kubectl's resource builder does: empty documents are skipped, ``kind: List``
documents are expanded into their items, and every object must carry ``apiVersion``
and ``kind``. Broken input raises :class:`~nbcluster.errors.YAMLError` naming the
source, the 1-based document number, line and column. ``load_path`` reads a file or a
folder (``-R`` recursing); ``dump_yaml`` prints an object like ``kubectl get -o yaml``.

The scalars follow sigs.k8s.io/yaml (go-yaml v2) rather than PyYAML where the two
differ in ways that matter for manifests: timestamps stay strings, ``1:20`` is a
string (no base-60 integers), mapping keys become strings, and a key repeated in one
mapping is an error (Kubernetes' strict decoding) instead of "last one wins".

I/O: only ``load_path`` touches the file system (reads files and lists folders).
"""

from __future__ import annotations

import base64
import math
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nbcluster.errors import BadRequest, NotFound, YAMLError

__all__ = ["MANIFEST_EXTENSIONS", "Document", "dump_yaml", "load_documents", "load_path"]

#: File extensions ``kubectl apply -f FOLDER`` picks up (other files are ignored).
MANIFEST_EXTENSIONS: tuple[str, ...] = (".json", ".yaml", ".yml")

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# go-yaml v2's guard against "billion laughs" documents (decode.go allowedAliasRatio).
_ALIAS_RATIO_RANGE_LOW = 400_000
_ALIAS_RATIO_RANGE_HIGH = 4_000_000


@dataclass(frozen=True)
class Document:
    """One object read from a manifest.

    ``index`` is the 0-based position of the YAML document it came from among *all*
    documents of the source (empty ones included), so ``index + 1`` is the document
    number an error message names; the items of one ``kind: List`` share their List's
    index. ``line`` is the 1-based line where the object starts.
    """

    obj: dict
    index: int
    line: int
    source: str


# --------------------------------------------------------------------------- loading


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader with sigs.k8s.io/yaml's scalar rules (see module docstring)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        # Keys become strings as they are read, so ``1`` and ``true`` stay two keys
        # (Python would fold them: 1 == True) and a list key cannot break hashing.
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key_string(self.construct_object(key_node, deep=True))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _construct_plain_str(loader: Any, node: yaml.ScalarNode) -> str:
    return str(node.value)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int | str:
    if ":" in node.value:  # YAML 1.1 base 60 ("1:20"); go-yaml keeps it a string
        return str(node.value)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


def _construct_float(loader: Any, node: yaml.ScalarNode) -> float | str:
    if ":" in node.value:
        return str(node.value)
    return yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)


def _construct_binary(loader: Any, node: yaml.ScalarNode) -> str:
    # JSON has no bytes: keep the base64 text (what a Secret's data wants anyway).
    return "".join(str(node.value).split())


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain_str)
_Loader.add_constructor("tag:yaml.org,2002:value", _construct_plain_str)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)


def load_documents(text: str, *, source: str = "<cell>") -> list[Document]:
    """Every object in ``text``, in order, like ``kubectl apply -f`` would see them.

    Handles ``---`` separators (leading ones too), ``...`` end markers, comments,
    JSON documents, files without a trailing newline. Empty documents are skipped;
    ``kind: List`` (and any ``*List`` with ``items``) is expanded into its items.
    Raises YAMLError for broken YAML, a document that is not a mapping, a mapping
    without ``apiVersion``/``kind``, or a key repeated within one mapping.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    documents: list[Document] = []
    for index, node in _compose_all(text, source):
        if _is_empty(node):
            continue
        doc_no = index + 1
        _check_node_tree(node, source=source, document=doc_no)
        obj = _construct(node, text, source=source, document=doc_no)
        line = node.start_mark.line + 1
        documents.extend(_expand(obj, node, index=index, line=line, source=source))
    return documents


def _compose_all(text: str, source: str) -> Iterator[tuple[int, yaml.Node]]:
    """(0-based document index, root node) for every document of the stream."""
    loader = _Loader(text)
    index = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
            except yaml.YAMLError as exc:
                raise _yaml_error(exc, text, source=source, document=index + 1) from None
            except RecursionError:
                raise YAMLError("document is nested too deeply", source=source, document=index + 1) from None
            yield index, node
            index += 1
    finally:
        loader.dispose()


def _is_empty(node: yaml.Node | None) -> bool:
    """A document holding nothing: only comments, ``---`` then ``---``, or ``null``.

    kubectl skips these (its stream visitor drops empty and ``null`` documents).
    """
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null")


def _construct(node: yaml.Node, text: str, *, source: str, document: int) -> Any:
    loader = _Loader("")
    try:
        return _jsonable(loader.construct_document(node))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source=source, document=document) from None
    except RecursionError:
        raise YAMLError("document is nested too deeply", source=source, document=document) from None
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError, text: str, *, source: str, document: int) -> YAMLError:
    """PyYAML's error as ours: problem text plus 1-based line and column."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if isinstance(exc, yaml.reader.ReaderError):
        position = exc.position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        char = exc.character
        code = ord(char) if isinstance(char, str) else int(char)
        shown = f"#x{code:04x}"
        return YAMLError(
            f"unacceptable character {shown}: {exc.reason}",
            source=source,
            document=document,
            line=line,
            column=column,
        )
    if not problem:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if context:
        problem = f"{context}: {problem}"
    if mark is None:
        return YAMLError(problem, source=source, document=document)
    return YAMLError(problem, source=source, document=document, line=mark.line + 1, column=mark.column + 1)


def _check_node_tree(root: yaml.Node, *, source: str, document: int) -> None:
    """Strict-decoding checks on the composed tree, before anything is constructed.

    * a key repeated in one mapping → ``json: duplicate field "spec.replicas"``;
    * an alias that contains itself (JSON cannot hold a cycle);
    * go-yaml's "excessive aliasing" limit, so a billion-laughs document fails fast.
    """
    seen: set[int] = set()
    decode_count = 0
    alias_count = 0
    # Stack of (node, path, ancestors-on-path, inside an alias expansion); iterative so
    # a deeply nested document cannot overflow Python's stack.
    stack: list[tuple[yaml.Node, str, frozenset[int], bool]] = [(root, "", frozenset(), False)]
    while stack:
        node, path, ancestors, in_alias = stack.pop()
        node_id = id(node)
        if node_id in ancestors:
            raise YAMLError(
                "anchor value contains itself (a recursive alias cannot become JSON)",
                source=source,
                document=document,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        first_visit = node_id not in seen
        if not first_visit:
            in_alias = True
        seen.add(node_id)
        decode_count += 1
        if in_alias:
            alias_count += 1
        if (
            alias_count > 100
            and decode_count > 1000
            and alias_count / decode_count > _allowed_alias_ratio(decode_count)
        ):
            raise YAMLError(
                "yaml: document contains excessive aliasing",
                source=source,
                document=document,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        if isinstance(node, yaml.MappingNode):
            inner = ancestors | {node_id}
            keys: set[str] = set()
            children = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    children.append((value_node, path))
                    continue
                if isinstance(key_node, yaml.ScalarNode):
                    key = str(key_node.value)
                    child_path = f"{path}.{key}" if path else key
                    if first_visit and key in keys:
                        raise YAMLError(
                            f'json: duplicate field "{child_path}"',
                            source=source,
                            document=document,
                            line=key_node.start_mark.line + 1,
                            column=key_node.start_mark.column + 1,
                        )
                    keys.add(key)
                else:
                    child_path = path
                    children.append((key_node, path))
                children.append((value_node, child_path))
            for child, child_path in reversed(children):
                stack.append((child, child_path, inner, in_alias))
        elif isinstance(node, yaml.SequenceNode):
            inner = ancestors | {node_id}
            for i in range(len(node.value) - 1, -1, -1):
                stack.append((node.value[i], f"{path}[{i}]", inner, in_alias))


def _allowed_alias_ratio(decode_count: int) -> float:
    if decode_count <= _ALIAS_RATIO_RANGE_LOW:
        return 0.99
    if decode_count >= _ALIAS_RATIO_RANGE_HIGH:
        return 0.10
    span = _ALIAS_RATIO_RANGE_HIGH - _ALIAS_RATIO_RANGE_LOW
    return 0.99 - 0.89 * ((decode_count - _ALIAS_RATIO_RANGE_LOW) / span)


def _jsonable(value: Any) -> Any:
    """A fresh JSON-shaped copy: string keys (Go's spelling), lists, no shared subtrees."""
    if isinstance(value, dict):
        return {_key_string(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_key_string(k): None for k in value}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _key_string(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        if math.isnan(key):
            return "NaN"
        if math.isinf(key):
            return "+Inf" if key > 0 else "-Inf"
        return repr(key) if not key.is_integer() else str(int(key))
    if isinstance(key, (tuple, list)):
        return "[" + " ".join(_key_string(k) for k in key) + "]"
    return str(key)


def _expand(obj: Any, node: yaml.Node, *, index: int, line: int, source: str) -> list[Document]:
    """Check one document's object and expand Lists into their items."""
    document = index + 1
    if not isinstance(obj, dict):
        raise YAMLError(
            f"json: cannot unmarshal {_json_type(obj)} into Go value of type map[string]interface {{}}",
            source=source,
            document=document,
            line=line,
        )
    _require_type_meta(obj, source=source, document=document, line=line)
    kind = obj["kind"]
    items = obj.get("items")
    if kind.endswith("List") and (items is None or isinstance(items, list)):
        item_nodes = _items_nodes(node)
        out: list[Document] = []
        for i, item in enumerate(items or []):
            item_node = item_nodes[i] if i < len(item_nodes) else node
            item_line = item_node.start_mark.line + 1
            out.extend(_expand(item, item_node, index=index, line=item_line, source=source))
        return out
    return [Document(obj=obj, index=index, line=line, source=source)]


def _require_type_meta(obj: dict, *, source: str, document: int, line: int) -> None:
    missing = []
    if not isinstance(obj.get("apiVersion"), str) or not obj.get("apiVersion"):
        missing.append("apiVersion not set")
    if not isinstance(obj.get("kind"), str) or not obj.get("kind"):
        missing.append("kind not set")
    if missing:
        # utilerrors.NewAggregate: one error prints bare, several as "[a, b]".
        detail = missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]"
        raise YAMLError(f"error validating data: {detail}", source=source, document=document, line=line)


def _items_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "items":
                if isinstance(value_node, yaml.SequenceNode):
                    return list(value_node.value)
                return []
    return []


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "value"


def load_path(path: str | Path, *, recursive: bool = False) -> list[Document]:
    """What ``kubectl apply -f PATH [-R]`` reads.

    A file is read whatever its extension. A folder contributes its ``.json``,
    ``.yaml`` and ``.yml`` files in name order (``filepath.Walk`` order); with
    ``recursive`` its sub-folders too, each walked where it sorts. Each Document's
    ``source`` is the file's path. A missing path raises NotFound.
    """
    root = Path(path)
    if not root.exists():
        raise NotFound(f'the path "{path}" does not exist')
    documents: list[Document] = []
    for file in _manifest_files(root, recursive=recursive):
        documents.extend(load_documents(_read_text(file), source=str(file)))
    return documents


def _manifest_files(root: Path, *, recursive: bool) -> Iterator[Path]:
    if not root.is_dir():
        yield root
        return
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise BadRequest(f'error reading "{root}": {exc.strerror or exc}') from exc
    for entry in entries:
        child = root / entry.name
        if entry.is_dir(follow_symlinks=False):
            if recursive:
                yield from _manifest_files(child, recursive=True)
            continue
        if child.suffix.lower() in MANIFEST_EXTENSIONS:
            yield child


def _read_text(file: Path) -> str:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadRequest(f'error reading "{file}": {exc.strerror or exc}') from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data[: exc.start].decode("utf-8", errors="replace")
        line = text.count("\n") + 1
        column = len(text) - (text.rfind("\n") + 1) + 1
        raise YAMLError(
            f"invalid UTF-8 byte 0x{data[exc.start]:02x}", source=str(file), line=line, column=column
        ) from exc


# --------------------------------------------------------------------------- dumping


class _Dumper(yaml.SafeDumper):
    """go-yaml v2's output style: double quotes when quoting, ``|`` for multi-line."""

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar(_STR_TAG, value, style="|")
    return dumper.represent_scalar(_STR_TAG, value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(obj: Any) -> str:
    """``kubectl get -o yaml`` text for ``obj`` (any JSON value).

    kubectl marshals through go-yaml v2, which sorts every mapping's keys (its
    "natural" order: digit runs compare as numbers). For objects that puts
    apiVersion, kind, metadata, spec, status first, but a ConfigMap reads
    ``apiVersion, data, kind, metadata`` exactly as kubectl prints it. Block style,
    sequences not indented under their key, long lines never folded.
    """
    return yaml.dump(
        _go_sorted(obj),
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=math.inf,
    )


def _go_sorted(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=_GoKey)
        return {k: _go_sorted(value[k]) for k in keys}
    if isinstance(value, (list, tuple)):
        return [_go_sorted(v) for v in value]
    return value


class _GoKey:
    """go-yaml v2 ``keyList.Less``: letters after non-letters, digit runs by value."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _GoKey) -> bool:
        return _go_key_less(self.key, other.key)


def _go_key_less(a: Any, b: Any) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        return str(a) < str(b)
    ar, br = a, b
    for i in range(min(len(ar), len(br))):
        if ar[i] == br[i]:
            continue
        al, bl = _is_letter(ar[i]), _is_letter(br[i])
        if al and bl:
            return ar[i] < br[i]
        if al or bl:
            return bl
        an = bn = 0
        if ar[i] == "0" or br[i] == "0":
            j = i - 1
            while j >= 0 and ar[j].isdigit():
                if ar[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(ar) and ar[ai].isdigit():
            an = an * 10 + int(ar[ai])
            ai += 1
        bi = i
        while bi < len(br) and br[bi].isdigit():
            bn = bn * 10 + int(br[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ar[i] < br[i]
    return len(ar) < len(br)


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")
