"""gzip/deflate of polling answers in the engine core: requests as values,
the answers decompressed here with zlib and compared with what was sent."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from realtime.engine import Engine
from realtime.http import HttpRequest, HttpResponse
from realtime.transports.http_compression import HttpCompression, preferred_coding

BIG = "x" * 3000


class _Quiet:
    """A listener that wants nothing."""

    def on_open(self, conn: object) -> None: ...

    def on_message(self, conn: object, data: object) -> None: ...

    def on_close(self, conn: object, reason: str) -> None: ...


def _engine(**options: object) -> Engine:
    return Engine(listener=_Quiet(), **options)  # type: ignore[arg-type]


def _request(headers: dict[str, str], **query: str) -> HttpRequest:
    return HttpRequest("GET", "/engine.io/", query, {"host": "h", **headers})


def _poll_big(engine: Engine, headers: dict[str, str], **extra: str) -> HttpResponse:
    """A session whose next poll answers with a message of 3,000 bytes."""
    opened = engine.handle_request(_request({}, EIO="4", transport="polling", **extra), 0.0)
    assert isinstance(opened, HttpResponse)
    body = opened.body.decode()
    if body.startswith("___eio["):
        body = json.loads(body[body.index("(") + 1 : -2])
    sid = json.loads(body[1:])["sid"]
    engine.sessions[sid].send(BIG)
    query = {"EIO": "4", "transport": "polling", "sid": sid, **extra}
    answer = engine.handle_request(_request(headers, **query), 0.0)
    assert isinstance(answer, HttpResponse)
    return answer


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br", "gzip"),
        ("deflate", "deflate"),
        ("deflate;q=1, gzip;q=0.5", "deflate"),
        ("gzip;q=0, deflate;q=0.1", "deflate"),
        ("*", "gzip"),
        ("*;q=0.5, gzip;q=0", "deflate"),
        ("br, identity", None),
        ("gzip;q=0, deflate;q=0", None),
        ("gzip;q=nan, deflate;q=2", None),
        ("", None),
    ],
)
def test_the_preferred_coding(accept: str, coding: str | None) -> None:
    assert preferred_coding(accept) == coding


def test_a_big_answer_is_gzipped_when_the_client_accepts_it() -> None:
    answer = _poll_big(_engine(), {"accept-encoding": "gzip, deflate"})
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.headers["Vary"] == "Origin, Accept-Encoding"
    assert gzip.decompress(answer.body).decode() == "4" + BIG
    assert len(answer.body) < 100


def test_deflate_is_the_zlib_format_and_vary_keeps_origin() -> None:
    answer = _poll_big(_engine(), {"accept-encoding": "deflate"})
    assert answer.headers["Content-Encoding"] == "deflate"
    assert answer.headers["Vary"] == "Origin, Accept-Encoding"
    assert zlib.decompress(answer.body).decode() == "4" + BIG


def test_jsonp_answers_are_compressed_too() -> None:
    answer = _poll_big(_engine(), {"accept-encoding": "gzip"}, j="0")
    assert answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.body).decode() == f'___eio[0]("4{BIG}");'


def test_no_coding_accepted_means_the_body_as_it_is() -> None:
    answer = _poll_big(_engine(), {})
    assert "Content-Encoding" not in answer.headers
    assert answer.headers["Vary"] == "Origin, Accept-Encoding"
    assert answer.body == ("4" + BIG).encode()


def test_small_answers_are_left_alone() -> None:
    opened = _engine().handle_request(
        _request({"accept-encoding": "gzip"}, EIO="4", transport="polling"), 0.0
    )
    assert isinstance(opened, HttpResponse)
    assert "Content-Encoding" not in opened.headers
    assert opened.headers["Vary"] == "Origin"
    assert opened.body.startswith(b'0{"sid":')


def test_threshold_and_off() -> None:
    high = _engine(http_compression={"threshold": 5000})
    assert "Content-Encoding" not in _poll_big(high, {"accept-encoding": "gzip"}).headers
    off = _engine(http_compression=False)
    answer = _poll_big(off, {"accept-encoding": "gzip"})
    assert "Content-Encoding" not in answer.headers
    assert answer.headers["Vary"] == "Origin"
    assert _engine().http_compression == HttpCompression(threshold=1024, level=-1)


@pytest.mark.parametrize("bad", [{"threshold": -1}, {"level": 10}, {"speed": 1}])
def test_bad_options_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises((ValueError, TypeError)):
        _engine(http_compression=bad)
