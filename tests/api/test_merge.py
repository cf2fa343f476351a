"""Patching: apimachinery's strategicpatch fixtures (pkg/util/strategicpatch/patch_test.go,
MergeItem schema), RFC 7386 / RFC 6902, and kubectl apply scenarios on real kinds."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from nbcluster.api.merge import (
    DEFAULT_MERGE_KEYS,
    DEFAULT_RETAIN_KEYS,
    LAST_APPLIED,
    apply_patch_is_empty,
    client_side_apply_patch,
    json_merge_patch,
    json_patch,
    last_applied_configuration,
    merge_keys_for,
    retain_keys_for,
    strategic_merge_patch,
    three_way_patch,
    two_way_patch,
    with_last_applied,
)
from nbcluster.errors import BadRequest

# The MergeItem test type of apimachinery, as a merge-key table. mergingList and
# mergeItemPtr recurse; the fixtures use two levels.
MERGE_ITEM_KEYS = {
    "mergingList": "name",
    "mergingList.mergingList": "name",
    "mergingList.mergingIntList": "",
    "mergingIntList": "",
    "mergeItemPtr": "name",
    "mergeItemPtr.mergeItemPtr": "name",
    "retainKeysMergingList": "name",
    "retainKeysMap.mergingList": "name",
    "retainKeysMap.mergingIntList": "",
}
MERGE_ITEM_RETAIN = {"retainKeysMap", "retainKeysMergingList"}


def sort_merge_lists(value: Any, path: str = "") -> Any:
    """sortMergeListsByName: order-insensitive view of merge lists (for comparing patches)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$retainKeys" or key.startswith("$deleteFromPrimitiveList/"):
                out[key] = sorted(item, key=str)
            elif key.startswith("$setElementOrder/") or key == "$patch":
                out[key] = item
            else:
                child = f"{path}.{key}" if path else key
                if isinstance(item, list) and child in MERGE_ITEM_KEYS:
                    merge_key = MERGE_ITEM_KEYS[child]
                    if merge_key:
                        items = [sort_merge_lists(i, child) for i in item]
                        out[key] = sorted(items, key=lambda m: str(m.get(merge_key)))
                    else:
                        out[key] = sorted(set(item), key=str)
                else:
                    out[key] = sort_merge_lists(item, child)
        return out
    if isinstance(value, list):
        return [sort_merge_lists(i, path) for i in value]
    return value


_RAW_CASES_YAML = r"""
# apimachinery pkg/util/strategicpatch/patch_test.go: strategicMergePatchRawTestCases
- description: delete items in lists of scalars
  original: {mergingIntList: [1, 2, 3]}
  twoWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 4]}
  threeWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result: {mergingIntList: [1, 2, 4]}
- description: delete all duplicate items in lists of scalars
  original: {mergingIntList: [1, 2, 3, 3]}
  twoWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 3, 4]}
  threeWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result: {mergingIntList: [1, 2, 4]}
- description: add and delete items in lists of scalars
  original: {mergingIntList: [1, 2, 3]}
  twoWay:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
    mergingIntList: [4]
  modified: {mergingIntList: [1, 2, 4]}
  current: {mergingIntList: [1, 2, 3, 4]}
  threeWay:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result: {mergingIntList: [1, 2, 4]}
- description: merge lists of maps
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  modified: {mergingList: [{name: 4, value: 4}, {name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  result:
    mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]
- description: merge lists of maps with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3, value: 3}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
- description: add field to map in merging list
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: add field to map in merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]}
- description: add duplicate field to map in merging list
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: {}
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: add an item that already exists in current object in merging list
  original: {mergingList: [{name: 1, value: a}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1, value: a, other: x}, {name: 2}, {name: 3}]}
  threeWay: {}
  result: {mergingList: [{name: 1, value: a, other: x}, {name: 2}, {name: 3}]}
- description: add duplicate field to map in merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 3, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 2, value: 2}]
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: replace map field value in merging list
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  result: {mergingList: [{name: 1, value: a, other: a}, {name: 2, value: 2, other: b}]}
- description: replace map field value in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 3, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  result: {mergingList: [{name: 1, value: a, other: a}, {name: 2, value: 2, other: b}]}
- description: delete map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 1}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  result: {mergingList: [{name: 2, other: b}]}
- description: delete map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  result: {mergingList: [{name: 2, other: b}]}
- description: delete missing map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  result: {mergingList: [{name: 2, other: b}]}
- description: delete missing map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 3, other: a}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 2}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 2}, {name: 3, other: a}]}
- description: add map and delete map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]}
- description: add map and delete map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 4, other: c}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]}
- description: delete field from map in merging list
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: delete field from map in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: a, other: a}, {name: 2, value: 2}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2}]}
- description: delete missing field from map in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}, {name: 2, value: 2}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: replace non merging list nested in merging list
  original: {mergingList: [{name: 1, nonMergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
  modified: {mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}, {name: 2}]}
  current:
    mergingList: [{name: 1, other: a, nonMergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2, other: b}]
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
  result: {mergingList: [{name: 1, other: a, nonMergingList: [{name: 1, value: 1}]}, {name: 2, other: b}]}
- description: add field to map in merging list nested in merging list with value conflict
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
    - $setElementOrder/mergingList: [{name: 1}, {name: 2}]
      name: 1
      mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}, {name: 2}]}
  current:
    mergingList:
    - {name: 1, other: a, mergingList: [{name: 1, value: a, other: c}, {name: 2, value: b, other: d}]}
    - {name: 2, other: b}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
    - $setElementOrder/mergingList: [{name: 1}, {name: 2}]
      name: 1
      mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
  result:
    mergingList:
    - {name: 1, other: a, mergingList: [{name: 1, value: 1, other: c}, {name: 2, value: 2, other: d}]}
    - {name: 2, other: b}
- description: add field to map in merging list nested in merging list with deletion conflict
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
    - $setElementOrder/mergingList: [{name: 2}, {name: 1}]
      name: 1
      mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, mergingList: [{name: 2, value: 2}, {name: 1, value: 1}]}, {name: 2}]}
  current: {mergingList: [{name: 1, other: a, mergingList: [{name: 2, value: 2, other: d}]}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
    - $setElementOrder/mergingList: [{name: 2}, {name: 1}]
      name: 1
      mergingList: [{name: 1, value: 1}]
  result:
    mergingList:
    - {name: 1, other: a, mergingList: [{name: 2, value: 2, other: d}, {name: 1, value: 1}]}
    - {name: 2, other: b}
- description: add map to merging list by pointer with conflict
  original: {mergeItemPtr: [{name: 1}]}
  twoWay:
    $setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}]
    mergeItemPtr: [{name: 2}]
  modified: {mergeItemPtr: [{name: 1}, {name: 2}]}
  current: {mergeItemPtr: [{name: 3}]}
  threeWay:
    $setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}]
    mergeItemPtr: [{name: 1}, {name: 2}]
  result: {mergeItemPtr: [{name: 1}, {name: 2}, {name: 3}]}
- description: merge lists of scalars
  original: {mergingIntList: [1, 2]}
  twoWay:
    $setElementOrder/mergingIntList: [1, 2, 3]
    mergingIntList: [3]
  modified: {mergingIntList: [1, 2, 3]}
  current: {mergingIntList: [1, 2, 4]}
  threeWay:
    $setElementOrder/mergingIntList: [1, 2, 3]
    mergingIntList: [3]
  result: {mergingIntList: [1, 2, 3, 4]}
- description: add an item in a list of primitives and preserve order
  original: {mergingIntList: [1, 2]}
  twoWay:
    $setElementOrder/mergingIntList: [3, 1, 2]
    mergingIntList: [3]
  modified: {mergingIntList: [3, 1, 2]}
  current: {mergingIntList: [1, 4, 2]}
  threeWay:
    $setElementOrder/mergingIntList: [3, 1, 2]
    mergingIntList: [3]
  result: {mergingIntList: [3, 1, 4, 2]}
- description: delete an item in a list of primitives and preserve order
  original: {mergingIntList: [1, 2, 3]}
  twoWay:
    $setElementOrder/mergingIntList: [2, 1]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified: {mergingIntList: [2, 1]}
  current: {mergingIntList: [1, 2, 3]}
  threeWay:
    $setElementOrder/mergingIntList: [2, 1]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result: {mergingIntList: [2, 1]}
- description: add multiple items in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 4}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  modified: {mergingList: [{name: 1}, {name: 4, value: 4}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 4}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  result:
    mergingList: [{name: 1, other: a}, {name: 4, value: 4}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]
- description: delete an item in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}]
    mergingList: [{name: 3, $patch: delete}]
  modified: {mergingList: [{name: 2, value: 2}, {name: 1}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}]
    mergingList: [{name: 3, $patch: delete}]
  result: {mergingList: [{name: 2, value: 2, other: b}, {name: 1, other: a}]}
- description: add and delete an item in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 1}]
    mergingList: [{name: 4, value: 4}, {name: 3, $patch: delete}]
  modified: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2}, {name: 1}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 1}]
    mergingList: [{name: 4, value: 4}, {name: 3, $patch: delete}]
  result: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2, other: b}, {name: 1, other: a}]}
- description: set elements order in a list with server-only items 3
  original: {mergingList: [{name: 1}, {name: 2, value: 2}, {name: 3, value: 3}, {name: 4, value: 4}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]
  modified: {mergingList: [{name: 2, value: 2}, {name: 1}, {name: 4, value: 4}, {name: 3, value: 3}]}
  current:
    mergingList:
    - {name: 1, other: a}
    - {name: 2, value: 2}
    - {name: 7}
    - {name: 9}
    - {name: 8}
    - {name: 3, value: 3}
    - {name: 4, value: 4}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]
  result:
    mergingList:
    - {name: 2, value: 2}
    - {name: 1, other: a}
    - {name: 7}
    - {name: 9}
    - {name: 8}
    - {name: 4, value: 4}
    - {name: 3, value: 3}
- description: set elements order in a int list with server-only items 2
  original: {mergingIntList: [1, 2, 3, 4]}
  twoWay:
    $setElementOrder/mergingIntList: [2, 1, 4, 3]
  modified: {mergingIntList: [2, 1, 4, 3]}
  current: {mergingIntList: [1, 2, 9, 3, 4]}
  threeWay:
    $setElementOrder/mergingIntList: [2, 1, 4, 3]
  result: {mergingIntList: [2, 1, 9, 4, 3]}
- description: add and delete an item in a int list and preserve order
  original: {mergingIntList: [1, 3, 2]}
  twoWay:
    $setElementOrder/mergingIntList: [4, 2, 1]
    mergingIntList: [4]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified: {mergingIntList: [4, 2, 1]}
  current: {mergingIntList: [1, 2, 3]}
  threeWay:
    $setElementOrder/mergingIntList: [4, 2, 1]
    mergingIntList: [4]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result: {mergingIntList: [4, 2, 1]}
- description: behavior of set element order for a merging list with duplicate
  original: {mergingList: [{name: 1}, {name: 2, value: dup1}, {name: 3}, {name: 2, value: dup2}, {name: 4}]}
  current: {mergingList: [{name: 1}, {name: 2, value: dup1}, {name: 3}, {name: 2, value: dup2}, {name: 4}]}
  modified: {mergingList: [{name: 2, value: dup1}, {name: 1}, {name: 4}, {name: 3}, {name: 2, value: dup2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}, {name: 2}]
  twoWayResult: {mergingList: [{name: 2, value: dup1}, {name: 2, value: dup2}, {name: 1}, {name: 4}, {name: 3}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}, {name: 2}]
  result: {mergingList: [{name: 2, value: dup1}, {name: 2, value: dup2}, {name: 1}, {name: 4}, {name: 3}]}
- description: behavior of set element order for a merging int list with duplicate
  original: {mergingIntList: [1, 2, 3, 2, 4]}
  current: {mergingIntList: [1, 2, 3, 2, 4]}
  modified: {mergingIntList: [2, 1, 4, 3, 2]}
  twoWay:
    $setElementOrder/mergingIntList: [2, 1, 4, 3, 2]
  twoWayResult: {mergingIntList: [2, 2, 1, 4, 3]}
  threeWay:
    $setElementOrder/mergingIntList: [2, 1, 4, 3, 2]
  result: {mergingIntList: [2, 2, 1, 4, 3]}
"""

_TABLE_CASES_YAML = r"""
- description: retainKeys map should clear defaulted field
  original: {}
  current: {retainKeysMap: {value: foo}}
  modified: {retainKeysMap: {other: bar}}
  twoWay: {retainKeysMap: {other: bar}}
  threeWay: {retainKeysMap: {$retainKeys: [other], other: bar}}
  result: {retainKeysMap: {other: bar}}
- description: retainKeys map should clear defaulted field with conflict (discriminated union)
  original: {}
  current: {retainKeysMap: {name: type1, value: foo}}
  modified: {retainKeysMap: {name: type2, other: bar}}
  twoWay: {retainKeysMap: {name: type2, other: bar}}
  threeWay: {retainKeysMap: {$retainKeys: [name, other], name: type2, other: bar}}
  result: {retainKeysMap: {name: type2, other: bar}}
- description: retainKeys map adds a field and clear a field
  original: {retainKeysMap: {name: foo}}
  current: {retainKeysMap: {name: foo, other: a}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {retainKeysMap: {$retainKeys: [name, value], value: bar}}
  threeWay: {retainKeysMap: {$retainKeys: [name, value], value: bar}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map deletes a field and clears a field
  original: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, value: bar, other: a}}
  modified: {retainKeysMap: {name: foo}}
  twoWay: {retainKeysMap: {$retainKeys: [name], value: null}}
  threeWay: {retainKeysMap: {$retainKeys: [name], value: null}}
  result: {retainKeysMap: {name: foo}}
- description: retainKeys map clears a field
  original: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, value: bar, other: a}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {}
  threeWay: {retainKeysMap: {$retainKeys: [name, value]}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map deletes a field in a nested map
  original: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b}}}
  current: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b, key3: c}}}
  modified: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a}}}
  twoWay: {retainKeysMap: {$retainKeys: [name, simpleMap, value], simpleMap: {key2: null}}}
  threeWay: {retainKeysMap: {$retainKeys: [name, simpleMap, value], simpleMap: {key2: null}}}
  result: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key3: c}}}
- description: retainKeys map nested non-merging list with no change with conflict
  original: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}, {name: c}]}}
  modified: {retainKeysMap: {name: foo, value: bar, nonMergingList: [{name: a}, {name: b}]}}
  twoWay: {retainKeysMap: {$retainKeys: [name, nonMergingList, value], value: bar}}
  threeWay:
    retainKeysMap: {$retainKeys: [name, nonMergingList, value], value: bar, nonMergingList: [{name: a}, {name: b}]}
  result: {retainKeysMap: {name: foo, value: bar, nonMergingList: [{name: a}, {name: b}]}}
- description: retainKeys map deletes nested non-merging list
  original: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}]}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {retainKeysMap: {$retainKeys: [name, value], value: bar, nonMergingList: null}}
  threeWay: {retainKeysMap: {$retainKeys: [name, value], value: bar, nonMergingList: null}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map nested merging int list with no change
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  modified: {retainKeysMap: {name: foo, value: bar, mergingIntList: [1, 2]}}
  twoWay: {retainKeysMap: {$retainKeys: [mergingIntList, name, value], value: bar}}
  threeWay:
    retainKeysMap:
      $retainKeys: [mergingIntList, name, value]
      $setElementOrder/mergingIntList: [1, 2]
      value: bar
  result: {retainKeysMap: {name: foo, value: bar, mergingIntList: [1, 2, 3]}}
- description: retainKeys map adds an item and deletes an item in nested merging int list
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3, 4]}}
  modified: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5]}}
  twoWay:
    retainKeysMap:
      $retainKeys: [mergingIntList, name]
      mergingIntList: [5]
      $deleteFromPrimitiveList/mergingIntList: [2]
      $setElementOrder/mergingIntList: [1, 3, 5]
  threeWay:
    retainKeysMap:
      $retainKeys: [mergingIntList, name]
      mergingIntList: [5]
      $deleteFromPrimitiveList/mergingIntList: [2]
      $setElementOrder/mergingIntList: [1, 3, 5]
  result: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5, 4]}}
- description: retainKeys map adds an item in nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  modified: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}]}}
  twoWay:
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}]
      mergingList: [{name: c}]
  threeWay:
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}]
      mergingList: [{name: c}]
  result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}, {name: x}]}}
- description: retainKeys map deletes an item in nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  modified: {retainKeysMap: {name: foo, mergingList: [{name: a}]}}
  twoWay:
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}]
      mergingList: [{name: b, $patch: delete}]
  threeWay:
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}]
      mergingList: [{name: b, $patch: delete}]
  result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: x}]}}
- description: retainKeys list of maps clears a field
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {}
  threeWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo}]
  result: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list of maps clears a field with conflict
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: old}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: new, other: x}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: modified}]}
  twoWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo, value: modified}]
  threeWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo, value: modified}]
  result: {retainKeysMergingList: [{name: bar}, {name: foo, value: modified}]}
# createStrategicMergePatchTestCaseData (the YAML table; results compared sorted upstream)
- description: nil original
  twoWay: {name: 1, value: 1}
  modified: {name: 1, value: 1}
  current: {name: 1, other: a}
  threeWay: {value: 1}
  result: {name: 1, value: 1, other: a}
- description: add field and delete field from map with conflict
  original: {name: 1}
  twoWay: {name: null, value: 1}
  modified: {value: 1}
  current: {name: a, other: a}
  threeWay: {name: null, value: 1}
  result: {value: 1, other: a}
- description: delete field from nested map with conflict
  original: {simpleMap: {key1: 1, key2: 1}}
  twoWay: {simpleMap: {key2: null}}
  modified: {simpleMap: {key1: 1}}
  current: {simpleMap: {key1: a, key2: 1, other: a}}
  threeWay: {simpleMap: {key1: 1, key2: null}}
  result: {simpleMap: {key1: 1, other: a}}
- description: add field and delete all fields from map
  original: {name: 1, value: 1}
  twoWay: {name: null, value: null, other: a}
  modified: {other: a}
  current: {name: 1, value: 1, other: a}
  threeWay: {name: null, value: null}
  result: {other: a}
- description: replace list of scalars with conflict
  original: {nonMergingIntList: [1, 2]}
  twoWay: {nonMergingIntList: [2, 3]}
  modified: {nonMergingIntList: [2, 3]}
  current: {nonMergingIntList: [1, 4]}
  threeWay: {nonMergingIntList: [2, 3]}
  result: {nonMergingIntList: [2, 3]}
- description: delete all maps from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  modified: {mergingList: []}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  result: {mergingList: []}
- description: delete all maps from empty merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  modified: {mergingList: []}
  current: {mergingList: []}
  threeWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  result: {mergingList: []}
- description: merge empty merging lists
  original: {mergingList: []}
  twoWay: {}
  modified: {mergingList: []}
  current: {mergingList: []}
  threeWay: {}
  result: {mergingList: []}
- description: defined null values should propagate overwrite current fields (with conflict)
  original: {name: 2}
  twoWay: {name: 1, value: 1, other: null}
  twoWayResult: {name: 1, value: 1}
  modified: {name: 1, value: 1, other: null}
  current: {name: a, other: a}
  threeWay: {name: 1, value: 1, other: null}
  result: {name: 1, value: 1}
- description: defined null values should propagate removing original fields
  original: {name: original-name, value: original-value}
  current: {name: original-name, value: original-value, other: current-other}
  modified: {name: modified-name, value: null}
  twoWay: {name: modified-name, value: null}
  twoWayResult: {name: modified-name}
  threeWay: {name: modified-name, value: null}
  result: {name: modified-name, other: current-other}
- description: retainKeys map with no change should not be present
  original: {name: a, retainKeysMap: {name: foo}}
  current: {name: a, other: c, retainKeysMap: {name: foo}}
  modified: {name: a, value: b, retainKeysMap: {name: foo}}
  twoWay: {value: b}
  threeWay: {value: b}
  result: {name: a, value: b, other: c, retainKeysMap: {name: foo}}
"""

_CUSTOM_CASES_YAML = r"""
# customStrategicMergePatchTestCaseData + customStrategicMergePatchRawTestCases: apply only
- description: unique scalars when merging lists
  original: {mergingIntList: [1, 2]}
  patch: {mergingIntList: [2, 3]}
  result: {mergingIntList: [1, 2, 3]}
- description: delete map from nested map
  original: {simpleMap: {key1: 1, key2: 1}}
  patch: {simpleMap: {$patch: delete}}
  result: {simpleMap: {}}
- description: delete all items from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  patch: {mergingList: [{$patch: replace}]}
  result: {mergingList: []}
- description: merge empty merging lists
  original: {mergingList: []}
  patch: {mergingList: []}
  result: {mergingList: []}
- description: delete all keys from map
  original: {name: 1, value: 1}
  patch: {$patch: replace}
  result: {}
- description: add key and delete all keys from map
  original: {name: 1, value: 1}
  patch: {other: a, $patch: replace}
  result: {other: a}
- description: delete all duplicate entries in a merging list
  original: {mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]}
  patch: {mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]}
  result: {mergingList: [{name: 2, value: a}]}
- description: retainKeys map can add a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo}}
  patch: {retainKeysMap: {value: bar}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map can delete a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo, value: a}}
  patch: {retainKeysMap: {value: null}}
  result: {retainKeysMap: {name: foo}}
- description: retainKeys map merge an empty map
  original: {retainKeysMap: {name: foo, value: a}}
  patch: {retainKeysMap: {}}
  result: {retainKeysMap: {name: foo, value: a}}
- description: retainKeys list can delete a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  patch: {retainKeysMergingList: [{name: foo, value: null}]}
  result: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: preserve the order from the patch in a merging list
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  patch: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]}
  result: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]}
- description: preserve the order from the patch in a merging list 2
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  patch: {mergingList: [{name: 3, value: c}, {name: 1, value: a}]}
  result: {mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]}
- description: preserve the order from the patch in a merging int list
  original: {mergingIntList: [1, 2, 3]}
  patch: {mergingIntList: [3, 1, 2]}
  result: {mergingIntList: [3, 1, 2]}
- description: preserve the order from the patch in a merging int list 2
  original: {mergingIntList: [1, 2, 3]}
  patch: {mergingIntList: [3, 1]}
  result: {mergingIntList: [2, 3, 1]}
- description: $setElementOrder contains item that is not present in the list to be merged
  original: {mergingList: [{name: 1}, {name: 3}]}
  patch:
    $setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  result: {mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}
- description: $setElementOrder contains item that is not present in the int list to be merged
  original: {mergingIntList: [1, 3]}
  patch: {$setElementOrder/mergingIntList: [3, 2, 1]}
  result: {mergingIntList: [3, 1]}
- description: $deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list
  original: {mergingIntList: [1, 2]}
  patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2]}
- description: $deleteFromPrimitiveList on empty primitive list should not add the item to the list
  original: {mergingIntList: null}
  patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: null}
- description: $deleteFromPrimitiveList on nonexistent primitive list should not add the primitive list
  original: {foo: [bar]}
  patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
  result: {foo: [bar]}
- description: $deleteFromPrimitiveList should delete item from a list with merge patch strategy
  original: {mergingIntList: [1, 2, 3]}
  patch: {$deleteFromPrimitiveList/mergingIntList: [2]}
  result: {mergingIntList: [1, 3]}
- description: $deleteFromPrimitiveList should delete item from a list without merge patch strategy
  original: {nonMergingIntList: [1, 2, 3]}
  patch: {$deleteFromPrimitiveList/nonMergingIntList: [2]}
  result: {nonMergingIntList: [1, 3]}
# TestUnknownField: values a patch adds lose their nulls
- description: discard nulls in nested and adds not nulls
  original: {name: foo}
  patch: {complex_nullable: {key: {keynotnull: value, keynull: null}}}
  result: {name: foo, complex_nullable: {key: {keynotnull: value}}}
- description: filter nulls from nested slices
  original: {}
  patch: {complex_nullable: [{inner_one: {key_one: foo, key_two: null}}]}
  result: {complex_nullable: [{inner_one: {key_one: foo}}]}
- description: not filter nulls from non-associative slice
  original: {}
  patch: {complex_nullable: [key1, null, key2]}
  result: {complex_nullable: [key1, null, key2]}
- description: null values in original are preserved
  original: {thing: null}
  patch: {nested: {value: 5}}
  result: {nested: {value: 5}, thing: null}
"""


RAW_CASES = yaml.safe_load(_RAW_CASES_YAML) + yaml.safe_load(_TABLE_CASES_YAML)
CUSTOM_CASES = yaml.safe_load(_CUSTOM_CASES_YAML)


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["description"] for c in cases]


@pytest.mark.parametrize("case", CUSTOM_CASES, ids=_ids(CUSTOM_CASES))
def test_custom_strategic_merge_patch(case: dict[str, Any]) -> None:
    original, patch = case["original"], case["patch"]
    frozen = json.dumps([original, patch], sort_keys=True)
    assert strategic_merge_patch(original, patch, MERGE_ITEM_KEYS) == case["result"]
    assert json.dumps([original, patch], sort_keys=True) == frozen  # inputs untouched


@pytest.mark.parametrize(
    "case", [c for c in RAW_CASES if "twoWay" in c], ids=_ids([c for c in RAW_CASES if "twoWay" in c])
)
def test_two_way_patch(case: dict[str, Any]) -> None:
    original = case.get("original") or {}
    patch = two_way_patch(original, case["modified"], MERGE_ITEM_KEYS, retain_keys=MERGE_ITEM_RETAIN)
    assert sort_merge_lists(patch) == sort_merge_lists(case["twoWay"])
    expected = case.get("twoWayResult", case["modified"])
    # the fixture's patch applied to original gives exactly the expected order
    assert strategic_merge_patch(original, case["twoWay"], MERGE_ITEM_KEYS) == expected
    assert sort_merge_lists(strategic_merge_patch(original, patch, MERGE_ITEM_KEYS)) == sort_merge_lists(
        expected
    )


@pytest.mark.parametrize(
    "case", [c for c in RAW_CASES if "threeWay" in c], ids=_ids([c for c in RAW_CASES if "threeWay" in c])
)
def test_three_way_patch(case: dict[str, Any]) -> None:
    original, modified, current = case.get("original"), case["modified"], case["current"]
    frozen = json.dumps([original, modified, current], sort_keys=True)
    patch = three_way_patch(original, modified, current, MERGE_ITEM_KEYS, retain_keys=MERGE_ITEM_RETAIN)
    assert json.dumps([original, modified, current], sort_keys=True) == frozen
    assert sort_merge_lists(patch) == sort_merge_lists(case["threeWay"])
    assert strategic_merge_patch(current, case["threeWay"], MERGE_ITEM_KEYS) == case["result"]
    assert strategic_merge_patch(current, patch, MERGE_ITEM_KEYS) == case["result"]
    assert apply_patch_is_empty(patch) is (case["threeWay"] == {})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {
                "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
                "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
            },
            "doesn't match",
        ),
        ({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]}, "doesn't match"),
        ({"mergingList": [{"value": "b"}]}, "does not contain declared merge key: name"),
        ({"mergingList": [{"name": 1, "$patch": "bogus"}]}, "unknown patch type: bogus"),
        ({"$patch": "bogus"}, "unknown patch type: bogus"),
        (
            {"mergingList": [{"name": 1, "$patch": "merge"}]},
            "merging lists cannot yet be specified in the patch",
        ),
        ({"retainKeysMap": {"$retainKeys": ["name"], "value": "x"}}, "invalid patch format of retainKeys"),
        ({"retainKeysMap": {"$retainKeys": "name"}}, "invalid patch format of retainKeys"),
        ({"$deleteFromPrimitiveList": [1]}, "invalid patch format of primitive list"),
        ({"nonMergingList": [[1]], "mergingIntList": [[1]]}, "lists of lists are not supported"),
    ],
)
def test_strategic_merge_patch_errors(patch: dict[str, Any], message: str) -> None:
    original = {
        "mergingList": [{"name": 1, "value": "a"}, {"name": 3}, {"name": 2}],
        "mergingIntList": [1, 3, 2],
        "retainKeysMap": {"name": "foo"},
    }
    with pytest.raises(BadRequest) as info:
        strategic_merge_patch(original, patch, MERGE_ITEM_KEYS)
    assert message in str(info.value)


def test_retain_keys_directive_clears_other_fields() -> None:
    original = {"retainKeysMap": {"name": "foo", "value": "a", "other": "b"}}
    patch = {"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "c"}}
    assert strategic_merge_patch(original, patch, MERGE_ITEM_KEYS) == {
        "retainKeysMap": {"name": "foo", "value": "c"}
    }


def test_added_values_carry_no_directives() -> None:
    patch = {
        "spec": {"$retainKeys": ["a"], "a": {"$setElementOrder/x": [1], "x": [1]}, "b": {"$patch": "replace"}}
    }
    assert strategic_merge_patch({}, patch, {}) == {"spec": {"a": {"x": [1]}}}


# --- RFC 7386 (appendix A) ---------------------------------------------------------------

RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386)
def test_json_merge_patch(target: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    frozen = json.dumps([target, patch], sort_keys=True)
    result = json_merge_patch(target, patch)
    assert result == expected
    assert json.dumps([target, patch], sort_keys=True) == frozen


def test_json_merge_patch_result_shares_nothing() -> None:
    target = {"spec": {"template": {"labels": {"a": "1"}}}}
    result = json_merge_patch(target, {"spec": {"replicas": 2}})
    result["spec"]["template"]["labels"]["a"] = "2"
    assert target["spec"]["template"]["labels"]["a"] == "1"
    with pytest.raises(BadRequest):
        json_merge_patch(target, [1])  # type: ignore[arg-type]


# --- RFC 6902 -----------------------------------------------------------------------------


def test_json_patch_operations() -> None:
    target = {"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 1, "ports": [{"port": 80}]}}
    result = json_patch(
        target,
        [
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/metadata/labels/tier", "value": "db"},
            {"op": "remove", "path": "/metadata/labels/app"},
            {"op": "add", "path": "/spec/ports/-", "value": {"port": 443}},
            {"op": "copy", "from": "/spec/replicas", "path": "/spec/copied"},
        ],
    )
    assert result == {
        "metadata": {"labels": {"tier": "db"}},
        "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}], "copied": 3},
    }
    assert target["spec"]["replicas"] == 1 and "tier" not in target["metadata"]["labels"]


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/spec/replicas", "value": 2}],
        [{"op": "remove", "path": "/spec/missing"}],
        [{"op": "replace", "path": "/nope/deeper", "value": 1}],
        [{"op": "frobnicate", "path": "/spec"}],
        [{"path": "/spec"}],
        [{"op": "add", "path": "spec", "value": 1}],
        {"op": "add"},
    ],
)
def test_json_patch_errors_are_bad_requests(operations: Any) -> None:
    with pytest.raises(BadRequest):
        json_patch({"spec": {"replicas": 1}}, operations)


# --- merge key table ------------------------------------------------------------------------


def test_default_merge_keys_follow_kubernetes_types() -> None:
    pod = DEFAULT_MERGE_KEYS["Pod"]
    assert pod["spec.containers"] == "name"
    assert pod["spec.containers.ports"] == "containerPort"
    assert pod["spec.containers.env"] == "name"
    assert pod["spec.containers.volumeMounts"] == "mountPath"
    assert pod["spec.initContainers"] == "name"
    assert pod["spec.volumes"] == "name"
    assert pod["spec.hostAliases"] == "ip"
    assert pod["spec.imagePullSecrets"] == "name"
    assert pod["status.conditions"] == "type"
    assert pod["metadata.finalizers"] == ""
    assert pod["metadata.ownerReferences"] == "uid"
    assert "spec.tolerations" not in pod  # atomic in Kubernetes
    assert DEFAULT_MERGE_KEYS["Deployment"]["spec.template.spec.containers"] == "name"
    assert DEFAULT_MERGE_KEYS["Deployment"]["spec.template.spec.containers.env"] == "name"
    assert DEFAULT_MERGE_KEYS["CronJob"]["spec.jobTemplate.spec.template.spec.containers"] == "name"
    assert DEFAULT_MERGE_KEYS["Service"]["spec.ports"] == "port"
    assert DEFAULT_MERGE_KEYS["Node"]["status.conditions"] == "type"
    assert DEFAULT_MERGE_KEYS["Node"]["status.addresses"] == "type"
    assert "spec.taints" not in DEFAULT_MERGE_KEYS["Node"]
    for kind in ("ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        assert DEFAULT_MERGE_KEYS[kind]["spec.template.spec.containers.ports"] == "containerPort"
    assert merge_keys_for("ConfigMap")["metadata.finalizers"] == ""
    assert merge_keys_for("Widget") == {"metadata.finalizers": "", "metadata.ownerReferences": "uid"}
    assert "spec.strategy" in DEFAULT_RETAIN_KEYS["Deployment"]
    assert "spec.template.spec.volumes" in retain_keys_for("Deployment")
    assert retain_keys_for("ConfigMap") == frozenset()


def test_strategic_patch_on_a_pod() -> None:
    pod = {
        "metadata": {"name": "web", "finalizers": ["a"]},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1",
                    "ports": [{"containerPort": 80}],
                    "env": [{"name": "A", "value": "1"}],
                },
                {"name": "sidecar", "image": "busybox"},
            ]
        },
    }
    patch = {
        "metadata": {"finalizers": ["b"]},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:2",
                    "env": [{"name": "B", "value": "2"}],
                    "ports": [{"containerPort": 443}],
                },
                {"name": "sidecar", "$patch": "delete"},
            ]
        },
    }
    result = strategic_merge_patch(pod, patch, DEFAULT_MERGE_KEYS["Pod"])
    # Without $setElementOrder apimachinery puts elements new to the list ahead of the
    # server-only ones (mergeSortedSlice), so `kubectl patch` prepends.
    assert result == {
        "metadata": {"name": "web", "finalizers": ["b", "a"]},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:2",
                    "ports": [{"containerPort": 443}, {"containerPort": 80}],
                    "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
                }
            ]
        },
    }
    ordered = strategic_merge_patch(
        pod,
        {"metadata": {"$setElementOrder/finalizers": ["a", "b"], "finalizers": ["b"]}},
        DEFAULT_MERGE_KEYS["Pod"],
    )
    assert ordered["metadata"]["finalizers"] == ["a", "b"]
    # without merge keys every list is replaced, like a JSON merge patch
    replaced = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "x", "image": "y"}]}}, {})
    assert replaced["spec"]["containers"] == [{"name": "x", "image": "y"}]


# --- kubectl apply scenarios ---------------------------------------------------------------

DEPLOYMENT_KEYS = DEFAULT_MERGE_KEYS["Deployment"]
DEPLOYMENT_RETAIN = DEFAULT_RETAIN_KEYS["Deployment"]


def deployment(**changes: Any) -> dict[str, Any]:
    containers = changes.pop(
        "containers",
        [
            {
                "name": "web",
                "image": "nginx:1.25",
                "env": [{"name": "MODE", "value": "prod"}, {"name": "DEBUG", "value": "0"}],
            },
            {"name": "logger", "image": "busybox:1.36"},
        ],
    )
    config: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
        },
    }
    for dotted, value in changes.items():
        node = config
        *parents, last = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return config


def server_create(config: dict[str, Any]) -> dict[str, Any]:
    """What the API server stores: the applied config plus defaults and status."""
    live = json.loads(json.dumps(with_last_applied(config)))
    live["metadata"].update({"uid": "u-1", "resourceVersion": "1", "generation": 1})
    spec = live["spec"]
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    )
    for container in spec["template"]["spec"]["containers"]:
        container.setdefault("imagePullPolicy", "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
    live["status"] = {"replicas": spec["replicas"], "conditions": [{"type": "Available", "status": "True"}]}
    return live


def kubectl_apply(live: dict[str, Any], config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    patch = client_side_apply_patch(live, config, DEPLOYMENT_KEYS, retain_keys=DEPLOYMENT_RETAIN)
    return patch, strategic_merge_patch(live, patch, DEPLOYMENT_KEYS)


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]


def test_reapplying_the_same_config_is_unchanged() -> None:
    live = server_create(deployment())
    patch, after = kubectl_apply(live, deployment())
    assert patch == {}
    assert apply_patch_is_empty(patch)
    assert after == live


def test_field_removed_from_config_is_removed_from_live() -> None:
    live = server_create(deployment(spec__minReadySeconds=10, metadata__labels={"app": "web", "team": "a"}))
    patch, after = kubectl_apply(live, deployment())
    assert patch["spec"]["minReadySeconds"] is None
    assert patch["metadata"]["labels"] == {"team": None}
    assert "minReadySeconds" not in after["spec"]
    assert after["metadata"]["labels"] == {"app": "web"}
    assert after["spec"]["strategy"]["type"] == "RollingUpdate"  # defaults stay


def test_replicas_set_by_scale_is_kept_when_config_has_none() -> None:
    live = server_create(deployment())
    live["spec"]["replicas"] = 5  # kubectl scale --replicas=5
    patch, after = kubectl_apply(live, deployment(spec__template__metadata__annotations={"rev": "2"}))
    assert "replicas" not in patch["spec"]
    assert after["spec"]["replicas"] == 5
    assert after["spec"]["template"]["metadata"]["annotations"] == {"rev": "2"}


def test_replicas_removed_from_config_is_removed() -> None:
    live = server_create(deployment(spec__replicas=3))
    live["spec"]["replicas"] = 3
    patch, after = kubectl_apply(live, deployment())
    assert patch["spec"]["replicas"] is None
    assert "replicas" not in after["spec"]  # the server would default it again


def test_container_removed_by_name() -> None:
    live = server_create(deployment())
    config = deployment(containers=[containers_of(deployment())[0]])
    patch, after = kubectl_apply(live, config)
    template_patch = patch["spec"]["template"]["spec"]
    assert template_patch["$setElementOrder/containers"] == [{"name": "web"}]
    assert template_patch["containers"] == [{"name": "logger", "$patch": "delete"}]
    assert [c["name"] for c in containers_of(after)] == ["web"]
    # the server's defaults on the kept container survive
    assert containers_of(after)[0]["terminationMessagePath"] == "/dev/termination-log"


def test_env_var_changed_by_name() -> None:
    live = server_create(deployment())
    config = deployment()
    containers_of(config)[0]["env"] = [{"name": "MODE", "value": "dev"}, {"name": "DEBUG", "value": "0"}]
    patch, after = kubectl_apply(live, config)
    container_patch = patch["spec"]["template"]["spec"]["containers"]
    assert container_patch == [
        {
            "$setElementOrder/env": [{"name": "MODE"}, {"name": "DEBUG"}],
            "env": [{"name": "MODE", "value": "dev"}],
            "name": "web",
        }
    ]
    assert containers_of(after)[0]["env"] == [
        {"name": "MODE", "value": "dev"},
        {"name": "DEBUG", "value": "0"},
    ]
    assert containers_of(after)[1] == containers_of(live)[1]


def test_env_var_removed_and_added_by_name() -> None:
    live = server_create(deployment())
    config = deployment()
    containers_of(config)[0]["env"] = [{"name": "MODE", "value": "prod"}, {"name": "COLOR", "value": "blue"}]
    _, after = kubectl_apply(live, config)
    assert containers_of(after)[0]["env"] == [
        {"name": "MODE", "value": "prod"},
        {"name": "COLOR", "value": "blue"},
    ]


def test_label_added_in_live_by_someone_else_is_kept() -> None:
    live = server_create(deployment())
    live["metadata"]["labels"]["owner"] = "ops"  # kubectl label deploy/web owner=ops
    config = deployment(metadata__labels={"app": "web", "tier": "frontend"})
    patch, after = kubectl_apply(live, config)
    assert patch["metadata"]["labels"] == {"tier": "frontend"}
    assert after["metadata"]["labels"] == {"app": "web", "owner": "ops", "tier": "frontend"}


def test_container_added_keeps_config_order() -> None:
    live = server_create(deployment())
    config = deployment()
    containers_of(config).insert(1, {"name": "metrics", "image": "prom:2"})
    _, after = kubectl_apply(live, config)
    assert [c["name"] for c in containers_of(after)] == ["web", "metrics", "logger"]


def test_strategy_switch_clears_rolling_update_via_retain_keys() -> None:
    live = server_create(deployment())
    patch, after = kubectl_apply(live, deployment(spec__strategy={"type": "Recreate"}))
    assert patch["spec"]["strategy"] == {"$retainKeys": ["type"], "type": "Recreate"}
    assert after["spec"]["strategy"] == {"type": "Recreate"}


def test_last_applied_annotation_round_trip() -> None:
    config = deployment(metadata__annotations={"note": "a<b & c>d"})
    modified = with_last_applied(config)
    text = modified["metadata"]["annotations"][LAST_APPLIED]
    assert text.endswith("\n")
    assert "\\u003c" in text and "\\u0026" in text and "<" not in text
    recorded = json.loads(text)
    assert recorded["metadata"]["annotations"] == {"note": "a<b & c>d"}
    assert LAST_APPLIED not in recorded["metadata"]["annotations"]
    assert modified["metadata"]["annotations"]["note"] == "a<b & c>d"
    assert last_applied_configuration(modified) == recorded
    assert config == deployment(metadata__annotations={"note": "a<b & c>d"})  # input untouched
    # like kubectl, a config without annotations records "annotations": {}
    bare = with_last_applied(deployment())
    assert json.loads(bare["metadata"]["annotations"][LAST_APPLIED])["metadata"]["annotations"] == {}
    assert last_applied_configuration(deployment()) is None
    with pytest.raises(BadRequest):
        last_applied_configuration({"metadata": {"annotations": {LAST_APPLIED: "{not json"}}})


def test_first_apply_over_an_object_created_without_apply() -> None:
    live = server_create(deployment())
    del live["metadata"]["annotations"]
    live["spec"]["minReadySeconds"] = 7  # set by kubectl create / edit: not ours to delete
    patch, after = kubectl_apply(live, deployment())
    assert LAST_APPLIED in patch["metadata"]["annotations"]
    assert after["spec"]["minReadySeconds"] == 7
    assert last_applied_configuration(after) == last_applied_configuration(with_last_applied(deployment()))


def test_apply_patch_is_empty() -> None:
    assert apply_patch_is_empty({})
    assert apply_patch_is_empty(None)
    assert apply_patch_is_empty({"spec": {}})
    assert not apply_patch_is_empty({"spec": {"replicas": None}})
    assert not apply_patch_is_empty({"$setElementOrder/containers": [{"name": "a"}]})
