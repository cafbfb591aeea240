"""Portico providers, one sub-package per cloud plus the in-cluster proxy."""
