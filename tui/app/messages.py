"""Messages that background workers post to the app with their results."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class PolicyChecked(Message):
    """The editor text at `revision` was validated."""

    def __init__(self, revision: int, result: Any, preview_follows: bool) -> None:
        super().__init__()
        self.revision = revision
        self.result = result  # policy.PolicyResult
        self.preview_follows = preview_follows  # a PreviewReady comes next


class CheckDone(Message):
    """A check of the editor text ended, with or without a preview.

    `data_version` is the app's data version the preview was computed from,
    or None when no preview was computed.
    """

    def __init__(self, revision: int, data_version: int | None) -> None:
        super().__init__()
        self.revision = revision
        self.data_version = data_version


class PreviewReady(Message):
    """A preview was computed for the policy at `revision`."""

    def __init__(
        self, revision: int, preview: Any, router: Any, seconds: float, stale: bool
    ) -> None:
        super().__init__()
        self.revision = revision
        self.preview = preview  # preview.Preview
        self.router = router  # router.Router of the previewed policy
        self.seconds = seconds  # time spent computing, in seconds
        self.stale = stale  # computed from the last valid policy, not the text


class SampleLoaded(Message):
    """The sample was read, or `sample` is None and `notice` gives the reason."""

    def __init__(self, sample: Any, notice: str | None) -> None:
        super().__init__()
        self.sample = sample  # samples.Sample
        self.notice = notice


class DraftFound(Message):
    """An autosaved draft that differs from the policy file exists."""

    def __init__(self, draft: Any) -> None:
        super().__init__()
        self.draft = draft  # drafts.Draft


class GradeWritten(Message):
    """A verdict was written into the sample file."""

    def __init__(
        self, request: Any, model: str, grade: float | None, graded_by: str
    ) -> None:
        super().__init__()
        self.request = request  # samples.Request
        self.model = model
        self.grade = grade
        self.graded_by = graded_by


class PolicySaved(Message):
    """The policy was saved; `result` is a versions.SaveResult."""

    def __init__(self, result: Any, text: str) -> None:
        super().__init__()
        self.result = result
        self.text = text  # the editor text that was saved, before the version bump


class SaveBlocked(Message):
    """A save did not happen; `error` is the exception that stopped it."""

    def __init__(self, error: Exception, text: str) -> None:
        super().__init__()
        self.error = error
        self.text = text
