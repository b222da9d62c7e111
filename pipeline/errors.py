"""Errors a user can act on.

A `DataError` or `ParamsError` ends a stage with its one-line message (no traceback): it names the file, line or
param, what was found and what was expected. Anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """An expected failure caused by the user's data or params."""


class DataError(UserError):
    """A dataset file is missing, malformed, corrupt or laid out differently from the documented format."""


class ParamsError(UserError):
    """A params.yaml value is unknown, missing or of the wrong type."""
