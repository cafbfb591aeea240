"""The operator runtime: kopf handlers feed a store, a bus runs one worker per Gateway,
one status writer patches what changed. `portico run` starts it; see docs/operator.md."""

from portico.handlers.runtime import Operator, OperatorConfig

__all__ = ["Operator", "OperatorConfig"]
