"""Container runtimes behind one CRI-like interface: docker, process, simulated."""

from nbcluster.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    ImagePullError,
    Mount,
    PodSandboxConfig,
    ProbeResult,
    Runtime,
    SandboxInfo,
)

__all__ = [
    "ContainerConfig",
    "ContainerState",
    "ContainerStats",
    "ContainerStatus",
    "ExecResult",
    "ImagePullError",
    "Mount",
    "PodSandboxConfig",
    "ProbeResult",
    "Runtime",
    "SandboxInfo",
]
