"""The Docker network's address plan (pure: no daemon)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from nbcluster.runtime.docker_network import CANDIDATE_SUBNETS, choose_subnet, host_routes, plan_for

net = ipaddress.IPv4Network


def test_a_slash_16_splits_into_services_below_and_pods_above() -> None:
    plan = plan_for("10.96.0.0/16")
    assert plan.service_cidr == net("10.96.0.0/17")
    assert plan.pod_range == net("10.96.128.0/17")
    assert plan.gateway == "10.96.128.1"
    assert plan.reserved == ("10.96.128.0",)
    assert plan.holds_service_ip("10.96.0.10") and not plan.holds_service_ip("10.96.128.5")
    assert not plan.holds_service_ip("None")


def test_the_first_candidate_free_of_networks_and_routes_is_chosen() -> None:
    assert choose_subnet([]) == net("10.96.0.0/16")
    # A default route overlaps everything and is ignored; a /8 VPN route takes every candidate.
    assert choose_subnet([net("0.0.0.0/0"), net("172.17.0.0/16")]) == net("10.96.0.0/16")
    assert choose_subnet([net("10.96.0.0/16"), net("10.97.5.0/24")]) == net("10.98.0.0/16")
    assert choose_subnet([net("10.0.0.0/8")]) is None
    assert len(CANDIDATE_SUBNETS) == 16 and all(n.subnet_of(net("10.96.0.0/12")) for n in CANDIDATE_SUBNETS)


def test_host_routes_are_read_from_procfs_format(tmp_path: Path) -> None:
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
        "tun0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n"
    )
    assert host_routes(table) == [net("0.0.0.0/0"), net("172.17.0.0/16"), net("10.0.0.0/8")]
    assert host_routes(tmp_path / "missing") == []
