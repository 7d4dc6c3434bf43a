"""Shared set-up of the hardening tests: a Hypothesis profile and a loopback server.

The ``fuzz`` profile is the default: no per-example deadline (the machine is
shared, so timing says nothing here), no example database left in the tree,
and few enough examples that the folder stays fast. ``HYPOTHESIS_PROFILE=deep``
runs many more for a longer hunt.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from loopback import http, serve

settings.register_profile(
    "fuzz",
    deadline=None,
    database=None,
    max_examples=100,
    # In CI (CI set) every run tries the same examples, as tests/conftest.py's
    # profile does: a red run is the code's doing, and it repeats.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", parent=settings.get_profile("fuzz"), max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fuzz"))


__all__ = ["http", "serve"]
