"""Errors the operator is told about in one line (the CLI prints them and exits 2)."""

from __future__ import annotations


class OperatorError(Exception):
    """Something the person running Follicle must fix; the message says what."""
