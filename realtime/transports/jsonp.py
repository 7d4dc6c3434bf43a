"""JSONP polling: XHR polling in another envelope, for browsers that can reach
the server only with ``<script>`` tags (GET) and form posts (POST).

GET answers ``___eio[<j>]("<payload>");``. The payload string is produced by
a JSON encoder, never escaped by hand; U+2028 and U+2029 are escaped on top
because older JavaScript engines end a string literal at them.

POST bodies are form-encoded ``d=<payload>``. The client escapes newlines so
that no browser turns them into CRLF: a newline becomes ``\\n`` and an
already escaped ``\\n`` becomes ``\\\\n``; this module undoes that.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from ..errors import BadRequest, DecodeError

CONTENT_TYPE = "text/javascript; charset=UTF-8"

_NEWLINE_ESCAPES = re.compile(r"(\\)?\\n")
_DOUBLE_ESCAPED_NEWLINE = re.compile(r"\\\\n")


def callback_index(raw: str) -> str:
    """The ``j`` query parameter: digits only, or the request is refused."""
    # ASCII only: str.isdigit() admits "²", which is no JavaScript index.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise BadRequest("invalid JSONP index")
    return raw


def wrap(payload: str, index: str) -> bytes:
    literal = json.dumps(payload, ensure_ascii=False)
    literal = literal.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"___eio[{index}]({literal});".encode()


def unwrap(body: bytes) -> str:
    """The payload of a JSONP POST."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecodeError("invalid JSONP form body") from exc
    values = fields.get("d")
    if not values:
        raise DecodeError("JSONP body without d")
    data = _NEWLINE_ESCAPES.sub(lambda m: m.group(0) if m.group(1) else "\n", values[0])
    return _DOUBLE_ESCAPED_NEWLINE.sub(lambda m: "\\n", data)
