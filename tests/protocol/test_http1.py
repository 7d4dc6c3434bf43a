"""The front door's HTTP/1.1 reader and response writer, without sockets."""

from __future__ import annotations

import pytest
import yarl
from hypothesis import given
from hypothesis import strategies as st

from realtime.transports import http1

POLL = (
    b"GET /socket.io/?EIO=4&transport=polling&t=Pa1b2c HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8000\r\n"
    b"Accept: */*\r\n"
    b"Origin: http://example.com\r\n"
    b"\r\n"
)
POST = (
    b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Content-Type: text/plain;charset=UTF-8\r\n"
    b"Content-Length: 11\r\n"
    b"\r\n"
    b'42["hi",1]\n'
)


def read_head(data: bytes, max_head: int = http1.MAX_HEAD) -> http1.RequestHead | None:
    reader = http1.RequestReader(max_head)
    reader.feed(data)
    return reader.head()


def head_error(data: bytes, max_head: int = http1.MAX_HEAD) -> http1.HeadError:
    with pytest.raises(http1.HeadError) as caught:
        read_head(data, max_head)
    return caught.value


def test_a_polling_get() -> None:
    head = read_head(POLL)
    assert head is not None
    assert (head.method, head.path) == ("GET", "/socket.io/")
    assert head.query_string == "EIO=4&transport=polling&t=Pa1b2c"
    assert head.headers == {
        "host": "127.0.0.1:8000",
        "accept": "*/*",
        "origin": "http://example.com",
    }
    assert (head.content_length, head.close, head.handover) == (0, False, None)
    assert head.size == len(POLL)


def test_the_head_stays_until_discarded_then_the_body_follows() -> None:
    reader = http1.RequestReader()
    reader.feed(POST + POLL)
    head = reader.head()
    assert head is not None and head.content_length == 11
    assert reader.buffer.startswith(b"POST ")  # untouched: a hand-over replays it
    reader.discard(head.size)
    assert reader.body(11) == b'42["hi",1]\n'
    second = reader.head()
    assert second is not None and second.method == "GET"
    reader.discard(second.size)
    assert reader.take_all() == b""


@pytest.mark.parametrize("cut", range(1, len(POST)))
def test_any_split_point_gives_the_same_request(cut: int) -> None:
    reader = http1.RequestReader()
    reader.feed(POST[:cut])
    head = reader.head()
    assert (head is None) == (cut < POST.index(b"\r\n\r\n") + 4)
    reader.feed(POST[cut:])
    head = head or reader.head()
    assert head is not None and head.path == "/socket.io/"
    reader.discard(head.size)
    assert reader.body(head.content_length) == b'42["hi",1]\n'
    assert reader.take_all() == b""


def test_body_waits_for_every_byte() -> None:
    reader = http1.RequestReader()
    reader.feed(POST[:-3])
    head = reader.head()
    assert head is not None
    reader.discard(head.size)
    assert reader.body(11) is None
    reader.feed(POST[-3:])
    assert reader.body(11) == b'42["hi",1]\n'


def test_repeated_fields_are_joined_and_names_lowered() -> None:
    head = read_head(b"GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nX-B:\t3 \r\n\r\n")
    assert head is not None and head.headers == {"x-a": "1, 2", "x-b": "3"}


def test_blank_lines_before_a_request_are_ignored() -> None:
    # IE up to 6 sent a CRLF after each POST body.
    head = read_head(b"\r\n\r\n" + POLL)
    assert head is not None and head.method == "GET"


def test_request_line_is_available_before_the_fields() -> None:
    reader = http1.RequestReader()
    reader.feed(b"GET /static/app.js?v=1 HTTP/1.1\r\nCookie: a")
    assert reader.head() is None
    line = reader.request_line()
    assert line is not None and (line.method, line.path, line.query_string) == (
        "GET",
        "/static/app.js",
        "v=1",
    )
    reader2 = http1.RequestReader()
    reader2.feed(b"GET /stat")
    assert reader2.request_line() is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"GET / HTTP/1.0", "HTTP/1.0"),
        (b"GET http://host/socket.io/ HTTP/1.1", "not an origin-form target"),
        (b"OPTIONS * HTTP/1.1", "not an origin-form target"),
        (b"GET /socket%2Eio/ HTTP/1.1", "percent-encoded path"),
        (b"PUT /socket.io/ HTTP/1.1", "method"),
        (b"HEAD /socket.io/ HTTP/1.1", "method"),
    ],
)
def test_requests_for_a_general_server_are_flagged(line: bytes, reason: str) -> None:
    head = read_head(line + b"\r\nHost: x\r\n\r\n")
    assert head is not None and head.handover == reason


@pytest.mark.parametrize(
    ("field", "reason"),
    [(b"Transfer-Encoding: chunked", "Transfer-Encoding"), (b"Expect: 100-continue", "Expect")],
)
def test_fields_a_general_server_must_handle_are_flagged(field: bytes, reason: str) -> None:
    head = read_head(b"POST /socket.io/ HTTP/1.1\r\n" + field + b"\r\n\r\n")
    assert head is not None and head.handover == reason


@pytest.mark.parametrize(
    ("value", "close"),
    [(b"close", True), (b"keep-alive, Close", True), (b"keep-alive", False), (b"Upgrade", False)],
)
def test_connection_close(value: bytes, close: bool) -> None:
    head = read_head(b"GET / HTTP/1.1\r\nConnection: " + value + b"\r\n\r\n")
    assert head is not None and head.close is close


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET /\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        b"GET / HTTP/1.1\r\nName : value\r\n\r\n",
        b"GET / HTTP/1.1\r\n: value\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: bare\nlf\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: bare\rcr\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: nul\0\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n",
    ],
)
def test_malformed_heads_are_400(data: bytes) -> None:
    assert head_error(data).status == 400


def test_other_http_versions_are_505() -> None:
    assert head_error(b"GET / HTTP/2.0\r\n\r\n").status == 505


def test_a_head_over_the_limit_is_431_and_a_long_line_414() -> None:
    assert head_error(b"GET / HTTP/1.1\r\nA: " + b"x" * 200, max_head=100).status == 431
    reader = http1.RequestReader(100)
    reader.feed(b"GET /" + b"x" * 200)
    with pytest.raises(http1.HeadError) as caught:
        reader.request_line()
    assert caught.value.status == 414


def test_a_head_just_under_the_limit_is_read() -> None:
    data = b"GET / HTTP/1.1\r\nA: " + b"x" * 77 + b"\r\n\r\n"
    assert len(data) == 100
    head = read_head(data, max_head=96)
    assert head is not None and head.headers["a"] == "x" * 77


@given(st.binary(max_size=400))
def test_any_bytes_give_a_head_nothing_or_a_head_error(data: bytes) -> None:
    reader = http1.RequestReader(256)
    reader.feed(data)
    try:
        reader.request_line()
        head = reader.head()
    except http1.HeadError as exc:
        assert exc.status in (400, 414, 431, 505)
    else:
        assert head is None or head.size <= len(data)


@given(st.lists(st.integers(min_value=1, max_value=len(POST) + len(POLL)), max_size=6))
def test_pipelined_requests_survive_any_chunking(cuts: list[int]) -> None:
    stream = POST + POLL + POST
    points = sorted({*cuts, len(stream)})
    reader = http1.RequestReader()
    seen: list[tuple[str, bytes]] = []
    pending: http1.RequestHead | None = None
    start = 0
    for point in points:
        reader.feed(stream[start:point])
        start = point
        while True:
            if pending is None:
                pending = reader.head()
                if pending is None:
                    break
                reader.discard(pending.size)
            body = reader.body(pending.content_length)
            if body is None:
                break
            seen.append((pending.method, body))
            pending = None
    assert seen == [("POST", b'42["hi",1]\n'), ("GET", b""), ("POST", b'42["hi",1]\n')]


def test_parse_query() -> None:
    assert http1.parse_query("EIO=4&transport=polling&j=&b64") == {
        "EIO": "4",
        "transport": "polling",
        "j": "",
        "b64": "",
    }
    # Repeated names: the first wins, as aiohttp reads them (yarl's query).
    for repeated in ("a=1&a=2", "a=%31&a=2", "transport=websocket&transport=polling"):
        assert http1.parse_query(repeated) == dict(yarl.URL("/?" + repeated).query)
    assert http1.parse_query("a=1&a=2") == {"a": "1"}
    assert http1.parse_query("") == {}
    assert http1.parse_query("name=J%C3%BCrgen+K&x=%2F") == {"name": "Jürgen K", "x": "/"}


def test_response_is_one_buffer_with_length_date_and_close() -> None:
    data = http1.response(
        200,
        {"Content-Type": "text/plain"},
        b"ok",
        date="Sat, 21 Nov 2026 00:00:00 GMT",
        close=False,
    )
    assert data == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
        b"Date: Sat, 21 Nov 2026 00:00:00 GMT\r\n\r\nok"
    )
    closing = http1.response(304, {"ETag": '"x"'}, b"", date="D", close=True)
    assert (
        closing == b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nDate: D\r\nConnection: close\r\n\r\n'
    )


def test_error_response_closes() -> None:
    data = http1.error_response(431, "request header fields too large", "D")
    assert data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"Connection: close\r\n" in data
    assert data.endswith(b"\r\n\r\nrequest header fields too large")
