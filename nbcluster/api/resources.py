"""The discovery table: every kind nbcluster serves, as ``kubectl api-resources`` lists it. No I/O.

``resolve("deploy")`` turns whatever a user types (plural, singular, short name, kind,
``kind.group``, ``plural.version.group``) into a :class:`ResourceInfo`; unknown names
raise :class:`~nbcluster.errors.UnknownResource` with kubectl's "did you mean" hint.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from nbcluster.errors import UnknownResource

__all__ = ["RESOURCES", "ResourceInfo", "all_resources", "for_kind", "resolve"]

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceInfo:
    """One row of ``kubectl api-resources -o wide``."""

    kind: str
    plural: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _ALL_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``deployments.apps`` / ``pods``: the key the store files objects under."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kubectl_name(self) -> str:
        """How kubectl names objects of this kind: ``deployment.apps`` / ``pod``."""
        return f"{self.singular}.{self.group}" if self.group else self.singular


def _r(
    kind: str,
    plural: str,
    group: str,
    version: str,
    namespaced: bool,
    short: tuple[str, ...] = (),
    *,
    verbs: tuple[str, ...] = _ALL_VERBS,
    all_category: bool = False,
    subresources: tuple[str, ...] = (),
) -> ResourceInfo:
    return ResourceInfo(
        kind=kind,
        plural=plural,
        group=group,
        version=version,
        namespaced=namespaced,
        short_names=short,
        verbs=verbs,
        categories=("all",) if all_category else (),
        subresources=subresources,
    )


_EVENT_VERBS = _ALL_VERBS
_BINDING_VERBS = ("create",)

#: Ordered as ``kubectl api-resources`` prints them (core group first, then by group).
RESOURCES: tuple[ResourceInfo, ...] = (
    _r("Binding", "bindings", "", "v1", True, verbs=_BINDING_VERBS),
    _r("ComponentStatus", "componentstatuses", "", "v1", False, ("cs",), verbs=("get", "list")),
    _r("ConfigMap", "configmaps", "", "v1", True, ("cm",)),
    _r("Endpoints", "endpoints", "", "v1", True, ("ep",)),
    _r("Event", "events", "", "v1", True, ("ev",), verbs=_EVENT_VERBS),
    _r("LimitRange", "limitranges", "", "v1", True, ("limits",)),
    _r(
        "Namespace",
        "namespaces",
        "",
        "v1",
        False,
        ("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=("status",),
    ),
    _r("Node", "nodes", "", "v1", False, ("no",), subresources=("status",)),
    _r("PersistentVolumeClaim", "persistentvolumeclaims", "", "v1", True, ("pvc",), subresources=("status",)),
    _r("PersistentVolume", "persistentvolumes", "", "v1", False, ("pv",), subresources=("status",)),
    _r(
        "Pod",
        "pods",
        "",
        "v1",
        True,
        ("po",),
        all_category=True,
        subresources=("status", "binding", "log", "exec", "eviction"),
    ),
    _r("PodTemplate", "podtemplates", "", "v1", True),
    _r(
        "ReplicationController",
        "replicationcontrollers",
        "",
        "v1",
        True,
        ("rc",),
        all_category=True,
        subresources=("status", "scale"),
    ),
    _r("ResourceQuota", "resourcequotas", "", "v1", True, ("quota",), subresources=("status",)),
    _r("Secret", "secrets", "", "v1", True),
    _r("ServiceAccount", "serviceaccounts", "", "v1", True, ("sa",)),
    _r("Service", "services", "", "v1", True, ("svc",), all_category=True, subresources=("status",)),
    _r("ControllerRevision", "controllerrevisions", "apps", "v1", True),
    _r("DaemonSet", "daemonsets", "apps", "v1", True, ("ds",), all_category=True, subresources=("status",)),
    _r(
        "Deployment",
        "deployments",
        "apps",
        "v1",
        True,
        ("deploy",),
        all_category=True,
        subresources=("status", "scale"),
    ),
    _r(
        "ReplicaSet",
        "replicasets",
        "apps",
        "v1",
        True,
        ("rs",),
        all_category=True,
        subresources=("status", "scale"),
    ),
    _r(
        "StatefulSet",
        "statefulsets",
        "apps",
        "v1",
        True,
        ("sts",),
        all_category=True,
        subresources=("status", "scale"),
    ),
    _r(
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "autoscaling",
        "v2",
        True,
        ("hpa",),
        all_category=True,
        subresources=("status",),
    ),
    _r("CronJob", "cronjobs", "batch", "v1", True, ("cj",), all_category=True, subresources=("status",)),
    _r("Job", "jobs", "batch", "v1", True, all_category=True, subresources=("status",)),
    _r("Lease", "leases", "coordination.k8s.io", "v1", True),
    _r("EndpointSlice", "endpointslices", "discovery.k8s.io", "v1", True),
    _r("Ingress", "ingresses", "networking.k8s.io", "v1", True, ("ing",), subresources=("status",)),
    _r("IngressClass", "ingressclasses", "networking.k8s.io", "v1", False),
    _r("NetworkPolicy", "networkpolicies", "networking.k8s.io", "v1", True, ("netpol",)),
    _r(
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "policy",
        "v1",
        True,
        ("pdb",),
        subresources=("status",),
    ),
    _r("ClusterRoleBinding", "clusterrolebindings", "rbac.authorization.k8s.io", "v1", False),
    _r("ClusterRole", "clusterroles", "rbac.authorization.k8s.io", "v1", False),
    _r("RoleBinding", "rolebindings", "rbac.authorization.k8s.io", "v1", True),
    _r("Role", "roles", "rbac.authorization.k8s.io", "v1", True),
    _r("PriorityClass", "priorityclasses", "scheduling.k8s.io", "v1", False, ("pc",)),
    _r("StorageClass", "storageclasses", "storage.k8s.io", "v1", False, ("sc",)),
)

#: Older apiVersions accepted on input (served as the preferred version, like a
#: conversion webhook-free API server would after conversion).
_ACCEPTED_VERSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("autoscaling", "HorizontalPodAutoscaler"): ("v2", "v1"),
    ("events.k8s.io", "Event"): ("v1",),
}

_BY_NAME: dict[str, list[ResourceInfo]] = {}
_BY_KIND: dict[tuple[str, str], ResourceInfo] = {}
_BY_GROUP_RESOURCE: dict[str, ResourceInfo] = {}


def _index() -> None:
    for info in RESOURCES:
        names = {info.plural, info.singular, info.kind.lower(), *info.short_names}
        for name in names:
            _BY_NAME.setdefault(name, []).append(info)
        for name in (info.plural, info.singular, info.kind.lower()):
            _BY_NAME.setdefault(f"{name}.{info.group}" if info.group else f"{name}.", []).append(info)
            if info.group:
                _BY_NAME.setdefault(f"{name}.{info.version}.{info.group}", []).append(info)
        _BY_KIND[(info.group, info.kind)] = info
        _BY_GROUP_RESOURCE[info.group_resource] = info


_index()


def all_resources() -> tuple[ResourceInfo, ...]:
    return RESOURCES


def resolve(name: str) -> ResourceInfo:
    """What ``kubectl get NAME`` would address: plural, singular, short name, ``kind.group``."""
    key = name.strip().lower()
    candidates = _BY_NAME.get(key)
    if candidates:
        return candidates[0]
    if key in _BY_GROUP_RESOURCE:
        return _BY_GROUP_RESOURCE[key]
    known = sorted({n for n in _BY_NAME if "." not in n})
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    suggestion = _BY_NAME[close[0]][0].plural if close else None
    raise UnknownResource(name, suggestion)


def for_kind(api_version: str, kind: str) -> ResourceInfo:
    """The resource an object's ``apiVersion`` + ``kind`` belongs to.

    Raises UnknownResource worded like kubectl: ``no matches for kind "Foo" in version "v1"``.
    """
    group, _, version = api_version.rpartition("/")
    info = _BY_KIND.get((group, kind))
    if info is not None:
        accepted = _ACCEPTED_VERSIONS.get((group, kind), (info.version,))
        if version in accepted:
            return info
    err = UnknownResource(kind)
    hint = ""
    close = difflib.get_close_matches(kind, [k for (_, k) in _BY_KIND], n=1, cutoff=0.6)
    if info is not None:
        hint = f'\n{kind} is served as apiVersion "{info.api_version}"'
    elif close and close[0] != kind:
        hint = f"\ndid you mean {close[0]}?"
    else:
        by_kind_other_group = [i for (g, k), i in _BY_KIND.items() if k == kind]
        if by_kind_other_group:
            hint = f'\n{kind} is served as apiVersion "{by_kind_other_group[0].api_version}"'
    err.message = (
        f'resource mapping not found for kind "{kind}" in version "{api_version}": '
        f'no matches for kind "{kind}" in version "{api_version}"{hint}'
    )
    err.args = (err.message,)
    return _raise(err)


def _raise(err: UnknownResource) -> ResourceInfo:
    raise err


def by_group_resource(group_resource: str) -> ResourceInfo:
    return _BY_GROUP_RESOURCE[group_resource]
