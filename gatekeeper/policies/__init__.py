"""Policies shipped inside the package (the demo's and `gatekeeper init`'s)."""

from __future__ import annotations

from importlib import resources


def read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text("utf-8")
