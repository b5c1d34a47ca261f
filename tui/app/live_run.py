"""Run missing outputs from the app: plan, confirm, call the models, reload.

The run uses the same core as `routebook run` (`tui.core.runner`). Planning
and sending happen in thread workers, and the sending worker runs its own
asyncio loop with `asyncio.run`, so LiteLLM is imported only when a run
starts and the UI stays responsive. Results come back as messages.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..format import counted
from .dialogs.choice import Choice, ChoiceDialog
from .dialogs.error import error_dialog

RUN_KEY = "ctrl+r"
RUN_SELECTED_KEY = "ctrl+o"


class RunPlanned(Message):
    """The run was planned; `plan` is a runner.RunPlan.

    `request_id` is set when the run covers one selected request, and `forced`
    when that request's recorded outputs are to be replaced.
    """

    def __init__(
        self, plan: Any, request_id: str | None = None, forced: bool = False
    ) -> None:
        super().__init__()
        self.plan = plan
        self.request_id = request_id
        self.forced = forced


class RunProgressed(Message):
    """One more output finished; `state` is a copy of runner.RunProgress."""

    def __init__(self, state: Any) -> None:
        super().__init__()
        self.state = state


class RunFinished(Message):
    """The run ended with `report` (runner.RunReport), or failed with `error`."""

    def __init__(self, report: Any, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class CancelSwitch:
    """Sets the run's asyncio cancel event from any thread.

    The event belongs to the loop of the run thread, so the UI thread sets
    it through `call_soon_threadsafe`. A cancel requested before that loop
    starts is kept and applied when the event is created.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self.requested = False

    def attach(self) -> asyncio.Event:
        """Create the cancel event in the running loop of the calling thread."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._event = asyncio.Event()
            if self.requested:
                self._event.set()
            return self._event

    def set(self) -> None:
        with self._lock:
            self.requested = True
            if self._loop is not None and self._event is not None:
                self._loop.call_soon_threadsafe(self._event.set)


def estimated_cost_text(plan: Any) -> str:
    """Format the plan's estimated cost, shown as unknown when a model has no price."""
    from tui.run_cmd import usd

    if not plan.unpriced_models:
        return usd(plan.known_cost_usd)
    unpriced = ", ".join(plan.unpriced_models)
    if not plan.known_cost_usd:
        return f"unknown (no price for {unpriced})"
    return f"{usd(plan.known_cost_usd)} plus unknown for {unpriced}"


def confirm_message(plan: Any, request_id: str | None = None, forced=False) -> str:
    cached = len(plan.jobs) - plan.to_send
    lines = []
    if request_id is not None:
        models = ", ".join(sorted({job.model for job in plan.jobs}))
        lines.append(f"Request {request_id!r}: {models}.")
    if forced:
        lines.append(
            "Every model's output of this request is recorded already; running it"
            " again replaces them, and the cache is not used."
        )
    lines += [
        f"{counted(plan.to_send, 'model call')} to send"
        f" ({cached} answered from the cache).",
        f"Estimated cost: {estimated_cost_text(plan)}.",
    ]
    lines.extend(f"Warning: {warning}" for warning in plan.warnings)
    lines.append("Outputs are written into the sample file as they arrive.")
    return "\n".join(lines)


def progress_text(state: Any) -> str:
    from tui.run_cmd import usd

    spent = usd(state.cost_usd)
    if state.unpriced:
        spent += f" + unknown for {state.unpriced} unpriced"
    return (
        f"{state.finished} of {state.total} done, {state.failed} failed,"
        f" {state.retries} retries, spent {spent}"
    )


def summary_text(report: Any) -> str:
    state = report.progress
    text = f"Run {'cancelled' if report.cancelled else 'finished'}: "
    text += f"recorded {counted(report.written, 'output')}; {progress_text(state)}."
    if report.failures:
        first = report.failures[0]
        text += (
            f" First failure: request {first.job.request_id!r},"
            f" {first.job.model}: {first.result.error}"
        )
    if report.write_errors:
        text += f" Not written: {report.write_errors[0]}"
    return text


class RunProgressScreen(ModalScreen[None]):
    """Shows the progress of a run; escape cancels it, then closes the screen."""

    BINDINGS = [Binding("escape", "leave", "Cancel run")]

    def __init__(self, total: int, title: str = "Running missing outputs") -> None:
        super().__init__(id="run-progress")
        self.total = total
        self.title_text = title
        self.finished = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(
                f"0 of {self.total} done; importing LiteLLM",
                id="run-status",
                classes="dialog-message",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel run", id="cancel-run", variant="error")
                yield Button("Close", id="close-run", disabled=True)

    def show_status(self, text: str) -> None:
        self.query_one("#run-status", Static).update(text)

    def show_finished(self, text: str) -> None:
        self.finished = True
        self.show_status(text)
        self.query_one("#cancel-run", Button).disabled = True
        close = self.query_one("#close-run", Button)
        close.disabled = False
        close.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "close-run":
            self.dismiss()
        else:
            self.app.action_cancel_run()

    def action_leave(self) -> None:
        if self.finished:
            self.dismiss()
        else:
            self.app.action_cancel_run()


class LiveRunMixin:
    """The app's "Run missing outputs", "Run selected request" and "Cancel run".

    Mixed into RoutebookApp, which provides `policy`, `sample`, `sample_path`,
    `review` (the selected request) and `action_reload_sample`.
    """

    _run_switch: CancelSwitch | None = None

    @property
    def run_active(self) -> bool:
        """Whether a run is being planned, confirmed or sent."""
        return self._run_switch is not None

    def action_run_missing(self) -> None:
        if isinstance(self.screen, ModalScreen) or self.run_active:
            if self.run_active:
                self.notify("A run is already in progress", severity="warning")
            return
        reason = self._run_blocker()
        if reason is not None:
            self.push_screen(error_dialog("Cannot run", reason))
            return
        self._run_switch = CancelSwitch()
        self._plan_run(self.policy, self.sample)

    def action_run_selected(self) -> None:
        """Run the selected request: its missing outputs, or all of them again."""
        if isinstance(self.screen, ModalScreen) or self.run_active:
            if self.run_active:
                self.notify("A run is already in progress", severity="warning")
            return
        reason = self._run_blocker() or self._selection_blocker()
        if reason is not None:
            self.push_screen(error_dialog("Cannot run", reason))
            return
        self._run_switch = CancelSwitch()
        self._plan_run(self.policy, self.sample, self.review.current_id)

    def _selection_blocker(self) -> str | None:
        selected = self.review.current_id
        if selected is None:
            return (
                "No request is selected; pick one on the Samples screen (F4) or"
                " the Compare screen (F5) first."
            )
        if not any(request.id == selected for request in self.sample.requests):
            return f"Request {selected!r} is not in the loaded sample; reload it first."
        return None

    def _run_blocker(self) -> str | None:
        if self.sample_path is None:
            return "No sample file was given; start with --sample FILE.jsonl."
        if self.sample is None:
            return "The sample is not loaded yet, or failed to load; reload it first."
        if self.policy is None:
            return "The policy has no valid version yet; fix its errors first."
        return None

    @work(thread=True, exclusive=True, group="run-plan", exit_on_error=False)
    def _plan_run(
        self, policy: Any, sample: Any, request_id: str | None = None
    ) -> None:
        from dataclasses import replace

        from tui.core.problems import InputError
        from tui.core.runner import plan_run

        forced = False
        try:
            if request_id is None:
                plan = plan_run(policy, sample)
            else:
                # The runner writes by request id, so a one-request sample
                # still updates that line of the full file and no other.
                chosen = [r for r in sample.requests if r.id == request_id]
                single = replace(sample, requests=chosen)
                plan = plan_run(policy, single)
                if not plan.jobs:
                    plan, forced = plan_run(policy, single, force=True), True
        except InputError as error:
            self.post_message(RunFinished(None, f"The run was not planned: {error}"))
            return
        self.post_message(RunPlanned(plan, request_id, forced))

    def on_run_planned(self, message: RunPlanned) -> None:
        plan = message.plan
        if not plan.jobs:
            self._run_switch = None
            self.notify("Every request has an output from every model; nothing to run")
            return
        title = "Run missing outputs"
        if message.request_id is not None:
            title = "Run the selected request"
        dialog = ChoiceDialog(
            title,
            confirm_message(plan, message.request_id, message.forced),
            [Choice("run", "Run", "primary"), Choice("cancel", "Cancel")],
            dialog_id="run-confirm",
            # A run spends money, so a stray Enter must not start one.
            focus_id="cancel",
        )
        self.push_screen(
            dialog, lambda choice: self._on_run_choice(choice, plan, message)
        )

    def _on_run_choice(
        self, choice: str | None, plan: Any, planned: RunPlanned
    ) -> None:
        if choice != "run":
            self._run_switch = None
            return
        title = "Running missing outputs"
        if planned.request_id is not None:
            title = f"Running request {planned.request_id!r}"
        self.push_screen(RunProgressScreen(len(plan.jobs), title))
        self._execute_run(plan, self._run_switch, planned.forced)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _execute_run(self, plan: Any, switch: CancelSwitch, force: bool) -> None:
        from tui.core.problems import InputError

        try:
            report = asyncio.run(self._send(plan, switch, force))
        except InputError as error:
            self.post_message(RunFinished(None, f"The run stopped: {error}"))
            return
        except Exception as error:  # noqa: BLE001 - shown in a dialog, app goes on
            self.post_message(
                RunFinished(None, f"The run failed: {type(error).__name__}: {error}")
            )
            return
        self.post_message(RunFinished(report))

    async def _send(self, plan: Any, switch: CancelSwitch, force: bool) -> Any:
        from copy import copy

        from tui.core.runner import RunOptions, execute_run

        cancel = switch.attach()

        def on_progress(state: Any) -> None:
            # A copy, because the runner keeps updating its object.
            self.post_message(RunProgressed(copy(state)))

        return await execute_run(
            plan, RunOptions(force=force), progress=on_progress, cancel=cancel
        )

    def on_run_progressed(self, message: RunProgressed) -> None:
        screen = self.screen
        if isinstance(screen, RunProgressScreen) and not screen.finished:
            screen.show_status(progress_text(message.state))

    def on_run_finished(self, message: RunFinished) -> None:
        self._run_switch = None
        screen = self.screen
        if message.error is not None:
            self.log.error(f"run of missing outputs failed: {message.error}")
            if isinstance(screen, RunProgressScreen):
                screen.dismiss()
            self.push_screen(error_dialog("Run failed", message.error))
            return
        summary = summary_text(message.report)
        if isinstance(screen, RunProgressScreen):
            screen.show_finished(summary)
        severity = "warning" if message.report.failures else "information"
        self.notify(summary, severity=severity, timeout=10)
        if message.report.written:
            self.action_reload_sample()

    def action_cancel_run(self) -> None:
        switch = self._run_switch
        if switch is None:
            self.notify("No run is in progress", severity="warning")
            return
        switch.set()
        self.notify("Cancelling the run; outputs received so far are kept")
