"""Conversion of older apiVersions to the version nbcluster stores. No I/O.

Only what the shipped examples and common tutorials use: ``autoscaling/v1``
HorizontalPodAutoscaler (``targetCPUUtilizationPercentage``) becomes ``autoscaling/v2``
with a CPU Utilization metric, as the real API server converts it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["to_storage_version"]


def to_storage_version(obj: dict[str, Any]) -> dict[str, Any]:
    """Convert in place (and return) an object to the version nbcluster serves."""
    if obj.get("kind") == "HorizontalPodAutoscaler" and obj.get("apiVersion") == "autoscaling/v1":
        spec = obj.setdefault("spec", {})
        target = spec.pop("targetCPUUtilizationPercentage", None)
        if target is not None:
            spec["metrics"] = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": target},
                    },
                }
            ]
        obj["apiVersion"] = "autoscaling/v2"
    return obj
