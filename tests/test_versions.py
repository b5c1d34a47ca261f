"""Saving policies: version bump, byte-exact text, history copies, external changes."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from tui.core import versions
from tui.core.problems import InputError
from tui.core.versions import (
    ExternalChangeError,
    PolicyInvalidError,
    bump_version_text,
    file_digest,
    history_dir,
    list_versions,
    read_version,
    safe_policy_name,
    save_policy,
)

POLICY = """\
# Support routing, reviewed by the platform team.
schema: routebook/v1
name: support-assistant
version: 4
description: 'Short English FAQ traffic goes to the fast model.'

models:
  strong: &strong_model {model: openai/gpt-4o}
  fast: {model: "openai/gpt-4o-mini", params: {temperature: 0}}

segments:
  tier: {field: metadata.tenant_tier}   # tenant tier from the gateway
  locale: {field: metadata.locale}

rules:
  - name: enterprise-stays-strong
    when: {tier: enterprise}
    route: strong
  - name: short-english-faq
    when:
      all:
        - {locale: en}
        - {metadata.task_type: {in: [faq, greeting, LONG_TASK_NAME]}}
    route: fast

default: strong
""".replace("LONG_TASK_NAME", "a-task-name-" + "-and-on" * 15)


def write(path: Path, text: str, *, bom=False, newline="\n") -> bytes:
    data = ("\ufeff" if bom else "") + text.replace("\n", newline)
    path.write_bytes(data.encode("utf-8"))
    return path.read_bytes()


def editor_text(path: Path) -> str:
    """Return the file's text as the editor has it: no BOM, "\\n" newlines."""
    return path.read_bytes().decode("utf-8").lstrip("\ufeff").replace("\r\n", "\n")


def policy_file(tmp_path: Path, text: str = POLICY, **fmt) -> Path:
    path = tmp_path / "policies" / "support.yaml"
    path.parent.mkdir(exist_ok=True)
    write(path, text, **fmt)
    return path


# --- file_digest and names ----------------------------------------------------


def test_digest_of_file_and_missing(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"abc")
    assert file_digest(path) == hashlib.sha256(b"abc").hexdigest()
    assert file_digest(tmp_path / "missing.yaml") is None


def test_policy_name_slug():
    assert safe_policy_name("Support Assistant") == "support-assistant"
    assert safe_policy_name("billing_v2.eu") == "billing_v2.eu"
    assert safe_policy_name("サポート") == "サポート"


@pytest.mark.parametrize("name", ["../evil", "a/b", "a\\b", "..", "x..y"])
def test_policy_name_traversal_rejected(name):
    with pytest.raises(InputError):
        safe_policy_name(name)


def test_policy_name_without_letters_rejected():
    with pytest.raises(InputError):
        safe_policy_name("...")


def test_history_dir_layout(tmp_path):
    path = tmp_path / "policies" / "support.yaml"
    expected = tmp_path / "policies" / ".history" / "support-assistant"
    assert history_dir(path, "support-assistant") == expected


# --- bump_version_text --------------------------------------------------------


def test_bump_changes_only_version_scalar():
    text, version = bump_version_text(POLICY)
    assert version == 5
    assert text == POLICY.replace("version: 4\n", "version: 5\n", 1)


def test_bump_keeps_bom_crlf_and_comment():
    original = "\ufeffschema: routebook/v1\r\nname: x\r\nversion: 9  # keep\r\n"
    text, version = bump_version_text(original)
    assert version == 10
    assert text == original.replace("version: 9", "version: 10")


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("version: &v 7\nname: x\n", "version: &v 8\nname: x\n"),
        ('version: !!int "7"\nname: x\n', 'version: !!int "8"\nname: x\n'),
        ("{schema: s, version: 7, name: x}\n", "{schema: s, version: 8, name: x}\n"),
        ("  schema: s\n  version: 7\n", "  schema: s\n  version: 8\n"),
    ],
)
def test_bump_unusual_spellings(original, expected):
    assert bump_version_text(original) == (expected, 8)


def test_bump_inserts_after_name():
    original = "schema: routebook/v1\nname: x\n# models follow\nmodels: {}\n"
    text, version = bump_version_text(original)
    assert version == 1
    assert text == (
        "schema: routebook/v1\nname: x\nversion: 1\n# models follow\nmodels: {}\n"
    )


def test_bump_inserts_after_schema_with_crlf():
    original = "schema: routebook/v1\r\nmodels: {}\r\n"
    text, _ = bump_version_text(original)
    assert text == "schema: routebook/v1\r\nversion: 1\r\nmodels: {}\r\n"


def test_bump_inserts_after_multiline_name():
    original = "schema: s\nname: >-\n  long\n  name\n\nmodels: {}\n"
    text, _ = bump_version_text(original)
    assert text == "schema: s\nname: >-\n  long\n  name\nversion: 1\n\nmodels: {}\n"


def test_bump_inserts_at_end_without_newline():
    text, _ = bump_version_text("schema: s\r\nname: x")
    assert text == "schema: s\r\nname: x\r\nversion: 1\r\n"


def test_bump_inserts_in_flow_mapping():
    text, _ = bump_version_text("{schema: s, name: x, models: {}}\n")
    assert text == "{schema: s, name: x, version: 1, models: {}}\n"


def test_bump_rejects_shared_anchor():
    with pytest.raises(InputError, match="anchor"):
        bump_version_text("version: &v 7\nname: x\nother: *v\n")


def test_bump_rejects_text_version():
    with pytest.raises(InputError, match="not a whole number"):
        bump_version_text("name: x\nversion: seven\n")


# --- save_policy --------------------------------------------------------------


def test_save_bumps_and_keeps_previous(tmp_path):
    path = policy_file(tmp_path)
    original = path.read_bytes()
    edited = editor_text(path).replace("default: strong", "default: fast")

    result = save_policy(path, edited, loaded_digest=file_digest(path))

    assert result.version == 5
    expected_previous = tmp_path / "policies/.history/support-assistant/v4.yaml"
    assert result.previous_path == expected_previous
    assert expected_previous.read_bytes() == original
    saved = path.read_text(encoding="utf-8")
    assert saved == edited.replace("version: 4\n", "version: 5\n")
    assert result.text == saved
    assert result.digest == file_digest(path)


def test_save_unchanged_changes_only_version(tmp_path):
    path = policy_file(tmp_path)
    original = path.read_bytes()

    save_policy(path, editor_text(path), loaded_digest=file_digest(path))

    assert path.read_bytes() == original.replace(b"version: 4\n", b"version: 5\n", 1)


def test_save_unchanged_bom_crlf(tmp_path):
    path = policy_file(tmp_path, bom=True, newline="\r\n")
    original = path.read_bytes()
    assert original.startswith(b"\xef\xbb\xbf")

    result = save_policy(path, editor_text(path), loaded_digest=file_digest(path))

    saved = path.read_bytes()
    assert saved == original.replace(b"version: 4\r\n", b"version: 5\r\n", 1)
    old_lines = original.split(b"\r\n")
    new_lines = saved.split(b"\r\n")
    pairs = zip(old_lines, new_lines, strict=True)
    differing = [i for i, (old, new) in enumerate(pairs) if old != new]
    assert differing == [old_lines.index(b"version: 4")]
    assert result.previous_path.read_bytes() == original


def test_save_inserts_version_crlf(tmp_path):
    text = POLICY.replace("version: 4\n", "")
    path = policy_file(tmp_path, text, newline="\r\n")
    original = path.read_bytes()

    result = save_policy(path, editor_text(path), loaded_digest=file_digest(path))

    assert result.version == 1
    expected = original.replace(
        b"name: support-assistant\r\n", b"name: support-assistant\r\nversion: 1\r\n"
    )
    assert path.read_bytes() == expected
    assert result.previous_path.name == "v0.yaml"


def test_save_version_never_goes_back(tmp_path):
    path = policy_file(tmp_path)
    lowered = editor_text(path).replace("version: 4", "version: 2")

    result = save_policy(path, lowered, loaded_digest=file_digest(path))

    assert result.version == 5
    assert "version: 5\n" in path.read_text(encoding="utf-8")


def test_save_new_file_keeps_version(tmp_path):
    path = tmp_path / "new.yaml"
    result = save_policy(path, POLICY, loaded_digest=None)
    assert result.version == 4
    assert result.previous_path is None
    assert path.read_text(encoding="utf-8") == POLICY
    assert not (tmp_path / ".history").exists()


def test_save_external_change_raises(tmp_path):
    path = policy_file(tmp_path)
    digest = file_digest(path)
    changed = POLICY.replace("default: strong", "default: fast")
    path.write_text(changed, encoding="utf-8")

    with pytest.raises(ExternalChangeError) as caught:
        save_policy(path, POLICY, loaded_digest=digest)

    assert caught.value.actual == file_digest(path)
    assert path.read_text(encoding="utf-8") == changed
    assert not (path.parent / ".history").exists()


def test_save_external_create_and_delete(tmp_path):
    path = policy_file(tmp_path)
    with pytest.raises(ExternalChangeError, match="created"):
        save_policy(path, POLICY, loaded_digest=None)
    digest = file_digest(path)
    path.unlink()
    with pytest.raises(ExternalChangeError, match="deleted"):
        save_policy(path, POLICY, loaded_digest=digest)


def test_save_force_overwrites_external_change(tmp_path):
    path = policy_file(tmp_path)
    changed = POLICY.replace("default: strong", "default: fast")
    path.write_text(changed, encoding="utf-8")
    result = save_policy(path, POLICY, loaded_digest="stale", force=True)
    assert result.version == 5
    assert "default: fast" in result.previous_path.read_text(encoding="utf-8")


def test_save_invalid_policy_raises(tmp_path):
    path = policy_file(tmp_path)
    original = path.read_bytes()
    broken = editor_text(path).replace("route: fast", "route: fastest")

    with pytest.raises(PolicyInvalidError) as caught:
        save_policy(path, broken, loaded_digest=file_digest(path))

    messages = [problem.message for problem in caught.value.problems]
    assert any("fastest" in message for message in messages)
    assert path.read_bytes() == original


def test_save_failure_leaves_original(tmp_path, monkeypatch):
    path = policy_file(tmp_path)
    original = path.read_bytes()

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(InputError, match="No space left"):
        save_policy(path, editor_text(path), loaded_digest=file_digest(path))
    monkeypatch.undo()

    assert path.read_bytes() == original
    leftovers = [p.name for p in path.parent.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_save_leaves_no_temp_files(tmp_path):
    path = policy_file(tmp_path)
    save_policy(path, editor_text(path), loaded_digest=file_digest(path))
    save_policy(path, editor_text(path), loaded_digest=file_digest(path))
    names = sorted(p.name for p in path.parent.rglob("*") if p.is_file())
    assert names == ["support.yaml", "v4.yaml", "v5.yaml"]


def test_save_rejects_traversal_name(tmp_path):
    path = policy_file(tmp_path)
    evil = editor_text(path).replace("name: support-assistant", "name: ../../evil")
    with pytest.raises(InputError, match="'\\.\\.'"):
        save_policy(path, evil, loaded_digest=file_digest(path))
    assert not (tmp_path / "evil").exists()


# --- history ------------------------------------------------------------------


def save_edited(path: Path, old: str, new: str):
    text = editor_text(path).replace(old, new)
    return save_policy(path, text, loaded_digest=file_digest(path))


def test_history_never_overwritten(tmp_path):
    path = policy_file(tmp_path)
    folder = history_dir(path, "support-assistant")
    folder.mkdir(parents=True)
    (folder / "v4.yaml").write_text("an older, different v4\n", encoding="utf-8")
    original = path.read_bytes()

    result = save_policy(path, editor_text(path), loaded_digest=file_digest(path))

    assert result.previous_path == folder / "v4-2.yaml"
    assert result.previous_path.read_bytes() == original
    older = (folder / "v4.yaml").read_text(encoding="utf-8")
    assert older == "an older, different v4\n"


def test_history_reuses_identical_copy(tmp_path):
    path = policy_file(tmp_path)
    folder = history_dir(path, "support-assistant")
    folder.mkdir(parents=True)
    (folder / "v4.yaml").write_bytes(path.read_bytes())

    result = save_policy(path, editor_text(path), loaded_digest=file_digest(path))

    assert result.previous_path == folder / "v4.yaml"
    assert sorted(p.name for p in folder.iterdir()) == ["v4.yaml"]


def test_history_copy_keeps_mtime(tmp_path):
    path = policy_file(tmp_path)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    result = save_policy(path, editor_text(path), loaded_digest=file_digest(path))
    assert result.previous_path.stat().st_mtime == 1_600_000_000


def test_history_listing(tmp_path):
    path = policy_file(tmp_path)
    save_edited(path, "default: strong", "default: fast")
    save_edited(
        path,
        "default: fast",
        "default: fast\n# extra rule below\n",
    )
    third = editor_text(path).replace(
        "rules:\n",
        "rules:\n  - name: german-strong\n    when: {locale: de}\n    route: strong\n",
    )
    third = third.replace("'Short English", "'German stays strong. Short English")
    save_policy(path, third, loaded_digest=file_digest(path))

    listed = list_versions(path)

    assert [info.version for info in listed] == [4, 5, 6, 7]
    assert [info.current for info in listed] == [False, False, False, True]
    assert [info.rule_count for info in listed] == [2, 2, 2, 3]
    assert listed[-1].path == path
    assert listed[-1].description.startswith("German stays strong")
    assert listed[0].description.startswith("Short English")
    iso_time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
    assert re.fullmatch(iso_time, listed[0].saved_at)


def test_read_version_texts(tmp_path):
    path = policy_file(tmp_path)
    first = editor_text(path)
    save_edited(path, "default: strong", "default: fast")
    second = editor_text(path)
    save_edited(path, "default: fast", "default: strong")

    assert read_version(path, 4) == first
    assert read_version(path, 5) == second
    assert read_version(path, 6) == editor_text(path)


def test_read_version_copy_label(tmp_path):
    path = policy_file(tmp_path)
    folder = history_dir(path, "support-assistant")
    folder.mkdir(parents=True)
    (folder / "v4.yaml").write_text("name: older\n", encoding="utf-8")
    save_policy(path, editor_text(path), loaded_digest=file_digest(path))

    assert read_version(path, 4) == "name: older\n"
    assert read_version(path, "4-2") == POLICY
    labels = [info.label for info in list_versions(path)]
    assert labels == ["4", "4-2", "5"]


def test_read_version_absent(tmp_path):
    path = policy_file(tmp_path)
    with pytest.raises(InputError, match="no saved version 9; saved versions are 4"):
        read_version(path, 9)


def test_list_versions_without_name(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("schema: routebook/v1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'name'"):
        list_versions(path)


def test_history_module_constant():
    assert versions.HISTORY_FOLDER == ".history"
