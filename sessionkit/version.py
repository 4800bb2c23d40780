"""The package version (a leaf module: any layer may import it without importing the public API)."""

__version__ = "0.1.0"
