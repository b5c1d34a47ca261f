"""The Compare screen: the prompt, then both outputs side by side, and a verdict."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static, TextArea

from tui.format import fmt_value

from ..widgets.editor import AppTextArea
from ..widgets.output_view import OutputView
from .base import RoutebookScreen

# Markdown mode renders at most this many characters of an output, because
# Textual's Markdown widget builds every block up front; plain mode shows all.
MARKDOWN_MAX_CHARS = 20_000


class CompareScreen(RoutebookScreen):
    """Read both outputs for one request and grade the cheaper one.

    | Key | Action |
    | --- | --- |
    | a | Cheaper output is acceptable (grade 1.0), then next. |
    | x | Cheaper output is not acceptable (grade 0.0), then next. |
    | s | Skip: remove the grade, record who looked, then next. |
    | n / p | Next or previous request in the current filter. |
    | m | Toggle Markdown rendering. |
    | d | Toggle difference highlighting. |
    | ctrl+o | Run this request through the models. |
    """

    CSS_PATH = "compare.tcss"

    BINDINGS = [
        Binding("a", "verdict('acceptable')", "Acceptable"),
        Binding("x", "verdict('unacceptable')", "Not acceptable"),
        Binding("s", "verdict('skip')", "Skip"),
        Binding("n", "step(1)", "Next"),
        Binding("p", "step(-1)", "Previous"),
        Binding("m", "toggle_markdown", "Markdown"),
        Binding("d", "toggle_diff", "Diff", show=False),
        Binding("ctrl+o", "app.run_selected", "Run request", show=False),
    ]

    PALETTE = [
        (
            "Verdict: acceptable",
            "Grade the cheaper output 1.0 and go on (a)",
            "verdict('acceptable')",
        ),
        (
            "Verdict: not acceptable",
            "Grade the cheaper output 0.0 and go on (x)",
            "verdict('unacceptable')",
        ),
        ("Verdict: skip", "Remove the grade and go on (s)", "verdict('skip')"),
        ("Next request", "The next request in the current filter (n)", "step(1)"),
        (
            "Previous request",
            "The previous request in the current filter (p)",
            "step(-1)",
        ),
        (
            "Toggle Markdown",
            "Render the outputs as Markdown or plain text (m)",
            "toggle_markdown",
        ),
        (
            "Toggle difference highlighting",
            "Mark differing words and check evidence (d)",
            "toggle_diff",
        ),
    ]

    def __init__(self) -> None:
        super().__init__(id="compare-screen")
        self.markdown = False
        self.show_diff = True
        self.row: Any = None
        self.pair: Any = None
        self._diff: Any = None
        self._shown: tuple | None = None
        self._markdown_shown: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="notice", markup=False)
        yield Static("", id="compare-head")
        prompt = AppTextArea("", read_only=True, soft_wrap=True, id="prompt")
        prompt.cursor_blink = self.app.cursor_blink
        yield prompt
        with Horizontal(id="outputs"):
            for side in ("left", "right"):
                with Vertical(id=f"{side}-pane", classes="output-pane"):
                    yield Static("", id=f"{side}-title", classes="output-title")
                    view = OutputView(id=f"{side}-text", classes="output-text")
                    view.cursor_blink = self.app.cursor_blink
                    yield view
                    yield Vertical(id=f"{side}-markdown", classes="output-markdown")
                    yield Static("", id=f"{side}-checks", classes="output-checks")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#right-text").focus()

    # --- drawing ----------------------------------------------------------

    def sync(self) -> None:
        state = self.state
        rows = state.review.rows()
        self._show_notice(rows)
        if not rows:
            return

        row = self._current_row(rows)
        state.review.current_id = row.request.id
        self.row = row
        self.pair = state.review.pair_for(row)
        checks = None
        if row.checks is not None:
            checks = state.review.check_results(row, self.pair)
        position = [r.request.id for r in rows].index(row.request.id)
        self._show_head(row, position, len(rows))

        # Reloading the texts resets their scroll, so it happens only when what
        # they show changes; titles (grades) are redrawn every time.
        key = (row.request.id, self.pair, self.show_diff, checks is None)
        if key != self._shown:
            self._shown = key
            self._show_texts(row, checks)
        self._show_titles(row, checks)

    def _show_notice(self, rows: list[Any]) -> None:
        state = self.state
        message = state.sample_notice
        if message is None and state.preview is None:
            message = "No preview yet."
            if state.sample_loading:
                message = "Loading the sample…"
        elif message is None and not rows:
            message = "No request matches the Samples filters (F4)."
        notice = self.query_one("#notice", Static)
        notice.update(message or "")
        notice.display = bool(message)

    def _current_row(self, rows: list[Any]) -> Any:
        wanted = self.state.review.current_id
        for row in rows:
            if row.request.id == wanted:
                return row
        return rows[0]

    def _show_head(self, row: Any, position: int, total: int) -> None:
        policy = self.state.preview.policy
        head = Text()
        head.append(f"{row.request.id}", style="bold")
        head.append(f" · {position + 1} of {total} in the filter · ")
        head.append(" · ".join(f"{n}={fmt_value(v)}" for n, v in row.segments.items()))
        head.append(f"\nrule '{policy.rule_name(row.rule_index)}' routed it to ")
        head.append(f"{row.alias} ({row.model})", style="bold")
        if self.pair is not None:
            head.append(" · a / x / s grade ")
            head.append(self.pair.cheaper, style="bold")
        self.query_one("#compare-head", Static).update(head)

    def _show_texts(self, row: Any, checks: dict | None) -> None:
        from tui.core.review import word_diff

        request = row.request
        self.query_one("#prompt", TextArea).load_text(request.prompt_text())
        texts = {
            m: _output_text(request, m) for m in (self.pair.baseline, self.pair.other)
        }
        self._diff = None
        if self.show_diff:
            self._diff = word_diff(texts[self.pair.baseline], texts[self.pair.other])
        for side, model in (("left", self.pair.baseline), ("right", self.pair.other)):
            marks = []
            if self._diff is not None:
                spans = self._diff[0] if side == "left" else self._diff[1]
                marks += [(start, end, "diff") for start, end in spans]
            results = None if checks is None else checks.get(model, {})
            if self.show_diff and results:
                marks += check_marks(results)
            self.query_one(f"#{side}-text", OutputView).show(texts[model], marks)
        self._markdown_shown = None
        if self.markdown:
            self._render_markdown()

    def _show_titles(self, row: Any, checks: dict | None) -> None:
        pair = self.pair
        for side, model in (("left", pair.baseline), ("right", pair.other)):
            output = row.request.outputs.get(model)
            title = Text()
            title.append(model, style="bold")
            if model == pair.baseline:
                title.append(" · baseline")
            if model == pair.routed:
                title.append(" · ROUTED", style="bold reverse")
            if model == pair.cheaper:
                title.append(" · cheaper (verdict)")
            title.append(f" · grade {_grade(output)}")
            if output is not None and output.finish_reason not in (None, "stop"):
                title.append(f" · finish: {output.finish_reason}", style="yellow")
            if output is not None and output.extra.get("graded_by"):
                title.append(f" · graded by {output.extra['graded_by']}")
            self.query_one(f"#{side}-pane").set_class(model == pair.routed, "routed")
            self.query_one(f"#{side}-title", Static).update(title)
            results = None if checks is None else checks.get(model, {})
            self.query_one(f"#{side}-checks", Static).update(
                checks_line(results, self._diff)
            )

    def _render_markdown(self) -> None:
        from textual.widgets import Markdown

        key = (id(self.row), self.pair)
        if self._markdown_shown == key or self.row is None:
            return
        self._markdown_shown = key
        for side, model in (("left", self.pair.baseline), ("right", self.pair.other)):
            text = _output_text(self.row.request, model)
            if len(text) > MARKDOWN_MAX_CHARS:
                text = text[:MARKDOWN_MAX_CHARS] + (
                    f"\n\n*(Markdown shows the first {MARKDOWN_MAX_CHARS:,} characters;"
                    " press m for the full plain text.)*"
                )
            holder = self.query_one(f"#{side}-markdown", Vertical)
            holder.remove_children()
            holder.mount(Markdown(text))

    # --- actions --------------------------------------------------------------

    def action_step(self, offset: int) -> None:
        from tui.core.review import step

        if self.state.preview is None:
            return
        ids = [row.request.id for row in self.state.review.rows()]
        target = step(ids, self.state.review.current_id, offset)
        if target is None:
            return
        if target == self.state.review.current_id:
            where = "last" if offset > 0 else "first"
            self.notify(f"This is the {where} request in the filter", timeout=2)
            return
        self.state.review.current_id = target
        self.sync()

    def action_verdict(self, verdict: str) -> None:
        if self.row is None or self.pair is None:
            return
        model = self.pair.cheaper
        if model not in self.row.request.outputs:
            self.notify(f"No recorded output from {model} to judge", severity="warning")
            return
        self.state.record_verdict(self.row.request, model, verdict)
        self.action_step(1)

    def action_toggle_markdown(self) -> None:
        self.markdown = not self.markdown
        self.query_one("#outputs").set_class(self.markdown, "markdown")
        if self.markdown:
            self._render_markdown()

    def action_toggle_diff(self) -> None:
        self.show_diff = not self.show_diff
        self._shown = None
        self.sync()


def _output_text(request: Any, model: str) -> str:
    output = request.outputs.get(model)
    if output is None or output.text is None:
        return f"(no recorded output from {model})"
    return output.text.replace("\r\n", "\n")


def _grade(output: Any) -> str:
    if output is None or output.grade is None:
        return "none"
    return f"{output.grade:g}"


def check_marks(results: dict[str, Any]) -> list[tuple[int, int, str]]:
    """Marks for the evidence spans of the checks that flagged an output."""
    marks = []
    for result in results.values():
        span = getattr(result, "span", None)
        if getattr(result, "flag", False) and span:
            marks.append((span[0], span[1], "check"))
    return marks


def checks_line(results: dict[str, Any] | None, diff: Any) -> Text:
    """Describe, in one line, the checks that flagged this output and their evidence."""
    line = Text()
    if results is None:
        return line.append("checks: not run (disabled in the policy)", style="dim")
    flagged = [(name, r) for name, r in results.items() if getattr(r, "flag", False)]
    if flagged:
        line.append("flagged: ", style="bold")
        parts = []
        for name, result in flagged:
            evidence = getattr(result, "evidence", None)
            parts.append(f"{name} ({evidence})" if evidence else name)
        line.append("; ".join(parts))
    elif results:
        line.append("checks: none flagged", style="green")
    if diff is None:
        line.append("  (too long for a word diff)", style="dim")
    return line
