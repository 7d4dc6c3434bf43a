"""Settings shared by every test."""

from hypothesis import settings

# Property tests check behaviour, not speed: on a loaded two-core CI machine
# hypothesis' default 200 ms deadline per example would fail them at random.
settings.register_profile("realtime", deadline=None)
settings.load_profile("realtime")
