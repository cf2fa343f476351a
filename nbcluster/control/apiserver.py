"""The API server: the only door to the store. Does no I/O beyond the store's.

Every component — magics, controllers, scheduler, kubelets — reads and writes here.
It resolves kinds, validates (OpenAPI schema + Kubernetes' semantic rules), defaults,
admits (namespaces exist and are not terminating), assigns identity (uid,
creationTimestamp, generation, generateName), enforces optimistic concurrency, and
implements the subresources (status, scale, binding) and graceful deletion with
finalizers. Garbage collection of dependents is the garbage collector's job.

Reads for controllers go through :meth:`APIServer.cached` / :meth:`cached_list`, which
return the stored objects themselves (like an informer cache: never mutate them).
Everything else returns copies the caller owns.
"""

from __future__ import annotations

import ipaddress
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from nbcluster.api import resources
from nbcluster.api.conversion import from_storage_version, to_storage_version
from nbcluster.api.defaults import apply_defaults
from nbcluster.api.merge import json_merge_patch, json_patch, merge_keys_for, strategic_merge_patch
from nbcluster.api.naming import generate_name
from nbcluster.api.resources import ResourceInfo
from nbcluster.api.schema import validate_schema
from nbcluster.api.selectors import FieldSelector, LabelSelector
from nbcluster.api.validation import name_is_valid, validate, validate_metadata
from nbcluster.errors import (
    AlreadyExists,
    BadRequest,
    CauseType,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationError,
)
from nbcluster.store import Store, Watch, WatchEvent
from nbcluster.util.clock import Clock, format_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = ["APIServer", "Selector"]

Obj = dict[str, Any]

#: Kinds whose spec changes bump metadata.generation (everything with a spec).
_NO_SPEC_KINDS = {
    "ConfigMap",
    "Secret",
    "Event",
    "Endpoints",
    "ServiceAccount",
    "Namespace",
    "Lease",
    "ControllerRevision",
    "EndpointSlice",
    "StorageClass",
    "PriorityClass",
    "Binding",
}

#: Kinds with a status subresource: a plain update keeps the stored status.
_STATUS_KINDS = {info.kind for info in resources.RESOURCES if "status" in info.subresources}

#: Pod templates whose defaulted spec the API server remembers (see ``create(template_spec=)``).
_TEMPLATE_SPECS_KEPT = 1024

#: The namespaces every cluster starts with.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_RANGE = range(30000, 32768)


class Selector:
    """A parsed label selector + field selector pair, as a list call takes them."""

    def __init__(
        self,
        labels: str | dict[str, Any] | LabelSelector | None = None,
        fields: str | FieldSelector | None = None,
    ) -> None:
        if isinstance(labels, str):
            self.labels: LabelSelector | None = LabelSelector.parse(labels) if labels.strip() else None
        elif isinstance(labels, dict):
            self.labels = LabelSelector.from_dict(labels)
        else:
            self.labels = labels
        if isinstance(fields, str):
            self.fields: FieldSelector | None = FieldSelector.parse(fields) if fields.strip() else None
        else:
            self.fields = fields

    def matches(self, obj: Obj) -> bool:
        if self.labels is not None and not self.labels.matches(obj["metadata"].get("labels")):
            return False
        return self.fields is None or self.fields.matches(obj)


class APIServer:
    """Kubernetes' API semantics over a :class:`Store`. Thread-safe."""

    def __init__(self, store: Store, clock: Clock, *, service_cidr: str | None = None) -> None:
        self.store = store
        self.clock = clock
        #: Where ClusterIPs come from (``--service-cluster-ip-range``); a runtime with a real
        #: cluster network chooses it so that ClusterIPs are addresses pods can reach.
        self.service_cidr = ipaddress.ip_network(service_cidr) if service_cidr else SERVICE_CIDR
        #: Set when the cluster really listens on node ports (not simulated): a port some other
        #: process (or another cluster in this kernel) holds is not handed out.
        self.node_port_free: Callable[[int], bool] | None = None
        #: The address LoadBalancer Services get at creation (kube-proxy listens there).
        self.load_balancer_ip: str | None = None
        self._node_port_random = random.Random()
        self._lock = threading.RLock()
        self._allocated_ips: set[str] = set()
        self._allocated_node_ports: set[int] = set()
        self._hooks: list[Callable[[str, Obj], None]] = []
        #: id(a stored pod template spec) -> what defaulting and validation made of it
        self._templates: dict[int, _TemplateMemo] = {}
        for svc in store.list("services")[0]:
            self._remember_service(svc)
        # Indexes controllers lean on at scale.
        store.add_index("pods", "nodeName", lambda pod: [pod["spec"].get("nodeName") or ""])
        store.add_index("pods", "owner", _owner_uids)
        for kind_resource in ("replicasets.apps", "jobs.batch", "controllerrevisions.apps"):
            store.add_index(kind_resource, "owner", _owner_uids)

    # -- bootstrap -----------------------------------------------------------

    def ensure_system_objects(self) -> None:
        """The namespaces and the ``kubernetes`` Service a fresh cluster has."""
        for name in SYSTEM_NAMESPACES:
            if self.store.get("namespaces", "", name) is None:
                self.create(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                    validate_schema=False,
                )
        if self.store.get("services", "default", "kubernetes") is None:
            self.create(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {
                        "name": "kubernetes",
                        "namespace": "default",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": str(self.service_cidr.network_address + 1),
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    },
                },
                validate_schema=False,
            )

    # -- resolving -----------------------------------------------------------

    @staticmethod
    def resource(name: str | ResourceInfo) -> ResourceInfo:
        return name if isinstance(name, ResourceInfo) else resources.resolve(name)

    def _namespace_for(self, info: ResourceInfo, namespace: str | None) -> str:
        if not info.namespaced:
            return ""
        return namespace or "default"

    # -- reads ---------------------------------------------------------------

    def cached(self, resource: str | ResourceInfo, name: str, namespace: str | None = None) -> Obj | None:
        """The stored object itself, or None. Never mutate it."""
        info = self.resource(resource)
        return self.store.get(info.group_resource, self._namespace_for(info, namespace), name)

    def cached_list(
        self, resource: str | ResourceInfo, namespace: str | None = None, selector: Selector | None = None
    ) -> list[Obj]:
        """Stored objects (all namespaces when ``namespace`` is None). Never mutate them."""
        info = self.resource(resource)
        ns = namespace if info.namespaced else None
        if selector is not None and selector.labels is not None:
            pairs = selector.labels.equality_requirements()
            if pairs:
                items = self.store.by_labels(info.group_resource, pairs, ns)
                return [o for o in items if selector.matches(o)]
        items = self.store.list(info.group_resource, ns)[0]
        if selector is None:
            return items
        return [o for o in items if selector.matches(o)]

    def pods_on_node(self, node_name: str) -> list[Obj]:
        return self.store.by_index("pods", "nodeName", node_name)

    def dependents(self, resource: str, owner_uid: str) -> list[Obj]:
        """Objects of ``resource`` (pods, replicasets.apps, jobs.batch...) owned by ``owner_uid``."""
        return self.store.by_index(resource, "owner", owner_uid)

    def get(self, resource: str | ResourceInfo, name: str, *, namespace: str | None = None) -> Obj:
        info = self.resource(resource)
        obj = self.cached(info, name, namespace)
        if obj is None:
            raise NotFound(f'{info.group_resource} "{name}" not found')
        return deep_copy(obj)

    def list(
        self,
        resource: str | ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | dict[str, Any] | None = None,
        field_selector: str | None = None,
    ) -> Obj:
        """A ``<Kind>List`` with items (copies) and the list's resourceVersion."""
        info = self.resource(resource)
        selector = self._selector(info, label_selector, field_selector)
        with self.store.lock:
            items = self.cached_list(info, namespace, selector)
            revision = self.store.revision
        items = sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return {
            "apiVersion": info.api_version,
            "kind": f"{info.kind}List",
            "metadata": {"resourceVersion": str(revision)},
            "items": [deep_copy(o) for o in items],
        }

    def _selector(self, info: ResourceInfo, label_selector: Any, field_selector: Any) -> Selector | None:
        if not label_selector and not field_selector:
            return None
        selector = Selector(label_selector, field_selector)
        if selector.fields is not None:
            selector.fields = selector.fields.validate_for(info.kind)
        return selector

    def watch(
        self,
        resource: str | ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | dict[str, Any] | None = None,
        field_selector: str | None = None,
        resource_version: str | int | None = None,
    ) -> Watch:
        """Events after ``resource_version`` (default: now), filtered like the API server does.

        With a selector, an object that stops matching arrives as DELETED and one that
        starts matching as ADDED.
        """
        info = self.resource(resource)
        selector = self._selector(info, label_selector, field_selector)
        transform = None
        if selector is not None:

            def transform(event: WatchEvent) -> WatchEvent | None:
                now = selector.matches(event.object) if event.type != "DELETED" else False
                before = event.old is not None and selector.matches(event.old)
                if event.type == "DELETED":
                    return event if before else None
                if now and before:
                    return event
                if now:
                    return WatchEvent("ADDED", event.resource, event.object, event.old, event.revision)
                if before:
                    return WatchEvent("DELETED", event.resource, event.object, event.old, event.revision)
                return None

        since = int(resource_version) if resource_version not in (None, "", "0") else None
        ns = namespace if info.namespaced else None
        return self.store.watch(info.group_resource, namespace=ns, since=since, transform=transform)

    def subscribe(
        self, resource: str | ResourceInfo, listener: Callable[[WatchEvent], None]
    ) -> Callable[[], None]:
        """Synchronous event listener (for controllers' event handlers)."""
        return self.store.subscribe(self.resource(resource).group_resource, listener)

    # -- create --------------------------------------------------------------

    def create(
        self,
        obj: Obj,
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        validate_schema: bool = True,
        owned: bool = False,
        template_spec: Obj | None = None,
    ) -> Obj:
        """Create an object. ``owned=True``: the caller hands ``obj`` over (no copy made).

        ``template_spec``: for a Pod a controller makes from a pod template, the template's
        ``spec`` as stored in its owner (never mutated), which ``obj["spec"]`` equals.
        Defaulting and validating a pod spec depend on nothing but the spec, so the outcome
        is remembered per template: the next pods from it get a copy of the defaulted spec
        and only their metadata is validated. A spec that differs from the template, a
        template that does not validate, and every write without ``template_spec`` (users')
        go through the whole of defaulting and validation.

        Returns the stored object (a copy unless ``owned``).
        """
        if not owned:
            obj = deep_copy(obj)
        info, errors = self._admit_shape(obj, validate_schema)
        meta = obj.setdefault("metadata", {})
        if info.namespaced:
            given = meta.get("namespace")
            if given and namespace and given != namespace:
                raise BadRequest(
                    f'the namespace from the provided object "{given}" does not match the namespace '
                    f"\"{namespace}\". You must pass '--namespace={given}' to perform this operation."
                )
            meta["namespace"] = given or namespace or "default"
        else:
            meta.pop("namespace", None)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        if generated:
            meta["name"] = generate_name(meta["generateName"])
        meta.setdefault("uid", str(uuid.uuid4()))
        to_storage_version(obj)
        checked = False
        if template_spec is not None and info.kind == "Pod":
            spec = obj.get("spec")
            memo = None
            if not errors and (spec is template_spec or spec == template_spec):
                memo = self._template_memo(str(obj["apiVersion"]), template_spec)
            if memo is not None and memo.defaulted is not None:
                obj["spec"] = deep_copy(memo.defaulted)
                # The spec validated clean already: clean metadata make the pod valid.
                checked = memo.metadata_clean(obj)
            elif spec is template_spec:
                obj["spec"] = deep_copy(template_spec)  # the stored template is never changed
        if not checked:
            apply_defaults(obj)  # idempotent: an already defaulted spec stays as it is
            errors += validate(obj)
        if errors:
            raise ValidationError(info.kind, meta.get("name") or meta.get("generateName") or "", errors)
        with self._lock:
            self._admit_namespace(info, meta)
            key_ns = meta.get("namespace", "")
            # A generated name that happens to be taken is drawn again, as the API server retries.
            for _attempt in range(8):
                if not generated or self.store.get(info.group_resource, key_ns, meta["name"]) is None:
                    break
                meta["name"] = generate_name(meta["generateName"])
            if self.store.get(info.group_resource, key_ns, meta["name"]) is not None:
                raise AlreadyExists(f'{info.group_resource} "{meta["name"]}" already exists')
            for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(field, None)
            meta["creationTimestamp"] = format_time(self.clock.now())
            if info.kind not in _NO_SPEC_KINDS:
                meta["generation"] = 1
            self._prepare_create(info, obj)
            if dry_run:
                return obj if owned else deep_copy(obj)
            self._allocate(info, obj)
            stored = self.store.create(info.group_resource, obj)
        return stored if owned else deep_copy(stored)

    def _template_memo(self, api_version: str, template_spec: Obj) -> _TemplateMemo:
        """What defaulting and validation make of a stored pod template's spec (computed once)."""
        memos = self._templates
        memo = memos.get(id(template_spec))
        if memo is None or memo.spec is not template_spec:
            if len(memos) >= _TEMPLATE_SPECS_KEPT:
                memos.clear()
            memo = memos[id(template_spec)] = _TemplateMemo(api_version, template_spec)
        return memo

    def _admit_shape(self, obj: Obj, check_schema: bool) -> tuple[ResourceInfo, list[FieldError]]:
        if not isinstance(obj, dict):
            raise BadRequest("an object must be a mapping with apiVersion, kind and metadata")
        if not obj.get("apiVersion") or not obj.get("kind"):
            missing = [f for f in ("apiVersion", "kind") if not obj.get(f)]
            raise BadRequest("error validating data: [" + ", ".join(f"{m} not set" for m in missing) + "]")
        info = resources.for_kind(str(obj["apiVersion"]), str(obj["kind"]))
        errors: list[FieldError] = validate_schema(obj) if check_schema else []
        if not isinstance(obj.get("metadata", {}), dict):
            raise ValidationError(info.kind, "", [FieldError("metadata", CauseType.TYPE, "expected object")])
        return info, errors

    def _admit_namespace(self, info: ResourceInfo, meta: Obj) -> None:
        if not info.namespaced:
            return
        ns_name = meta["namespace"]
        ns = self.store.get("namespaces", "", ns_name)
        if ns is None:
            raise NotFound(f'namespaces "{ns_name}" not found')
        if ns["metadata"].get("deletionTimestamp") and info.kind != "Event":
            raise Forbidden(
                f'{info.kind.lower()}s "{meta.get("name", "")}" is forbidden: unable to create new content '
                f"in namespace {ns_name} because it is being terminated"
            )

    def _prepare_create(self, info: ResourceInfo, obj: Obj) -> None:
        """Kubernetes' PrepareForCreate: reset status to what a new object has."""
        kind = info.kind
        if kind == "Pod":
            obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj["spec"])}
        elif kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        elif kind in _STATUS_KINDS and kind != "Node":
            obj["status"] = {}

    def _allocate(self, info: ResourceInfo, obj: Obj) -> None:
        if info.kind == "Service":
            self._allocate_service(obj)
            if self.load_balancer_ip and obj["spec"].get("type") == "LoadBalancer":
                # Like k3s's servicelb, but at once: a learner never sees <pending>.
                ingress = [{"ip": self.load_balancer_ip, "ipMode": "VIP"}]
                obj["status"] = {"loadBalancer": {"ingress": ingress}}

    # -- service address allocation (Kubernetes does this in the registry) ------------

    def _remember_service(self, svc: Obj) -> None:
        ip = svc.get("spec", {}).get("clusterIP")
        if ip and ip != "None":
            self._allocated_ips.add(ip)
        for port in svc.get("spec", {}).get("ports", []):
            if port.get("nodePort"):
                self._allocated_node_ports.add(int(port["nodePort"]))

    def _allocate_service(self, svc: Obj, old: Obj | None = None) -> None:
        spec = svc["spec"]
        errors: list[FieldError] = []
        if old is None:
            ip = spec.get("clusterIP")
            if ip in (None, ""):
                ip = self._next_cluster_ip()
                spec["clusterIP"] = ip
            elif ip != "None":
                if ip in self._allocated_ips:
                    errors.append(
                        FieldError(
                            "spec.clusterIP", CauseType.INVALID, "provided IP is already allocated", ip
                        )
                    )
                elif ipaddress.ip_address(ip) not in self.service_cidr:
                    errors.append(
                        FieldError(
                            "spec.clusterIP",
                            CauseType.INVALID,
                            f"the provided IP ({ip}) is not in the valid range. "
                            f"The range of valid IPs is {self.service_cidr}",
                            ip,
                        )
                    )
            spec["clusterIPs"] = [spec["clusterIP"]]
        old_ports = {p.get("nodePort") for p in (old or {}).get("spec", {}).get("ports", [])}
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for index, port in enumerate(spec.get("ports", [])):
                node_port = port.get("nodePort")
                if not node_port:
                    port["nodePort"] = self._next_node_port()
                elif node_port not in old_ports and node_port in self._allocated_node_ports:
                    errors.append(
                        FieldError(
                            f"spec.ports[{index}].nodePort",
                            CauseType.INVALID,
                            "provided port is already allocated",
                            node_port,
                        )
                    )
        if errors:
            raise ValidationError("Service", svc["metadata"]["name"], errors)
        self._remember_service(svc)

    def _next_cluster_ip(self) -> str:
        # Kubernetes allocates at random; a sequence from .10 keeps tutorials readable.
        base = int(self.service_cidr.network_address)
        for offset in range(10, self.service_cidr.num_addresses - 1):
            candidate = str(ipaddress.ip_address(base + offset))
            if candidate not in self._allocated_ips:
                return candidate
        raise Forbidden("service IP range exhausted")

    def _next_node_port(self) -> int:
        # At random, like Kubernetes: two clusters in one kernel rarely try the same port,
        # and a port something else holds is skipped when the cluster really listens.
        start = self._node_port_random.randrange(len(NODE_PORT_RANGE))
        for offset in range(len(NODE_PORT_RANGE)):
            port = NODE_PORT_RANGE[(start + offset) % len(NODE_PORT_RANGE)]
            if port in self._allocated_node_ports:
                continue
            if self.node_port_free is not None and not self.node_port_free(port):
                continue
            # Taken at once, so a second port of the same Service gets another one.
            self._allocated_node_ports.add(port)
            return port
        raise Forbidden("node port range exhausted")

    def _release_service(self, svc: Obj) -> None:
        self._allocated_ips.discard(svc.get("spec", {}).get("clusterIP", ""))
        for port in svc.get("spec", {}).get("ports", []):
            self._allocated_node_ports.discard(port.get("nodePort") or 0)

    # -- update --------------------------------------------------------------

    def update(
        self,
        obj: Obj,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        validate_schema: bool = False,
        owned: bool = False,
    ) -> Obj:
        """Replace an object (``subresource="status"`` replaces only its status).

        A ``metadata.resourceVersion`` in ``obj`` that is not the stored one fails with
        Conflict; without one the update is unconditional, as for most built-in kinds.
        """
        if not owned:
            obj = deep_copy(obj)
        info, errors = self._admit_shape(obj, validate_schema)
        meta = obj.setdefault("metadata", {})
        namespace = self._namespace_for(info, meta.get("namespace"))
        with self.store.lock:
            current = self.store.get(info.group_resource, namespace, meta.get("name", ""))
            if current is None:
                raise NotFound(f'{info.group_resource} "{meta.get("name", "")}" not found')
            expected = meta.get("resourceVersion")
            if expected and expected != current["metadata"]["resourceVersion"]:
                raise Conflict(
                    f'Operation cannot be fulfilled on {info.group_resource} "{meta["name"]}": the object '
                    "has been modified; please apply your changes to the latest version and try again"
                )
            if subresource == "status":
                new = dict(current)
                new["metadata"] = dict(current["metadata"])
                new["status"] = obj.get("status", {})
            else:
                new = obj
                self._carry_over_metadata(info, new, current)
                to_storage_version(new)
                apply_defaults(new)
                errors += validate(new, old=current)
                if errors:
                    raise ValidationError(info.kind, meta["name"], errors)
                if info.kind in _STATUS_KINDS and "status" in current:
                    new["status"] = current["status"]
                if info.kind not in _NO_SPEC_KINDS and _spec_of(new) != _spec_of(current):
                    new["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
                if info.kind == "Service":
                    self._allocate_service(new, old=current)
            if dry_run:
                return deep_copy(new)
            if (
                subresource != "status"
                and new["metadata"].get("deletionTimestamp")
                and not new["metadata"].get("finalizers")
            ):
                return self._remove(info, new)
            stored = self.store.update(info.group_resource, new)
        return stored if owned else deep_copy(stored)

    def update_status(self, obj: Obj, *, owned: bool = False) -> Obj:
        return self.update(obj, subresource="status", owned=owned)

    def _carry_over_metadata(self, info: ResourceInfo, new: Obj, current: Obj) -> None:
        meta, old = new["metadata"], current["metadata"]
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if field in old:
                meta[field] = old[field]
            else:
                meta.pop(field, None)
        if info.namespaced:
            meta["namespace"] = old.get("namespace", "")
        else:
            meta.pop("namespace", None)
        # spec.nodeName is set only through the binding subresource.
        if info.kind == "Pod" and "nodeName" in current["spec"]:
            new.setdefault("spec", {})["nodeName"] = current["spec"]["nodeName"]

    def patch(
        self,
        resource: str | ResourceInfo,
        name: str,
        patch: Obj | list[Any],
        *,
        namespace: str | None = None,
        patch_type: str = "strategic",
        subresource: str | None = None,
        dry_run: bool = False,
        validate_schema: bool = True,
        api_version: str | None = None,
    ) -> Obj:
        """Patch with ``merge`` (RFC 7386), ``strategic`` or ``json`` (RFC 6902) semantics.

        ``api_version`` is the version the patch is written against (an older one such as
        ``autoscaling/v1``): the object is converted to it, patched, and stored converted back.
        """
        info = self.resource(resource)
        for _attempt in range(5):
            current = self.get(info, name, namespace=namespace)
            if api_version and api_version != current.get("apiVersion"):
                current = from_storage_version(current, api_version)
            if patch_type == "merge":
                patched = json_merge_patch(current, patch)  # type: ignore[arg-type]
            elif patch_type == "json":
                patched = json_patch(current, patch)  # type: ignore[arg-type]
            elif patch_type == "strategic":
                patched = strategic_merge_patch(current, patch, merge_keys_for(info.kind))  # type: ignore[arg-type]
            else:
                raise BadRequest(f"unknown patch type {patch_type!r}: use merge, strategic or json")
            if not isinstance(patched, dict):
                raise BadRequest("the patch did not produce an object")
            patched.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
            patched["metadata"]["name"] = name
            if validate_schema and subresource is None:
                schema_errors = validate_schema_for_patch(patched)
                if schema_errors:
                    raise ValidationError(info.kind, name, schema_errors)
            try:
                return self.update(patched, subresource=subresource, dry_run=dry_run, owned=True)
            except Conflict:
                continue
        raise Conflict(f'{info.group_resource} "{name}": too many concurrent changes, try again')

    # -- scale and binding subresources ------------------------------------------

    def get_scale(self, resource: str | ResourceInfo, name: str, *, namespace: str | None = None) -> Obj:
        info = self.resource(resource)
        if "scale" not in info.subresources:
            raise NotFound(f"the server could not find the requested resource ({info.group_resource}/scale)")
        obj = self.get(info, name, namespace=namespace)
        selector = obj["spec"].get("selector") or {}
        if isinstance(selector, dict) and ("matchLabels" in selector or "matchExpressions" in selector):
            selector_text = str(LabelSelector.from_dict(selector))
        else:
            selector_text = (
                ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
                if isinstance(selector, dict)
                else ""
            )
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                "name": name,
                "namespace": obj["metadata"].get("namespace", ""),
                "resourceVersion": obj["metadata"]["resourceVersion"],
                "uid": obj["metadata"]["uid"],
            },
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0), "selector": selector_text},
        }

    def scale(
        self,
        resource: str | ResourceInfo,
        name: str,
        replicas: int,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
    ) -> Obj:
        """Set ``spec.replicas`` through the scale subresource; returns the new Scale."""
        info = self.resource(resource)
        if "scale" not in info.subresources:
            raise BadRequest(f"cannot scale a {info.kind}: it has no scale subresource")
        if replicas < 0:
            raise ValidationError(
                "Scale",
                name,
                [
                    FieldError(
                        "spec.replicas", CauseType.INVALID, "must be greater than or equal to 0", replicas
                    )
                ],
            )
        for _attempt in range(5):
            obj = self.get(info, name, namespace=namespace)
            if resource_version and obj["metadata"]["resourceVersion"] != resource_version:
                raise Conflict(
                    f'Operation cannot be fulfilled on {info.group_resource} "{name}": the object '
                    "has been modified; please apply your changes to the latest version and try again"
                )
            obj["spec"]["replicas"] = replicas
            try:
                self.update(obj, owned=True)
                break
            except Conflict:
                if resource_version:
                    raise
        return self.get_scale(info, name, namespace=namespace)

    def bind(self, namespace: str, name: str, node_name: str) -> Obj:
        """The pods/binding subresource: set spec.nodeName once and mark PodScheduled."""
        with self.store.lock:
            pod = self.store.get("pods", namespace, name)
            if pod is None:
                raise NotFound(f'pods "{name}" not found')
            if pod["spec"].get("nodeName"):
                raise Conflict(f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"')
            if pod["metadata"].get("deletionTimestamp"):
                raise Conflict(f"pod {name} is being deleted, cannot be assigned to a host")
            new = dict(pod)
            new["metadata"] = dict(pod["metadata"])
            new["spec"] = dict(pod["spec"], nodeName=node_name)
            status = dict(pod.get("status", {}))
            status["conditions"] = _set_condition(
                status.get("conditions", []),
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": format_time(self.clock.now()),
                },
            )
            new["status"] = status
            return self.store.update("pods", new)

    # -- delete --------------------------------------------------------------

    def delete(
        self,
        resource: str | ResourceInfo,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete like the API server: graceful for scheduled pods, finalizers honoured.

        ``propagation_policy`` Foreground / Orphan add the matching finalizer; the
        garbage collector does the rest. Returns the object as it is after the call.
        """
        info = self.resource(resource)
        ns = self._namespace_for(info, namespace)
        if propagation_policy not in (None, "Background", "Foreground", "Orphan"):
            raise BadRequest(
                f'invalid propagationPolicy "{propagation_policy}": use Background, Foreground or Orphan'
            )
        with self.store.lock:
            current = self.store.get(info.group_resource, ns, name)
            if current is None:
                raise NotFound(f'{info.group_resource} "{name}" not found')
            if preconditions:
                if preconditions.get("uid") and preconditions["uid"] != current["metadata"].get("uid"):
                    raise Conflict(
                        f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                        f"UID in object meta: {current['metadata'].get('uid')}"
                    )
                if (
                    preconditions.get("resourceVersion")
                    and preconditions["resourceVersion"] != current["metadata"]["resourceVersion"]
                ):
                    raise Conflict(
                        f"Precondition failed: ResourceVersion in precondition: "
                        f"{preconditions['resourceVersion']}, ResourceVersion in object meta: "
                        f"{current['metadata']['resourceVersion']}"
                    )
            if dry_run:
                return deep_copy(current)
            new = deep_copy(current)
            meta = new["metadata"]
            finalizers = list(meta.get("finalizers") or [])
            if info.kind == "Namespace":
                if "kubernetes" not in (new.get("spec", {}).get("finalizers") or []) and not finalizers:
                    return self._remove(info, new)
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = format_time(self.clock.now())
                    new["status"] = {"phase": "Terminating"}
                    return deep_copy(self.store.update(info.group_resource, new))
                return deep_copy(current)
            if propagation_policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            elif propagation_policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            grace = self._grace_period(info, current, grace_period_seconds)
            if not finalizers and grace == 0:
                return self._remove(info, current)
            if meta.get("deletionTimestamp"):
                # Already terminating: a shorter grace period may still shorten it.
                old_grace = meta.get("deletionGracePeriodSeconds")
                if grace is not None and old_grace is not None and grace < old_grace:
                    meta["deletionGracePeriodSeconds"] = grace
                    if grace == 0 and not finalizers:
                        return self._remove(info, current)
                    return deep_copy(self.store.update(info.group_resource, new))
                if finalizers != (current["metadata"].get("finalizers") or []):
                    meta["finalizers"] = finalizers
                    return deep_copy(self.store.update(info.group_resource, new))
                return deep_copy(current)
            meta["finalizers"] = finalizers
            if not finalizers:
                meta.pop("finalizers")
            meta["deletionTimestamp"] = format_time(self.clock.now())
            meta["deletionGracePeriodSeconds"] = grace or 0
            return deep_copy(self.store.update(info.group_resource, new))

    def _grace_period(self, info: ResourceInfo, obj: Obj, requested: int | None) -> int:
        if info.kind != "Pod":
            return 0
        if not obj["spec"].get("nodeName"):
            return 0
        if obj.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(0, int(requested))
        return int(obj["spec"].get("terminationGracePeriodSeconds", 30))

    def _remove(self, info: ResourceInfo, obj: Obj) -> Obj:
        meta = obj["metadata"]
        gone = self.store.delete(info.group_resource, meta.get("namespace", ""), meta["name"])
        if info.kind == "Service":
            self._release_service(gone)
        return deep_copy(gone)

    def finalize_namespace(self, name: str) -> None:
        """Drop the ``kubernetes`` finalizer of a terminating namespace: it goes away."""
        with self.store.lock:
            ns = self.store.get("namespaces", "", name)
            if ns is None:
                return
            new = deep_copy(ns)
            new.get("spec", {}).pop("finalizers", None)
            if new["metadata"].get("finalizers"):
                self.store.update("namespaces", new)
            else:
                self.store.delete("namespaces", "", name)

    def remove_finalizer(
        self, resource: str | ResourceInfo, name: str, finalizer: str, *, namespace: str | None = None
    ) -> None:
        info = self.resource(resource)
        with self.store.lock:
            current = self.cached(info, name, namespace)
            if current is None:
                return
            finalizers = [f for f in current["metadata"].get("finalizers") or [] if f != finalizer]
            new = deep_copy(current)
            new["metadata"]["finalizers"] = finalizers
            if not finalizers:
                new["metadata"].pop("finalizers")
                if new["metadata"].get("deletionTimestamp"):
                    self._remove(info, new)
                    return
            self.store.update(info.group_resource, new)

    def all_namespaced_resources(self) -> Iterable[ResourceInfo]:
        return (info for info in resources.RESOURCES if info.namespaced and "list" in info.verbs)


class _TemplateMemo:
    """One pod template spec's defaulted form, if it validates clean, and the last pod
    metadata (but its name and uid) found clean for a pod made from it."""

    __slots__ = ("clean_metadata", "defaulted", "spec")

    def __init__(self, api_version: str, spec: Obj) -> None:
        probe = {
            "apiVersion": api_version,
            "kind": "Pod",
            "metadata": {"name": "template"},
            "spec": deep_copy(spec),
        }
        apply_defaults(probe)
        self.spec = spec
        #: None: the spec has problems, every pod from it is checked in full (same errors)
        self.defaulted: Obj | None = None if validate(probe) else probe["spec"]
        self.clean_metadata: Obj | None = None

    def metadata_clean(self, pod: Obj) -> bool:
        """Whether :func:`validate_metadata` finds nothing wrong with ``pod``'s metadata.

        Each field is checked on its own, so metadata equal to the last clean one but for
        the name (a controller's pods differ only in their generated name and uid) needs
        only its name checked.
        """
        meta = pod["metadata"]
        rest = {k: v for k, v in meta.items() if k != "name" and k != "uid"}
        if rest == self.clean_metadata:
            return name_is_valid(str(pod.get("kind")), _s(meta.get("name")))
        if validate_metadata(pod):
            return False
        self.clean_metadata = deep_copy(rest)
        return True


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def validate_schema_for_patch(obj: Obj) -> list[FieldError]:
    """Schema errors a patch introduced (status and server-set fields excluded)."""
    trimmed = {k: v for k, v in obj.items() if k != "status"}
    return validate_schema(trimmed)


def _spec_of(obj: Obj) -> Any:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _owner_uids(obj: Obj) -> list[str]:
    return [ref["uid"] for ref in obj["metadata"].get("ownerReferences") or () if "uid" in ref]


def _set_condition(conditions: list[Obj], condition: Obj) -> list[Obj]:
    out = [c for c in conditions if c.get("type") != condition["type"]]
    out.append(condition)
    return out


def _qos_class(spec: Obj) -> str:
    """Guaranteed / Burstable / BestEffort from the containers' requests and limits."""
    containers = list(spec.get("containers", [])) + list(spec.get("initContainers", []))
    any_set = False
    guaranteed = True
    for container in containers:
        res = container.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in limits or str(requests.get(name, limits.get(name))) != str(limits.get(name)):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
