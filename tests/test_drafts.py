"""Crash-recovery drafts: write, read, clear, and when a draft is ignored."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from tui.core.drafts import clear_draft, draft_path, read_draft, write_draft
from tui.core.versions import file_digest

POLICY = "schema: routebook/v1\nname: x\nversion: 1\n"


@pytest.fixture
def state(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    monkeypatch.setenv("ROUTEBOOK_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "policies" / "x.yaml"
    path.parent.mkdir()
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_draft_path_under_state_dir(state, policy):
    key = hashlib.sha256(os.path.abspath(policy).encode("utf-8")).hexdigest()
    assert draft_path(policy) == state / "drafts" / f"{key}.json"


def test_draft_path_default_platformdirs(monkeypatch, policy):
    import platformdirs

    monkeypatch.delenv("ROUTEBOOK_STATE_DIR", raising=False)
    expected_folder = platformdirs.user_state_path("routebook") / "drafts"
    assert draft_path(policy).parent == expected_folder


def test_draft_write_read_clear(state, policy):
    edited = POLICY + "description: work in progress\n"
    digest = file_digest(policy)

    write_draft(policy, edited, digest)
    draft = read_draft(policy)

    assert draft is not None
    assert draft.text == edited
    assert draft.base_digest == digest
    assert draft.policy_path == os.path.abspath(policy)
    assert draft.base_changed is False
    assert draft.path == draft_path(policy)

    clear_draft(policy)
    assert read_draft(policy) is None
    assert not draft_path(policy).exists()
    clear_draft(policy)


def test_draft_identical_to_disk_ignored(state, policy):
    write_draft(policy, POLICY, file_digest(policy))
    assert read_draft(policy) is None


def test_draft_identical_to_crlf_disk_ignored(state, policy):
    policy.write_bytes(b"\xef\xbb\xbf" + POLICY.replace("\n", "\r\n").encode())
    write_draft(policy, POLICY, file_digest(policy))
    assert read_draft(policy) is None


def test_draft_kept_when_file_deleted(state, policy):
    write_draft(policy, POLICY, file_digest(policy))
    policy.unlink()
    draft = read_draft(policy)
    assert draft is not None
    assert draft.text == POLICY
    assert draft.base_changed is True


def test_draft_notes_changed_base(state, policy):
    write_draft(policy, POLICY + "# edit\n", file_digest(policy))
    policy.write_text(POLICY + "description: changed elsewhere\n", encoding="utf-8")
    assert read_draft(policy).base_changed is True


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"format": 1, "policy_path": 3, "text": "", "base_digest": null,'
        b' "saved_at": ""}',
        b'{"format": 99, "policy_path": "", "text": "", "base_digest": null,'
        b' "saved_at": ""}',
    ],
)
def test_draft_corrupt_file_is_none(state, policy, content):
    target = draft_path(policy)
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    assert read_draft(policy) is None


def test_draft_for_other_path_is_none(state, policy, tmp_path):
    write_draft(policy, POLICY + "# edit\n", None)
    record = json.loads(draft_path(policy).read_text(encoding="utf-8"))
    record["policy_path"] = str(tmp_path / "other.yaml")
    draft_path(policy).write_text(json.dumps(record), encoding="utf-8")
    assert read_draft(policy) is None


def test_draft_write_leaves_no_temp(state, policy):
    write_draft(policy, POLICY + "# one\n", None)
    write_draft(policy, POLICY + "# two\n", None)
    names = [p.name for p in (state / "drafts").iterdir()]
    assert names == [draft_path(policy).name]
    assert read_draft(policy).text == POLICY + "# two\n"
