"""The pure protocol core: codecs, the session state machine, deadlines."""

from __future__ import annotations

from . import socketio as _socketio

# True in a build whose hot modules are mypyc-compiled extensions
# (REALTIME_COMPILE=1, see setup.py); the same behaviour, less time per
# message. Defined here, at the bottom, so that every layer may read it.
COMPILED: bool = not str(_socketio.__file__).endswith(".py")
