"""The event bus: namespaces, rooms, broadcast and acknowledgements.

Works on socket ids and encoded packets only; it never sees a transport and
never waits (timeouts are entries in the engine's deadline heap).
"""

from .acks import AckTable
from .adapter import Adapter, AdapterHost, MemoryAdapter
from .namespaces import NamespaceTable, normalize
from .requests import BroadcastFlags, BroadcastOptions, RequestKind, SocketDetails

__all__ = [
    "AckTable",
    "Adapter",
    "AdapterHost",
    "BroadcastFlags",
    "BroadcastOptions",
    "MemoryAdapter",
    "NamespaceTable",
    "RequestKind",
    "SocketDetails",
    "normalize",
]
