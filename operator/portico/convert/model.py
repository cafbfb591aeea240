"""The input of `portico convert`: Ingresses and what they refer to, read from plain dicts.

Parsing never raises: a field that cannot be read becomes a problem message on the Ingress, and the
converter reports it instead of crashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
NGINX_CONTROLLER = "k8s.io/ingress-nginx"
# The names the ingress-nginx Helm chart and the static manifests give the controller's ConfigMap.
CONTROLLER_CONFIGMAP_NAMES = frozenset({"ingress-nginx-controller", "nginx-configuration"})


@dataclass(frozen=True)
class Backend:
    """An Ingress backend: a Service port (by number or by name), or a resource we cannot convert."""

    service: str | None
    port_number: int | None = None
    port_name: str | None = None
    resource: str | None = None


@dataclass(frozen=True)
class IngressPath:
    path: str
    path_type: str  # Exact | Prefix | ImplementationSpecific
    backend: Backend
    where: str  # spec.rules[i].http.paths[j]


@dataclass(frozen=True)
class IngressRule:
    host: str  # "" = every host
    paths: tuple[IngressPath, ...]


@dataclass(frozen=True)
class IngressTLS:
    hosts: tuple[str, ...]
    secret_name: str


@dataclass(frozen=True)
class Ingress:
    namespace: str
    name: str
    created: str  # RFC 3339; "" when unknown (sorts last)
    class_name: str | None
    legacy_class: str | None
    annotations: Mapping[str, str]
    rules: tuple[IngressRule, ...]
    tls: tuple[IngressTLS, ...]
    default_backend: Backend | None
    problems: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def nginx(self, name: str) -> str | None:
        """The value of `nginx.ingress.kubernetes.io/<name>`, stripped, or None."""
        value = self.annotations.get(ANNOTATION_PREFIX + name)
        return None if value is None else str(value).strip()

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.nginx(name)
        return default if value is None else value.lower() == "true"

    @property
    def nginx_annotations(self) -> list[str]:
        return sorted(k.removeprefix(ANNOTATION_PREFIX) for k in self.annotations if k.startswith(ANNOTATION_PREFIX))

    @property
    def is_canary(self) -> bool:
        return self.flag("canary")


@dataclass(frozen=True)
class IngressClass:
    name: str
    controller: str
    is_default: bool


@dataclass(frozen=True)
class ServicePort:
    name: str | None
    port: int
    app_protocol: str | None


@dataclass
class Inputs:
    """Everything the converter reads, by (namespace, name)."""

    ingresses: list[Ingress] = field(default_factory=list)
    classes: dict[str, IngressClass] = field(default_factory=dict)
    services: dict[tuple[str, str], tuple[ServicePort, ...]] = field(default_factory=dict)
    secrets: set[tuple[str, str]] = field(default_factory=set)
    configmaps: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    controller_config: dict[str, str] = field(default_factory=dict)


def _meta(obj: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    return str(meta.get("namespace") or "default"), str(meta.get("name") or ""), meta


def _backend(raw: Any, where: str, problems: list[str]) -> Backend | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: a backend must be an object")
        return None
    if isinstance(raw.get("resource"), dict):
        res = raw["resource"]
        return Backend(service=None, resource=f"{res.get('kind', '?')}/{res.get('name', '?')}")
    service = raw.get("service")
    if not isinstance(service, dict) or not service.get("name"):
        problems.append(f"{where}.service.name: required")
        return None
    port = service.get("port") if isinstance(service.get("port"), dict) else {}
    assert isinstance(port, dict)
    number = port.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 65536):
        problems.append(f"{where}.service.port.number: must be 1-65535 (got {number!r})")
        return None
    name = port.get("name")
    if number is None and not name:
        problems.append(f"{where}.service.port: needs a number or a name")
        return None
    return Backend(service=str(service["name"]), port_number=number, port_name=str(name) if name else None)


def _rules(spec: Mapping[str, Any], problems: list[str]) -> tuple[IngressRule, ...]:
    rules: list[IngressRule] = []
    for i, raw in enumerate(spec.get("rules") or []):
        if not isinstance(raw, dict):
            problems.append(f"spec.rules[{i}]: must be an object")
            continue
        http = raw.get("http") if isinstance(raw.get("http"), dict) else {}
        assert isinstance(http, dict)
        paths: list[IngressPath] = []
        for j, p in enumerate(http.get("paths") or []):
            where = f"spec.rules[{i}].http.paths[{j}]"
            if not isinstance(p, dict):
                problems.append(f"{where}: must be an object")
                continue
            path_type = str(p.get("pathType") or "ImplementationSpecific")
            if path_type not in ("Exact", "Prefix", "ImplementationSpecific"):
                problems.append(
                    f"{where}.pathType: must be Exact, Prefix or ImplementationSpecific (got {path_type!r})"
                )
                continue
            path = str(p.get("path") or "/")
            if path_type != "ImplementationSpecific" and not path.startswith("/"):
                problems.append(f"{where}.path: must be an absolute path (got {path!r})")
                continue
            backend = _backend(p.get("backend"), f"{where}.backend", problems)
            if backend is not None:
                paths.append(IngressPath(path, path_type, backend, where))
        rules.append(IngressRule(str(raw.get("host") or "").lower(), tuple(paths)))
    return tuple(rules)


def parse_ingress(obj: Mapping[str, Any]) -> Ingress:
    namespace, name, meta = _meta(obj)
    problems: list[str] = []
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    assert isinstance(annotations, dict)
    tls = tuple(
        IngressTLS(tuple(str(h).lower() for h in t.get("hosts") or []), str(t.get("secretName") or ""))
        for t in spec.get("tls") or []
        if isinstance(t, dict)
    )
    default = spec.get("defaultBackend")
    return Ingress(
        namespace=namespace,
        name=name,
        created=str(meta.get("creationTimestamp") or ""),
        class_name=str(spec["ingressClassName"]) if spec.get("ingressClassName") else None,
        legacy_class=str(annotations[LEGACY_CLASS_ANNOTATION]) if annotations.get(LEGACY_CLASS_ANNOTATION) else None,
        annotations={str(k): str(v) for k, v in annotations.items()},
        rules=_rules(spec, problems),
        tls=tls,
        default_backend=_backend(default, "spec.defaultBackend", problems) if default is not None else None,
        problems=tuple(problems),
    )


def _service_ports(obj: Mapping[str, Any]) -> tuple[ServicePort, ...]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    ports: list[ServicePort] = []
    for p in spec.get("ports") or []:
        if isinstance(p, dict) and isinstance(p.get("port"), int):
            ports.append(ServicePort(p.get("name"), int(p["port"]), p.get("appProtocol")))
    return tuple(ports)


def _is_controller_configmap(name: str, meta: Mapping[str, Any]) -> bool:
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    assert isinstance(labels, dict)
    by_label = labels.get("app.kubernetes.io/name") == "ingress-nginx" and (
        labels.get("app.kubernetes.io/component") == "controller"
    )
    return by_label or name in CONTROLLER_CONFIGMAP_NAMES


def read_inputs(objects: Iterable[Mapping[str, Any]]) -> Inputs:
    """Sort the objects the converter understands into `Inputs`; everything else is ignored."""
    out = Inputs()
    for obj in objects:
        kind, api = obj.get("kind"), str(obj.get("apiVersion", ""))
        namespace, name, meta = _meta(obj)
        if kind == "Ingress" and api.startswith("networking.k8s.io/"):
            out.ingresses.append(parse_ingress(obj))
        elif kind == "IngressClass" and api.startswith("networking.k8s.io/"):
            spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
            assert isinstance(spec, dict)
            annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
            assert isinstance(annotations, dict)
            default = str(annotations.get(DEFAULT_CLASS_ANNOTATION, "")).lower() == "true"
            out.classes[name] = IngressClass(name, str(spec.get("controller") or ""), default)
        elif kind == "Service" and api == "v1":
            out.services[(namespace, name)] = _service_ports(obj)
        elif kind == "Secret" and api == "v1":
            out.secrets.add((namespace, name))
        elif kind == "ConfigMap" and api == "v1":
            data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
            assert isinstance(data, dict)
            values = {str(k): str(v) for k, v in data.items()}
            out.configmaps[(namespace, name)] = values
            if _is_controller_configmap(name, meta):
                out.controller_config = values
    return out
