"""HTTP/1.1 for the server's own front door: sans-IO requests and responses.

Only what the engine's endpoints need is read here: a request line, header
fields and a body of declared length. Anything else HTTP allows (chunked
bodies, ``Expect: 100-continue``, HTTP/1.0, absolute targets, percent-encoded
paths, other methods) is flagged as a hand-over, and the host gives the
connection, bytes untouched, to a general HTTP server. Malformed input is an
:class:`HeadError` carrying the status to answer with before closing.

    reader = RequestReader(max_head=8192)
    reader.feed(data)
    head = reader.head()            # None until the blank line arrives
    body = reader.body(head.content_length)   # None until it all arrived
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qsl

from ..errors import RealtimeError

MAX_HEAD: Final = 8192
"""Default bound on a request line plus header fields, as aiohttp's per line."""

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_REQUEST_LINE: Final = re.compile(rf"({_TOKEN}) (\S+) HTTP/(\d)\.(\d)")
# One field line: a token, a colon, and a value free of CR, LF and NUL.
# Anchored at line starts, so a head is well formed exactly when every line
# matches (obsolete line folding, bare CR or LF, and spaces before the colon
# all fail, which RFC 9112 lets a server answer with 400).
# The value is matched greedily and its trailing blanks are stripped after:
# a lazy value followed by ``[ \t]*`` retried the blank run at every
# position, quadratic in a run of spaces. This pattern cannot backtrack
# inside a line: leading blanks can only be the first part's, and the value
# runs to the line's end in one step.
_FIELD_LINE: Final = re.compile(
    rf"^({_TOKEN}):[ \t]*((?:[^\r\n\0 \t][^\r\n\0]*)?)\r$", re.MULTILINE
)
_SERVED_METHODS: Final = frozenset(("GET", "POST", "OPTIONS"))


class HeadError(RealtimeError):
    """A request the front door answers with ``status`` and then closes."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class RequestLine:
    method: str
    path: str
    query_string: str
    handover: str | None
    """Why a general HTTP server must serve this request, or None."""


@dataclass(slots=True)
class RequestHead:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    """Lower-case names; repeated fields joined with ", "."""
    content_length: int
    close: bool
    """The client asked to close the connection after this request."""
    handover: str | None
    size: int
    """Bytes of the head in the buffer, blank line included."""


def parse_request_line(line: str) -> RequestLine:
    parts = line.split(" ")
    if len(parts) == 3:
        method, target, version = parts
        # The requests the door serves, without a regular expression.
        if (
            version == "HTTP/1.1"
            and method in _SERVED_METHODS
            and target[:1] == "/"
            and target.isprintable()
        ):
            path, _, query_string = target.partition("?")
            return RequestLine(
                method, path, query_string, "percent-encoded path" if "%" in path else None
            )
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise HeadError(400, "malformed request line")
    method, target, major, minor = match.groups()
    path, _, query_string = target.partition("?")
    handover = None
    if (major, minor) != ("1", "1"):
        if major != "1":
            raise HeadError(505, "HTTP version not supported")
        handover = "HTTP/1.0"
    elif not path.startswith("/"):
        handover = "not an origin-form target"
    elif "%" in path:
        handover = "percent-encoded path"
    elif method not in _SERVED_METHODS:
        handover = "method"
    return RequestLine(method, path, query_string, handover)


class RequestReader:
    """Buffers one connection's input and cuts it into requests."""

    __slots__ = ("buffer", "max_head")

    def __init__(self, max_head: int = MAX_HEAD) -> None:
        self.max_head = max_head
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def _skip_blank_lines(self) -> None:
        # RFC 9112 asks servers to ignore empty lines before a request: old
        # browsers (IE up to 6) sent a CRLF after each POST body.
        while self.buffer.startswith(b"\r\n"):
            del self.buffer[:2]

    def request_line(self) -> RequestLine | None:
        """The first line of the buffered request, if complete; the head
        itself may still be arriving. Lets a host route on the path before
        the header fields (which may be large for other servers) arrive."""
        self._skip_blank_lines()
        end = self.buffer.find(b"\r\n", 0, self.max_head)
        if end < 0:
            if len(self.buffer) >= self.max_head:
                raise HeadError(414, "request line too long")
            return None
        return parse_request_line(self.buffer[:end].decode("latin-1"))

    def head(self) -> RequestHead | None:
        """The next request's head, or None while its blank line has not
        arrived. The head stays in the buffer (for a hand-over, untouched)
        until :meth:`discard` takes it."""
        buffer = self.buffer
        if buffer[:1] == b"\r":
            self._skip_blank_lines()
        end = buffer.find(b"\r\n\r\n", 0, self.max_head + 4)
        if end < 0:
            if len(buffer) >= self.max_head + 4:
                raise HeadError(431, "request header fields too large")
            return None
        text = buffer[: end + 2].decode("latin-1")
        line_end = text.index("\r\n")
        line = parse_request_line(text[:line_end])
        fields = text[line_end + 2 :]
        pairs = [(name.lower(), value.rstrip(" \t")) for name, value in _FIELD_LINE.findall(fields)]
        if len(pairs) != fields.count("\n"):
            raise HeadError(400, "malformed header field")
        headers = dict(pairs)
        if len(headers) < len(pairs):  # a repeated field: join its values
            headers = {}
            for name, value in pairs:
                headers[name] = headers[name] + ", " + value if name in headers else value
        return RequestHead(
            line.method,
            line.path,
            line.query_string,
            headers,
            _content_length(headers),
            _wants_close(headers),
            line.handover or _field_handover(headers),
            end + 4,
        )

    def discard(self, size: int) -> None:
        del self.buffer[:size]

    def body(self, size: int) -> bytes | None:
        """The next ``size`` bytes, taken from the buffer once all arrived."""
        buffer = self.buffer
        if len(buffer) < size:
            return None
        body = bytes(buffer[:size])
        del buffer[:size]
        return body

    def take_all(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _content_length(headers: Mapping[str, str]) -> int:
    raw = headers.get("content-length")
    if raw is None:
        return 0
    # isdigit() alone admits "²" and other non-ASCII digits; repeated fields
    # (joined with ", ") fail here too, as RFC 9112 asks.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 15:
        raise HeadError(400, "bad Content-Length")
    return int(raw)


def _wants_close(headers: Mapping[str, str]) -> bool:
    connection = headers.get("connection")
    return connection is not None and "close" in connection.lower().replace(" ", "").split(",")


def _field_handover(headers: Mapping[str, str]) -> str | None:
    if "transfer-encoding" in headers:
        return "Transfer-Encoding"
    if "expect" in headers:
        return "Expect"
    return None


def parse_query(query_string: str) -> dict[str, str]:
    """``a=1&b=2`` as a dict (the first of repeated names wins, as in
    aiohttp's ``dict(request.query)``, so both hosts route a request alike);
    blank values kept."""
    query: dict[str, str] = {}
    if "%" in query_string or "+" in query_string:
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            query.setdefault(name, value)
        return query
    for pair in query_string.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            if name not in query:
                query[name] = value
    return query


_REASONS: Final = {status.value: status.phrase for status in HTTPStatus}


def response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    date: str,
    close: bool,
) -> bytes:
    """A whole response, head and body, ready for one write."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"]
    for name, value in headers.items():
        lines.append(f"{name}: {value}\r\n")
    if status >= 200 and status not in (204, 304):
        lines.append(f"Content-Length: {len(body)}\r\n")
    lines.append(f"Date: {date}\r\n")
    if close:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    head = "".join(lines).encode("latin-1", "replace")  # never raise mid-answer
    return head + body if body else head


def error_response(status: int, reason: str, date: str) -> bytes:
    """A plain-text error that closes the connection."""
    body = reason.encode("utf-8", "replace")
    return response(
        status, {"Content-Type": "text/plain; charset=utf-8"}, body, date=date, close=True
    )
