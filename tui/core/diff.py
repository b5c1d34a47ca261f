"""What changes between two versions of a policy: rules, models, budgets, traffic.

Rules are compared by name and by meaning. Each condition is reduced to a
normal form, so flow or block style, the order of keys in a mapping or of the
items of `all`/`any`/`in`, and spelling `{in: [x]}` as `x` are not changes.
A different value, operator, field or route is a change. Traffic is
compared by routing the same sample through both policies and grouping the
requests by segment, where NEW's segment definitions give each request its
segment value (OLD's, for a dimension only OLD defines).

`PolicyDiff.to_json()` is a contract that users' CI reads; its keys only grow.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conditions import Compare, Condition, FieldRef
from .policy import Policy, parse_policy
from .problems import InputError
from .stats import GroupStats, status_for

GIT_PREFIX = "git:"
GIT_TIMEOUT_SECONDS = 60

# The normal forms of a condition that is always true and one that is never true.
ALWAYS = ("all", ())
NEVER = ("any", ())


# --- reading OLD and NEW ------------------------------------------------------


@dataclass
class PolicySource:
    """Policy text read from a file, a saved version or a git revision."""

    spec: str  # as the user wrote it: a path, POLICY@N or git:REV:path
    text: str  # "\n" newlines, no byte-order mark
    label: str  # the name problems are reported under


def read_policy_source(spec: str) -> PolicySource:
    """Read a file path, `POLICY@N` (a saved version) or `git:REV:path`.

    A path that exists as a file is read as a file even if it contains `@`.
    Raises InputError with a message that names the fix.
    """
    from .yamlio import read_text_file

    if spec.startswith(GIT_PREFIX):
        return _read_git_source(spec)

    if not os.path.isfile(spec) and "@" in spec:
        path, _, version = spec.rpartition("@")
        if _is_version_label(version):
            from .versions import read_version

            return PolicySource(spec, read_version(path, version), spec)

    text, _ = read_text_file(spec)
    return PolicySource(spec, text, spec)


def _is_version_label(text: str) -> bool:
    number, _, copy = text.partition("-")
    return number.isdigit() and (copy == "" or copy.isdigit())


def load_policy_source(spec: str, role: str = "policy") -> Policy:
    """Read and validate a policy source; raise InputError listing its errors."""
    source = read_policy_source(spec)
    result = parse_policy(source.text, source.label)
    if not result.ok:
        errors = [problem.format() for problem in result.problems if problem.is_error]
        raise InputError(
            f"{role} policy {spec} is invalid:\n" + "\n".join(errors) + "\n"
            "fix these errors or compare another version",
            [problem for problem in result.problems if problem.is_error],
        )
    return result.policy


def _read_git_source(spec: str) -> PolicySource:
    """Read `git:REV:path` with `git show REV:path` in the repository holding path.

    `path` is relative to the current folder, like any other file argument.
    """
    from .yamlio import decode_text

    revision, separator, file_path = spec[len(GIT_PREFIX) :].partition(":")
    if not separator or not revision or not file_path:
        raise InputError(
            f"{spec}: expected git:REV:path, for example git:HEAD~1:policies/x.yaml"
        )
    if revision.startswith("-"):
        raise InputError(f"{spec}: a git revision cannot start with '-'")

    target = Path(file_path).resolve()
    root = Path(_git(_existing_folder(target.parent), "rev-parse", "--show-toplevel"))
    try:
        relative = target.relative_to(root.resolve()).as_posix()
    except ValueError as error:
        raise InputError(
            f"{spec}: {file_path} is outside the git repository at {root}"
        ) from error

    data = _git(root, "show", f"{revision}:{relative}", text=False)
    text, _ = decode_text(data, spec)
    return PolicySource(spec, text, spec)


def _existing_folder(folder: Path) -> Path:
    """Return the nearest existing folder, since the file may be gone from the tree."""
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder


def _git(folder: Path, *arguments: str, text: bool = True):
    command = ["git", "-C", str(folder), *arguments]
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=environment,
            check=False,
        )
    except FileNotFoundError as error:
        raise InputError("git is not installed or not on PATH; install git") from error
    except subprocess.TimeoutExpired as error:
        raise InputError(
            f"'git {' '.join(arguments)}' timed out after {GIT_TIMEOUT_SECONDS} s"
        ) from error

    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        raise InputError(
            f"'git {' '.join(arguments)}' failed in {folder}: {message};"
            " check the revision and the path"
        )
    if not text:
        return completed.stdout
    return completed.stdout.decode("utf-8", "replace").strip()


# --- condition normal form ----------------------------------------------------


def normalize_condition(condition: Condition) -> tuple:
    """Reduce a parsed condition to a hashable form that is equal for equal meaning.

    `all` and `any` are flattened, deduplicated and sorted, and `not (not x)`
    becomes `x`. `in`/`not_in` lists become sets, and a one-item list becomes
    `eq`/`ne`. A segment name is replaced by the field (and fallback) it reads.
    """
    if isinstance(condition, Compare):
        return _normalize_compare(condition)
    if condition.op == "not":
        inner = normalize_condition(condition.items[0])
        if inner[0] == "not":
            return inner[1]
        if inner == ALWAYS:
            return NEVER
        if inner == NEVER:
            return ALWAYS
        return ("not", inner)
    return _normalize_combine(condition.op, condition.items)


def _normalize_combine(op: str, items: list) -> tuple:
    identity, absorbing = (ALWAYS, NEVER) if op == "all" else (NEVER, ALWAYS)
    parts: set = set()
    for item in items:
        normal = normalize_condition(item)
        if normal[0] == op:
            parts.update(normal[1])
        elif normal == absorbing:
            return absorbing
        else:
            parts.add(normal)
    parts.discard(identity)
    if len(parts) == 1:
        return next(iter(parts))
    return (op, tuple(sorted(parts, key=repr)))


def _normalize_compare(condition: Compare) -> tuple:
    op = condition.op
    value = condition.value
    if op in ("in", "not_in"):
        members = tuple(sorted({_value_key(item) for item in value}, key=repr))
        if len(members) == 1:
            return ("cmp", field_key(condition.field), _SINGLE[op], members[0])
        return ("cmp", field_key(condition.field), op, members)
    return ("cmp", field_key(condition.field), op, _value_key(value))


_SINGLE = {"in": "eq", "not_in": "ne"}


def _value_key(value: Any) -> tuple:
    """Tag a literal with its kind, so `1`, `1.0` match and `true`, `"true"` do not."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return ("number", value)
    return ("string", str(value))


def field_key(ref: FieldRef) -> tuple:
    """Identify where a field's value comes from, whatever name the policy gives it."""
    if ref.kind == "metadata":
        return ("metadata", *ref.path)
    if ref.kind == "feature" or ref.target is None:
        return ("feature", ref.name)
    target = field_key(ref.target)
    if ref.fallback is None:
        return target
    return ("first_of", target, field_key(ref.fallback))


def describe_condition(condition: Condition) -> str:
    """Render a condition on one line with the names the policy uses."""
    if isinstance(condition, Compare):
        value = _describe_value(condition.value)
        return f"{condition.field.name} {condition.op} {value}"
    inner = ", ".join(describe_condition(item) for item in condition.items)
    return f"{condition.op}({inner})"


def _describe_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_describe_value(item) for item in value) + "]"
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def describe_field(ref: FieldRef) -> str:
    """Render where a segment reads its value, such as `metadata.locale`."""
    if ref.kind != "segment" or ref.target is None:
        return ref.name
    text = ref.target.name
    if ref.fallback is not None:
        text += f" (fallback {ref.fallback.name})"
    return text


# --- rules, models and budgets ------------------------------------------------


@dataclass
class RuleChanges:
    """Rules added, removed, changed in meaning or route, and moved in order."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reordered: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)
    default: dict | None = None  # {"before", "after"} when the default alias changed

    @property
    def any(self) -> bool:
        lists = (self.added, self.removed, self.changed, self.reordered)
        return any(lists) or self.default is not None

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "reordered": self.reordered,
            "details": self.details,
            "default": self.default,
        }


def compare_rules(old: Policy, new: Policy) -> RuleChanges:
    old_rules = {rule.name: rule for rule in old.rules}
    new_rules = {rule.name: rule for rule in new.rules}
    changes = RuleChanges()

    for rule in new.rules:
        if rule.name not in old_rules:
            changes.added.append(rule.name)
            changes.details.append(_rule_detail("added", None, rule))
    for rule in old.rules:
        if rule.name not in new_rules:
            changes.removed.append(rule.name)
            changes.details.append(_rule_detail("removed", rule, None))

    for rule in new.rules:
        before = old_rules.get(rule.name)
        if before is None:
            continue
        same_route = before.route == rule.route
        same_meaning = normalize_condition(before.condition) == normalize_condition(
            rule.condition
        )
        if not (same_route and same_meaning):
            changes.changed.append(rule.name)
            changes.details.append(_rule_detail("changed", before, rule))

    old_order = [rule.name for rule in old.rules if rule.name in new_rules]
    new_order = [rule.name for rule in new.rules if rule.name in old_rules]
    changes.reordered = _moved_items(old_order, new_order)
    for name in changes.reordered:
        changes.details.append(
            {"change": "reordered", "name": name, **_positions(old, new, name)}
        )

    if old.default != new.default:
        changes.default = {"before": old.default, "after": new.default}
    return changes


def _rule_detail(change: str, before, after) -> dict:
    rule = after or before
    detail = {"change": change, "name": rule.name}
    detail["route_before"] = before.route if before else None
    detail["route_after"] = after.route if after else None
    detail["when_before"] = describe_condition(before.condition) if before else None
    detail["when_after"] = describe_condition(after.condition) if after else None
    if before and after:
        detail["route_changed"] = before.route != after.route
        detail["condition_changed"] = normalize_condition(
            before.condition
        ) != normalize_condition(after.condition)
    return detail


def _positions(old: Policy, new: Policy, name: str) -> dict:
    old_names = [rule.name for rule in old.rules]
    new_names = [rule.name for rule in new.rules]
    return {
        "position_before": old_names.index(name) + 1,
        "position_after": new_names.index(name) + 1,
    }


def _moved_items(before: list[str], after: list[str]) -> list[str]:
    """Return the items of `after` outside a longest common subsequence with `before`.

    Those are the fewest rules whose moves explain the new order.
    """
    rows, columns = len(before), len(after)
    lengths = [[0] * (columns + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(columns - 1, -1, -1):
            if before[i] == after[j]:
                lengths[i][j] = lengths[i + 1][j + 1] + 1
            else:
                lengths[i][j] = max(lengths[i + 1][j], lengths[i][j + 1])

    kept = set()
    i = j = 0
    while i < rows and j < columns:
        if before[i] == after[j]:
            kept.add(after[j])
            i += 1
            j += 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return [name for name in after if name not in kept]


def compare_models(old: Policy, new: Policy) -> list[dict]:
    """List aliases added, removed, or bound to another model, params or price."""
    changes = []
    for alias in _union(old.models, new.models):
        before = _model_json(old.models.get(alias))
        after = _model_json(new.models.get(alias))
        if before == after:
            continue
        change = _change_kind(before, after)
        changes.append(
            {"alias": alias, "change": change, "before": before, "after": after}
        )
    return changes


def _model_json(spec) -> dict | None:
    if spec is None:
        return None
    return {"model": spec.model, "params": spec.params, "price": spec.price}


def compare_budgets(old: Policy, new: Policy) -> list[dict]:
    """List changed budget settings, and overrides added, removed or changed."""
    changes = []
    for name in ("baseline", "max_regression", "min_samples"):
        before = getattr(old.budgets, name)
        after = getattr(new.budgets, name)
        if before != after:
            changes.append(
                {"field": name, "change": "changed", "before": before, "after": after}
            )
    changes.extend(_compare_overrides(old.budgets.overrides, new.budgets.overrides))
    return changes


def _compare_overrides(old_items: list, new_items: list) -> list[dict]:
    old_by_condition = {normalize_condition(item.condition): item for item in old_items}
    new_by_condition = {normalize_condition(item.condition): item for item in new_items}
    changes = []
    for key in _union(old_by_condition, new_by_condition):
        before = _override_json(old_by_condition.get(key))
        after = _override_json(new_by_condition.get(key))
        if before == after:
            continue
        change = _change_kind(before, after)
        when = (after or before)["when"]
        changes.append(
            {
                "field": "overrides",
                "change": change,
                "when": when,
                "before": before,
                "after": after,
            }
        )
    return changes


def _override_json(override) -> dict | None:
    if override is None:
        return None
    return {
        "when": describe_condition(override.condition),
        "max_regression": override.max_regression,
        "min_samples": override.min_samples,
    }


def compare_segment_definitions(old: Policy, new: Policy) -> list[dict]:
    """List segment dimensions added, removed, or reading another field."""
    changes = []
    for name in _union(old.segments, new.segments):
        before = old.segments.get(name)
        after = new.segments.get(name)
        if before and after and field_key(before.ref) == field_key(after.ref):
            continue
        change = _change_kind(before, after)
        changes.append(
            {
                "dimension": name,
                "change": change,
                "before": describe_field(before.ref) if before else None,
                "after": describe_field(after.ref) if after else None,
            }
        )
    return changes


def _change_kind(before, after) -> str:
    if before is None:
        return "added"
    return "removed" if after is None else "changed"


def _union(first, second) -> list:
    """Keys of `second` in its order, then keys only `first` has, in its order."""
    return list(second) + [key for key in first if key not in second]


# --- traffic per segment ------------------------------------------------------


@dataclass
class SegmentChange:
    """One segment (or the totals, dimension None) under OLD and under NEW."""

    dimension: str | None
    value: Any
    before: GroupStats
    after: GroupStats
    moved: dict[str, float]
    budget_before: tuple[float, int]  # (max_regression, min_samples)
    budget_after: tuple[float, int]

    @property
    def requests(self) -> float:
        return self.after.requests

    @property
    def status_before(self) -> str:
        return _status(self.before, self.budget_before)

    @property
    def status_after(self) -> str:
        return _status(self.after, self.budget_after)

    @property
    def newly_failing(self) -> bool:
        return self.status_after == "fail" and self.status_before != "fail"

    @property
    def newly_passing(self) -> bool:
        return self.status_before == "fail" and self.status_after != "fail"

    @property
    def changed(self) -> bool:
        """True when traffic moved or the quality, cost or status figures differ.

        A budget edit alone does not count: the budgets section of the diff
        lists it, and it changes a segment only where the status changes.
        """
        return bool(self.moved) or any(
            first != second
            for first, second in (
                (self.status_before, self.status_after),
                (self.before.regression, self.after.regression),
                (self.before.cost("routed"), self.after.cost("routed")),
            )
        )

    @property
    def label(self) -> str:
        if self.dimension is None:
            return "total"
        value = "(missing)" if self.value is None else self.value
        return f"{self.dimension}={value}"

    def to_json(self) -> dict:
        return {
            "dimension": self.dimension,
            "value": self.value,
            "requests": self.requests,
            "moved": self.moved,
            "regression_before": self.before.regression,
            "regression_after": self.after.regression,
            "status_before": self.status_before,
            "status_after": self.status_after,
            "cost_before": self.before.cost("routed"),
            "cost_after": self.after.cost("routed"),
            "graded_before": self.before.graded,
            "graded_after": self.after.graded,
            "max_regression_before": self.budget_before[0],
            "max_regression_after": self.budget_after[0],
            "newly_failing": self.newly_failing,
            "changed": self.changed,
        }


def _status(stats: GroupStats, budget: tuple[float, int]) -> str:
    return status_for(stats.graded, stats.regression, budget[0], budget[1])


@dataclass
class PolicyDiff:
    """Everything that differs between OLD and NEW, on one sample."""

    old: Policy
    new: Policy
    old_source: str
    new_source: str
    totals: SegmentChange
    segments: list[SegmentChange]
    rules: RuleChanges
    models: list[dict]
    budgets: list[dict]
    segment_definitions: list[dict]
    notes: list[str]
    warnings: list[str]

    @property
    def moved(self) -> dict[str, float]:
        return self.totals.moved

    @property
    def newly_failing(self) -> list[SegmentChange]:
        return [segment for segment in self.segments if segment.newly_failing]

    @property
    def newly_passing(self) -> list[SegmentChange]:
        return [segment for segment in self.segments if segment.newly_passing]

    @property
    def cost_change(self) -> float | None:
        """Relative change of the routed cost, such as -0.182, or None if unknown."""
        before = self.totals.before.cost("routed")
        after = self.totals.after.cost("routed")
        if before is None or after is None or before <= 0:
            return None
        return (after - before) / before

    def to_json(self) -> dict:
        totals = self.totals.to_json()
        del totals["dimension"], totals["value"]
        totals["cost_change"] = self.cost_change
        totals["newly_failing"] = [segment.label for segment in self.newly_failing]
        totals["newly_passing"] = [segment.label for segment in self.newly_passing]
        return {
            "old": _policy_json(self.old, self.old_source),
            "new": _policy_json(self.new, self.new_source),
            "requests": self.totals.requests,
            "moved": self.moved,
            "segments": [segment.to_json() for segment in self.segments],
            "rules": self.rules.to_json(),
            "models": self.models,
            "budgets": self.budgets,
            "segment_definitions": self.segment_definitions,
            "totals": totals,
            "summary": self.summary(),
            "notes": self.notes,
            "warnings": self.warnings,
        }

    def summary(self) -> str:
        """Summarise moves, newly failing segments and cost in one line."""
        parts = [_moves_text(self.moved)]
        failing = self.newly_failing
        if failing:
            shown = ", ".join(_failure_text(segment) for segment in failing[:3])
            if len(failing) > 3:
                shown += f" and {len(failing) - 3} more"
            noun = "segment newly fails" if len(failing) == 1 else "segments newly fail"
            parts.append(f"{len(failing)} {noun}: {shown}")
        else:
            parts.append("no segment newly fails")
        passing = self.newly_passing
        if passing:
            noun = "segment" if len(passing) == 1 else "segments"
            parts.append(f"{len(passing)} failing {noun} now pass")
        parts.append(_cost_text(self.cost_change, self.totals))
        return "; ".join(parts)


def _policy_json(policy: Policy, source: str) -> dict:
    return {"name": policy.name, "version": policy.version, "source": source}


def _moves_text(moved: dict[str, float]) -> str:
    if not moved:
        return "no request moves to another model alias"
    ordered = sorted(moved.items(), key=lambda item: -item[1])
    first, count = ordered[0]
    noun = "request moves" if count == 1 else "requests move"
    text = f"{count:g} {noun} {first}"
    for move, count in ordered[1:]:
        text += f", {count:g} {move}"
    return text


def _failure_text(segment: SegmentChange) -> str:
    regression = segment.after.regression
    budget = segment.budget_after[0]
    return (
        f"{segment.label} ({regression * 100:+.1f} pt > {budget * 100:.1f} pt budget)"
    )


def _cost_text(change: float | None, totals: SegmentChange) -> str:
    if change is None:
        before = totals.before.cost("routed")
        after = totals.after.cost("routed")
        if before == 0 and after == 0:
            return "cost unchanged"
        return "cost change unknown"
    if change == 0:
        return "cost unchanged"
    return f"cost {change * 100:+.1f}%"


def diff_policies(
    old: Policy,
    new: Policy,
    requests: Sequence[Any],
    *,
    old_source: str | None = None,
    new_source: str | None = None,
) -> PolicyDiff:
    """Route `requests` through both policies and compare rules, models and traffic.

    Quality and cost come from `preview.compute_preview` with its defaults:
    recorded grades and LiteLLM prices (or each alias's `price`).
    """
    from .preview import compute_preview

    before = compute_preview(old, requests)
    after = compute_preview(new, requests)
    pairs = list(zip(before.rows, after.rows, strict=True))

    totals = _segment_change(old, new, None, None, pairs)
    segments = _ordered(_segment_changes(old, new, pairs))
    warnings = list(dict.fromkeys(before.warnings + after.warnings))
    return PolicyDiff(
        old=old,
        new=new,
        old_source=old_source or old.path,
        new_source=new_source or new.path,
        totals=totals,
        segments=segments,
        rules=compare_rules(old, new),
        models=compare_models(old, new),
        budgets=compare_budgets(old, new),
        segment_definitions=compare_segment_definitions(old, new),
        notes=_alias_notes(old, new, pairs),
        warnings=warnings,
    )


def _segment_changes(old: Policy, new: Policy, pairs: list) -> list[SegmentChange]:
    changes = []
    for dimension in _union(old.segments, new.segments):
        side = 1 if dimension in new.segments else 0
        groups: dict[Any, list] = {}
        for pair in pairs:
            groups.setdefault(pair[side].segments[dimension], []).append(pair)
        for value in sorted(groups, key=_value_order):
            changes.append(_segment_change(old, new, dimension, value, groups[value]))
    return changes


def _value_order(value: Any) -> tuple:
    return (value is None, str(value))


def _segment_change(old, new, dimension, value, pairs) -> SegmentChange:
    before = GroupStats()
    after = GroupStats()
    before.add_rows(old_row for old_row, _ in pairs)
    after.add_rows(new_row for _, new_row in pairs)
    moved: dict[str, float] = {}
    for old_row, new_row in pairs:
        if old_row.alias != new_row.alias:
            move = f"{old_row.alias}->{new_row.alias}"
            moved[move] = moved.get(move, 0.0) + new_row.request.weight
    return SegmentChange(
        dimension,
        value,
        before,
        after,
        dict(sorted(moved.items())),
        old.budget_for(dimension, value),
        new.budget_for(dimension, value),
    )


def _ordered(segments: list[SegmentChange]) -> list[SegmentChange]:
    """Order newly failing segments first, largest regression first, then changes."""

    def rank(segment: SegmentChange) -> tuple:
        if segment.newly_failing:
            return (0, -(segment.after.regression or 0.0))
        if segment.status_before != segment.status_after:
            return (1, 0.0)
        return (2 if segment.changed else 3, 0.0)

    return sorted(segments, key=rank)


def _alias_notes(old: Policy, new: Policy, pairs: list) -> list[str]:
    """Explain moves that are not what their alias names suggest."""
    notes = []
    for alias in new.models:
        if alias not in old.models:
            continue
        before, after = old.model_for(alias), new.model_for(alias)
        if before == after:
            continue
        staying = sum(
            new_row.request.weight
            for old_row, new_row in pairs
            if old_row.alias == alias and new_row.alias == alias
        )
        notes.append(
            f"alias '{alias}' is {before} in OLD and {after} in NEW, so {staying:g}"
            f" request(s) that stay on '{alias}' still change model"
        )

    for old_alias, spec in old.models.items():
        for new_alias, new_spec in new.models.items():
            if old_alias != new_alias and spec.model == new_spec.model:
                if old_alias not in new.models:
                    notes.append(
                        f"alias '{old_alias}' in OLD and '{new_alias}' in NEW are the"
                        f" same model ({spec.model}), so '{old_alias}->{new_alias}'"
                        " moves change only the alias name"
                    )
    return notes
