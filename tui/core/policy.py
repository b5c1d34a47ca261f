"""The policy file: validation that collects every problem, and the policy model.

Validation never stops at the first problem. Each one is reported with the
file, line and column where it sits and, where a name is misspelled, the name
that was probably meant. A policy with errors still yields as much of a model
as could be read, so the app can keep showing an outline while the user types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conditions import (
    COMBINATORS,
    Condition,
    FieldRef,
    ParseContext,
    _plain,
    _type_name,
    item_position,
    key_position,
    node_start,
    parse_condition,
    suggest,
    value_position,
)
from .features import FEATURES
from .problems import Problem, has_errors

SCHEMA = "routebook/v1"
TOP_KEYS = (
    "schema",
    "name",
    "version",
    "description",
    "models",
    "segments",
    "rules",
    "default",
    "budgets",
    "exposure",
    "checks",
    "judge",
)
MODEL_KEYS = ("model", "params", "price", "description")
PRICE_KEYS = ("input_per_million", "output_per_million")
SEGMENT_KEYS = ("field", "fallback", "description")
RULE_KEYS = ("name", "when", "route", "description")
BUDGET_KEYS = ("baseline", "max_regression", "min_samples", "overrides")
OVERRIDE_KEYS = ("when", "max_regression", "min_samples", "description")
EXPOSURE_KEYS = ("field",)
JUDGE_KEYS = ("model", "params", "prompt")

# Versions count saves; a larger number is a typo, and printing a number of
# thousands of digits fails in Python.
MAX_VERSION = 10**9
DEFAULT_MAX_REGRESSION = 0.03
DEFAULT_MIN_SAMPLES = 30
DEFAULT_EXPOSURE_FIELD = "metadata.tenant_id"


@dataclass
class ModelSpec:
    alias: str
    model: str
    params: dict = field(default_factory=dict)
    price: dict | None = None


@dataclass
class SegmentSpec:
    name: str
    ref: FieldRef


@dataclass
class RuleSpec:
    name: str
    route: str
    condition: Condition
    line: int
    column: int
    description: str | None = None


@dataclass
class Override:
    condition: Condition
    max_regression: float | None
    min_samples: int | None
    line: int


@dataclass
class Budgets:
    baseline: str
    max_regression: float = DEFAULT_MAX_REGRESSION
    min_samples: int = DEFAULT_MIN_SAMPLES
    overrides: list[Override] = field(default_factory=list)


@dataclass
class Policy:
    """A validated policy. `document` is the ruamel round-trip tree it came from."""

    path: str
    schema: str
    name: str
    version: int
    description: str | None
    models: dict[str, ModelSpec]
    segments: dict[str, SegmentSpec]
    rules: list[RuleSpec]
    default: str
    budgets: Budgets
    exposure_field: FieldRef
    checks: Any  # checks.ChecksConfig
    judge: dict | None
    document: Any = None

    @property
    def aliases(self) -> list[str]:
        return list(self.models)

    def model_for(self, alias: str) -> str:
        return self.models[alias].model

    @property
    def tokenizer_model(self) -> str:
        """The model whose tokenizer counts `prompt_tokens`: the default route's."""
        return self.models[self.default].model

    def rule_name(self, rule_index: int) -> str:
        if rule_index >= len(self.rules):
            return "default"
        return self.rules[rule_index].name

    def budget_for(self, dimension: str | None, value: Any) -> tuple[float, int]:
        """The (max_regression, min_samples) that apply to one segment.

        An override applies when its condition holds with only that segment's
        value known; the last matching override wins for each field it sets.
        The totals row (dimension None) always uses the global budget.
        """
        from .evaluate import explain_condition

        max_regression = self.budgets.max_regression
        min_samples = self.budgets.min_samples
        if dimension is None:
            return max_regression, min_samples
        probe = _SegmentProbe(dimension, value)
        for override in self.budgets.overrides:
            if explain_condition(override.condition, probe).held:
                if override.max_regression is not None:
                    max_regression = override.max_regression
                if override.min_samples is not None:
                    min_samples = override.min_samples
        return max_regression, min_samples


class _SegmentProbe:
    """A stand-in request where only one segment's value is known."""

    def __init__(self, dimension: str, value: Any):
        self.metadata = {}
        self._dimension = dimension
        self._value = value

    def __getattr__(self, name):
        return self._value if name == self._dimension else None


@dataclass
class PolicyResult:
    """The outcome of reading a policy: a model when there are no errors."""

    policy: Policy | None
    problems: list[Problem]
    loaded: Any = None  # the yamlio.LoadedYaml

    @property
    def ok(self) -> bool:
        return self.policy is not None and not has_errors(self.problems)


# --- loading ------------------------------------------------------------------


def load_policy(path: str | Path) -> PolicyResult:
    """Read and validate a policy file. Unreadable files raise InputError."""
    from .yamlio import load_yaml_file

    loaded = load_yaml_file(path)
    return _validate_loaded(loaded, str(path))


def parse_policy(text: str, path: str = "<policy>") -> PolicyResult:
    """Validate policy text, as the editor does on every change."""
    from .yamlio import parse_yaml

    loaded = parse_yaml(text, path)
    return _validate_loaded(loaded, path)


def _validate_loaded(loaded, path: str) -> PolicyResult:
    problems = list(loaded.problems)
    if has_errors(problems):
        return PolicyResult(None, _sorted(problems), loaded)
    validator = _Validator(path, problems)
    policy = validator.validate(loaded.doc)
    if policy is not None:
        policy.document = loaded.doc
    if has_errors(problems):
        policy = None
    return PolicyResult(policy, _sorted(problems), loaded)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column, p.severity != "error"))


# --- validation ---------------------------------------------------------------


class _Validator:
    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems

    def error(self, position: tuple[int, int], message: str) -> None:
        self.problems.append(Problem(self.path, *position, message, "error"))

    def warn(self, position: tuple[int, int], message: str) -> None:
        self.problems.append(Problem(self.path, *position, message, "warning"))

    def check_keys(self, node: dict, allowed: tuple[str, ...], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.error(
                    key_position(node, key),
                    f"unknown key '{key}' in {where}{suggest(key, allowed)};"
                    " allowed keys are " + ", ".join(allowed),
                )

    def expect_mapping(self, node: Any, key: str, where: str) -> dict | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(
                value_position(node, key),
                f"'{key}' in {where} must be a mapping, not {_type_name(value)}",
            )
            return None
        return value

    def validate(self, doc: Any) -> Policy | None:
        if not isinstance(doc, dict):
            what = "empty" if doc is None else f"{_type_name(doc)}"
            self.error(
                node_start(doc),
                f"a policy is a mapping with schema, name, models, rules and default;"
                f" this document is {what}",
            )
            return None

        self.check_keys(doc, TOP_KEYS, "the policy")
        schema = self._schema(doc)
        name = self._name(doc)
        version = self._version(doc)
        description = self._string(doc, "description", "the policy")
        models = self._models(doc)
        segments = self._segments(doc)
        context = ParseContext(
            self.path, {n: s.ref for n, s in segments.items()}, self.problems
        )
        rules = self._rules(doc, models, context)
        default = self._alias(doc, "default", models, "the policy", required=True)
        budgets = self._budgets(doc, models, default, segments)
        exposure = self._exposure(doc, context)
        checks = self._checks(doc)
        judge = self._judge(doc)

        if default is None:
            return None
        return Policy(
            path=self.path,
            schema=schema,
            name=name,
            version=version,
            description=description,
            models=models,
            segments=segments,
            rules=rules,
            default=default,
            budgets=budgets,
            exposure_field=exposure,
            checks=checks,
            judge=judge,
        )

    # top-level scalars

    def _schema(self, doc: dict) -> str:
        if "schema" not in doc:
            self.error(
                node_start(doc), f"missing 'schema'; add 'schema: {SCHEMA}' at the top"
            )
            return SCHEMA
        schema = doc["schema"]
        if schema != SCHEMA:
            self.error(
                value_position(doc, "schema"),
                f"unsupported schema {schema!r}; this version of Routebook reads"
                f" '{SCHEMA}'",
            )
        return SCHEMA

    def _string(self, node: dict, key: str, where: str, required=False) -> str | None:
        if key not in node:
            if required:
                self.error(node_start(node), f"missing '{key}' in {where}")
            return None
        value = node[key]
        if not isinstance(value, str) or not value.strip():
            self.error(
                value_position(node, key),
                f"'{key}' in {where} must be a non-empty string,"
                f" not {_type_name(value)}",
            )
            return None
        return str(value)

    def _name(self, doc: dict) -> str:
        from .problems import InputError
        from .versions import safe_policy_name

        name = self._string(doc, "name", "the policy", required=True)
        if name is None:
            return "unnamed"
        try:
            safe_policy_name(name)
        except InputError as error:
            self.error(value_position(doc, "name"), str(error))
        return name

    def _version(self, doc: dict) -> int:
        if "version" not in doc:
            return 0
        version = doc["version"]
        whole = isinstance(version, int) and not isinstance(version, bool)
        if not whole or not 0 <= version < MAX_VERSION:
            self.error(
                value_position(doc, "version"),
                f"'version' must be a whole number from 0 to {MAX_VERSION - 1},"
                f" not {_short(version)}",
            )
            return 0
        return int(version)

    def _alias(self, node, key, models, where, required=False) -> str | None:
        if key not in node:
            if required:
                example = next(iter(models), "strong")
                purpose = "the model alias that gets requests no rule matches"
                if key != "default":
                    purpose = "the model alias this rule sends requests to"
                self.error(
                    node_start(node),
                    f"missing '{key}' in {where}; set it to {purpose},"
                    f" for example '{key}: {example}'",
                )
            return None
        alias = node[key]
        if alias is None:
            self.error(
                value_position(node, key),
                f"'{key}' in {where} has no value; set it to a model alias: "
                + (", ".join(models) or "none defined"),
            )
            return None
        if not isinstance(alias, str) or alias not in models:
            known = ", ".join(models) or "none defined"
            self.error(
                value_position(node, key),
                f"unknown model alias {_plain(alias)!r} in '{key}'"
                f"{suggest(alias, models)}; aliases are: {known}",
            )
            return None
        return str(alias)

    # sections

    def _models(self, doc: dict) -> dict[str, ModelSpec]:
        section = self.expect_mapping(doc, "models", "the policy")
        if section is None:
            if "models" not in doc:
                self.error(
                    node_start(doc),
                    "missing 'models'; bind each alias to a LiteLLM model string,"
                    " for example 'models: {strong: {model: openai/gpt-4o}}'",
                )
            return {}
        models = {}
        for alias, spec in section.items():
            model = self._model(section, alias, spec)
            if model is not None:
                models[str(alias)] = model
        return models

    def _model(self, section, alias, spec) -> ModelSpec | None:
        where = f"model '{alias}'"
        if not isinstance(spec, dict):
            self.error(
                value_position(section, alias),
                f"{where} must be a mapping such as {{model: openai/gpt-4o}},"
                f" not {_type_name(spec)}",
            )
            return None
        self.check_keys(spec, MODEL_KEYS, where)
        model = self._string(spec, "model", where, required=True)
        params = self.expect_mapping(spec, "params", where) or {}
        price = self.expect_mapping(spec, "price", where)
        if price is not None:
            self.check_keys(price, PRICE_KEYS, f"the price of {where}")
            for key in PRICE_KEYS:
                self._number(price, key, f"the price of {where}", minimum=0)
        if model is None:
            return None
        return ModelSpec(str(alias), model, _plain(params), _plain(price))

    def _number(self, node, key, where, minimum=None, maximum=None, integer=False):
        if key not in node:
            return None
        value = node[key]
        kinds = int if integer else int | float
        valid = not isinstance(value, bool) and isinstance(value, kinds)
        # YAML reads .nan and .inf as floats; neither is a usable budget or price.
        valid = valid and math.isfinite(value)
        if valid and minimum is not None and value < minimum:
            valid = False
        if valid and maximum is not None and value > maximum:
            valid = False
        if not valid:
            kind = "a whole number" if integer else "a number"
            bounds = ""
            if minimum is not None and maximum is not None:
                bounds = f" from {minimum} to {maximum}"
            elif minimum is not None:
                bounds = f" of at least {minimum}"
            self.error(
                value_position(node, key),
                f"'{key}' in {where} must be {kind}{bounds}, not {_type_name(value)}",
            )
            return None
        return _plain(value)

    def _segments(self, doc: dict) -> dict[str, SegmentSpec]:
        section = self.expect_mapping(doc, "segments", "the policy") or {}
        segments: dict[str, SegmentSpec] = {}
        bare = ParseContext(self.path, {}, self.problems, ("metadata", "feature"))
        for name, spec in section.items():
            segment = self._segment(section, name, spec, bare)
            if segment is not None:
                segments[str(name)] = segment
        return segments

    def _segment(self, section, name, spec, context) -> SegmentSpec | None:
        position = key_position(section, name)
        where = f"segment '{name}'"
        if name in FEATURES or name in COMBINATORS or str(name).startswith("metadata."):
            self.error(
                position, f"segment name '{name}' is reserved; choose another name"
            )
            return None
        if not isinstance(spec, dict):
            self.error(
                value_position(section, name),
                f"{where} must be a mapping such as {{field: metadata.locale}},"
                f" not {_type_name(spec)}",
            )
            return None
        self.check_keys(spec, SEGMENT_KEYS, where)
        field_name = self._string(spec, "field", where, required=True)
        if field_name is None:
            return None
        target = self._segment_field(spec, "field", field_name, context)
        fallback = None
        fallback_name = self._string(spec, "fallback", where)
        if fallback_name is not None:
            fallback = self._segment_field(spec, "fallback", fallback_name, context)
        if target is None:
            return None
        ref = FieldRef(str(name), "segment", target=target, fallback=fallback)
        return SegmentSpec(str(name), ref)

    def _segment_field(self, spec, key, field_name, context) -> FieldRef | None:
        from .conditions import resolve_field

        line, column = value_position(spec, key)
        return resolve_field(field_name, context, line, column)

    def _rules(self, doc, models, context) -> list[RuleSpec]:
        if "rules" not in doc:
            return []
        section = doc["rules"]
        if not isinstance(section, list):
            self.error(
                value_position(doc, "rules"),
                f"'rules' must be a list of rules, not {_type_name(section)}",
            )
            return []
        rules: list[RuleSpec] = []
        seen: dict[str, int] = {}
        catch_all: RuleSpec | None = None
        for index, spec in enumerate(section):
            rule = self._rule(section, index, spec, models, context, seen)
            if rule is None:
                continue
            if catch_all is not None:
                self.warn(
                    (rule.line, rule.column),
                    f"rule '{rule.name}' can never fire: rule '{catch_all.name}'"
                    f" (line {catch_all.line}) matches every request",
                )
            elif _always_true(rule.condition):
                catch_all = rule
            rules.append(rule)
        return rules

    def _rule(self, section, index, spec, models, context, seen) -> RuleSpec | None:
        position = item_position(section, index)
        if not isinstance(spec, dict):
            self.error(
                position,
                f"rule {index + 1} must be a mapping with name, when and route,"
                f" not {_type_name(spec)}",
            )
            return None
        name = self._string(spec, "name", f"rule {index + 1}", required=True)
        where = f"rule '{name}'" if name else f"rule {index + 1}"
        self.check_keys(spec, RULE_KEYS, where)
        if name is not None:
            if name in seen:
                self.error(
                    value_position(spec, "name"),
                    f"duplicate rule name '{name}' (first used on line {seen[name]});"
                    " rule names must be unique",
                )
            else:
                seen[name] = value_position(spec, "name")[0]
        route = self._alias(spec, "route", models, where, required=True)
        condition = None
        if "when" not in spec:
            self.error(
                position,
                f"missing 'when' in {where};"
                " write 'when: {all: []}' to match every request",
            )
        else:
            condition = parse_condition(
                spec["when"], context, value_position(spec, "when")
            )
        description = spec.get("description")
        if None in (name, route, condition):
            return None
        return RuleSpec(name, route, condition, *position, description=description)

    def _budgets(self, doc, models, default, segments) -> Budgets:
        section = self.expect_mapping(doc, "budgets", "the policy")
        baseline = default or ""
        if section is None:
            return Budgets(baseline)
        self.check_keys(section, BUDGET_KEYS, "budgets")
        if "baseline" in section:
            baseline = self._alias(section, "baseline", models, "budgets") or baseline
        max_regression = self._number(section, "max_regression", "budgets", 0, 1)
        min_samples = self._number(section, "min_samples", "budgets", 1, integer=True)
        budgets = Budgets(
            baseline,
            DEFAULT_MAX_REGRESSION if max_regression is None else max_regression,
            DEFAULT_MIN_SAMPLES if min_samples is None else min_samples,
        )
        budgets.overrides = self._overrides(section, segments)
        return budgets

    def _overrides(self, section, segments) -> list[Override]:
        if "overrides" not in section:
            return []
        items = section["overrides"]
        if not isinstance(items, list):
            self.error(
                value_position(section, "overrides"),
                f"'overrides' must be a list, not {_type_name(items)}",
            )
            return []
        # An override reads only the segment's own value, which the probe in
        # Policy.budget_for serves as an attribute named after the segment.
        probes = {
            name: FieldRef(name, "segment", target=FieldRef(name, "feature"))
            for name in segments
        }
        context = ParseContext(self.path, probes, self.problems, ("segment",))
        overrides = []
        for index, item in enumerate(items):
            override = self._override(items, index, item, context)
            if override is not None:
                overrides.append(override)
        return overrides

    def _override(self, items, index, item, context) -> Override | None:
        position = item_position(items, index)
        where = f"budget override {index + 1}"
        if not isinstance(item, dict):
            self.error(
                position, f"{where} must be a mapping with when and max_regression"
            )
            return None
        self.check_keys(item, OVERRIDE_KEYS, where)
        max_regression = self._number(item, "max_regression", where, 0, 1)
        min_samples = self._number(item, "min_samples", where, 1, integer=True)
        if "when" not in item:
            self.error(
                position,
                f"missing 'when' in {where}; name the segment, e.g. {{locale: ja}}",
            )
            return None
        condition = parse_condition(item["when"], context, value_position(item, "when"))
        if condition is None:
            return None
        if max_regression is None and min_samples is None:
            self.warn(position, f"{where} sets neither max_regression nor min_samples")
        return Override(condition, max_regression, min_samples, position[0])

    def _exposure(self, doc, context) -> FieldRef:
        default = FieldRef(DEFAULT_EXPOSURE_FIELD, "metadata", ("tenant_id",))
        section = self.expect_mapping(doc, "exposure", "the policy")
        if section is None:
            return default
        self.check_keys(section, EXPOSURE_KEYS, "exposure")
        name = self._string(section, "field", "exposure")
        if name is None:
            return default
        line, column = value_position(section, "field")
        from .conditions import resolve_field

        return resolve_field(name, context, line, column) or default

    def _checks(self, doc):
        from .checks import ChecksConfig

        section = self.expect_mapping(doc, "checks", "the policy")
        positions = _section_positions(section) if section is not None else {}
        config, problems = ChecksConfig.from_mapping(
            _plain(section) if section is not None else None, self.path, positions
        )
        self.problems.extend(problems)
        return config

    def _judge(self, doc) -> dict | None:
        section = self.expect_mapping(doc, "judge", "the policy")
        if section is None:
            return None
        self.check_keys(section, JUDGE_KEYS, "judge")
        self._string(section, "model", "judge", required=True)
        return _plain(section)


def _section_positions(section: Any, prefix: str = "") -> dict[str, tuple[int, int]]:
    """Map dotted key paths inside a section to their 1-based positions."""
    positions: dict[str, tuple[int, int]] = {}
    if isinstance(section, dict):
        items = [(key, key_position(section, key)) for key in section]
        children = [(key, section[key]) for key in section]
    elif isinstance(section, list):
        items = [
            (index, item_position(section, index)) for index in range(len(section))
        ]
        children = list(enumerate(section))
    else:
        return positions
    for key, position in items:
        positions[f"{prefix}{key}"] = position
    for key, child in children:
        positions.update(_section_positions(child, f"{prefix}{key}."))
    return positions


def _always_true(condition) -> bool:
    """Whether a condition holds for every request, whatever its fields."""
    from .conditions import Combine

    if not isinstance(condition, Combine):
        return False
    if condition.op == "all":
        return all(_always_true(item) for item in condition.items)
    if condition.op == "any":
        return any(_always_true(item) for item in condition.items)
    return False


def _short(value: Any) -> str:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value) >= MAX_VERSION
    ):
        return "a number that large"
    return _type_name(value)
