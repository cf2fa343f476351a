"""The endpoints controller: keeps one Endpoints object per Service with a selector. No I/O.

Addresses are the IPs of the pods the selector picks: ready pods under
``addresses``, others under ``notReadyAddresses`` (or all ready with
``publishNotReadyAddresses``); terminating and terminal pods are left out. Named
target ports are resolved per pod, as Kubernetes does, which can split subsets.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from nbcluster.api.selectors import LabelSelector
from nbcluster.control.apiserver import Selector
from nbcluster.control.controllers.base import Controller, object_key, split_key
from nbcluster.control.controllers.podcontrol import is_pod_ready
from nbcluster.errors import NotFound
from nbcluster.store import WatchEvent
from nbcluster.util.clock import format_time

__all__ = ["EndpointsController"]

Obj = dict[str, Any]


def _resolve_port(pod: Obj, target: Any) -> int | None:
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in pod["spec"].get("containers", []):
        for port in container.get("ports", []) or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


class EndpointsController(Controller):
    name: ClassVar[str] = "endpoint-controller"
    primary: ClassVar[str] = "services"

    def __init__(self, api: Any, clock: Any, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        #: id(a stored Service's spec.selector) -> (that dict, its parsed selector)
        self._matchers: dict[int, tuple[dict[str, str], LabelSelector]] = {}
        #: namespace -> its Services with a selector; kept while our service handler
        #: hears of every change (None: recompute), so most pod events cost a lookup
        self._selecting: dict[str, list[Obj]] | None = None
        self._watching_services = False

    def setup(self) -> None:
        self.on(self.primary, self._service_event)
        self._watching_services = True
        self.on("pods", self._services_for_pod, batch_seconds=0.05)

    def teardown(self) -> None:
        super().teardown()
        self._watching_services = False
        self._selecting = None

    def _service_event(self, event: WatchEvent) -> str:
        self._selecting = None
        return object_key(event.object)

    def _selecting_services(self, namespace: str) -> list[Obj]:
        cache = self._selecting if self._watching_services else None
        if cache is not None:
            services = cache.get(namespace)
            if services is not None:
                return services
        services = [
            svc
            for svc in self.api.store.list("services", namespace)[0]
            if svc.get("spec", {}).get("selector")
        ]
        if self._watching_services:
            if cache is None:
                cache = self._selecting = {}
            cache[namespace] = services
        return services

    def _services_for_pod(self, event: WatchEvent) -> list[str]:
        pod = event.object
        namespace = pod["metadata"].get("namespace", "")
        # Most pod events happen where no Service selects pods: nothing to look at then.
        services = self._selecting_services(namespace)
        if not services:
            return []
        if (
            event.type == "MODIFIED"
            and event.old is not None
            and not _endpoint_relevant_change(event.old, pod)
        ):
            return []
        label_sets = [pod["metadata"].get("labels") or {}]
        if event.old is not None:
            label_sets.append(event.old["metadata"].get("labels") or {})
        keys = []
        for svc in services:
            matcher = self._matcher(svc["spec"]["selector"])
            if any(matcher.matches(labels) for labels in label_sets):
                keys.append(f"{namespace}/{svc['metadata']['name']}")
        return keys

    def _matcher(self, selector: dict[str, str]) -> LabelSelector:
        """The parsed ``spec.selector`` of a stored Service (cached while that dict lives on)."""
        cached = self._matchers.get(id(selector))
        if cached is not None and cached[0] is selector:
            return cached[1]
        if len(self._matchers) > 4096:
            self._matchers.clear()
        matcher = LabelSelector.from_dict({"matchLabels": selector})
        self._matchers[id(selector)] = (selector, matcher)
        return matcher

    def sync(self, key: str) -> float | None:
        namespace, name = split_key(key)
        svc = self.api.cached("services", name, namespace)
        current = self.api.cached("endpoints", name, namespace)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            if (
                current is not None
                and current["metadata"].get("labels", {}).get("endpoints.kubernetes.io/managed-by")
                == "endpoint-controller"
            ):
                with contextlib.suppress(NotFound):
                    self.api.delete("endpoints", name, namespace=namespace)
            return None
        selector = svc["spec"].get("selector")
        if not selector:
            return None  # Endpoints of selector-less services are the user's.
        pods = self.api.cached_list(
            "pods", namespace, Selector(LabelSelector.from_dict({"matchLabels": selector}))
        )
        publish_not_ready = bool(svc["spec"].get("publishNotReadyAddresses"))
        subsets: dict[tuple[tuple[str, int, str], ...], dict[str, list[Obj]]] = {}
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
            status = pod.get("status", {})
            ip = status.get("podIP")
            if (
                not ip
                or pod["metadata"].get("deletionTimestamp")
                or status.get("phase") in ("Succeeded", "Failed")
            ):
                continue
            ports = []
            for port in svc["spec"].get("ports", []):
                resolved = _resolve_port(pod, port.get("targetPort", port.get("port")))
                if resolved is None:
                    continue
                ports.append((port.get("name", ""), resolved, port.get("protocol", "TCP")))
            signature = tuple(ports)
            address: Obj = {
                "ip": ip,
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": namespace,
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
            if pod["spec"].get("hostname") and pod["spec"].get("subdomain") == name:
                address["hostname"] = pod["spec"]["hostname"]
            bucket = subsets.setdefault(signature, {"addresses": [], "notReadyAddresses": []})
            if is_pod_ready(pod) or publish_not_ready:
                bucket["addresses"].append(address)
            else:
                bucket["notReadyAddresses"].append(address)
        rendered = []
        for signature, addresses in subsets.items():
            subset: Obj = {}
            if addresses["addresses"]:
                subset["addresses"] = addresses["addresses"]
            if addresses["notReadyAddresses"]:
                subset["notReadyAddresses"] = addresses["notReadyAddresses"]
            subset["ports"] = [
                {**({"name": port_name} if port_name else {}), "port": port, "protocol": protocol}
                for port_name, port, protocol in signature
            ]
            rendered.append(subset)
        labels = dict(svc["metadata"].get("labels") or {})
        labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
        if current is None:
            self.api.create(
                {
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "labels": labels,
                        "annotations": {
                            "endpoints.kubernetes.io/last-change-trigger-time": format_time(self.clock.now())
                        },
                    },
                    "subsets": rendered,
                },
                validate_schema=False,
                owned=True,
            )
            return None
        if current.get("subsets", []) == rendered and (current["metadata"].get("labels") or {}) == labels:
            return None
        new = dict(current)
        new["metadata"] = dict(current["metadata"], labels=labels)
        new["metadata"]["annotations"] = {
            **(current["metadata"].get("annotations") or {}),
            "endpoints.kubernetes.io/last-change-trigger-time": format_time(self.clock.now()),
        }
        new["subsets"] = rendered
        self.api.update(new, owned=True)
        return None


def _endpoint_relevant_change(old: Obj, new: Obj) -> bool:
    """Only IP, readiness, labels, deletion and phase changes move endpoints."""

    def view(pod: Obj) -> tuple[Any, ...]:
        status = pod.get("status", {})
        return (
            status.get("podIP"),
            is_pod_ready(pod),
            pod["metadata"].get("labels"),
            pod["metadata"].get("deletionTimestamp"),
            status.get("phase"),
            pod["spec"].get("nodeName"),
        )

    return view(old) != view(new)
