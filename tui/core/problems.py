"""Problems found in user input, each with the place it was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, located by 1-based line and column."""

    path: str
    line: int
    column: int
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        """Render as `path:line:column: severity: message`, the form editors parse."""
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class InputError(Exception):
    """Input that cannot be used at all: unreadable, or invalid beyond repair.

    The CLI turns it into exit code 2 with the message, never a traceback.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


def has_errors(problems: list[Problem]) -> bool:
    return any(problem.is_error for problem in problems)
