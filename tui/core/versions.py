"""Saving a policy: version bump, history of previous versions, external changes.

Every save validates the text and rejects it when the file changed on disk
since the editor loaded it. It then copies the file on disk into the history
folder `<policy dir>/.history/<policy name>/v<N>.yaml`, where N is the version
inside that file, and writes the new text with its `version:` raised by one.
Only the `version:` scalar changes. Comments, quoting, key order, a byte-order
mark and CRLF line endings stay as they were. See docs/versions.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .problems import InputError, Problem
from .yamlio import atomic_write_text, parse_yaml, read_text_file

HISTORY_FOLDER = ".history"

# `v3.yaml`, or `v3-2.yaml` for a second, different file that also declares version 3.
_HISTORY_NAME = re.compile(r"v(?P<version>\d+)(?:-(?P<copy>\d+))?\.yaml")

# Line breaks as yamlio counts lines: it turns CRLF and a lone CR into LF.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# The value of `version:` as written: optional anchor or tag, then an integer
# scalar, plain or quoted (a quoted one only parses as an integer under `!!int`).
_VERSION_TOKEN = re.compile(
    r"(?P<properties>(?:[&!][^\s,\[\]{}]*[ \t]+)*)"
    r"(?P<quote>[\"']?)(?P<number>[-+]?[0-9][0-9A-Za-z_]*)(?P=quote)"
)

# Characters kept in a history folder name; everything else becomes "-".
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w.-]+")


class ExternalChangeError(Exception):
    """The policy file changed on disk after the editor loaded it."""

    def __init__(self, path: str, expected: str | None, actual: str | None):
        if actual is None:
            change = "was deleted"
        elif expected is None:
            change = "was created by another program"
        else:
            change = "was changed by another program"
        super().__init__(
            f"{path} {change} since it was loaded; reload it to see the change,"
            " or save with force to overwrite it"
        )
        self.path = path
        self.expected = expected
        self.actual = actual


class PolicyInvalidError(InputError):
    """The text to save is not a valid policy; `problems` lists why."""


@dataclass
class SaveResult:
    """The outcome of `save_policy`.

    `text` is the saved policy as the editor shows it ("\\n" newlines, no
    byte-order mark), with the new version. `digest` is the sha256 of the bytes
    now on disk, which the next save passes as `loaded_digest`.
    """

    path: Path
    version: int
    previous_path: Path | None
    text: str
    digest: str


@dataclass
class VersionInfo:
    """One saved version of a policy: a history file or the current file."""

    version: int
    path: Path
    saved_at: str  # the file's modification time, ISO 8601 with UTC offset
    rule_count: int
    description: str | None
    label: str  # "3", or "3-2" for the second different file saved as version 3
    current: bool = False


# --- digests and names --------------------------------------------------------


def file_digest(path: str | os.PathLike[str]) -> str | None:
    """Return the sha256 hex digest of a file's bytes, or None when it is missing."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    return hashlib.sha256(data).hexdigest()


def safe_policy_name(name: str) -> str:
    """Turn a policy name into a folder name; raise InputError on path traversal.

    Names containing a path separator or `..` are rejected rather than cleaned,
    because such a name is a mistake or an attack, not a policy name.
    """
    if "/" in name or "\\" in name or ".." in name or "\0" in name:
        raise InputError(
            f"policy name {name!r} contains '/', '\\\\', '..' or a NUL character;"
            " choose a name without them, such as 'support-assistant'"
        )

    normalized = unicodedata.normalize("NFKC", name).strip().lower()
    slug = _UNSAFE_NAME_CHARACTERS.sub("-", normalized).strip("-.")
    if not slug:
        raise InputError(
            f"policy name {name!r} has no letters or digits to name its history"
            " folder; use a name such as 'support-assistant'"
        )
    return slug


def history_dir(path: str | os.PathLike[str], name: str) -> Path:
    """Return `<policy dir>/.history/<policy name>/` (the name made file-name safe)."""
    folder = Path(os.path.abspath(path)).parent
    return folder / HISTORY_FOLDER / safe_policy_name(name)


# --- version bump -------------------------------------------------------------


def bump_version_text(text: str) -> tuple[str, int]:
    """Raise the `version:` scalar by one and return the new text and version.

    Only that scalar changes, found through the ruamel position of its value.
    A policy without `version` gets `version: 1` on the line after `name:` (or
    after `schema:`), with the line ending of the line before it. Raises
    InputError when the text is not a YAML mapping or its version is not a
    whole number.
    """
    doc = _parse_mapping(text)
    if "version" not in doc:
        return _insert_version(text, doc, 1), 1

    version = doc["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        line, column = _value_line_column(doc, "version")
        raise InputError(
            f"<policy>:{line}:{column}: 'version' is {version!r}, not a whole number;"
            " set it to a number such as 1 before saving"
        )
    return _set_version(text, doc, version + 1), version + 1


def _parse_mapping(text: str) -> Any:
    loaded = parse_yaml(text, "<policy>")
    errors = [problem for problem in loaded.problems if problem.is_error]
    if errors:
        raise PolicyInvalidError(
            "the policy is not valid YAML:\n" + _format_problems(errors), errors
        )
    if not isinstance(loaded.doc, dict):
        raise InputError("the policy is not a YAML mapping, so it has no version")
    return loaded.doc


def _set_version(text: str, doc: Any, version: int) -> str:
    """Replace the `version:` value token in `text` with `version`."""
    line, column = _value_line_column(doc, "version")
    offset = _offset_of(text, line, column)
    match = _VERSION_TOKEN.match(text, offset)
    if match is None:
        raise InputError(
            f"<policy>:{line}:{column}: cannot find the number after 'version:';"
            " write it as a plain number such as 'version: 3'"
        )

    start, end = match.span("number")
    new_text = text[:start] + str(version) + text[end:]
    _check_only_version_changed(doc, new_text, version)
    return new_text


def _insert_version(text: str, doc: Any, version: int) -> str:
    anchor_key = None
    if "name" in doc:
        anchor_key = "name"
    elif "schema" in doc:
        anchor_key = "schema"
    if _is_flow_mapping(doc):
        new_text = _insert_in_flow(text, doc, anchor_key, version)
    else:
        new_text = _insert_in_block(text, doc, anchor_key, version)
    _check_only_version_changed(doc, new_text, version)
    return new_text


def _insert_in_block(text: str, doc: Any, anchor_key: str | None, version: int) -> str:
    lines = _split_lines(text)
    keys = list(doc)
    indent = _key_line_column(doc, keys[0])[1] - 1 if keys else 0

    if anchor_key is None:
        insert_at = _key_line_column(doc, keys[0])[0] - 1 if keys else len(lines)
    else:
        insert_at = _end_of_entry(lines, doc, anchor_key, indent)

    # The new line takes the line ending of the line it follows, so a CRLF file
    # stays CRLF. A last line without an ending gets one first.
    before = lines[insert_at - 1] if insert_at > 0 else ""
    ending = _line_ending(before) or _line_ending(lines[0]) or "\n"
    if insert_at > 0 and not _line_ending(before):
        lines[insert_at - 1] = before + ending

    lines.insert(insert_at, " " * indent + f"version: {version}" + ending)
    return "".join(lines)


def _end_of_entry(lines: list[str], doc: Any, key: str, indent: int) -> int:
    """Return the index of the line after the last content line of a top-level entry.

    The entry's value may continue on later lines that are indented deeper than
    the key, so it ends before the next line at the key's indentation.
    """
    key_line = _key_line_column(doc, key)[0] - 1
    last_content = key_line
    for index in range(key_line + 1, len(lines)):
        body = lines[index].rstrip("\r\n")
        if not body.strip():
            continue
        if len(body) - len(body.lstrip(" ")) <= indent:
            break
        last_content = index
    return last_content + 1


def _insert_in_flow(text: str, doc: Any, anchor_key: str | None, version: int) -> str:
    """Insert `version: N, ` before the key that follows the anchor key in `{...}`."""
    keys = list(doc)
    following = keys.index(anchor_key) + 1 if anchor_key in keys else 0
    # NOTE: when the anchor key is the last one, the version goes first instead,
    # because the end of the last flow value has no recorded position.
    target = keys[following] if following < len(keys) else keys[0]
    offset = _offset_of(text, *_key_line_column(doc, target))
    return text[:offset] + f"version: {version}, " + text[offset:]


def _check_only_version_changed(old_doc: Any, new_text: str, version: int) -> None:
    """Parse the new text and confirm that nothing but `version` differs from `old_doc`.

    Guards against a version scalar shared through an anchor, which would
    change other values too.
    """
    old_doc = _plain(old_doc)
    new_doc = _plain(parse_yaml(new_text, "<policy>").doc)
    if not isinstance(new_doc, dict) or new_doc.get("version") != version:
        raise InputError(
            "cannot update 'version:' in place; write it as a plain number on its"
            " own line, such as 'version: 3'"
        )
    old_doc.pop("version", None)
    new_doc.pop("version", None)
    if old_doc != new_doc:
        raise InputError(
            "changing 'version:' would also change other values, probably through"
            " a YAML anchor on the version; remove the anchor"
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# --- positions ----------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    """Split text into lines that keep their endings (CRLF, CR or LF)."""
    lines = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text) or not lines:
        lines.append(text[start:])
    return lines


def _line_ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _offset_of(text: str, line: int, column: int) -> int:
    """Convert a 1-based line and column from yamlio into an offset in `text`.

    yamlio strips a byte-order mark and counts CRLF as one line break, so the
    offset is computed on the original text the same way.
    """
    bom = 1 if text.startswith("\ufeff") else 0
    lines = _split_lines(text[bom:])
    return bom + sum(len(lines[index]) for index in range(line - 1)) + column - 1


def _key_line_column(doc: Any, key: str) -> tuple[int, int]:
    line, column = doc.lc.key(key)
    return line + 1, column + 1


def _value_line_column(doc: Any, key: str) -> tuple[int, int]:
    line, column = doc.lc.value(key)
    return line + 1, column + 1


def _is_flow_mapping(doc: Any) -> bool:
    return bool(getattr(doc, "fa", None) and doc.fa.flow_style())


# --- saving -------------------------------------------------------------------


def save_policy(
    path: str | os.PathLike[str],
    text: str,
    *,
    loaded_digest: str | None,
    force: bool = False,
) -> SaveResult:
    """Validate `text`, copy the on-disk file to history, write `text` as next version.

    `text` is the editor's text ("\\n" newlines, no byte-order mark).
    `loaded_digest` is `file_digest(path)` from when the editor loaded the file,
    or None for a file that did not exist. Raises PolicyInvalidError when the
    text has errors, ExternalChangeError when the file on disk no longer has
    `loaded_digest` (unless `force`), and InputError when a file cannot be read
    or written. The new version is one more than the larger of the versions in
    `text` and on disk, so versions only grow. A new file keeps the version in
    `text`, or gets version 1.
    """
    from .policy import parse_policy

    path = Path(path)
    text = _editor_text(text)
    result = parse_policy(text, str(path))
    if not result.ok:
        errors = [problem for problem in result.problems if problem.is_error]
        raise PolicyInvalidError(
            f"{path}: not saved, the policy has {len(errors)} error(s):\n"
            + _format_problems(errors),
            errors,
        )

    current = file_digest(path)
    if not force and current != loaded_digest:
        raise ExternalChangeError(str(path), loaded_digest, current)

    doc = result.loaded.doc
    previous_path = None
    if current is None:
        new_text, version = _first_version_text(text, doc, result.policy)
        newline, bom = "\n", False
    else:
        on_disk, disk_format = read_text_file(path)
        disk_version = _version_in(on_disk)
        target = history_dir(path, result.policy.name)
        previous_path = keep_in_history(path, target, disk_version)
        version = max(result.policy.version, disk_version) + 1
        new_text = _set_version_or_insert(text, doc, version)
        newline, bom = disk_format.newline, disk_format.bom

    file_text = _file_text(new_text, newline, bom)
    atomic_write_text(path, file_text)
    digest = hashlib.sha256(file_text.encode("utf-8")).hexdigest()
    return SaveResult(path, version, previous_path, new_text, digest)


def _editor_text(text: str) -> str:
    """Drop a byte-order mark and CRLF that a caller may have passed through."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")


def _first_version_text(text: str, doc: Any, policy) -> tuple[str, int]:
    if "version" in doc:
        return text, policy.version
    return _insert_version(text, doc, 1), 1


def _set_version_or_insert(text: str, doc: Any, version: int) -> str:
    if "version" in doc:
        return _set_version(text, doc, version)
    return _insert_version(text, doc, version)


def _file_text(text: str, newline: str, bom: bool) -> str:
    if newline != "\n":
        text = text.replace("\n", newline)
    return "\ufeff" + text if bom else text


def _version_in(text: str) -> int:
    """Return the version a policy text declares, or 0 when it has no valid one."""
    doc = parse_yaml(text, "<policy>").doc
    version = doc.get("version") if isinstance(doc, dict) else None
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        return 0
    return int(version)


def _format_problems(problems: list[Problem]) -> str:
    return "\n".join(problem.format() for problem in problems)


# --- history ------------------------------------------------------------------


def keep_in_history(source: Path, folder: Path, version: int) -> Path:
    """Copy `source` byte for byte to `folder/v<version>.yaml` and return that path.

    An identical existing copy is reused. A different file that already has
    the name is never overwritten: the copy gets the next free `v<N>-<k>.yaml`.
    The copy keeps the source's modification time, which is when that version
    was saved.
    """
    try:
        data = source.read_bytes()
        stat = source.stat()
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"{folder}: cannot keep the previous version ({error.strerror or error});"
            " check that the folder is writable"
        ) from error

    copy = 1
    while True:
        name = f"v{version}.yaml" if copy == 1 else f"v{version}-{copy}.yaml"
        target = folder / name
        if _same_bytes(target, data):
            return target
        if _create_exclusive(target, data, stat.st_mtime_ns):
            return target
        copy += 1


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except FileNotFoundError:
        return False
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from error


def _read_umask() -> int:
    # os.umask can only be read by setting it, so read it once, at import,
    # before the app starts threads that could create files meanwhile.
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _create_exclusive(target: Path, data: bytes, mtime_ns: int) -> bool:
    """Write `data` to `target` only if no file has that name; return False if one does.

    The data is written and synced under a temporary name first, then linked to
    the target name, which fails instead of replacing an existing file.
    """
    try:
        handle, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise InputError(
            f"{target.parent}: cannot write the history copy"
            f" ({error.strerror or error})"
        ) from error

    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.utime(temp_name, ns=(mtime_ns, mtime_ns))
        # mkstemp creates the file private (0600); history copies are shared
        # like the policy itself, so give them the mode a new file gets.
        os.chmod(temp_name, 0o666 & ~_UMASK)
        return _link_new(temp_name, target)
    except OSError as error:
        raise InputError(
            f"{target}: cannot write the history copy ({error.strerror or error})"
        ) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)


def _link_new(temp_name: str, target: Path) -> bool:
    try:
        os.link(temp_name, target)
        return True
    except FileExistsError:
        return False
    except PermissionError:
        raise
    except OSError:
        # Some file systems (FAT, some network shares) have no hard links.
        # NOTE: this fallback checks and renames in two steps, so two saves
        # racing on the same version could still overwrite one history copy.
        if target.exists():
            return False
        os.replace(temp_name, target)
        return True


def list_versions(path: str | os.PathLike[str]) -> list[VersionInfo]:
    """List the saved versions of a policy, oldest first, the current file last.

    History files are found under the name the current file declares. Raises
    InputError when the policy file cannot be read or has no name.
    """
    path = Path(path)
    text, _ = read_text_file(path)
    doc = parse_yaml(text, str(path)).doc
    name = doc.get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            f"{path}: the policy has no 'name', so its history folder is unknown;"
            " add 'name: ...' to the policy"
        )

    versions = _history_versions(history_dir(path, name))
    current = _version_info(path, doc, label=None, version=_version_in(text))
    current.current = True
    versions.append(current)
    return versions


def _history_versions(folder: Path) -> list[VersionInfo]:
    found = []
    for entry in _history_files(folder):
        match = _HISTORY_NAME.fullmatch(entry.name)
        version = int(match["version"])
        copy = int(match["copy"] or 1)
        try:
            text, _ = read_text_file(entry)
        except InputError:
            text = ""
        doc = parse_yaml(text, str(entry)).doc
        label = str(version) if copy == 1 else f"{version}-{copy}"
        found.append((version, copy, _version_info(entry, doc, label, version)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [info for _, _, info in found]


def _history_files(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as error:
        message = f"{folder}: cannot list the folder ({error.strerror or error})"
        raise InputError(message) from error
    return [entry for entry in entries if _HISTORY_NAME.fullmatch(entry.name)]


def _version_info(path: Path, doc: Any, label: str | None, version: int) -> VersionInfo:
    rules = doc.get("rules") if isinstance(doc, dict) else None
    description = doc.get("description") if isinstance(doc, dict) else None
    modified = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return VersionInfo(
        version=version,
        path=path,
        saved_at=modified.isoformat(timespec="seconds"),
        rule_count=len(rules) if isinstance(rules, list) else 0,
        description=str(description) if isinstance(description, str) else None,
        label=label or str(version),
    )


def read_version(path: str | os.PathLike[str], version: int | str) -> str:
    """Return the text of one saved version ("\\n" newlines, no byte-order mark).

    `version` is a number, or a history label such as "3-2". The history copy
    `v<N>.yaml` is read first, and the current file is returned for its own
    version when no history copy has that number.
    Raises InputError when no such version exists, listing the ones that do.
    """
    label = str(version)
    for info in list_versions(path):
        if info.label == label:
            text, _ = read_text_file(info.path)
            return text

    known = ", ".join(info.label for info in list_versions(path))
    raise InputError(
        f"{path}: no saved version {label}; saved versions are {known}."
        f" Run 'routebook history {path}' for their dates and descriptions"
    )
