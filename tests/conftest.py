"""Settings shared by every test."""

import os

from hypothesis import settings

# Property tests check behaviour, not speed: on a loaded two-core CI machine
# hypothesis' default 200 ms deadline per example would fail them at random.
settings.register_profile("realtime", deadline=None)
# In CI (CI set) every run tries the same examples: a red run is the code's
# doing, and it repeats. Elsewhere examples vary and failures are remembered
# in hypothesis' example database.
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "realtime")
