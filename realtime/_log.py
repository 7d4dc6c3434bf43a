"""Logging of peer misbehaviour: once per kind, never a traceback.

A broken or hostile client can send the same bad packet thousands of times;
the log should say so once, at a level an operator can leave enabled.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("realtime")

_seen: set[str] = set()
_MAX_KINDS = 256  # the set of kinds is small in practice; bound it anyway


def log_once(kind: str, message: str, *args: object, level: int = logging.WARNING) -> None:
    """Log ``message`` the first time ``kind`` happens; later ones at DEBUG."""
    if kind in _seen or len(_seen) >= _MAX_KINDS:
        logger.debug(message, *args)
        return
    _seen.add(kind)
    logger.log(level, message + " (further ones are logged at DEBUG)", *args)
