"""File descriptors: raise the soft limit to the hard one, and size the connection caps from it.

Every client connection holds one descriptor and usually one more to its backend; the caps keep
the process under its limit by design, so running out is a refusal (503), never a crash.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger("portico.proxy")

FD_RESERVE = 64  # listeners, the admin port, config and secret files, logs, the event loop itself
DEFAULT_MAX_CONNECTIONS = 10000  # when the limit is unknown or unlimited


def raise_nofile_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard not in (resource.RLIM_INFINITY, soft):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the file descriptor limit from %d to %d: %s", soft, hard, exc)
    return soft


def max_connections_for(nofile: int) -> int:
    """Client connections plus backend connections: four fifths of what the reserve leaves, so the
    backend connections of admitted clients still fit in the last fifth (see upstream_cap)."""
    if nofile == resource.RLIM_INFINITY or nofile <= 0:
        return DEFAULT_MAX_CONNECTIONS
    return max(8, (nofile - FD_RESERVE) * 4 // 5)


def upstream_cap(max_connections: int) -> int:
    """Backend connections may still open until clients plus backends reach this."""
    return max_connections + max_connections // 4
