"""behave 1.3's progress formatters have no mark for a scenario whose cleanup failed (Status.cleanup_error): the
next scenario's progress raises KeyError and ends the run. A scenario whose cleanup fails (a tenant the platform
would not remove, say) is shown as "C", its traceback printed and counted as an error, like a failed hook's "H"."""

from __future__ import annotations

from behave.formatter.progress import ProgressFormatterBase
from behave.model_type import Status


def mark_cleanup_errors() -> None:
    ProgressFormatterBase.dot_status.setdefault(Status.cleanup_error, "C")
