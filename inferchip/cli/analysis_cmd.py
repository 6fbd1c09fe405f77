"""Commands registered on the app (filled in by the owner of this module)."""

from __future__ import annotations

from inferchip.cli import app  # noqa: F401
