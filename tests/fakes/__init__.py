"""Fakes of the outside world for tests and benchmarks; see github.py for the API."""

from tests.fakes.github import (
    DEFAULT_CLIENT_ID,
    DEFAULT_LOGIN,
    DEFAULT_TOKEN,
    Account,
    Device,
    FakeGitHub,
    ModelInfo,
    Recorded,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_LOGIN",
    "DEFAULT_TOKEN",
    "Account",
    "Device",
    "FakeGitHub",
    "ModelInfo",
    "Recorded",
]
