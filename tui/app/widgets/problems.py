"""The list of problems in the policy, each with its line and column."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class ProblemList(OptionList):
    """Problems as `line:column severity: message`; selecting one jumps there."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems: list[Any] = []

    def show(self, problems: list[Any]) -> None:
        # Validation runs after every edit; an unchanged list is not redrawn.
        if list(problems) == self.problems and self.option_count:
            return
        self.problems = list(problems)
        self.clear_options()
        options = []
        for index, problem in enumerate(self.problems):
            style = "bold red" if problem.is_error else "yellow"
            prompt = Text()
            prompt.append(f"{problem.line}:{problem.column} ", style="bold")
            prompt.append(problem.severity, style=style)
            prompt.append(f": {problem.message}")
            options.append(Option(prompt, id=f"problem-{index}"))
        self.add_options(options)

    def problem_at(self, index: int | None) -> Any:
        if index is None or not 0 <= index < len(self.problems):
            return None
        return self.problems[index]
