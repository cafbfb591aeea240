"""`portico convert`: ingress-nginx Ingresses -> Gateway API objects that route the same requests to
the same backends with the same paths, and a report of every difference. Pure: no I/O."""

from portico.convert.core import Result, convert
from portico.convert.report import Finding, Outcome, report_document, report_text
from portico.convert.state import Options

__all__ = ["Finding", "Options", "Outcome", "Result", "convert", "report_document", "report_text"]
