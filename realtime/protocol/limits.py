"""Rate and count limits per client address and per connection. Sans-I/O:
every method takes ``now``; nothing here sleeps or schedules.

A limit table keyed by something a client chooses (its address) is itself
bounded: :class:`AddressTable` holds at most ``max_addresses`` entries and
forgets the idle ones first, so a client cycling through addresses (IPv6
makes that cheap) costs the server a fixed amount.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Final

MAX_ADDRESSES: Final = 65_536


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one per action."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one; False when the rate is exceeded."""
        tokens = self.tokens + (now - self.stamp) * self.rate
        self.stamp = now
        if tokens > self.burst:
            tokens = self.burst
        if tokens < 1.0:
            self.tokens = tokens
            return False
        self.tokens = tokens - 1.0
        return True

    def retry_after(self) -> float:
        """Seconds until the next token, from the last ``take``."""
        return max(0.0, (1.0 - self.tokens) / self.rate) if self.rate > 0 else 60.0


class _AddressEntry:
    __slots__ = ("bucket", "connections")

    def __init__(self, bucket: TokenBucket | None) -> None:
        self.connections = 0
        self.bucket = bucket


class AddressTable:
    """Open connections and the handshake rate of each client address."""

    def __init__(
        self,
        *,
        max_connections: int | None,
        handshake_rate: float | None,
        handshake_burst: int,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.max_connections = max_connections
        self.handshake_rate = handshake_rate
        self.handshake_burst = handshake_burst
        self.max_addresses = max_addresses
        self._entries: OrderedDict[str, _AddressEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self.max_connections is not None or self.handshake_rate is not None

    def refusal(self, address: str, now: float) -> tuple[str, float] | None:
        """Why a handshake from ``address`` is refused now (with a retry
        delay in seconds), or None when it may go ahead; a handshake that
        may go ahead has spent its token."""
        entry = self._entries.get(address)
        if entry is None:
            bucket = (
                TokenBucket(self.handshake_rate, self.handshake_burst, now)
                if self.handshake_rate is not None
                else None
            )
            entry = self._insert(address, _AddressEntry(bucket))
        else:
            self._entries.move_to_end(address)
        if self.max_connections is not None and entry.connections >= self.max_connections:
            return "too many connections from this address", 10.0
        if entry.bucket is not None and not entry.bucket.take(now):
            return "too many handshakes from this address", entry.bucket.retry_after()
        return None

    def opened(self, address: str) -> None:
        entry = self._entries.get(address)
        if entry is None:
            entry = self._insert(address, _AddressEntry(None))
        entry.connections += 1

    def closed(self, address: str) -> None:
        entry = self._entries.get(address)
        if entry is not None and entry.connections > 0:
            entry.connections -= 1

    def connections(self, address: str) -> int:
        entry = self._entries.get(address)
        return entry.connections if entry is not None else 0

    def _insert(self, address: str, entry: _AddressEntry) -> _AddressEntry:
        entries = self._entries
        if len(entries) >= self.max_addresses:
            # Forget the least recently seen address without open
            # connections (its bucket is refilled by now, or nearly); if
            # every entry has connections, the oldest goes anyway: its count
            # restarts from zero, a bounded leniency rather than unbounded memory.
            victim = next((a for a, e in entries.items() if e.connections == 0), None)
            del entries[victim if victim is not None else next(iter(entries))]
        entries[address] = entry
        return entry


def client_address(
    peer: str | None, headers: Mapping[str, str], trusted_proxies: frozenset[str]
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy,
    then the nearest untrusted address of ``X-Forwarded-For`` (proxies
    append, so the right end is the one a trusted proxy wrote)."""
    address = peer or ""
    if address not in trusted_proxies:
        return address
    forwarded = headers.get("x-forwarded-for")
    if not forwarded:
        return address
    for hop in reversed(forwarded.split(",")):
        hop = hop.strip()
        if hop and hop not in trusted_proxies:
            return hop
    return address


def proxies(addresses: Iterable[str] | None) -> frozenset[str]:
    return frozenset(addresses or ())
