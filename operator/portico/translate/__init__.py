"""Pure translation of Gateway API objects into Portico's IR and the statuses the spec defines.

No I/O, no kopf, no cloud SDK: the import linter enforces it.
"""

from portico.translate.core import TranslateResult, translate
from portico.translate.gateways import DEFAULT_CAPABILITIES

__all__ = ["DEFAULT_CAPABILITIES", "TranslateResult", "translate"]
