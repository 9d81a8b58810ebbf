"""Errors the CLI turns into a one-paragraph explanation and a non-zero exit code."""

from __future__ import annotations


class HeartbeatsError(Exception):
    """Base class: the message is written for the person running the build."""

    exit_code = 1


class DataVerificationError(HeartbeatsError):
    exit_code = 3


class FetchError(HeartbeatsError):
    exit_code = 4


class ParameterError(HeartbeatsError):
    exit_code = 2


class AgencyNotFoundError(HeartbeatsError):
    exit_code = 2


class NotebookFailedError(HeartbeatsError):
    exit_code = 5


class OutputNotWritableError(HeartbeatsError):
    exit_code = 6


class BuildLockedError(HeartbeatsError):
    exit_code = 7


class TableMissingError(HeartbeatsError):
    exit_code = 3


class BuildInterruptedError(HeartbeatsError):
    """The build's kernels were shut down (Ctrl-C in a batch): no further step may start."""

    exit_code = 130
