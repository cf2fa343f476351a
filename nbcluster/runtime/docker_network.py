"""The address plan of a cluster's Docker network. Pure, except :func:`host_routes` (reads
``/proc/net/route``).

Each cluster gets one user-defined bridge network with a /16 of its own, split in two:

* the lower /17 is the **service CIDR**: the API server allocates ClusterIPs there, and the
  Docker runtime gives each Service's in-cluster forwarder exactly that address, so the
  ClusterIP a learner sees in ``get svc`` is the address pods really connect to;
* the upper /17 is the **pod range** (Docker's ``ip_range``): sandboxes get their pod IPs
  there; its first address is the gateway (the host's side of the bridge).

The /16 is the first of ``10.96.0.0/16`` … ``10.111.0.0/16`` (Kubernetes' default service
range, 10.96.0.0/12) that overlaps no other Docker network and no route of the host, so the
cluster changes nothing on the host beyond its own network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CANDIDATE_SUBNETS", "NetworkPlan", "choose_subnet", "host_routes", "plan_for"]

IPv4Network = ipaddress.IPv4Network

#: Where cluster networks go: one /16 each, inside Kubernetes' default service range.
CANDIDATE_SUBNETS: tuple[IPv4Network, ...] = tuple(
    ipaddress.IPv4Network(f"10.{second}.0.0/16") for second in range(96, 112)
)


@dataclass(frozen=True)
class NetworkPlan:
    subnet: IPv4Network
    service_cidr: IPv4Network
    pod_range: IPv4Network
    gateway: str
    #: Addresses Docker must not hand to a container (the pod range's network address).
    reserved: tuple[str, ...]

    def holds_service_ip(self, ip: str) -> bool:
        try:
            return ipaddress.ip_address(ip) in self.service_cidr
        except ValueError:
            return False


def plan_for(subnet: IPv4Network | str) -> NetworkPlan:
    """The plan of a /16 (or any network of at least /29): services below, pods above."""
    network = ipaddress.IPv4Network(subnet)
    services, pods = network.subnets(prefixlen_diff=1)
    return NetworkPlan(
        subnet=network,
        service_cidr=services,
        pod_range=pods,
        gateway=str(pods.network_address + 1),
        reserved=(str(pods.network_address),),
    )


def choose_subnet(taken: Iterable[IPv4Network]) -> IPv4Network | None:
    """The first candidate /16 that overlaps none of ``taken`` (None when all do)."""
    used = [net for net in taken if net.prefixlen > 0]  # a default route overlaps everything
    for candidate in CANDIDATE_SUBNETS:
        if not any(candidate.overlaps(net) for net in used):
            return candidate
    return None


def host_routes(path: str | Path = "/proc/net/route") -> list[IPv4Network]:
    """The host's IPv4 routes (destination/mask), empty where the file does not exist."""
    try:
        lines = Path(path).read_text().splitlines()[1:]
    except OSError:
        return []
    routes = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            # The kernel prints addresses as little-endian hex words.
            destination = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
            mask = ipaddress.IPv4Address(int(fields[7], 16).to_bytes(4, "little"))
            routes.append(ipaddress.IPv4Network(f"{destination}/{mask}", strict=False))
        except ValueError:
            continue
    return routes
