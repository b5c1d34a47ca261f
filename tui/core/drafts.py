"""Unsaved editor text kept on disk, so a crash or a closed terminal loses nothing.

One JSON file per policy under `<state folder>/drafts/`, named by the sha256 of
the policy's absolute path. The state folder is platformdirs'
`user_state_path("routebook")`, or the folder in ROUTEBOOK_STATE_DIR when set.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .problems import InputError
from .versions import file_digest
from .yamlio import atomic_write_text, read_text_file

STATE_DIR_ENV = "ROUTEBOOK_STATE_DIR"
DRAFT_FORMAT = 1


@dataclass
class Draft:
    """Editor text saved for crash recovery, and what it was based on."""

    policy_path: str  # absolute path of the policy file
    text: str
    base_digest: str | None  # file_digest of the policy when editing started
    saved_at: str  # ISO 8601 with UTC offset
    path: Path  # the draft file itself
    # True when the policy file no longer has `base_digest`, so restoring the
    # draft would drop a change made on disk after the draft was started.
    base_changed: bool = False


def state_dir() -> Path:
    """Return the folder for Routebook's state: ROUTEBOOK_STATE_DIR or platformdirs'."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override)

    import platformdirs

    return platformdirs.user_state_path("routebook")


def draft_path(policy_path: str | os.PathLike[str]) -> Path:
    """Return `<state>/drafts/<sha256 of the absolute policy path>.json`."""
    key = hashlib.sha256(_absolute(policy_path).encode("utf-8")).hexdigest()
    return state_dir() / "drafts" / f"{key}.json"


def write_draft(
    policy_path: str | os.PathLike[str], text: str, base_digest: str | None
) -> None:
    """Store the editor's text for a policy atomically; raise InputError on failure."""
    record = {
        "format": DRAFT_FORMAT,
        "policy_path": _absolute(policy_path),
        "text": text,
        "base_digest": base_digest,
        "saved_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    target = draft_path(policy_path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"{target.parent}: cannot create the drafts folder"
            f" ({error.strerror or error}); set {STATE_DIR_ENV} to a writable folder"
        ) from error
    atomic_write_text(target, json.dumps(record, ensure_ascii=False))


def read_draft(policy_path: str | os.PathLike[str]) -> Draft | None:
    """Return the policy's draft, or None when it is absent, unreadable or not needed.

    A draft whose text equals the policy file's text is not needed. A draft file
    that is not valid JSON in the draft format, or that belongs to another path,
    counts as unreadable.
    """
    target = draft_path(policy_path)
    record = _read_record(target)
    if record is None or record["policy_path"] != _absolute(policy_path):
        return None

    on_disk = _disk_text(policy_path)
    if on_disk is not None and on_disk == record["text"]:
        return None
    return Draft(
        policy_path=record["policy_path"],
        text=record["text"],
        base_digest=record["base_digest"],
        saved_at=record["saved_at"],
        path=target,
        base_changed=file_digest(policy_path) != record["base_digest"],
    )


def clear_draft(policy_path: str | os.PathLike[str]) -> None:
    """Delete the policy's draft, if there is one."""
    try:
        draft_path(policy_path).unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise InputError(
            f"{draft_path(policy_path)}: cannot delete the draft"
            f" ({error.strerror or error})"
        ) from error


def _absolute(policy_path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(policy_path))


def _read_record(target: Path) -> dict | None:
    try:
        record = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None

    if not isinstance(record, dict) or record.get("format") != DRAFT_FORMAT:
        return None
    text_ok = isinstance(record.get("text"), str)
    path_ok = isinstance(record.get("policy_path"), str)
    digest_ok = record.get("base_digest") is None or isinstance(
        record.get("base_digest"), str
    )
    time_ok = isinstance(record.get("saved_at"), str)
    if not (text_ok and path_ok and digest_ok and time_ok):
        return None
    return record


def _disk_text(policy_path: str | os.PathLike[str]) -> str | None:
    """Return the policy file's text as the editor shows it, or None if unreadable."""
    try:
        text, _ = read_text_file(policy_path)
    except InputError:
        return None
    return text
