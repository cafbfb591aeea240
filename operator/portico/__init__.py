"""Portico: the Kubernetes Gateway API on any cloud, or on Portico's own proxy."""

__version__ = "0.1.0"
