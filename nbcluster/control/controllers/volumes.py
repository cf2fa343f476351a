"""The PersistentVolume controller and nbcluster's built-in local-path provisioner. No I/O
beyond the API server.

What Kubernetes' ``pkg/controller/volume/persistentvolume`` does, plus the part an
external provisioner (k3d's ``rancher.io/local-path``) plays, in one controller:

* **Default class.** :func:`ensure_default_storage_class` creates StorageClass
  ``standard`` (default-class annotation, provisioner ``nbcluster.io/local-path``,
  reclaimPolicy ``Delete``, volumeBindingMode ``Immediate``). Immediate is right here:
  every node of an nbcluster cluster shares the host's file system, so a volume is
  reachable from whichever node its pod lands on. The API server has no admission
  hook, so a claim created without ``storageClassName`` gets the default class from
  this controller -- what Kubernetes' retroactive default-class assignment does.
* **Binding.** An unbound claim binds to the smallest Available volume of its class
  that has its access modes, volume mode, enough capacity and matches its selector
  (a volume pre-bound to the claim wins). Both sides are written as Kubernetes does:
  ``pv.spec.claimRef``, ``pvc.spec.volumeName``, the ``pv.kubernetes.io/bind-completed``
  and ``bound-by-controller`` annotations, phase ``Bound``, the claim's capacity.
* **Provisioning.** A claim of a class whose provisioner is ``nbcluster.io/local-path``
  gets a volume ``pvc-<claim uid>`` with ``hostPath`` ``<root>/pvc-<uid>_<ns>_<claim>``
  (``DirectoryOrCreate``; the root is per cluster, passed by the control plane; the
  runtime makes the folder or Docker volume when a pod mounts it), events
  ``Provisioning`` and ``ProvisioningSucceeded`` "Successfully provisioned volume
  pvc-...". A class with ``WaitForFirstConsumer`` waits (event ``WaitForFirstConsumer``)
  until a pod using the claim is scheduled, then provisions with node affinity to that
  node. Other provisioners: ``ExternalProvisioning`` "waiting for a volume to be
  created, either by external provisioner ...". A missing class: ``ProvisioningFailed``
  ``storageclass.storage.k8s.io "x" not found``. No class at all (``""``):
  ``FailedBinding`` "no persistent volumes available for this claim and no storage
  class is set". Such claims stay ``Pending`` and are looked at again when a volume or
  a class appears.
* **Release.** When a bound claim goes, its volume is released: ``Delete`` removes the
  volume object (ours; others' fail with ``VolumeFailedDelete``), ``Retain`` leaves it
  ``Released``, ``Recycle`` makes it ``Available`` again. A bound claim whose volume
  is gone is ``Lost``.

Keys: ``namespace/name`` for a claim, ``name`` for a volume.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from nbcluster.api.quantities import memory_bytes
from nbcluster.api.selectors import LabelSelector
from nbcluster.control.controllers.base import Controller, object_key, split_key
from nbcluster.control.events import EventRecorder, EventType
from nbcluster.errors import AlreadyExists, NbClusterError, NotFound, ValidationError
from nbcluster.store import WatchEvent
from nbcluster.util.clock import format_time
from nbcluster.util.jsoncopy import deep_copy

__all__ = [
    "DEFAULT_CLASS_ANNOTATION",
    "DEFAULT_STORAGE_CLASS",
    "DEFAULT_STORAGE_ROOT",
    "LOCAL_PATH_PROVISIONER",
    "PersistentVolumeController",
    "default_storage_class",
    "ensure_default_storage_class",
    "local_path_for",
]

Obj = dict[str, Any]

LOCAL_PATH_PROVISIONER = "nbcluster.io/local-path"
DEFAULT_STORAGE_CLASS = "standard"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
_BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
#: Where volumes live when the control plane names no per-cluster folder
#: (local-path-provisioner's own default).
DEFAULT_STORAGE_ROOT = "/opt/local-path-provisioner"

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
_HOSTNAME_LABEL = "kubernetes.io/hostname"

PVC = "persistentvolumeclaims"
PV = "persistentvolumes"


def ensure_default_storage_class(api: Any) -> Obj:
    """Create StorageClass ``standard`` (the cluster's default) unless it exists; return it."""
    existing = api.cached("storageclasses", DEFAULT_STORAGE_CLASS)
    if existing is not None:
        return deep_copy(existing)  # type: ignore[no-any-return]
    try:
        return api.create(
            {  # type: ignore[no-any-return]
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": DEFAULT_STORAGE_CLASS,
                    "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
                },
                "provisioner": LOCAL_PATH_PROVISIONER,
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            },
            validate_schema=False,
        )
    except AlreadyExists:
        return api.get("storageclasses", DEFAULT_STORAGE_CLASS)  # type: ignore[no-any-return]


def _is_default(storage_class: Obj) -> bool:
    annotations = storage_class["metadata"].get("annotations") or {}
    return "true" in (
        annotations.get(DEFAULT_CLASS_ANNOTATION),
        annotations.get(_BETA_DEFAULT_CLASS_ANNOTATION),
    )


def default_storage_class(api: Any) -> Obj | None:
    """``GetDefaultClass``: the newest class marked default (ties: the first name), or None."""
    defaults = [sc for sc in api.cached_list("storageclasses") if _is_default(sc)]
    if not defaults:
        return None
    newest = max(sc["metadata"].get("creationTimestamp", "") for sc in defaults)
    return min(
        (sc for sc in defaults if sc["metadata"].get("creationTimestamp", "") == newest),
        key=lambda sc: sc["metadata"]["name"],
    )


def local_path_for(root: str, volume_name: str, claim: Obj) -> str:
    """local-path-provisioner's folder name: ``<root>/pvc-<uid>_<namespace>_<claim>``."""
    meta = claim["metadata"]
    return f"{root.rstrip('/')}/{volume_name}_{meta.get('namespace', 'default')}_{meta['name']}"


def _storage_request(claim: Obj) -> str | None:
    return (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def _bytes(quantity: Any) -> int:
    try:
        return memory_bytes(quantity) if quantity is not None else 0
    except (ValueError, ArithmeticError, NbClusterError):
        return 0


def _claim_ref(claim: Obj) -> Obj:
    meta = claim["metadata"]
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta.get("namespace", "default"),
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": "v1",
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def _ref_is(ref: Obj | None, claim: Obj) -> bool:
    """Whether a volume's claimRef points at this claim (a ref without uid: by name)."""
    if not ref:
        return False
    meta = claim["metadata"]
    if ref.get("name") != meta["name"] or (ref.get("namespace") or "default") != meta.get(
        "namespace", "default"
    ):
        return False
    return not ref.get("uid") or ref.get("uid") == meta["uid"]


def _phase(obj: Obj) -> str:
    return (obj.get("status") or {}).get("phase") or ""


class PersistentVolumeController(Controller):
    """Binds claims to volumes, provisions ``nbcluster.io/local-path`` volumes, reclaims them."""

    name: ClassVar[str] = "persistentvolume-controller"
    primary: ClassVar[str] = PVC

    def __init__(self, api: Any, clock: Any, *, storage_root: str | None = None, **kwargs: Any) -> None:
        super().__init__(api, clock, **kwargs)
        self.storage_root = str(storage_root) if storage_root else DEFAULT_STORAGE_ROOT
        #: The provisioner reports under its own name, as an external provisioner does.
        self.provisioner_events = EventRecorder(
            api, clock, LOCAL_PATH_PROVISIONER, enabled=self.events.enabled
        )

    # -- handlers -------------------------------------------------------------

    def setup(self) -> None:
        self.on(PVC, self._keys_for_claim)
        self.on(PV, self._keys_for_volume)
        self.on("storageclasses", self._keys_for_class)
        self.on("pods", self._claims_of_scheduled_pod)

    def initial_keys(self) -> list[str]:
        return [object_key(c) for c in self.api.cached_list(PVC)] + [
            object_key(v) for v in self.api.cached_list(PV)
        ]

    @staticmethod
    def _keys_for_claim(event: WatchEvent) -> list[str]:
        keys = [object_key(event.object)]
        volume = (event.object.get("spec") or {}).get("volumeName")
        if event.type == "DELETED" and volume:
            keys.append(volume)
        return keys

    @staticmethod
    def _keys_for_volume(event: WatchEvent) -> list[str]:
        keys = [event.object["metadata"]["name"]]
        ref = (event.object.get("spec") or {}).get("claimRef")
        if ref and ref.get("name"):
            keys.append(f"{ref.get('namespace') or 'default'}/{ref['name']}")
        return keys

    def _keys_for_class(self, event: WatchEvent) -> list[str]:
        if event.type == "DELETED":
            return []
        return [
            object_key(c) for c in self.api.cached_list(PVC) if not (c.get("spec") or {}).get("volumeName")
        ]

    @staticmethod
    def _claims_of_scheduled_pod(event: WatchEvent) -> list[str]:
        """A pod just scheduled may be the first consumer a WaitForFirstConsumer claim waits for."""
        if event.type != "MODIFIED" or event.old is None:
            return []
        spec = event.object.get("spec") or {}
        if not spec.get("nodeName") or (event.old.get("spec") or {}).get("nodeName"):
            return []
        namespace = event.object["metadata"].get("namespace", "default")
        return [
            f"{namespace}/{v['persistentVolumeClaim']['claimName']}"
            for v in spec.get("volumes") or ()
            if (v.get("persistentVolumeClaim") or {}).get("claimName")
        ]

    # -- sync -----------------------------------------------------------------

    def sync(self, key: str) -> float | None:
        if "/" in key:
            namespace, name = split_key(key)
            self._sync_claim(namespace, name)
        else:
            self._sync_volume(key)
        return None

    # -- claims -----------------------------------------------------------------

    def _sync_claim(self, namespace: str, name: str) -> None:
        claim = self.api.cached(PVC, name, namespace)
        if claim is None or claim["metadata"].get("deletionTimestamp"):
            return
        spec = claim.get("spec") or {}
        if spec.get("volumeName"):
            self._sync_bound_claim(claim, spec["volumeName"])
            return
        class_name = spec.get("storageClassName")
        if class_name is None:
            default = default_storage_class(self.api)
            if default is not None:
                class_name = default["metadata"]["name"]
                claim = self._assign_class(claim, class_name)
        volume = self._find_volume(claim, class_name or "")
        if volume is not None:
            self._bind(claim, volume)
            return
        if not class_name:
            self._pending(claim)
            self.events.event(
                claim,
                EventType.NORMAL,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            )
            return
        storage_class = self.api.cached("storageclasses", class_name)
        if storage_class is None:
            self._pending(claim)
            self.events.event(
                claim,
                EventType.WARNING,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
            )
            return
        node: str | None = None
        if storage_class.get("volumeBindingMode") == "WaitForFirstConsumer":
            node = self._selected_node(claim)
            if node is None:
                self._pending(claim)
                self.events.event(
                    claim,
                    EventType.NORMAL,
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding",
                )
                return
        provisioner = storage_class.get("provisioner") or ""
        self.events.event(
            claim,
            EventType.NORMAL,
            "ExternalProvisioning",
            f'waiting for a volume to be created, either by external provisioner "{provisioner}" '
            "or manually created by system administrator",
        )
        if provisioner == LOCAL_PATH_PROVISIONER:
            self._provision(claim, storage_class, node)
        else:
            self._pending(claim)

    def _assign_class(self, claim: Obj, class_name: str) -> Obj:
        """Give a claim without ``storageClassName`` the default class (retroactively)."""
        new = deep_copy(claim)
        new["spec"]["storageClassName"] = class_name
        try:
            return self.api.update(new, owned=True)  # type: ignore[no-any-return]
        except ValidationError:
            # An API server that refuses the change: bind with the class all the same.
            return claim

    def _selected_node(self, claim: Obj) -> str | None:
        """The node of the claim's first consumer (``volume.kubernetes.io/selected-node``)."""
        selected = (claim["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE)
        if selected:
            return str(selected)
        name = claim["metadata"]["name"]
        for pod in self.api.cached_list("pods", claim["metadata"].get("namespace", "default")):
            node = (pod.get("spec") or {}).get("nodeName")
            if node and any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == name
                for v in pod["spec"].get("volumes") or ()
            ):
                return str(node)
        return None

    def _find_volume(self, claim: Obj, class_name: str) -> Obj | None:
        """``findBestMatchForClaim``: a volume pre-bound to the claim, else the smallest fit."""
        spec = claim.get("spec") or {}
        request = _bytes(_storage_request(claim))
        modes = set(spec.get("accessModes") or ())
        volume_mode = spec.get("volumeMode") or "Filesystem"
        selector = LabelSelector.from_dict(spec["selector"]) if spec.get("selector") else None
        best: Obj | None = None
        best_size = 0
        for volume in self.api.cached_list(PV):
            if volume["metadata"].get("deletionTimestamp"):
                continue
            vspec = volume.get("spec") or {}
            ref = vspec.get("claimRef")
            if ref:
                if _ref_is(ref, claim):
                    return volume
                continue
            if _phase(volume) not in ("", "Available"):
                continue
            if (vspec.get("storageClassName") or "") != class_name:
                continue
            if not modes <= set(vspec.get("accessModes") or ()):
                continue
            if (vspec.get("volumeMode") or "Filesystem") != volume_mode:
                continue
            size = _bytes((vspec.get("capacity") or {}).get("storage"))
            if size < request:
                continue
            if selector is not None and not selector.matches(volume["metadata"].get("labels")):
                continue
            if best is None or size < best_size:
                best, best_size = volume, size
        return best

    def _sync_bound_claim(self, claim: Obj, volume_name: str) -> None:
        volume = self.api.cached(PV, volume_name)
        if volume is None:
            if _phase(claim) != "Lost":
                self._set_claim_status(claim, {"phase": "Lost"})
                self.events.event(
                    claim,
                    EventType.WARNING,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                )
            return
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref or _ref_is(ref, claim):
            self._bind(claim, volume)
            return
        if _phase(claim) != "Lost":
            self._set_claim_status(claim, {"phase": "Lost"})
            self.events.event(
                claim,
                EventType.WARNING,
                "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly",
            )

    def _pending(self, claim: Obj) -> Obj:
        if _phase(claim) == "Pending":
            return claim
        return self._set_claim_status(claim, {"phase": "Pending"})

    def _provision(self, claim: Obj, storage_class: Obj, node: str | None) -> None:
        meta = claim["metadata"]
        volume_name = f"pvc-{meta['uid']}"
        existing = self.api.cached(PV, volume_name)
        if existing is not None and _ref_is((existing.get("spec") or {}).get("claimRef"), claim):
            self._bind(claim, existing)
            return
        class_name = storage_class["metadata"]["name"]
        self.provisioner_events.event(
            claim,
            EventType.NORMAL,
            "Provisioning",
            f"External provisioner is provisioning volume for claim "
            f'"{meta.get("namespace", "default")}/{meta["name"]}"',
        )
        spec = claim.get("spec") or {}
        volume_spec: Obj = {
            "capacity": {"storage": _storage_request(claim) or "0"},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "hostPath": {
                "path": local_path_for(self.storage_root, volume_name, claim),
                "type": "DirectoryOrCreate",
            },
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "storageClassName": class_name,
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "claimRef": _claim_ref(claim),
        }
        if storage_class.get("mountOptions"):
            volume_spec["mountOptions"] = list(storage_class["mountOptions"])
        if node is not None:
            volume_spec["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": _HOSTNAME_LABEL, "operator": "In", "values": [node]}]}
                    ]
                }
            }
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": volume_name, "annotations": {ANN_PROVISIONED_BY: LOCAL_PATH_PROVISIONER}},
            "spec": volume_spec,
        }
        try:
            created = self.api.create(volume, owned=True, validate_schema=False)
        except NbClusterError as exc:
            self.provisioner_events.event(
                claim,
                EventType.WARNING,
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{class_name}": {exc}',
            )
            raise
        self.provisioner_events.event(
            claim, EventType.NORMAL, "ProvisioningSucceeded", f"Successfully provisioned volume {volume_name}"
        )
        self._bind(claim, created, provisioner=LOCAL_PATH_PROVISIONER)

    def _bind(self, claim: Obj, volume: Obj, *, provisioner: str | None = None) -> None:
        """``bind``: volume -> claim, volume Bound, claim -> volume, claim Bound (each only if needed)."""
        volume_name = volume["metadata"]["name"]
        spec = volume.get("spec") or {}
        if not _ref_is(spec.get("claimRef"), claim) or not (spec.get("claimRef") or {}).get("uid"):
            new = deep_copy(volume)
            new["spec"]["claimRef"] = _claim_ref(claim)
            new["metadata"].setdefault("annotations", {})[ANN_BOUND_BY_CONTROLLER] = "yes"
            volume = self.api.update(new, owned=True)
        volume = self._set_volume_phase(volume, "Bound")
        claim_spec = claim.get("spec") or {}
        annotations = claim["metadata"].get("annotations") or {}
        if (
            claim_spec.get("volumeName") != volume_name
            or annotations.get(ANN_BIND_COMPLETED) != "yes"
            or (provisioner and annotations.get(ANN_STORAGE_PROVISIONER) != provisioner)
        ):
            new = deep_copy(claim)
            new_annotations = new["metadata"].setdefault("annotations", {})
            if not claim_spec.get("volumeName"):
                new_annotations[ANN_BOUND_BY_CONTROLLER] = "yes"
            new_annotations[ANN_BIND_COMPLETED] = "yes"
            if provisioner:
                new_annotations[ANN_STORAGE_PROVISIONER] = provisioner
                new_annotations[ANN_BETA_STORAGE_PROVISIONER] = provisioner
            new["spec"]["volumeName"] = volume_name
            claim = self.api.update(new, owned=True)
        vspec = volume.get("spec") or {}
        status = dict(claim.get("status") or {})
        status.update(
            {
                "phase": "Bound",
                "accessModes": list(vspec.get("accessModes") or ()),
                "capacity": dict(vspec.get("capacity") or {}),
            }
        )
        if status != (claim.get("status") or {}):
            self._set_claim_status(claim, status)

    def _set_claim_status(self, claim: Obj, status: Obj) -> Obj:
        new = dict(claim)
        new["metadata"] = dict(claim["metadata"])
        new["status"] = status
        return self.api.update_status(new, owned=True)  # type: ignore[no-any-return]

    # -- volumes ------------------------------------------------------------------

    def _sync_volume(self, name: str) -> None:
        volume = self.api.cached(PV, name)
        if volume is None or volume["metadata"].get("deletionTimestamp"):
            return
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref:
            self._set_volume_phase(volume, "Available")
            return
        claim = self.api.cached(PVC, ref.get("name", ""), ref.get("namespace") or "default")
        if claim is not None and ref.get("uid") and claim["metadata"]["uid"] != ref["uid"]:
            claim = None  # a new claim with the old one's name
        if claim is None:
            if ref.get("uid"):
                self._release(volume)
            else:
                self._set_volume_phase(volume, "Available")  # pre-bound to a claim not made yet
            return
        bound_to = (claim.get("spec") or {}).get("volumeName")
        if bound_to == name:
            self._set_volume_phase(volume, "Bound")
            return
        if bound_to and (volume["metadata"].get("annotations") or {}).get(ANN_BOUND_BY_CONTROLLER) == "yes":
            # The claim went to another volume: undo our half of a binding.
            new = deep_copy(volume)
            new["spec"].pop("claimRef", None)
            new["metadata"]["annotations"].pop(ANN_BOUND_BY_CONTROLLER, None)
            self._set_volume_phase(self.api.update(new, owned=True), "Available")
            return
        self._set_volume_phase(volume, "Available")

    def _release(self, volume: Obj) -> None:
        """The claim is gone: reclaim the volume as its policy says."""
        name = volume["metadata"]["name"]
        policy = (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy") or "Retain"
        if policy == "Delete":
            if (volume["metadata"].get("annotations") or {}).get(
                ANN_PROVISIONED_BY
            ) == LOCAL_PATH_PROVISIONER:
                with contextlib.suppress(NotFound):
                    self.api.delete(PV, name)
                return
            message = (
                f'error getting deleter volume plugin for volume "{name}": no deletable volume plugin matched'
            )
            if _phase(volume) != "Failed":
                self.events.event(volume, EventType.WARNING, "VolumeFailedDelete", message)
            self._set_volume_phase(volume, "Failed", message)
            return
        if policy == "Recycle":
            new = deep_copy(volume)
            new["spec"].pop("claimRef", None)
            self._set_volume_phase(self.api.update(new, owned=True), "Available")
            self.events.event(volume, EventType.NORMAL, "VolumeRecycled", "Volume recycled")
            return
        self._set_volume_phase(volume, "Released")

    def _set_volume_phase(self, volume: Obj, phase: str, message: str | None = None) -> Obj:
        status = volume.get("status") or {}
        if status.get("phase") == phase and status.get("message") == message:
            return volume
        new_status: Obj = {"phase": phase, "lastPhaseTransitionTime": format_time(self.clock.now())}
        if message:
            new_status["message"] = message
        new = dict(volume)
        new["metadata"] = dict(volume["metadata"])
        new["status"] = new_status
        return self.api.update_status(new, owned=True)  # type: ignore[no-any-return]
