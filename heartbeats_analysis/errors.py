"""Every error the CLI turns into a one-paragraph explanation and a non-zero exit code.

All of them live here, with their exit codes, so that the README's exit-code table has one source
(tests/test_errors.py checks the two agree).
"""

from __future__ import annotations


class HeartbeatsError(Exception):
    """Base class: the message is written for the person running the build."""

    exit_code = 1


class ParameterError(HeartbeatsError):
    """A parameters file, a --set override or a command-line value is invalid."""

    exit_code = 2


class ProjectNotFoundError(HeartbeatsError):
    """The package runs outside its project folder (installed without -e): no data/, notebooks/, reports/."""

    exit_code = 2


class AgencyNotFoundError(HeartbeatsError):
    """The requested agency (slug, ORI or name) is not in the processed agency table."""

    exit_code = 2


class DataVerificationError(HeartbeatsError):
    """A raw file is missing or fails its registry checksum (or a source served bad bytes)."""

    exit_code = 3


class TableMissingError(HeartbeatsError):
    """A processed table a notebook needs has not been built."""

    exit_code = 3


class FetchError(HeartbeatsError):
    """A raw file could not be copied from the mirror or downloaded."""

    exit_code = 4


class NotebookFailedError(HeartbeatsError):
    """A notebook raised an error while it ran."""

    exit_code = 5


class OutputNotWritableError(HeartbeatsError):
    """The reports or processed folder cannot be written."""

    exit_code = 6


class BuildLockedError(HeartbeatsError):
    """Another build of the same agency is running."""

    exit_code = 7


class SchemaValidationError(HeartbeatsError):
    """A raw or processed table does not match its schema."""

    exit_code = 8


class BrowserNotFoundError(HeartbeatsError):
    """No Chromium-family browser to print the PDF."""

    exit_code = 9


class PdfToolMissingError(HeartbeatsError):
    """pdftotext (poppler-utils), which the PDF checks read the printed pages with, is not installed."""

    exit_code = 9


class BuildInterruptedError(HeartbeatsError):
    """The build's kernels were shut down (Ctrl-C in a batch): no further step may start."""

    exit_code = 130
