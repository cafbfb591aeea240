"""Typed, validated views of the Kubernetes objects Portico reads."""

from portico.api.snapshot import Snapshot, Unreadable, build_snapshot

__all__ = ["Snapshot", "Unreadable", "build_snapshot"]
