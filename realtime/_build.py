"""How this copy of the package was built.

A wheel build that meant to compile the hot modules but could not (no C
compiler, no mypy) rewrites this file with the reason, so that the serving
banner can say why the build is pure Python (setup.py).
"""

COMPILE_SKIPPED: str | None = None
