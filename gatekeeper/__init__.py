"""Gatekeeper: a release-readiness gate for CI/CD."""

__version__ = "0.1.0"
