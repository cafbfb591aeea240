"""Limits both AWS data planes share (the helpers themselves are the kit's)."""

from __future__ import annotations

MAX_WEIGHT = 999  # ALB and Lattice target group weights run 0-999
