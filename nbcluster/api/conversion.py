"""Conversion of older apiVersions to the version nbcluster stores. No I/O.

Only what the shipped examples and common tutorials use: ``autoscaling/v1``
HorizontalPodAutoscaler (``targetCPUUtilizationPercentage``) becomes ``autoscaling/v2``
with a CPU Utilization metric, as the real API server converts it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["from_storage_version", "to_storage_version"]


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


def from_storage_version(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """A copy of a stored object as ``api_version`` shows it (the inverse of the above).

    kubectl apply of an ``autoscaling/v1`` manifest compares against the v1 view of the
    live object, as the real API server serves it at the v1 endpoint.
    """
    if obj.get("kind") == "HorizontalPodAutoscaler" and api_version == "autoscaling/v1":
        view = {**obj, "apiVersion": "autoscaling/v1", "spec": dict(obj.get("spec") or {})}
        metrics = view["spec"].pop("metrics", None) or []
        view["spec"].pop("behavior", None)
        for metric in metrics:
            resource = metric.get("resource") or {}
            target = resource.get("target") or {}
            if (
                metric.get("type") == "Resource"
                and resource.get("name") == "cpu"
                and target.get("type") == "Utilization"
            ):
                view["spec"]["targetCPUUtilizationPercentage"] = target.get("averageUtilization")
        status = dict(obj.get("status") or {})
        status.pop("currentMetrics", None)
        status.pop("conditions", None)
        view["status"] = status
        return view
    return obj
