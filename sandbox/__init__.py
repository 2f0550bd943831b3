"""Where makegreen runs the tests: a Docker container, or the host for machines without Docker."""
from .base import ImageBuildError, RunResult, SandboxError, SandboxUnavailable
from .results import CollectError, TestCase, TestReport, parse_report

__all__ = [
    "CollectError", "ImageBuildError", "RunResult", "SandboxError", "SandboxUnavailable", "TestCase",
    "TestReport", "parse_report",
]
