"""Exit codes and the exceptions that carry them.

Exit codes are an API: scripts branch on them, so the numbers never change. The library
raises these exceptions; only the CLI turns them into exit codes (see cli/main.py).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    internal_error = 1  # a bug in ocromni: please report it
    usage_error = 2  # bad options or arguments (also what Click uses)
    input_error = 3  # no input could be processed
    partial_failure = 4  # some inputs failed, the others were processed
    model_error = 5  # the model or the device could not be set up
    output_error = 6  # an output could not be written (exists, no permission, ...)
    nothing_replaced = 7  # edit/erase found none of the requested text
    not_available = 8  # the command exists but its capability has not landed yet
    interrupted = 130  # Ctrl-C, as shells report SIGINT


class OcromniError(Exception):
    """Base of every error ocromni reports to users."""

    exit_code = ExitCode.internal_error
    message = "{reason}"

    def __init__(self, path: str | None = None, reason: str = "", **details):
        self.path = path
        self.reason = reason
        self.details = details
        super().__init__(self.describe())

    def describe(self) -> str:
        text = self.message.format(path=self.path, reason=self.reason, **self.details)
        return f"{self.path}: {text}" if self.path else text


class UsageError(OcromniError):
    """Options or arguments that cannot work together."""

    exit_code = ExitCode.usage_error


# --- inputs: one per reason, so tests and callers can tell them apart -------------------


class InputError(OcromniError):
    """One input could not be read; the rest of the batch goes on."""

    exit_code = ExitCode.input_error


class MissingInputError(InputError):
    message = "no such file or directory"


class EmptyFileError(InputError):
    message = "file is empty (0 bytes)"


class NoImagesError(InputError):
    message = "directory contains no supported images or PDFs{hint}"


class UnsupportedFormatError(InputError):
    message = "unsupported file type {suffix!r}; supported: images (PNG, JPEG, WebP, BMP, GIF, TIFF) and PDF"


class NotAnImageError(InputError):
    message = "not a readable image ({reason})"


class TruncatedImageError(InputError):
    message = "image data is truncated or corrupt ({reason})"


class ImageTooLargeError(InputError):
    message = "image has {pixels:,} pixels, above the limit of {limit:,} (possible decompression bomb); raise it with --max-pixels"


class CorruptPdfError(InputError):
    message = "PDF is corrupt or unreadable ({reason})"


class EncryptedPdfError(InputError):
    message = "PDF is encrypted; decrypt it first (e.g. qpdf --decrypt in.pdf out.pdf)"


class PageRangeError(UsageError):
    message = "bad page range {spec!r}: {reason}; use e.g. 1,3-5"


# --- model and device -------------------------------------------------------------------


class ModelError(OcromniError):
    """The model could not be loaded or run."""

    exit_code = ExitCode.model_error


class DeviceUnavailableError(ModelError):
    message = "device {device!r} was requested but {reason}; use --device cpu or auto"


class UnknownModelError(ModelError):
    message = "unknown model {name!r}; known models: {known}"


class NotAvailableError(OcromniError):
    exit_code = ExitCode.not_available
    message = "'{command}' is not available yet in this version of ocromni"


# --- outputs ----------------------------------------------------------------------------


class OutputError(OcromniError):
    exit_code = ExitCode.output_error


class OutputExistsError(OutputError):
    message = "output exists; pass --overwrite to replace it"
