"""The event bus: namespaces, rooms, broadcast and acknowledgements.

Works on socket ids and encoded packets only; it never sees a transport and
never waits (timeouts are entries in the engine's deadline heap).
"""

from .acks import AckTable
from .adapter import Adapter, BroadcastOptions, MemoryAdapter
from .namespaces import NamespaceTable, normalize

__all__ = [
    "AckTable",
    "Adapter",
    "BroadcastOptions",
    "MemoryAdapter",
    "NamespaceTable",
    "normalize",
]
