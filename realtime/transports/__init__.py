"""Transports: framing and per-transport rules, no I/O."""
