"""BackendTLSPolicy (gateway.networking.k8s.io/v1) and the ConfigMaps its CA certificates live in."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from portico.api.base import Group, Hostname, Kind, Model, ObjectName, PreciseHostname, Resource, SectionName

# AbsoluteURI in the spec: a scheme and a scheme-specific part (a SPIFFE id, say).
AbsoluteURI = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253, pattern=r"^(([^:/?#]+):)(//([^/?#]*))([^?#]*)(\?([^#]*))?(#(.*))?"),
]


class ConfigMap(Resource):
    data: dict[str, str] = Field(default_factory=dict)


class PolicyTargetReference(Model):
    group: Group
    kind: Kind
    name: ObjectName
    section_name: SectionName | None = None


class LocalObjectReference(Model):
    group: Group
    kind: Kind
    name: ObjectName


class SubjectAltName(Model):
    type: Literal["Hostname", "URI"]
    hostname: Hostname | None = None
    uri: AbsoluteURI | None = None

    @model_validator(mode="after")
    def _its_own_field(self) -> SubjectAltName:
        if self.type == "Hostname" and (not self.hostname or self.uri):
            raise ValueError("a Hostname subjectAltName sets hostname and not uri")
        if self.type == "URI" and (not self.uri or self.hostname):
            raise ValueError("a URI subjectAltName sets uri and not hostname")
        return self

    @property
    def value(self) -> str:
        return self.hostname or self.uri or ""


class BackendTLSPolicyValidation(Model):
    ca_certificate_refs: tuple[LocalObjectReference, ...] = Field((), max_length=8)
    well_known_ca_certificates: Literal["System", ""] | None = Field(None, alias="wellKnownCACertificates")
    hostname: PreciseHostname
    subject_alt_names: tuple[SubjectAltName, ...] = Field((), max_length=5)

    @model_validator(mode="after")
    def _one_source_of_trust(self) -> BackendTLSPolicyValidation:
        if self.ca_certificate_refs and self.well_known_ca_certificates:
            raise ValueError("must not contain both caCertificateRefs and wellKnownCACertificates")
        if not self.ca_certificate_refs and not self.well_known_ca_certificates:
            raise ValueError("must specify either caCertificateRefs or wellKnownCACertificates")
        return self


class BackendTLSPolicySpec(Model):
    target_refs: tuple[PolicyTargetReference, ...] = Field(min_length=1, max_length=16)
    validation: BackendTLSPolicyValidation
    options: dict[str, str] = Field(default_factory=dict, max_length=16)

    @model_validator(mode="after")
    def _distinct_targets(self) -> BackendTLSPolicySpec:
        seen: set[tuple[str, str, str, str | None]] = set()
        for ref in self.target_refs:
            key = (ref.group, ref.kind, ref.name, ref.section_name or None)
            if key in seen:
                raise ValueError(
                    "sectionName must be unique when targetRefs includes 2 or more references to the same target"
                )
            seen.add(key)
        return self


class BackendTLSPolicy(Resource):
    spec: BackendTLSPolicySpec

    @property
    def precedence(self) -> tuple[str, str]:
        """The spec's order among policies on one target: the older first, then by name."""
        return (self.metadata.creation_timestamp, self.metadata.name)
