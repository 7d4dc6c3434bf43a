"""The WebIM alone on the Redis adapter, for the test of a node that dies:
``REDIS_URL``, ``PRESENCE_EXPIRY`` (short, so that the dead node's users go
offline within the test); its data in ``REALTIME_DEMO_DATA``."""

from __future__ import annotations

import os

import realtime
from examples.webim.app import create_app

app = create_app(
    adapter=realtime.RedisAdapter(
        os.environ["REDIS_URL"], presence_expiry=float(os.environ["PRESENCE_EXPIRY"])
    )
)
