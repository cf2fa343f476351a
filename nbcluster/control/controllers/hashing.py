"""The pod-template-hash of Deployments (and controller revisions). No I/O.

Kubernetes' ``controller.ComputeHash`` writes a deterministic dump of the pod template
into an FNV-32a hasher, appends the Deployment's ``status.collisionCount`` (as 8 bytes,
little-endian) when it is set, and renders the 32-bit sum's decimal digits through
``rand.SafeEncodeString`` — which is why hashes look like ``7c5ddbdf54`` (up to ten
characters from ``bcdfghjklmnpqrstvwxz2456789``, no vowels, no 0/1/3).

The dump here is canonical JSON (sorted keys) of the template with empty values
(``null``, ``[]``, ``{}``) dropped, so semantically equal templates hash alike; it is
not byte-identical to Go's ``%#v`` dump, so hashes differ from a real cluster's, but
they are stable and shaped the same.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["compute_hash", "fnv32a", "safe_encode_string", "semantic_dump"]

#: k8s.io/apimachinery/pkg/util/rand: consonants and digits that cannot spell words.
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv32a(data: bytes, seed: int = _FNV32_OFFSET) -> int:
    """FNV-1a, 32 bits (Go's ``hash/fnv.New32a``); ``seed`` continues an earlier sum."""
    h = seed
    for byte in data:
        h = ((h ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode_string(text: str) -> str:
    """``rand.SafeEncodeString``: map every character onto the safe alphabet."""
    return "".join(_ALPHANUMS[ord(ch) % len(_ALPHANUMS)] for ch in text)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _prune(item)
            if item is None or item == {} or item == []:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value


def semantic_dump(obj: Any) -> str:
    """A canonical text of ``obj``: sorted keys, empty values dropped."""
    return json.dumps(_prune(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(template: dict[str, Any], collision_count: int | None = None) -> str:
    """``controller.ComputeHash(template, collisionCount)``: the pod-template-hash value."""
    h = fnv32a(semantic_dump(template).encode("utf-8"))
    if collision_count is not None:
        h = fnv32a((int(collision_count) & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0", h)
    return safe_encode_string(str(h))
