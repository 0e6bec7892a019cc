"""v6lint: make infrastructure configuration IPv6-ready."""

__version__ = "0.1.0"
