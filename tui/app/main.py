"""The Routebook app: a policy editor with a live per-segment preview.

The app owns the state every screen shows: the editor text, the latest check
of it, the sample and the latest preview. Screens draw from that state in
`sync()`. Work that can take long (validation and preview, loading the
sample, saving, writing verdicts, drafts) runs in thread workers that post
typed messages back (`messages.py`), so the UI thread does not wait for it.

Start-up stays light: the first screen needs only the policy text, so the
core (ruamel, the sample, prices) is imported by the workers that start
after the first paint. LiteLLM is imported only when a run of the models starts
(`live_run.py`).
"""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ScreenStackError
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState, get_current_worker

from ..format import counted
from .commands import RoutebookCommands
from .dialogs.choice import Choice, ChoiceDialog
from .dialogs.error import error_dialog
from .live_run import RUN_KEY, RUN_SELECTED_KEY, LiveRunMixin
from .messages import (
    CheckDone,
    DraftFound,
    GradeWritten,
    PolicyChecked,
    PolicySaved,
    PreviewReady,
    SampleLoaded,
    SaveBlocked,
)
from .review_state import ReviewState

EXIT_OK = 0
EXIT_USAGE = 2

# Validation starts as soon as the screen has drawn the key that changed the
# text, so the check's thread does not slow that redraw down. One check runs at
# a time, in a worker. Edits made meanwhile are checked together when it ends,
# so a held key cannot queue up checks.
# A draft is written after this many seconds without an edit.
DRAFT_DELAY = 3.0

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "templates" / "policy.yaml"

# The `name:` line of a policy, read before the YAML parser is loaded.
_NAME_LINE = re.compile(
    r"^name:[ \t]*['\"]?(?P<name>[^'\"#\n]+?)['\"]?[ \t]*(#.*)?$", re.M
)

SCREENS = {
    "policy": ("policy", "PolicyScreen"),
    "preview": ("preview", "PreviewScreen"),
    "samples": ("samples", "SamplesScreen"),
    "compare": ("compare", "CompareScreen"),
    "history": ("history", "HistoryScreen"),
}


def _screen_factory(module: str, name: str):
    """Build a screen on first use, so its imports do not slow the start-up."""

    def build():
        screens = importlib.import_module(f"tui.app.screens.{module}")
        return getattr(screens, name)()

    return build


class StartupError(Exception):
    """A problem that stops the app before it opens, with the message to print."""


def read_policy_text(path: Path) -> tuple[str, str | None]:
    """Return the policy text as the editor shows it and the digest of its bytes.

    The digest is None when the file does not exist. Raises StartupError when
    the file cannot be read or is not UTF-8.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "", None
    except IsADirectoryError as error:
        raise StartupError(f"{path}: is a folder; pass a policy YAML file") from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise StartupError(f"{path}: cannot read the policy ({reason})") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StartupError(
            f"{path}: the policy is not UTF-8 (invalid byte at offset {error.start});"
            " save it as UTF-8"
        ) from error
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, hashlib.sha256(data).hexdigest()


def policy_name_in(text: str) -> str | None:
    """Return the top-level `name:` of a policy text without parsing the YAML."""
    match = _NAME_LINE.search(text)
    return match.group("name").strip() if match else None


class RoutebookApp(LiveRunMixin, App[int]):
    """Edit a routing policy and review what it does to a sample."""

    # Absolute, so subclasses defined elsewhere (tests, benchmarks) find it.
    CSS_PATH = Path(__file__).resolve().parent / "routebook.tcss"
    TITLE = "Routebook"
    COMMANDS = App.COMMANDS | {RoutebookCommands}
    DEFAULT_MODE = "policy"
    MODES = {mode: _screen_factory(*where) for mode, where in SCREENS.items()}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),
        Binding("question_mark", "help", "Help", show=False),
        # Priority, because TextArea binds F6 and F7 to selections.
        Binding("f2", "show('policy')", "Policy", priority=True),
        Binding("f3", "show('preview')", "Preview", priority=True),
        Binding("f4", "show('samples')", "Samples", priority=True),
        Binding("f5", "show('compare')", "Compare", priority=True),
        Binding("f6", "show('history')", "History", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding(RUN_KEY, "run_missing", "Run missing outputs", show=False),
    ]

    # Palette entries for app-wide actions: (title, help, action).
    PALETTE = [
        ("Show policy editor", "Edit the policy YAML (F2)", "show('policy')"),
        (
            "Show preview",
            "Per-segment routing, quality and cost (F3)",
            "show('preview')",
        ),
        ("Show samples", "Requests of the selected segment (F4)", "show('samples')"),
        ("Show compare", "Both models' outputs side by side (F5)", "show('compare')"),
        ("Show history", "Saved versions and what changed (F6)", "show('history')"),
        (
            "Save policy",
            "Validate, bump the version and write the file (ctrl+s)",
            "save",
        ),
        ("Help: keys", "List the keys of every screen (F1)", "help"),
        ("Reload sample", "Read the sample file again", "reload_sample"),
        (
            "Run missing outputs",
            f"Call the models for outputs the sample lacks, after a cost estimate"
            f" ({RUN_KEY})",
            "run_missing",
        ),
        (
            "Run selected request",
            "Call the models for the request selected on the Samples or Compare"
            f" screen ({RUN_SELECTED_KEY} there)",
            "run_selected",
        ),
        ("Cancel run", "Stop the run; outputs received so far are kept", "cancel_run"),
        ("Quit", "Leave Routebook; asks first when there are unsaved edits", "quit"),
    ]

    def __init__(
        self,
        policy_path: str | Path,
        sample_path: str | Path | None = None,
        *,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.policy_path = Path(policy_path)
        self.sample_path = Path(sample_path) if sample_path else None
        self.cursor_blink = cursor_blink
        """False freezes every cursor, for screenshots and snapshot tests."""

        self.text, self.loaded_digest = read_policy_text(self.policy_path)
        self.saved_text = self.text
        self.policy_exists = self.loaded_digest is not None
        self.revision = 0
        self.check_result: Any = None  # policy.PolicyResult of the latest check
        self.checked_revision = -1
        self.policy: Any = None  # the last valid policy.Policy
        self.preview: Any = None  # preview.Preview of the last valid policy
        self.router: Any = None  # router.Router of that policy
        self.preview_stale = False
        self.preview_updating = False
        """True from an edit until its preview arrives (or none will)."""
        self.preview_seconds: float | None = None
        self.preview_revision = -1
        """The editor revision the preview was computed for; a preview of an
        older revision is shown while the newest one is computed."""
        self.sample: Any = None  # samples.Sample
        self.sample_notice: str | None = None
        self.sample_loading = self.sample_path is not None
        self.review = ReviewState(self)
        self._session: Any = None  # livepreview.PreviewSession
        self._check_scheduled = False
        self._check_running = False
        self._check_again = False
        self._draft_timer = None
        self._verdict_lock = threading.Lock()
        self._regrade_pending = False
        # Raised whenever the previewed data changes: a sample load, a verdict.
        self._data_version = 0
        self._quit_after_save = False
        self.first_paint_done = False
        self.fatal_message: str | None = None

    # --- start-up ---------------------------------------------------------

    def on_mount(self) -> None:
        self._update_title()

    def on_ready(self) -> None:
        """Fill in the rest once the first screen is on display."""
        self.first_paint_done = True
        screen = self._policy_screen()
        if screen is not None:
            screen.first_paint_done()
        self._after_first_paint()

    def _after_first_paint(self) -> None:
        if not self.policy_exists:
            self._offer_template()
            return
        self._start_background_work()

    def _start_background_work(self) -> None:
        self.check_now()
        self._look_for_draft()
        if self.sample_path is None:
            self.sample_notice = (
                "No sample loaded, so there is no preview. Open the policy with"
                " `routebook edit POLICY --sample FILE.jsonl` to see routing,"
                " quality and cost per segment."
            )
            self.sync_screen()
        else:
            self._load_sample()

    def _offer_template(self) -> None:
        dialog = ChoiceDialog(
            "Policy file not found",
            f"{self.policy_path} does not exist. Create it from the starter"
            " template (two models, three segments, two rules, budgets)?",
            [
                Choice("create", "Create from template", "primary"),
                Choice("quit", "Quit"),
            ],
            cancel_id="quit",
            dialog_id="create-policy",
        )
        self.push_screen(dialog, self._on_template_choice)

    def _on_template_choice(self, choice: str | None) -> None:
        if choice != "create":
            self.fatal_message = f"{self.policy_path}: not found; nothing was created"
            self.exit(EXIT_USAGE, return_code=EXIT_USAGE)
            return
        try:
            self._create_from_template()
        except Exception as error:  # noqa: BLE001 - any write failure ends the app
            self.fatal_message = (
                f"{self.policy_path}: cannot create the policy: {error}"
            )
            self.exit(EXIT_USAGE, return_code=EXIT_USAGE)
            return
        self.notify(f"Created {self.policy_path.name} from the starter template")
        self._start_background_work()

    def _create_from_template(self) -> None:
        from tui.core.yamlio import atomic_write_text

        text = TEMPLATE_PATH.read_text(encoding="utf-8")
        stem = re.sub(r"[^\w.-]+", "-", self.policy_path.stem) or "my-policy"
        text = text.replace("name: my-policy", f"name: {stem}", 1)
        self.policy_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.policy_path, text)
        self.text, self.loaded_digest = read_policy_text(self.policy_path)
        self.saved_text = self.text
        self.policy_exists = True
        self.set_editor_text(self.text)

    # --- the editor text --------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether the editor contains edits that are not saved."""
        return self.text != self.saved_text

    def editor_changed(self, text: str) -> None:
        """Record a change of the editor text and schedule its check and draft."""
        if text == self.text:
            return
        self.text = text
        self.revision += 1
        self._update_title()
        self._schedule_check()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self.write_draft_now)

    def set_editor_text(
        self, text: str, line: int | None = None, keep_cursor: bool = False
    ) -> None:
        """Replace the editor's text (undoable in the editor) and check it.

        The cursor goes to `line` (0-based) when given, stays where it was with
        `keep_cursor`, and otherwise goes to the top.
        """
        screen = self._policy_screen()
        if screen is not None:
            screen.replace_text(text, line, keep_cursor)
        else:
            self.editor_changed(text)

    def _policy_screen(self):
        stack = self._screen_stacks.get("policy") or []
        return stack[0] if stack else None

    def _update_title(self) -> None:
        name = None
        if self.check_result is not None and self.check_result.policy is not None:
            policy = self.check_result.policy
            name = f"{policy.name} v{policy.version}"
        if name is None:
            name = policy_name_in(self.text) or "(unnamed policy)"
        marker = " (modified)" if self.dirty else ""
        self.sub_title = f"{name} · {self.policy_path.name}{marker}"

    # --- checking and previewing ------------------------------------------

    @property
    def checking(self) -> bool:
        """Whether a check of the editor text is scheduled, running or queued."""
        return self._check_running or self._check_scheduled

    def _schedule_check(self) -> None:
        if self._check_running:
            self._check_again = True
            return
        if not self._check_scheduled:
            self._check_scheduled = True
            self.call_after_refresh(self._run_scheduled_check)

    def _run_scheduled_check(self) -> None:
        if self._check_scheduled:  # else a direct check_now ran meanwhile
            self.check_now()

    def check_now(self) -> None:
        """Validate the editor text now and, when it is valid, refresh the preview.

        While a check runs, this marks the text to be checked when it ends.
        """
        self._check_scheduled = False
        if self._check_running:
            self._check_again = True
            return
        self._check_running = True
        self._check_again = False
        regrade = self._regrade_pending
        self._regrade_pending = False
        self.preview_updating = self._session is not None
        self._check_and_preview(self.text, self.revision, regrade)

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def _check_and_preview(self, text: str, revision: int, regrade: bool) -> None:
        data_version = None
        try:
            data_version = self._check_text(text, revision, regrade)
        finally:
            self.post_message(CheckDone(revision, data_version))

    def _check_text(self, text: str, revision: int, regrade: bool) -> int | None:
        """Validate and preview; return the data version previewed, if any."""
        from tui.core.policy import parse_policy

        worker = get_current_worker()
        result = parse_policy(text, str(self.policy_path))
        if worker.is_cancelled:
            return None

        # An invalid text keeps the last valid preview, which is recomputed
        # only when grades changed (a verdict), and then marked stale.
        policy, stale = result.policy, False
        if not result.ok:
            policy, stale = (self.policy, True) if regrade else (None, True)
        # The version is read before the session: the UI thread replaces the
        # session first and then raises the version, so a version read here
        # never claims data newer than the session read after it.
        data_version = self._data_version
        session = self._session
        follows = session is not None and policy is not None
        self.post_message(PolicyChecked(revision, result, follows))
        if not follows:
            return None
        started = time.perf_counter()
        preview, router = session.compute(
            policy, regrade=regrade, data_version=data_version
        )
        seconds = time.perf_counter() - started
        if not worker.is_cancelled:
            self.post_message(PreviewReady(revision, preview, router, seconds, stale))
        return data_version

    @on(CheckDone)
    def _on_check_done(self, message: CheckDone) -> None:
        self._check_running = False
        # A sample load or a verdict during this check requests a recompute,
        # which is not needed when the check already used that data.
        current = message.revision == self.revision
        if current and message.data_version == self._data_version:
            self._check_again = False
            self._regrade_pending = False
        if self._check_again:
            self.check_now()

    @on(PolicyChecked)
    def _on_policy_checked(self, message: PolicyChecked) -> None:
        if message.revision < self.checked_revision:
            return
        self.checked_revision = message.revision
        self.check_result = message.result
        if message.result.ok:
            self.policy = message.result.policy
        if message.revision == self.revision:
            self.preview_updating = message.preview_follows
        self.preview_stale = self.preview is not None and not message.result.ok
        self._update_title()
        self.sync_screen()

    @on(PreviewReady)
    def _on_preview_ready(self, message: PreviewReady) -> None:
        if message.revision < self.checked_revision:
            return
        self.preview = message.preview
        self.preview_revision = message.revision
        self.router = message.router
        self.preview_seconds = message.seconds
        self.preview_stale = message.stale
        if message.revision == self.revision:
            self.preview_updating = False
        self.sync_screen()

    def sync_screen(self) -> None:
        """Redraw the current screen from the app state."""
        if not self.is_running:
            return  # a worker's result arrived while the app closes
        try:
            screen = self.screen
        except ScreenStackError:
            return
        if getattr(screen, "_mounted_once", False):
            screen.sync()

    # --- the sample -------------------------------------------------------

    def action_reload_sample(self) -> None:
        if self.sample_path is None:
            self.notify(
                "No sample file was given; start with --sample FILE.jsonl",
                severity="warning",
            )
            return
        self.sample_loading = True
        self._load_sample()

    @work(thread=True, exclusive=True, group="sample", exit_on_error=False)
    def _load_sample(self) -> None:
        from tui.core.problems import InputError
        from tui.core.samples import load_sample

        try:
            sample = load_sample(self.sample_path)
        except InputError as error:
            self.post_message(SampleLoaded(None, sample_error_notice(str(error))))
            return
        self.post_message(SampleLoaded(sample, sample_problem_notice(sample)))

    @on(SampleLoaded)
    def _on_sample_loaded(self, message: SampleLoaded) -> None:
        from tui.core.livepreview import PreviewSession

        self.sample_loading = False
        self.sample = message.sample
        self.sample_notice = message.notice
        if message.notice:
            severity = "error" if message.sample is None else "warning"
            self.notify(message.notice, severity=severity, timeout=10)
        if message.sample is not None:
            self._session = PreviewSession(message.sample.requests)
            self._data_version += 1
            self._regrade_pending = True
            self.check_now()
        self.sync_screen()

    # --- drafts -----------------------------------------------------------

    @work(thread=True, group="draft", exit_on_error=False)
    def _look_for_draft(self) -> None:
        from tui.core.drafts import read_draft

        draft = read_draft(self.policy_path)
        if draft is not None:
            self.post_message(DraftFound(draft))

    @on(DraftFound)
    def _on_draft_found(self, message: DraftFound) -> None:
        draft = message.draft
        note = ""
        if draft.base_changed:
            note = (
                "\n\nThe policy file changed on disk after this draft was started;"
                " restoring it replaces that change in the editor."
            )
        dialog = ChoiceDialog(
            "Unsaved draft found",
            f"An autosaved draft of {self.policy_path.name} from {draft.saved_at}"
            f" differs from the file.{note}",
            [
                Choice("restore", "Restore draft", "primary"),
                Choice("discard", "Discard draft", "error"),
            ],
            cancel_id="keep",
            dialog_id="draft-dialog",
        )
        self.push_screen(dialog, lambda choice: self._on_draft_choice(choice, draft))

    def _on_draft_choice(self, choice: str | None, draft: Any) -> None:
        if choice == "restore":
            self.set_editor_text(draft.text)
            self.notify("Draft restored; save with ctrl+s to keep it")
        elif choice == "discard":
            self._clear_draft()

    def write_draft_now(self) -> None:
        """Autosave the editor text as a draft when it differs from the file."""
        self._draft_timer = None
        if self.dirty and self.policy_exists:
            self._write_draft(self.text, self.loaded_digest)

    @work(thread=True, exclusive=True, group="draft-write", exit_on_error=False)
    def _write_draft(self, text: str, base_digest: str | None) -> None:
        from tui.core.drafts import write_draft
        from tui.core.problems import InputError

        try:
            write_draft(self.policy_path, text, base_digest)
        except InputError as error:
            self.call_from_thread(
                self.notify, f"Draft not saved: {error}", severity="warning"
            )

    def _clear_draft(self) -> None:
        from tui.core.drafts import clear_draft
        from tui.core.problems import InputError

        try:
            clear_draft(self.policy_path)
        except InputError as error:
            self.notify(str(error), severity="warning")

    # --- saving -----------------------------------------------------------

    def current_text(self) -> str:
        """Return the editor's text now, even before its change event is handled."""
        screen = self._policy_screen()
        if screen is not None and screen.is_mounted:
            return screen.editor.text
        return self.text

    def action_save(self) -> None:
        if isinstance(self.screen, ModalScreen):
            return
        self.editor_changed(self.current_text())
        self._save(self.text, force=False)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def _save(self, text: str, force: bool) -> None:
        from tui.core.problems import InputError
        from tui.core.versions import ExternalChangeError, save_policy

        try:
            result = save_policy(
                self.policy_path, text, loaded_digest=self.loaded_digest, force=force
            )
        except (ExternalChangeError, InputError) as error:
            self.post_message(SaveBlocked(error, text))
            return
        self.post_message(PolicySaved(result, text))

    @on(PolicySaved)
    def _on_policy_saved(self, message: PolicySaved) -> None:
        result = message.result
        self.loaded_digest = result.digest
        self.saved_text = result.text
        if self.text == message.text and result.text != message.text:
            self.set_editor_text(result.text, keep_cursor=True)
        self._clear_draft()
        self._update_title()
        kept = ""
        if result.previous_path is not None:
            kept = f"; the previous file is kept as {result.previous_path.name}"
        self.notify(f"Saved {self.policy_path.name} as version {result.version}{kept}")
        self.sync_screen()
        if self._quit_after_save:
            self.exit(EXIT_OK, return_code=EXIT_OK)

    @on(SaveBlocked)
    def _on_save_blocked(self, message: SaveBlocked) -> None:
        from tui.core.versions import ExternalChangeError, PolicyInvalidError

        self._quit_after_save = False
        error = message.error
        if isinstance(error, ExternalChangeError):
            self._ask_about_external_change(message.text)
        elif isinstance(error, PolicyInvalidError):
            first = error.problems[0] if error.problems else None
            where = f" (first: line {first.line}, {first.message})" if first else ""
            self.notify(
                f"Not saved: the policy has {counted(len(error.problems), 'error')}"
                f"{where}."
                " Fix them first; the Problems list shows each one.",
                severity="error",
                timeout=8,
            )
        else:
            self.push_screen(error_dialog("Save failed", str(error)))

    def _ask_about_external_change(self, text: str) -> None:
        dialog = ChoiceDialog(
            "File changed on disk",
            f"{self.policy_path.name} was changed by another program since it was"
            " loaded. Overwrite it with the editor's text, reload it from disk"
            " (your edits are lost), or cancel?",
            [
                Choice("overwrite", "Overwrite", "error"),
                Choice("reload", "Reload from disk", "warning"),
                Choice("cancel", "Cancel", "primary"),
            ],
            dialog_id="external-change",
        )
        self.push_screen(dialog, lambda choice: self._on_external_choice(choice, text))

    def _on_external_choice(self, choice: str | None, text: str) -> None:
        if choice == "overwrite":
            self._save(text, force=True)
        elif choice == "reload":
            self.reload_policy()

    def reload_policy(self) -> None:
        """Replace the editor text with the file on disk."""
        try:
            text, digest = read_policy_text(self.policy_path)
        except StartupError as error:
            self.push_screen(error_dialog("Reload failed", str(error)))
            return
        self.loaded_digest = digest
        self.saved_text = text
        self.set_editor_text(text)
        self._clear_draft()
        self.notify(f"Reloaded {self.policy_path.name} from disk")

    # --- verdicts ---------------------------------------------------------

    def record_verdict(self, request: Any, model: str, verdict: str) -> None:
        """Write a reviewer's verdict on one output into the sample file."""
        from tui.core.review import verdict_grade

        if self.sample_path is None:
            self.notify("No sample file to write the verdict into", severity="error")
            return
        self._write_verdict(request, model, verdict_grade(verdict))

    @work(thread=True, group="verdict", exit_on_error=False)
    def _write_verdict(self, request: Any, model: str, grade: float | None) -> None:
        from tui.core.problems import InputError
        from tui.core.review import reviewer_name
        from tui.core.samples import write_grade

        graded_by = reviewer_name()
        with self._verdict_lock:
            try:
                write_grade(
                    self.sample_path, request.id, model, grade, graded_by=graded_by
                )
            except InputError as error:
                self.call_from_thread(
                    self.push_screen, error_dialog("Verdict not saved", str(error))
                )
                return
        self.post_message(GradeWritten(request, model, grade, graded_by))

    @on(GradeWritten)
    def _on_grade_written(self, message: GradeWritten) -> None:
        output = message.request.outputs.get(message.model)
        if output is not None:
            output.grade = message.grade
            output.extra["graded_by"] = message.graded_by
        self._data_version += 1
        self._regrade_pending = True
        self.check_now()
        self.sync_screen()

    # --- navigation and quitting ------------------------------------------

    def action_show(self, mode: str) -> None:
        if isinstance(self.screen, ModalScreen):
            return
        self.switch_mode(mode)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, ModalScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        if isinstance(self.screen, ModalScreen) and self.screen.id == "quit-dialog":
            return
        self.editor_changed(self.current_text())
        if not self.dirty:
            self.exit(EXIT_OK, return_code=EXIT_OK)
            return
        dialog = ChoiceDialog(
            "Unsaved edits",
            f"{self.policy_path.name} has edits that are not saved.",
            [
                Choice("save", "Save and quit", "primary"),
                Choice("discard", "Quit without saving", "error"),
                Choice("cancel", "Cancel"),
            ],
            dialog_id="quit-dialog",
        )
        self.push_screen(dialog, self._on_quit_choice)

    def _on_quit_choice(self, choice: str | None) -> None:
        if choice == "save":
            self._quit_after_save = True
            self._save(self.current_text(), force=False)
        elif choice == "discard":
            self._clear_draft()
            self.exit(EXIT_OK, return_code=EXIT_OK)

    # --- review state -----------------------------------------------------

    def select_segment(self, dimension: str | None, value: Any) -> None:
        """Point the Samples screen at one segment and show it."""
        self.review.set_filter(dimension=dimension, value=value)
        self.review.current_id = None
        self.switch_mode("samples")

    # --- errors -----------------------------------------------------------

    @on(Worker.StateChanged)
    def _on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error(f"worker {event.worker.name} failed: {error!r}")
        self.push_screen(
            error_dialog(
                "Background task failed",
                f"{event.worker.name} stopped with {type(error).__name__}: {error}."
                " The app keeps running; the last good results stay on screen.",
            )
        )


def sample_error_notice(error: str) -> str:
    return (
        f"Sample not loaded: {error}. The editor works without it; fix the file"
        " and use 'Reload sample' from the command palette (ctrl+p), or restart"
        " with --sample pointing to a readable JSONL file."
    )


def sample_problem_notice(sample: Any) -> str | None:
    """Describe the lines of a sample that were skipped or read with warnings."""
    errors = [problem for problem in sample.problems if problem.is_error]
    if not sample.requests:
        return (
            f"{sample.path}: the sample has no usable requests, so there is no"
            " preview; each line must be a JSON object with an id and a prompt"
        )
    if not errors:
        return None

    # A line with an error is either skipped or read with a fallback value,
    # and one line can have several errors.
    error_lines = {problem.line for problem in errors}
    loaded = {request.line for request in sample.requests}
    skipped = len(error_lines - loaded)
    return (
        f"{counted(len(error_lines), 'line')} of the sample"
        f" {'has' if len(error_lines) == 1 else 'have'} errors ({skipped} skipped,"
        f" {len(error_lines) - skipped} read with fallback values), so the preview"
        f" may misstate figures; first: {errors[0].format()}"
    )


def run_app(policy_path: str | Path, sample_path: str | Path | None = None) -> int:
    """Run the app until the user quits; return the process exit code."""
    try:
        app = RoutebookApp(policy_path, sample_path)
    except StartupError as error:
        print(f"routebook: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    app.run()
    if app.fatal_message:
        print(f"routebook: {app.fatal_message}", file=sys.stderr)
    return app.return_code or EXIT_OK
