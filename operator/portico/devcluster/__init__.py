"""An embedded Kubernetes API for tests, the demo and benchmarks: kmock's emulator plus what
it leaves out (resourceVersion, generation, uid, optimistic concurrency, a few controllers)."""

from portico.devcluster.emulator import ClusterEmulator, declare_resources

__all__ = ["ClusterEmulator", "declare_resources"]
