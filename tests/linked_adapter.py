"""A cluster of servers in one process: the smallest cluster adapter.

Each :class:`LinkedAdapter` publishes every server-wide operation to the
adapters of the same namespace on the other servers of its :class:`Cluster`
as the typed requests of :mod:`realtime.bus.requests`, and those answer
through :meth:`MemoryAdapter.serve`, as a Redis adapter's nodes would: the
broker is a list of peers, delivery is synchronous, and each reply is handed
straight back. It exists to prove that the adapter interface carries every
operation across nodes; it is not a broker anyone should deploy.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from realtime.bus.adapter import (
    AdapterHost,
    Deliver,
    MemoryAdapter,
    MessageFactory,
    OnCount,
    OnReply,
    OnServerReplies,
)
from realtime.bus.requests import (
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    BroadcastOptions,
    BroadcastWithAck,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsReply,
    Reply,
    Request,
    ServerSideEmit,
    ServerSideEmitReply,
    SocketDetails,
    SocketsJoin,
    SocketsLeave,
)
from realtime.protocol.socketio import Packet

_ids = itertools.count()


class Cluster:
    def __init__(self) -> None:
        self.adapters: list[LinkedAdapter] = []
        self.published: list[Request] = []

    def adapter_class(self) -> type[LinkedAdapter]:
        cluster = self

        class Bound(LinkedAdapter):
            def __init__(
                self,
                nsp: str,
                deliver: Deliver,
                make_message: MessageFactory,
                host: AdapterHost | None = None,
            ) -> None:
                super().__init__(nsp, deliver, make_message, host)
                self.cluster = cluster
                cluster.adapters.append(self)

        return Bound


class LinkedAdapter(MemoryAdapter):
    cluster: Cluster

    def _others(self) -> list[LinkedAdapter]:
        return [a for a in self.cluster.adapters if a is not self and a.nsp == self.nsp]

    def _publish(self, request: Request, respond: Any = None) -> None:
        self.cluster.published.append(request)
        for other in self._others():
            other.serve(request, respond or (lambda reply: None))

    def broadcast(self, packet: Packet, options: BroadcastOptions) -> int:
        if not options.flags.local:
            self._publish(Broadcast(self.nsp, packet, options))
        return super().broadcast(packet, options)

    def broadcast_with_ack(
        self, packet: Packet, options: BroadcastOptions, on_count: OnCount, on_reply: OnReply
    ) -> int:
        if not options.flags.local:
            request_id = f"r{next(_ids)}"

            def respond(reply: Reply) -> None:
                assert getattr(reply, "request_id", None) == request_id
                if isinstance(reply, BroadcastClientCount):
                    on_count(reply.client_count)
                elif isinstance(reply, BroadcastAck):
                    on_reply(reply.value)

            self._publish(BroadcastWithAck(self.nsp, packet, options, request_id), respond)
        super().broadcast_with_ack(packet, options, on_count, on_reply)
        return 1 if options.flags.local else 1 + len(self._others())

    async def fetch_sockets(self, options: BroadcastOptions) -> list[SocketDetails]:
        found = await super().fetch_sockets(options)
        if not options.flags.local:
            replies: list[Reply] = []
            self._publish(FetchSockets(self.nsp, options, f"r{next(_ids)}"), replies.append)
            for reply in replies:
                assert isinstance(reply, FetchSocketsReply)
                # As if serialized: another node's data is a copy, not the object.
                wire = [json.loads(json.dumps(s.to_json())) for s in reply.sockets]
                found.extend(SocketDetails.from_json(s) for s in wire)
        return found

    def add_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        if not options.flags.local:
            self._publish(SocketsJoin(self.nsp, options, tuple(rooms)))
        super().add_sockets(options, rooms)

    def del_sockets(self, options: BroadcastOptions, rooms: Sequence[str]) -> None:
        if not options.flags.local:
            self._publish(SocketsLeave(self.nsp, options, tuple(rooms)))
        super().del_sockets(options, rooms)

    def disconnect_sockets(self, options: BroadcastOptions, close: bool) -> None:
        if not options.flags.local:
            self._publish(DisconnectSockets(self.nsp, options, close))
        super().disconnect_sockets(options, close)

    def server_side_emit(
        self,
        args: Sequence[Any],
        on_replies: OnServerReplies | None = None,
        timeout: float | None = None,
    ) -> None:
        if on_replies is None:
            self._publish(ServerSideEmit(self.nsp, tuple(args)))
            return
        replies: list[Any] = []
        expected = len(self._others())

        def respond(reply: Reply) -> None:
            assert isinstance(reply, ServerSideEmitReply)
            replies.append(reply.value)
            if len(replies) == expected:
                on_replies(None, replies)

        if expected == 0:
            on_replies(None, [])
            return
        self._publish(ServerSideEmit(self.nsp, tuple(args), f"r{next(_ids)}"), respond)

    async def server_count(self) -> int:
        return 1 + len(self._others())
