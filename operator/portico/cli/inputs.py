"""What the offline commands say about their input beyond parsing it: objects the API server would
refuse (unknown versions, wrong-case kinds, duplicates) are errors; objects Portico will not act on
are listed on stderr, so a run that prints `items: []` always says why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from portico.api import Snapshot
from portico.api.base import GATEWAY_GROUP
from portico.manifests import Manifest, ManifestError

PORTICO_GROUP = "portico.dev"
# Versions the CRDs serve (Gateway API standard channel; Portico's own CRD).
SERVED: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    GATEWAY_GROUP: {
        "GatewayClass": ("v1", "v1beta1"),
        "Gateway": ("v1", "v1beta1"),
        "HTTPRoute": ("v1", "v1beta1"),
        "GRPCRoute": ("v1",),
        "TLSRoute": ("v1", "v1alpha3", "v1alpha2"),
        "TCPRoute": ("v1", "v1alpha2"),
        "UDPRoute": ("v1", "v1alpha2"),
        "ListenerSet": ("v1",),
        "ReferenceGrant": ("v1", "v1beta1"),
        "BackendTLSPolicy": ("v1",),
    },
    PORTICO_GROUP: {"GatewayParameters": ("v1alpha1",)},
}
CLUSTER_SCOPED = {(GATEWAY_GROUP, "GatewayClass"), ("", "Namespace"), ("", "Node"), ("", "PersistentVolume")}
STATUS_KINDS = (
    "GatewayClass",
    "Gateway",
    "ListenerSet",
    "HTTPRoute",
    "GRPCRoute",
    "TLSRoute",
    "TCPRoute",
    "UDPRoute",
)
# Kinds Portico reads outside its own groups: anything else is counted as ignored.
READ_ELSEWHERE = {
    ("", "Service"),
    ("", "Secret"),
    ("", "ConfigMap"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "Pod"),
    ("discovery.k8s.io", "EndpointSlice"),
}
CHART_HINT = "the Helm chart installs the GatewayClass; add its manifest with -f to see these objects' status"


def group_and_version(obj: Mapping[str, Any]) -> tuple[str, str]:
    api_version = str(obj["apiVersion"])
    group, _, version = api_version.rpartition("/")
    return group, version


def identity(manifest: Manifest) -> tuple[str, str, str, str]:
    group, _ = group_and_version(manifest.obj)
    kind = str(manifest.obj["kind"])
    meta = manifest.obj["metadata"]
    namespace = "" if (group, kind) in CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return group, kind, namespace, str(meta["name"])


def _check_kind_and_version(manifest: Manifest) -> str | None:
    """A kind or version of Portico's groups that no CRD serves (kubectl would say "no matches")."""
    group, version = group_and_version(manifest.obj)
    kinds = SERVED.get(group)
    if kinds is None:
        return None
    kind = str(manifest.obj["kind"])
    if kind not in kinds:
        wanted = next((k for k in kinds if k.lower() == kind.lower()), None)
        if wanted is not None:
            return f"kind: {kind!r} is not a {group} kind (kinds are case-sensitive: {wanted!r})"
        return None  # a kind of the group Portico does not serve: reported as ignored
    if version not in kinds[kind]:
        return f"apiVersion: {group}/{version} does not serve {kind} (served: {', '.join(kinds[kind])})"
    return None


def _duplicate_listener(manifest: Manifest) -> str | None:
    """Gateway listeners are a list keyed by name: the API server refuses a repeated name."""
    spec = manifest.obj.get("spec")
    listeners = spec.get("listeners") if isinstance(spec, dict) else None
    if manifest.obj["kind"] != "Gateway" or not isinstance(listeners, list):
        return None
    first: dict[object, int] = {}
    for index, listener in enumerate(listeners):
        name = listener.get("name") if isinstance(listener, dict) else None
        if isinstance(name, str) and first.setdefault(name, index) != index:
            return (
                f"spec.listeners[{index}].name: duplicate value {name!r} (spec.listeners[{first[name]}] has it; "
                "listeners are keyed by name)"
            )
    return None


def check_manifests(manifests: Sequence[Manifest]) -> None:
    """Raise ManifestError for the first object the API server would refuse, or a duplicate."""
    seen: dict[tuple[str, str, str, str], Manifest] = {}
    for manifest in manifests:
        problem = _check_kind_and_version(manifest) or _duplicate_listener(manifest)
        if problem is not None:
            raise ManifestError(f"{manifest.where}: {problem}")
        key = identity(manifest)
        first = seen.setdefault(key, manifest)
        if first is not manifest:
            _, kind, namespace, name = key
            shown = f"{namespace}/{name}" if namespace else name
            raise ManifestError(f"{manifest.where}: duplicate {kind} {shown}, first defined at {first.where}")


def _why_no_status(manifest: Manifest, snapshot: Snapshot) -> str:
    _, kind, namespace, name = identity(manifest)
    spec = manifest.obj.get("spec")
    if kind == "Gateway" and isinstance(spec, dict):
        class_name = spec.get("gatewayClassName")
        found = snapshot.gateway_classes.get(str(class_name))
        if found is None:
            return f"GatewayClass {class_name!r} is not in the input"
        return f"GatewayClass {class_name!r} belongs to controller {found.spec.controller_name!r}"
    if kind == "ListenerSet" and isinstance(spec, dict) and isinstance(spec.get("parentRef"), dict):
        ref = spec["parentRef"]
        parent = f"{ref.get('namespace') or namespace}/{ref.get('name')}"
        return f"parentRef Gateway {parent} is not a Gateway of a Portico GatewayClass in the input"
    if kind == "GatewayClass" and isinstance(spec, dict):
        return f"controllerName {spec.get('controllerName')!r} is not a Portico controller"
    for bad in snapshot.unreadable:
        if (bad.kind, bad.namespace, bad.name) == (kind, namespace or "default", name):
            return f"unreadable ({bad.message}) and not attached to a Portico Gateway in the input"
    if not isinstance(spec, dict):
        return "spec: not a mapping"
    return "no parentRef names a Gateway of a Portico GatewayClass in the input"


def ignored_notes(
    manifests: Sequence[Manifest], snapshot: Snapshot, statuses: Mapping[tuple[str, str, str], object]
) -> list[str]:
    """One stderr line per Gateway API object that gets no status, one summary line for other kinds."""
    notes: list[str] = []
    others: Counter[str] = Counter()
    class_missing = False
    for manifest in manifests:
        group, kind, namespace, name = identity(manifest)
        if group in SERVED and kind in STATUS_KINDS:
            if (kind, namespace, name) not in statuses:
                why = _why_no_status(manifest, snapshot)
                class_missing = class_missing or why.endswith("is not in the input")
                shown = f"{namespace}/{name}" if namespace else name
                notes.append(f"{manifest.where}: ignored {kind} {shown}: {why}")
        elif group in SERVED and kind not in SERVED[group]:
            notes.append(f"{manifest.where}: ignored {kind} {name}: Portico does not implement this kind")
        elif group not in SERVED and (group, kind) not in READ_ELSEWHERE:
            others[kind] += 1
    if others:
        kinds = ", ".join(f"{kind} ({count})" if count > 1 else kind for kind, count in sorted(others.items()))
        notes.append(f"ignored {sum(others.values())} object(s) of kinds Portico does not read: {kinds}")
    if class_missing:
        notes.append(f"hint: {CHART_HINT}")
    return notes
