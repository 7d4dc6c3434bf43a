"""Coverage-guided fuzzing (atheris, libFuzzer) of the four readers that take
a client's bytes first: the Engine.IO decoders, the Socket.IO decoder, the
WebSocket frame reader and the front door's HTTP head reader.

Each target accepts any input. It fails (a crash libFuzzer reports, with the
input saved) on an exception other than the reader's own refusal, and on
growth past the reader's bound: what a reader holds after an input is
checked against its limit, so unbounded buffering counts as a crash too.

    python tests/fuzz/atheris_targets.py TARGET [libFuzzer options] [CORPUS...]

``tests/fuzz/test_atheris.py`` runs every target for a fixed number of runs
from the committed corpus (``tests/fuzz/corpus/TARGET``) in ``make test``;
``make fuzz`` runs each for longer (``FUZZ_SECONDS``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from realtime.errors import DecodeError
    from realtime.protocol import engineio as eio
    from realtime.protocol.socketio import Decoder, MalformedPacket
    from realtime.transports import http1, polling
    from realtime.transports import websocket as ws
    from realtime.transports.deflate import MessageDeflate, PerMessageDeflate, negotiate

MAX_SIZE = 4096  # the frame reader's message bound in the fuzzed runs
MAX_FRAGMENTS = 16
MAX_HEAD = 1024


def _chunks(data: bytes, fdp: atheris.FuzzedDataProvider) -> list[bytes]:
    """``data`` cut where the provider says: every split must read alike."""
    cuts = sorted({fdp.ConsumeIntInRange(0, len(data)) for _ in range(fdp.ConsumeIntInRange(0, 4))})
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return pieces


def engineio(data: bytes) -> None:
    """Every Engine.IO decoder of both revisions: a packet or DecodeError."""
    fdp = atheris.FuzzedDataProvider(data)
    protocol = 3 if fdp.ConsumeBool() else 4
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    text = body.decode("utf-8", "replace")
    for decode in (
        lambda: eio.decode_text(text, protocol),
        lambda: eio.decode_ws(text, protocol),
        lambda: eio.decode_ws(body, protocol),
        lambda: eio.decode_payload_v3(text),
        lambda: eio.decode_payload_v4(text),
        lambda: eio.decode_binary_payload_v3(body),
        lambda: polling.decode_body(body, "application/octet-stream", protocol),
    ):
        with contextlib.suppress(DecodeError):
            decode()


def socketio(data: bytes) -> None:
    """A Socket.IO decoder fed text and binary messages: packets or
    MalformedPacket, never more attachments held than it allows."""
    fdp = atheris.FuzzedDataProvider(data)
    decoder = Decoder(5 if fdp.ConsumeBool() else 4, max_attachments=3)
    while fdp.remaining_bytes():
        size = fdp.ConsumeIntInRange(0, 256)
        try:
            if fdp.ConsumeBool():
                decoder.feed(fdp.ConsumeUnicodeNoSurrogates(size))
            else:
                decoder.feed(fdp.ConsumeBytes(size))
        except MalformedPacket:
            return
        if len(decoder._buffers) > decoder.max_attachments:
            raise AssertionError(f"{len(decoder._buffers)} attachments held")


def _frame_stream(fdp: atheris.FuzzedDataProvider) -> bytes:
    """Frames built from the input: first byte (FIN, RSV, opcode) and size as
    the input says, masked unless it says not. Random bytes would almost
    never get past the mask check; these reach the message logic."""
    stream = bytearray()
    while fdp.remaining_bytes() > 1:
        first = fdp.ConsumeInt(1) & 0xFF
        flags = fdp.ConsumeInt(1) & 0xFF
        payload = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))
        size = len(payload)
        mask = 0 if flags & 0x80 else 0x80
        if size < 126 and not flags & 0x01:
            stream += bytes((first, mask | size))
        elif size < 65536 and not flags & 0x02:
            stream += bytes((first, mask | 126)) + size.to_bytes(2, "big")
        else:  # the longest encoding, legal for any size
            stream += bytes((first, mask | 127)) + size.to_bytes(8, "big")
        key = bytes((flags, flags >> 1, 0x5A, 0xA5))
        stream += key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes(stream)


def _deflate() -> MessageDeflate:
    agreement = negotiate("permessage-deflate", PerMessageDeflate())
    assert agreement is not None
    return MessageDeflate(agreement)


def frames(data: bytes) -> None:
    """The RFC 6455 reader in any chunking, with permessage-deflate or
    without: events or FrameError, never more held than one message's bound
    plus one frame header, never a message inflated past the bound."""
    fdp = atheris.FuzzedDataProvider(data)
    built = fdp.ConsumeBool()
    deflate = _deflate() if fdp.ConsumeBool() else None
    stream = _frame_stream(fdp) if built else fdp.ConsumeBytes(fdp.remaining_bytes())
    reader = ws.FrameReader(MAX_SIZE, MAX_FRAGMENTS, deflate)
    for piece in _chunks(stream, atheris.FuzzedDataProvider(data[-8:])):
        try:
            events = reader.feed(piece)
        except ws.FrameError:
            return
        for event in events:
            if isinstance(event, (str, bytes)) and len(event) > MAX_SIZE:
                raise AssertionError(f"a message of {len(event)} bytes")
        held = len(reader._buffer) + len(reader._fragments)
        if held > MAX_SIZE + 14 + len(piece) or reader._fragment_count > MAX_FRAGMENTS:
            raise AssertionError(f"{held} bytes, {reader._fragment_count} fragments held")


def head(data: bytes) -> None:
    """The front door's head reader: a head, HeadError or "not yet", and a
    head never parsed past ``max_head``."""
    reader = http1.RequestReader(MAX_HEAD)
    for piece in _chunks(data, atheris.FuzzedDataProvider(data[:8])):
        reader.feed(piece)
        try:
            reader.request_line()
            parsed = reader.head()
        except http1.HeadError:
            return
        if parsed is not None:
            if parsed.size > MAX_HEAD + 4:
                raise AssertionError(f"a head of {parsed.size} bytes")
            http1.parse_query(parsed.query_string)
            reader.discard(parsed.size)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "engineio": engineio,
    "socketio": socketio,
    "frames": frames,
    "head": head,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
