"""inferchip: TCO calculator for AI inference hardware."""

__version__ = "0.1.0"
