"""Round-trip loading and saving of policy YAML, with safety checks on input.

Policies are read with ruamel.yaml in round-trip mode (YAML 1.2), so that saving an
unchanged document gives back the same text: comments, key order, quoting, flow style,
anchors, blank lines, a byte-order mark and CRLF line endings are all kept. Bad input
never raises from `parse_yaml`: syntax errors, alias bombs, duplicate keys, tabs in
indentation and YAML 1.1 boolean words become `Problem`s with a line and column.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from tui.core.problems import InputError, Problem
from tui.core.samples import reject_non_regular_file

# Alias expansion may add at most this many nodes to a document. A billion-laughs
# document adds about 10**9, while a policy that reuses a few anchored blocks adds
# hundreds, so the limit rejects bombs without getting in the way of real policies.
MAX_ALIAS_EXPANSION_NODES = 10_000

# Without a limit, very deep nesting ends in RecursionError, because ruamel composes
# and constructs nodes recursively. Policies nest about ten levels.
MAX_NESTING_DEPTH = 100

# Larger YAML text is rejected before parsing. Policies are a few KiB, and ruamel
# is slow on big input: 1 MiB of flow mappings took 25 s to parse on a 2-core
# development machine, so a wrong file is refused rather than parsed.
MAX_YAML_BYTES = 1 << 20

# Wide enough that ruamel never re-wraps a long scalar or flow collection on save.
DUMP_WIDTH = 1 << 30

# Plain scalars that YAML 1.1 read as booleans but YAML 1.2 reads as strings, with
# the boolean that YAML 1.1 gave them. `true` and `false` are booleans in both.
YAML11_BOOLEAN_WORDS = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"], True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "off", "Off", "OFF"], False),
}

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# A `---` marker line, alone or followed by a comment.
_DOCUMENT_START = re.compile(r"---(?P<comment>[ \t]+#.*)?[ \t]*")
# A `...` marker line, alone or followed by a comment.
_DOCUMENT_END = re.compile(r"\.\.\.(?:[ \t]+#.*)?[ \t]*")
# A line that ends with a block scalar header such as `key: |`, `- >-` or `|2 # note`.
_BLOCK_SCALAR_HEADER = re.compile(r"(?:^|[ \t:-])[|>][-+0-9]{0,2}[ \t]*(?:[ \t]#.*)?$")

# Characters the flow nesting pre-scan stops at; the text between them is skipped.
_NESTING_STOP = re.compile(r"""[\[\]{}"'#|>]""")
_DOUBLE_QUOTED = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SINGLE_QUOTED = re.compile(r"'[^']*(?:''[^']*)*'")
# The rest of a block scalar header after its `|` or `>`.
_BLOCK_HEADER_REST = re.compile(r"[-+0-9]{0,2}[ \t]*(?:#[^\n]*)?(?:\n|$)")


@dataclass
class TextFormat:
    """Byte-level format and layout of a YAML file, applied again when it is saved."""

    bom: bool
    newline: str
    final_newline: bool = True
    mapping_indent: int = 2
    sequence_indent: int = 4
    sequence_dash_offset: int = 2
    # ruamel drops comments and directives before a leading `---` and everything from
    # a closing `...` on, so those lines are kept verbatim here.
    preamble: str = ""
    epilogue: str = ""
    leading_blank_lines: int = 0


@dataclass(frozen=True)
class LegacyBoolean:
    """An unquoted YAML 1.1 boolean word, such as `no`, read as a string by YAML 1.2."""

    line: int
    column: int
    text: str
    yaml11_value: bool
    # Keys and sequence indices from the document root to the scalar.
    path: tuple[str | int, ...]


@dataclass
class LoadedYaml:
    """A parsed YAML document with every problem found in it."""

    # ruamel CommentedMap, CommentedSeq or scalar. None when the file is empty or
    # when the document could not be built (see `problems`).
    doc: Any
    # Errors and warnings, sorted by position.
    problems: list[Problem]
    text_format: TextFormat
    # Decoded text with "\n" newlines and without the byte-order mark.
    text: str
    legacy_booleans: list[LegacyBoolean] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(problem.is_error for problem in self.problems)


# Reading and decoding


def read_text_file(path: str | os.PathLike[str]) -> tuple[str, TextFormat]:
    """Read a UTF-8 file and return its text with "\\n" newlines and its format.

    Raises InputError when the file cannot be read or is not valid UTF-8. The error
    names the line and column of the first invalid byte.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as error:
        raise InputError(f"{path}: file not found; check the path") from error
    except IsADirectoryError as error:
        raise InputError(f"{path}: is a folder, not a file") from error
    except OSError as error:
        message = f"{path}: cannot read the file ({error.strerror})"
        raise InputError(message) from error

    return decode_text(data, str(path))


def decode_text(data: bytes, path: str) -> tuple[str, TextFormat]:
    """Decode UTF-8 bytes, strip a byte-order mark and convert newlines to "\\n".

    Raises InputError at the first byte that is not valid UTF-8.
    """
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data

    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problem = Problem(path, 1, 1, "file is UTF-16; save it as UTF-8")
        raise InputError(problem.format(), [problem])

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = _decode_problem(body, error, path, bom_size=len(data) - len(body))
        raise InputError(problem.format(), [problem]) from error

    text, text_format = _split_text_format(text)
    return text, replace(text_format, bom=bom)


def _decode_problem(
    body: bytes, error: UnicodeDecodeError, path: str, bom_size: int
) -> Problem:
    offset = error.start
    line = body.count(b"\n", 0, offset) + 1
    line_start = body.rfind(b"\n", 0, offset) + 1

    # The bytes before the bad one on its line decoded fine, so their character
    # count gives the column.
    column = len(body[line_start:offset].decode("utf-8")) + 1

    message = (
        f"invalid UTF-8 byte 0x{body[offset]:02x} at byte offset "
        f"{offset + bom_size}; save the file as UTF-8"
    )
    return Problem(path, line, column, message)


def _split_text_format(text: str) -> tuple[str, TextFormat]:
    """Strip a byte-order mark and normalise newlines, noting both in a TextFormat."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]

    # NOTE: a file with mixed line endings is saved with the one it uses most.
    crlf_count = text.count("\r\n")
    lf_count = text.count("\n") - crlf_count
    newline = "\r\n" if crlf_count > lf_count else "\n"
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    final_newline = text == "" or text.endswith("\n")
    return text, TextFormat(bom=bom, newline=newline, final_newline=final_newline)


# Parsing


def load_yaml_file(path: str | os.PathLike[str]) -> LoadedYaml:
    """Read and parse a YAML file. Raises InputError only for an unreadable file."""
    text, text_format = read_text_file(path)
    loaded = parse_yaml(text, str(path))

    loaded.text_format = replace(
        loaded.text_format, bom=text_format.bom, newline=text_format.newline
    )
    return loaded


def parse_yaml(text: str, path: str) -> LoadedYaml:
    """Parse YAML text in round-trip mode and collect every problem in it.

    Never raises for bad YAML. `path` only labels the problems. The text may still
    contain a byte-order mark and CRLF newlines, which are noted in `text_format`.
    """
    text, text_format = _split_text_format(text)
    size_problem = _size_problem(text, path)
    if size_problem is not None:
        return LoadedYaml(None, [size_problem], text_format, text)

    text_format = _detect_text_layout(text, text_format)
    yaml_text = _blank_document_start_comment(text, text_format)

    # ruamel scans a whole flow collection before its composer applies max_depth,
    # and that scan slows down with the depth (1.6 s for 1,000 nested brackets on
    # a 2-core development machine), so a linear scan rejects deep nesting first.
    nesting_problem = _flow_nesting_problem(text, path)
    if nesting_problem is not None:
        return LoadedYaml(None, [nesting_problem], text_format, text)

    loader = _new_loader()
    try:
        root = loader.compose(yaml_text)
    except RecursionError:
        problem = Problem(path, 1, 1, _nesting_message())
        return LoadedYaml(None, [problem], text_format, text)
    except YAMLError as error:
        problems = _parse_failure_problems(error, text, path)
        return LoadedYaml(None, sorted(problems, key=_position), text_format, text)

    composer: _RecordingComposer = loader.composer
    problems = composer.anchor_problems(path)
    if root is None:
        return LoadedYaml(None, problems, text_format, text)

    inspection = _NodeInspection(path, composer.alias_marks)
    inspection.run(root)
    problems += inspection.problems

    # Detect before construction, which removes merge keys from the node graph.
    text_format = _detect_indentation(root, text_format)

    doc = None
    if not inspection.rejected:
        doc, construct_problems = _construct(loader, root, text, path)
        problems += construct_problems

    problems.sort(key=_position)
    return LoadedYaml(doc, problems, text_format, text, inspection.legacy_booleans)


def _position(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


def _size_problem(text: str, path: str) -> Problem | None:
    # A character takes at most 4 UTF-8 bytes, so short text needs no encoding.
    if len(text) <= MAX_YAML_BYTES // 4:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= MAX_YAML_BYTES:
        return None

    message = (
        f"YAML text is {size / (1 << 20):.1f} MiB ({size:,} bytes), more than the "
        f"limit of {MAX_YAML_BYTES / (1 << 20):.1f} MiB; a policy is a few KiB, so "
        "check that this is the right file"
    )
    return Problem(path, 1, 1, message)


def _flow_nesting_problem(text: str, path: str) -> Problem | None:
    """Report the first bracket that nests flow collections too deep.

    Counts `[` and `{` that open flow collections, skipping quoted scalars,
    comments and block scalars. Outside flow collections a bracket counts only
    where a node can start, because elsewhere it is part of a plain scalar. Each
    counted bracket is a node to ruamel, whose depth limit counts nodes, so the
    count does not exceed ruamel's depth.

    NOTE: a multi-line plain scalar whose next line starts with `[` or `{` is
    counted as a flow collection. Only 100 such unclosed brackets would reject a
    valid document.
    """
    depth = 0
    index = 0
    while True:
        match = _NESTING_STOP.search(text, index)
        if match is None:
            return None
        index = match.start()
        char = text[index]

        if char in "[{" and (depth or _starts_node(text, index, in_flow=False)):
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                line, column = _offset_position(text, index)
                return Problem(path, line, column, _nesting_message())
            index += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
            index += 1
        elif char == "#":
            index = _skip_comment(text, index)
        elif char in "\"'":
            index = _skip_quoted(text, index, depth > 0)
        else:
            index = _skip_block_scalar(text, index, depth > 0)
        if index < 0:
            return None


def _skip_comment(text: str, index: int) -> int:
    """Return where scanning goes on after a `#`, or -1 at the end of the text."""
    # A `#` starts a comment only after whitespace or at the start of a line.
    if index > 0 and text[index - 1] not in " \t\n":
        return index + 1
    end = text.find("\n", index)
    return end if end >= 0 else -1


def _skip_quoted(text: str, index: int, in_flow: bool) -> int:
    """Return the index after a quoted scalar that starts at `index`.

    A quote inside a plain scalar is text. An unclosed quote ends the scan with
    -1, because ruamel reports it.
    """
    if not _starts_node(text, index, in_flow):
        return index + 1
    pattern = _DOUBLE_QUOTED if text[index] == '"' else _SINGLE_QUOTED
    match = pattern.match(text, index)
    return match.end() if match else -1


def _skip_block_scalar(text: str, index: int, in_flow: bool) -> int:
    """Return the index after the content of a block scalar whose `|` or `>` is here.

    The content is every following line that is blank or indented more than the
    header's line. Anywhere else `|` and `>` are text.
    """
    header_rest = _BLOCK_HEADER_REST.match(text, index + 1)
    if in_flow or header_rest is None or not _starts_node(text, index, in_flow):
        return index + 1

    line_start = text.rfind("\n", 0, index) + 1
    indent = _indentation(text, line_start)
    position = header_rest.end()
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        content_indent = _indentation(text, position)
        if position + content_indent < end and content_indent <= indent:
            break
        position = end + 1
    return position


def _indentation(text: str, line_start: int) -> int:
    index = line_start
    while index < len(text) and text[index] == " ":
        index += 1
    return index - line_start


def _starts_node(text: str, index: int, in_flow: bool) -> bool:
    """Tell whether a YAML node can start at `index`, judged by what precedes it.

    True at the start of a line's content, after a `: `, `- ` or `? ` indicator,
    after a tag or anchor that follows one of those, and in flow collections also
    right after `[`, `{`, `,` or `:`.
    """
    while True:
        before = index - 1
        while before >= 0 and text[before] in " \t":
            before -= 1
        if before < 0 or text[before] == "\n":
            return True

        char = text[before]
        if in_flow and char in "[{,:":
            return True

        # Outside flow collections an indicator needs whitespace after it, and a
        # `-` or `?` also before it, or else it is part of a plain scalar.
        spaced = before < index - 1
        if not spaced:
            return False
        if char == ":":
            return True
        if char in "-?" and (before == 0 or text[before - 1] in " \t\n"):
            return True

        # A tag (`!!str`) or anchor (`&name`) before the node: judge what precedes it.
        token_start = before
        while token_start > 0 and text[token_start - 1] not in " \t\n":
            token_start -= 1
        if text[token_start] not in "!&":
            return False
        index = token_start


def _new_loader() -> YAML:
    # A fresh instance per call, because ruamel's YAML objects keep parser state and
    # are not safe to share between threads.
    loader = YAML(typ="rt")
    loader.preserve_quotes = True
    loader.allow_duplicate_keys = True
    loader.max_depth = MAX_NESTING_DEPTH
    loader.Composer = _RecordingComposer
    loader.Constructor = _PositionedConstructor
    return loader


def _construct(
    loader: YAML, root: Node, text: str, path: str
) -> tuple[Any, list[Problem]]:
    try:
        return loader.constructor.construct_document(root), []
    except RecursionError:
        return None, [Problem(path, 1, 1, _nesting_message())]
    except YAMLError as error:
        return None, [_yaml_error_problem(error, text, path)]
    except Exception as error:
        # ruamel's constructors for some explicit tags (such as !!omap on a scalar)
        # fail with plain Python errors in steps that _PositionedConstructor does not
        # see, so the position is unknown.
        message = (
            f"cannot build the document ({type(error).__name__}: {error}); check "
            "values with an explicit tag such as !!omap or !!set"
        )
        return None, [Problem(path, 1, 1, message)]


class _PositionedConstructor(RoundTripConstructor):
    """A RoundTripConstructor that reports invalid tagged values at their node.

    ruamel raises ValueError and similar errors for values such as `!!int abc`.
    """

    def construct_non_recursive_object(self, node: Any, tag: Any = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
            problem = (
                f"cannot read the value tagged {node.tag} ({error}); fix the value "
                "or remove the tag"
            )
            raise ConstructorError(None, None, problem, node.start_mark) from error


class _RecordingComposer(Composer):
    """A ruamel Composer that records where aliases and redefined anchors occur.

    ruamel returns the anchored node itself for an alias, so the composed graph does
    not keep the alias's own position.
    """

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader=loader)
        self.warn_double_anchors = False
        self.alias_marks: list[Any] = []
        self.reused_anchors: list[tuple[str, Any, Any]] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            self.alias_marks.append(event.start_mark)
        elif event.anchor is not None and event.anchor in self.anchors:
            first_mark = self.anchors[event.anchor].start_mark
            self.reused_anchors.append((event.anchor, first_mark, event.start_mark))

        return super().compose_node(parent, index)

    def anchor_problems(self, path: str) -> list[Problem]:
        problems = []
        for anchor, first_mark, mark in self.reused_anchors:
            message = (
                f"anchor &{anchor} is defined again (first defined at line "
                f"{first_mark.line + 1}); aliases after this point refer to the new "
                "definition, so give one of them another name"
            )
            problems.append(
                Problem(path, mark.line + 1, mark.column + 1, message, "warning")
            )
        return problems


# Checks on the composed node graph


@dataclass
class _Frame:
    node: Node
    children: Iterator[tuple[Node, tuple[str | int, ...], bool]]
    # Node count of the subtree with every alias expanded.
    expanded_size: int = 1


class _NodeInspection:
    """One walk over the composed node graph that checks aliases, keys and scalars.

    The walk visits nodes in document order and does not descend into a node it has
    seen before. Each revisit is therefore an alias, and the n-th revisit is the n-th
    alias event. Expanded sizes are memoised per node, so the walk is linear in the
    size of the text, however far the aliases would expand.
    """

    def __init__(self, path: str, alias_marks: list[Any]) -> None:
        self.path = path
        self.alias_marks = alias_marks
        self.alias_count = 0
        self.added_by_aliases = 0
        self.expanded_sizes: dict[int, int] = {}
        self.open_nodes: set[int] = set()
        self.problems: list[Problem] = []
        self.legacy_booleans: list[LegacyBoolean] = []
        self.rejected = False

    def run(self, root: Node) -> None:
        self._check_node(root, (), is_value=True)
        if not isinstance(root, (MappingNode, SequenceNode)):
            return

        stack = [self._open(root, ())]
        while stack and not self.rejected:
            frame = stack[-1]
            child = next(frame.children, None)
            if child is None:
                self._close(stack)
                continue

            node, key_path, is_value = child
            node_id = id(node)
            if node_id in self.expanded_sizes or node_id in self.open_nodes:
                frame.expanded_size += self._visit_alias(node_id)
                continue

            self._check_node(node, key_path, is_value)
            if isinstance(node, (MappingNode, SequenceNode)):
                stack.append(self._open(node, key_path))
            else:
                self.expanded_sizes[node_id] = 1
                frame.expanded_size += 1

    def _open(self, node: Node, key_path: tuple[str | int, ...]) -> _Frame:
        self.open_nodes.add(id(node))
        return _Frame(node, _children(node, key_path))

    def _close(self, stack: list[_Frame]) -> None:
        frame = stack.pop()
        self.open_nodes.discard(id(frame.node))
        self.expanded_sizes[id(frame.node)] = frame.expanded_size
        if stack:
            stack[-1].expanded_size += frame.expanded_size

    def _visit_alias(self, node_id: int) -> int:
        """Count one alias and return the node count it expands to."""
        mark = self._next_alias_mark()

        if node_id in self.open_nodes:
            message = (
                "alias refers to a node that contains it, so it would expand forever; "
                "remove the alias"
            )
            self._reject(mark, message)
            return 0

        size = self.expanded_sizes[node_id]
        self.added_by_aliases += size
        if self.added_by_aliases > MAX_ALIAS_EXPANSION_NODES:
            message = (
                "aliases expand the document by more than "
                f"{MAX_ALIAS_EXPANSION_NODES:,} nodes; expand the anchors by hand or "
                "remove aliases"
            )
            self._reject(mark, message)
        return size

    def _next_alias_mark(self) -> Any:
        index = self.alias_count
        self.alias_count += 1
        if index < len(self.alias_marks):
            return self.alias_marks[index]
        return None

    def _reject(self, mark: Any, message: str) -> None:
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.problems.append(Problem(self.path, line, column, message))
        self.rejected = True

    def _check_node(
        self, node: Node, key_path: tuple[str | int, ...], is_value: bool
    ) -> None:
        if isinstance(node, MappingNode):
            self.problems += _duplicate_key_problems(node, self.path)
        elif isinstance(node, ScalarNode) and is_value:
            self._check_legacy_boolean(node, key_path)

    def _check_legacy_boolean(
        self, node: ScalarNode, key_path: tuple[str | int, ...]
    ) -> None:
        is_plain_string = not node.style and str(node.tag) == _STR_TAG
        if not is_plain_string or node.value not in YAML11_BOOLEAN_WORDS:
            return

        word = node.value
        yaml11_value = YAML11_BOOLEAN_WORDS[word]
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        self.legacy_booleans.append(
            LegacyBoolean(line, column, word, yaml11_value, key_path)
        )

        boolean = "true" if yaml11_value else "false"
        message = (
            f'unquoted {word} is read as the string "{word}" (YAML 1.2), not as a '
            f'boolean; write {boolean} for a boolean, or quote it ("{word}") if the '
            "string is meant"
        )
        self.problems.append(Problem(self.path, line, column, message, "warning"))


def _children(
    node: Node, key_path: tuple[str | int, ...]
) -> Iterator[tuple[Node, tuple[str | int, ...], bool]]:
    """Yield (child, key path, is_value) in document order: key before value."""
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield item, (*key_path, index), True
        return

    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else "?"
        yield key_node, key_path, False
        yield value_node, (*key_path, key), True


def _duplicate_key_problems(node: MappingNode, path: str) -> list[Problem]:
    """Report every repeated scalar key of one mapping, not only the first."""
    first_keys: dict[tuple[str, str], ScalarNode] = {}
    problems = []
    for key_node, _value in node.value:
        if not isinstance(key_node, ScalarNode) or str(key_node.tag) == _MERGE_TAG:
            continue

        # NOTE: keys are compared by tag and source text, so `1` and `0x1` (both
        # the integer 1) count as different keys.
        identity = (str(key_node.tag), key_node.value)
        first = first_keys.get(identity)
        if first is None:
            first_keys[identity] = key_node
            continue

        message = (
            f"duplicate key {key_node.value!r} (first defined at line "
            f"{first.start_mark.line + 1}); remove or rename one of them, because "
            "only the first is used"
        )
        mark = key_node.start_mark
        problems.append(Problem(path, mark.line + 1, mark.column + 1, message))
    return problems


# Syntax errors


def _parse_failure_problems(error: YAMLError, text: str, path: str) -> list[Problem]:
    """Turn a ruamel error into problems, adding one per tab-indented line."""
    parse_problem = _yaml_error_problem(error, text, path)
    tab_problems = _tab_indentation_problems(text, path)

    # The tab report for a line replaces ruamel's own, less helpful error there.
    tab_lines = {problem.line for problem in tab_problems}
    if _is_tab_error(error) and parse_problem.line in tab_lines:
        return tab_problems
    return [parse_problem, *tab_problems]


def _is_tab_error(error: YAMLError) -> bool:
    return "'\\t'" in str(getattr(error, "problem", "") or "")


def _yaml_error_problem(error: YAMLError, text: str, path: str) -> Problem:
    if isinstance(error, ReaderError):
        return _reader_error_problem(error, text, path)
    if not isinstance(error, MarkedYAMLError):
        return Problem(path, 1, 1, f"invalid YAML: {_clean(str(error))}")

    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = _marked_error_message(error)
    if _clean(error.problem or "").startswith("expected <block end>"):
        message += _line_above_note(text, line, column)
    return Problem(path, line, column, message)


def _line_above_note(text: str, line: int, column: int) -> str:
    """Point at the line above when it opened a block indented too far.

    In `segments:` / `     tier: ...` / `  locale: ...` the parser accepts the
    over-indented `tier` as the start of the block and reports `locale`, so
    the line to fix is the one above.
    """
    lines = text.splitlines()
    content = _content_lines_above(lines, line, 2)
    if len(content) < 2:
        return ""
    (above, above_column), (parent, parent_column) = content
    opens_block = lines[parent - 1].rstrip().endswith(":")
    if opens_block and parent_column < column < above_column:
        return (
            f"; or, if this line is right, fix line {above}, which starts at"
            f" column {above_column}, deeper than the keys after it"
        )
    return ""


def _content_lines_above(
    lines: list[str], line: int, count: int
) -> list[tuple[int, int]]:
    """Return (line number, first column) of up to `count` content lines above."""
    found = []
    for number in range(min(line - 1, len(lines)), 0, -1):
        stripped = lines[number - 1].lstrip(" ")
        if stripped and not stripped.startswith("#"):
            found.append((number, len(lines[number - 1]) - len(stripped) + 1))
            if len(found) == count:
                break
    return found
    return ""


def _reader_error_problem(error: ReaderError, text: str, path: str) -> Problem:
    line, column = _offset_position(text, error.position)
    character = error.character
    code = ord(character) if isinstance(character, str) else character
    message = (
        f"character U+{code:04X} is not allowed in YAML; remove it, or write it as "
        f'"\\u{code:04x}" inside a double-quoted string'
    )
    return Problem(path, line, column, message)


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    return line, offset - line_start + 1


def _marked_error_message(error: MarkedYAMLError) -> str:
    problem = _clean(error.problem or "")
    context = _clean(error.context or "")

    if isinstance(error, MaxDepthExceededError):
        return _nesting_message()
    if _is_tab_error(error):
        return "tab character is not allowed here; replace it with spaces"
    if problem.startswith("found undefined alias"):
        return (
            f"{problem.replace('found undefined', 'undefined')}: no anchor of that "
            "name is defined before it; define the anchor earlier or remove the alias"
        )
    if context.startswith("expected a single document"):
        return (
            "a second YAML document starts here; a policy file holds one document, "
            "so remove the second one or the `---` line before it"
        )
    if problem.startswith("found duplicate merge key"):
        return (
            "mapping has more than one merge key '<<'; merge several mappings with "
            "one key, as in `<<: [*first, *second]`"
        )

    if problem.startswith("expected <block end>") and error.context_mark:
        return _indentation_message(error, problem, context)

    message = f"invalid YAML: {problem or context}"
    if context and problem and error.context_mark is not None:
        context_mark = error.context_mark
        message += (
            f" ({context}, which starts at line {context_mark.line + 1}, column "
            f"{context_mark.column + 1})"
        )
    if isinstance(error, ConstructorError):
        return message
    if problem.startswith("mapping values are not allowed"):
        return message + "; quote the value if it contains ': '"
    return message + "; check the indentation, quotes and brackets around here"


# Plain words for the token the parser found where a block ended.
_FOUND_WORDS = {
    "'?'": "a key",
    "'<block mapping start>'": "a key",
    "'-'": "a list item ('- ')",
    "'<block sequence start>'": "a list item ('- ')",
    "'<scalar>'": "a value",
}


def _indentation_message(error: MarkedYAMLError, problem: str, context: str) -> str:
    """Explain a line indented to a column where no open block continues.

    ruamel reports these as "expected <block end>, but found ..." with the
    block that was open as context, which names parser states, not the file.
    """
    found = problem.rpartition("but found ")[2]
    thing = _FOUND_WORDS.get(found, "this line")
    start = error.context_mark
    where = f"line {start.line + 1}, column {start.column + 1}"
    column = error.problem_mark.column + 1 if error.problem_mark else None
    at = f" at column {column}" if column else ""
    if "collection" in context or "sequence" in context:
        return (
            f"invalid YAML: {thing}{at} is inside the list that starts at {where},"
            " whose items start with '- '; indent it like the keys of the item it"
            " belongs to, or, for a top-level key such as `default:`, start it at"
            " column 1"
        )
    if thing.startswith("a list item"):
        return (
            f"invalid YAML: {thing}{at} is where the mapping that starts at {where}"
            " expects a key; start every item of one list at the same column"
        )
    return (
        f"invalid YAML: {thing}{at} does not line up with the keys of the mapping"
        f" that starts at {where}; indent it to the column of the keys it belongs"
        " with"
    )


def _clean(message: str) -> str:
    return " ".join(message.split())


def _nesting_message() -> str:
    return (
        f"document is nested more than {MAX_NESTING_DEPTH} levels deep; "
        "flatten the structure"
    )


def _tab_indentation_problems(text: str, path: str) -> list[Problem]:
    """Report each line whose indentation contains a tab.

    Tabs inside block scalar content (after the spaces that indent it) are text, not
    indentation, so those lines are skipped.
    """
    problems = []
    block_indent: int | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        content = line.lstrip(" \t")
        leading = line[: len(line) - len(content)]
        spaces = len(leading) - len(leading.lstrip(" "))

        if block_indent is not None:
            if content == "" or spaces > block_indent:
                continue
            block_indent = None

        # NOTE: a tab that continues a multi-line quoted scalar is valid YAML, but
        # it is reported here as well when the file has another syntax error.
        if "\t" in leading:
            column = leading.index("\t") + 1
            message = (
                "tab character in indentation; YAML allows only spaces there, "
                "so use spaces"
            )
            problems.append(Problem(path, number, column, message))

        if not content.startswith("#") and _BLOCK_SCALAR_HEADER.search(line):
            block_indent = spaces
    return problems


# Layout detection


def _detect_text_layout(text: str, text_format: TextFormat) -> TextFormat:
    """Find the lines that ruamel does not keep on a round trip."""
    lines = text.split("\n")
    start = _document_start_index(lines)
    preamble = "".join(line + "\n" for line in lines[: start + 1])

    end = _document_end_index(lines)
    epilogue = "\n".join(lines[end:]) if end is not None else ""

    body_lines = lines[start + 1 : end]
    leading_blank_lines = 0
    for line in body_lines[:-1]:
        if line.strip():
            break
        leading_blank_lines += 1

    return replace(
        text_format,
        preamble=preamble,
        epilogue=epilogue,
        leading_blank_lines=leading_blank_lines,
    )


def _document_start_index(lines: list[str]) -> int:
    """Return the index of a leading `---` line, or -1 when there is none.

    Only blank lines, comments and directives may come before it.
    """
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "" or stripped.startswith("#") or line.startswith("%"):
            continue
        return index if _DOCUMENT_START.fullmatch(line) else -1
    return -1


def _document_end_index(lines: list[str]) -> int | None:
    """Return the index of a closing `...` line followed only by comments."""
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if _DOCUMENT_END.fullmatch(line):
            return index

        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return None
    return None


def _blank_document_start_comment(text: str, text_format: TextFormat) -> str:
    """Blank the comment on a leading `---` line, which the preamble keeps.

    ruamel would move that comment into the document. Spaces keep every position.
    """
    if not text_format.preamble:
        return text

    start = text_format.preamble.count("\n") - 1
    lines = text.split("\n")
    match = _DOCUMENT_START.fullmatch(lines[start])
    if match is None or match.group("comment") is None:
        return text

    lines[start] = "---" + " " * (len(lines[start]) - 3)
    return "\n".join(lines)


def _detect_indentation(root: Node, text_format: TextFormat) -> TextFormat:
    """Measure the mapping and sequence indentation that the document uses.

    Each value comes from the first block collection that shows it. ruamel applies
    one indentation to the whole document when saving.
    """
    mapping_indent = None
    sequence_indent = None
    dash_offset = None

    if _is_block(root, SequenceNode):
        dash_offset = root.start_mark.column
        sequence_indent = _sequence_item_indent(root, parent_column=0)

    for key_node, value_node in _block_mapping_entries(root):
        key_column = key_node.start_mark.column
        on_later_line = value_node.start_mark.line > key_node.start_mark.line

        if mapping_indent is None and _is_block(value_node, MappingNode):
            if on_later_line and value_node.value:
                first_key = value_node.value[0][0]
                mapping_indent = first_key.start_mark.column - key_column

        if _is_block(value_node, SequenceNode) and on_later_line:
            if dash_offset is None:
                dash_offset = value_node.start_mark.column - key_column
            if sequence_indent is None:
                sequence_indent = _sequence_item_indent(value_node, key_column)

        if None not in (mapping_indent, sequence_indent, dash_offset):
            break

    # NOTE: a document that mixes indentation styles is saved in the first style
    # found, because ruamel takes one setting for the whole document.
    if dash_offset is None:
        dash_offset = text_format.sequence_dash_offset
    # An item starts at least two columns after its dash ("- ").
    if sequence_indent is None:
        sequence_indent = dash_offset + 2
    sequence_indent = max(sequence_indent, dash_offset + 2)
    return replace(
        text_format,
        mapping_indent=mapping_indent or text_format.mapping_indent,
        sequence_indent=sequence_indent,
        sequence_dash_offset=dash_offset,
    )


def _is_block(node: Node, kind: type) -> bool:
    return isinstance(node, kind) and node.flow_style is not True


def _sequence_item_indent(node: SequenceNode, parent_column: int) -> int | None:
    """Return the item column relative to the parent when the first item is inline."""
    if not node.value:
        return None

    item = node.value[0]
    if item.start_mark.line != node.start_mark.line or _is_block(item, SequenceNode):
        return None

    # An empty item (`-` alone, read as null) starts right after the dash.
    if isinstance(item, ScalarNode) and item.value == "" and not item.style:
        return None
    return item.start_mark.column - parent_column


def _block_mapping_entries(root: Node) -> Iterator[tuple[Node, Node]]:
    """Yield the entries of every block mapping in document order, once per node."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))

        if isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, MappingNode):
            if node.flow_style is not True:
                yield from node.value
            for key_node, value_node in reversed(node.value):
                stack.append(value_node)
                stack.append(key_node)


# Saving


def dump_yaml(doc: Any, text_format: TextFormat) -> str:
    """Serialise a round-trip document in the layout, newlines and BOM of its file.

    A document loaded with `parse_yaml` and saved unchanged gives back its text,
    except for the formatting that ruamel normalises (see docs/yaml.md).
    """
    body = _dump_body(doc, text_format) if doc is not None else ""

    # ruamel keeps at most one blank line before the first node.
    if body:
        body = "\n" * text_format.leading_blank_lines + body.lstrip("\n")

    text = text_format.preamble + body + text_format.epilogue
    if not text_format.final_newline and text.endswith("\n"):
        text = text[:-1]

    if text_format.newline != "\n":
        text = text.replace("\n", text_format.newline)
    if text_format.bom:
        text = "\ufeff" + text
    return text


def _dump_body(doc: Any, text_format: TextFormat) -> str:
    dumper = YAML(typ="rt")
    dumper.width = DUMP_WIDTH
    dumper.indent(
        mapping=text_format.mapping_indent,
        sequence=text_format.sequence_indent,
        offset=text_format.sequence_dash_offset,
    )
    # Keeps `[{model: x}]` as written instead of `[model: x]`.
    dumper.brace_single_entry_mapping_in_flow_sequence = True

    stream = io.StringIO()
    dumper.dump(doc, stream)
    return stream.getvalue()


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8"
) -> None:
    """Replace a file's content so readers see the old or the new file, never a mix.

    Writes a temporary file in the same folder, fsyncs it and renames it over the
    target, which keeps its permission bits. A symlink is followed, so the link
    stays and its target is replaced. Raises InputError when the text cannot be
    encoded, the file cannot be written, or the target exists but is not a regular
    file (a device, FIFO, socket or folder). The target is then unchanged and no
    temporary file is left behind.
    """
    reject_non_regular_file(os.fspath(path))
    target = Path(os.path.realpath(path))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as error:
        message = (
            f"{path}: cannot encode character {error.object[error.start]!r} at "
            f"index {error.start} as {encoding}"
        )
        raise InputError(message) from error

    try:
        _replace_file(target, data)
    except OSError as error:
        message = f"{path}: cannot write the file ({error.strerror or error})"
        raise InputError(message) from error


def _replace_file(target: Path, data: bytes) -> None:
    mode = _mode_for(target)
    handle, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as temp_file:
            os.fchmod(temp_file.fileno(), mode)
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise

    _fsync_folder(target.parent)


def _mode_for(target: Path) -> int:
    """Return the permission bits of the existing file, or the umask default."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    # Reading the umask through os.umask() would briefly change it for every
    # thread, so Linux's /proc is read instead.
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("Umask:"))
            return int(line.split()[1], 8)
    # NOTE: outside Linux the common default umask 022 is assumed.
    return 0o022


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable. Some platforms cannot open folders, which is fine."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# Positions in loaded documents


def node_position(node: Any, key_or_index: Any = None) -> tuple[int, int]:
    """Return the 1-based (line, column) of a mapping key, sequence item or node.

    Uses ruamel's `.lc` data. Falls back to the node's own position when the key or
    index has none (for example a key merged in with `<<`), and to (1, 1) for plain
    Python values.
    """
    lc = getattr(node, "lc", None)
    if lc is None:
        return 1, 1

    position = None
    if key_or_index is not None:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            if isinstance(node, list):
                position = lc.item(key_or_index)
            else:
                position = lc.key(key_or_index)
    if position is None:
        position = (lc.line, lc.col)
    return _one_based(position)


def value_position(mapping: Any, key: Any) -> tuple[int, int]:
    """Return the 1-based (line, column) of the value stored under `key`."""
    lc = getattr(mapping, "lc", None)
    if lc is None:
        return 1, 1
    try:
        return _one_based(lc.value(key))
    except (KeyError, TypeError):
        return node_position(mapping, key)


def _one_based(position: Any) -> tuple[int, int]:
    line, column = position[0], position[1]
    if line is None or column is None:
        return 1, 1
    return line + 1, column + 1
