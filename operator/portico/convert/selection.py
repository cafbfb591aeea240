"""Which Ingresses ingress-nginx would serve, in the order it reads them.

ingress-nginx (store `IsValid`): the legacy `kubernetes.io/ingress.class` annotation is checked
first, then `spec.ingressClassName` (an IngressClass whose controller is `k8s.io/ingress-nginx`
and whose name is one of ours); an Ingress with neither is ours only when our IngressClass is
marked default. Ingresses are then sorted by creationTimestamp, oldest first, which is what
decides who wins when two claim the same host and path.
"""

from __future__ import annotations

from collections.abc import Sequence

from portico.convert.model import NGINX_CONTROLLER, Ingress, Inputs
from portico.convert.report import Finding, Outcome


def _ours(inputs: Inputs, class_names: Sequence[str], name: str) -> bool:
    known = inputs.classes.get(name)
    # Without the IngressClass object in the input, the name is all there is to go on.
    return name in class_names and (known is None or known.controller == NGINX_CONTROLLER)


def select(inputs: Inputs, class_names: Sequence[str]) -> tuple[list[Ingress], list[Finding]]:
    selected: list[Ingress] = []
    findings: list[Finding] = []
    defaults = sorted(c.name for c in inputs.classes.values() if c.is_default and c.controller == NGINX_CONTROLLER)
    for ing in inputs.ingresses:
        if ing.legacy_class is not None:
            ok = ing.legacy_class in class_names
            why = f"kubernetes.io/ingress.class {ing.legacy_class!r}"
        elif ing.class_name is not None:
            ok = _ours(inputs, class_names, ing.class_name)
            why = f"ingressClassName {ing.class_name!r}"
        else:
            ok = any(d in class_names for d in defaults)
            why = "no class, and no default IngressClass of ingress-nginx"
        if not ok:
            findings.append(
                Finding(
                    ing.key,
                    "class",
                    Outcome.IGNORED,
                    f"{why} is not served by ingress-nginx ({', '.join(class_names)}): skipped",
                )
            )
            continue
        if ing.legacy_class is not None:
            findings.append(
                Finding(ing.key, "class", Outcome.EXACT, "legacy kubernetes.io/ingress.class annotation honoured")
            )
        selected.append(ing)
    selected.sort(key=lambda i: (i.created or "~", i.key))
    return selected, findings
