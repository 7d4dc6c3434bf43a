"""The bundled browser client, served from the engine path with ETag and gzip.

Files are read once and kept with their gzip form and a content hash; a
request with a matching ``If-None-Match`` gets 304.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from .http import HttpResponse

ASSETS = ("realtime.js", "realtime.min.js")
_CONTENT_TYPE = "application/javascript; charset=UTF-8"


def is_asset(name: str) -> bool:
    return name in ASSETS


@lru_cache(maxsize=len(ASSETS))
def _load(name: str) -> tuple[bytes, bytes, str] | None:
    try:
        body = resources.files("realtime").joinpath("static").joinpath(name).read_bytes()
    except (FileNotFoundError, OSError):
        return None
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return body, gzip.compress(body, mtime=0), etag


def respond(name: str, headers: Mapping[str, str]) -> HttpResponse:
    loaded = _load(name)
    if loaded is None:
        return HttpResponse(404, {"Content-Type": "text/plain"}, b"not found")
    body, gzipped, etag = loaded
    out = {
        "ETag": etag,
        "Cache-Control": "public, max-age=0, must-revalidate",
        "Vary": "Accept-Encoding",
    }
    if etag in (t.strip() for t in headers.get("if-none-match", "").split(",")):
        return HttpResponse(304, out)
    out["Content-Type"] = _CONTENT_TYPE
    if "gzip" in headers.get("accept-encoding", ""):
        out["Content-Encoding"] = "gzip"
        return HttpResponse(200, out, gzipped)
    return HttpResponse(200, out, body)
