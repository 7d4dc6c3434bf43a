"""The bundled browser clients, served from the engine path with ETag and gzip
(``realtime.js``, and ``socket.io.js`` where pages written for a Node
socket.io server look for theirs);
and the application's own static files, for the hosts that take a
``static_files`` mapping (ASGI, WSGI).

Bundled files are read once and kept with their gzip form and a content
hash; a request with a matching ``If-None-Match`` gets 304.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .http import HttpResponse

ASSETS = ("realtime.js", "realtime.min.js", "socket.io.js", "socket.io.min.js")
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
        return _NOT_FOUND
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


StaticFiles = Mapping[str, "str | Mapping[str, str]"]
"""URL path -> a file, or a directory served below that path, or
``{"filename": ..., "content_type": ...}`` (python-socketio's form)."""


def static_response(static_files: StaticFiles, path: str) -> HttpResponse | None:
    """The answer for ``path`` from ``static_files``, or None when no entry
    covers it. The longest matching URL prefix wins; a directory never
    serves outside itself."""
    for prefix in sorted(static_files, key=len, reverse=True):
        if not (path == prefix or path.startswith(prefix.rstrip("/") + "/")):
            continue
        entry = static_files[prefix]
        content_type = None
        if not isinstance(entry, str):
            content_type = entry.get("content_type")
            entry = entry["filename"]
        base = Path(entry)
        if base.is_dir():
            rest = path[len(prefix) :].lstrip("/") or "index.html"
            target = (base / rest).resolve()
            if not target.is_relative_to(base.resolve()):
                return _NOT_FOUND
        elif path != prefix:
            continue
        else:
            target = base
        try:
            body = target.read_bytes()
        except OSError:
            return _NOT_FOUND
        content_type = content_type or mimetypes.guess_type(target.name)[0]
        return HttpResponse(200, {"Content-Type": content_type or "application/octet-stream"}, body)
    return None


_NOT_FOUND = HttpResponse(404, {"Content-Type": "text/plain"}, b"not found")
