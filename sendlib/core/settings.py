"""Typed settings files: one pydantic model per YAML file, read by one shared reader.

Every YAML file sendlib reads (the run's config, ``quality.yaml``, the forecast, sufficiency and
DSG scenario files) is declared as a :class:`SettingsModel`: its keys, their types, their
defaults (declared once, in the model) and their rules. :func:`load_settings_file` reads the
file and validates it; an error names the file, the key (``report.horizon_years``) and the rule
that failed, for every key that is wrong, and is raised as the caller's error class
(:class:`~sendlib.core.errors.ConfigError` or :class:`~sendlib.core.errors.UsageError`, both exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from sendlib.core.errors import ConfigError

M = TypeVar("M", bound="SettingsModel")

#: how many wrong keys one error message lists before "(+N more)"
MAX_ERRORS_SHOWN = 8


class SettingsModel(BaseModel):
    """Base of every settings model: unknown keys are errors, values are immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_yaml_mapping(path: str | Path, what: str, error: type[Exception] = ConfigError) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; errors name the file and say what is wrong.

    Parameters
    ----------
    path : path of the file.
    what : words for the file in messages, e.g. ``"config file"`` or ``"scenario file"``.
    error : the exception class to raise (``ConfigError`` or ``UsageError``: both exit 2).
    """
    p = Path(path)
    if not p.is_file():
        raise error(f"{what} not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise error(f"{what} {p} is not valid YAML: {exc}") from exc
    except ValueError as exc:  # a value YAML reads as a date but is no date, e.g. 2025-02-30
        raise error(f"{what} {p}: a value is not a valid date ({exc}); write dates as YYYY-MM-DD") from exc
    if not isinstance(raw, dict):
        raise error(f"{what} {p} must be a mapping of keys")
    return raw


def describe_errors(exc: ValidationError, prefix: str = "") -> list[str]:
    """One ``key: rule`` line per problem pydantic found (keys dotted, list items by index)."""
    lines = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(part) for part in (prefix, *err["loc"]) if str(part) != "")
        kind = err["type"]
        if kind == "extra_forbidden":
            rule = "unknown key"
        elif kind == "missing":
            rule = "is required"
        else:
            rule = err["msg"]
            given = err.get("input")
            if isinstance(given, (str, int, float, bool)) and kind not in ("value_error", "assertion_error"):
                rule = f"{rule} (got {given!r})"
        lines.append(f"{key or '(top level)'}: {rule}")
    return lines


def parse_settings(
    model: type[M],
    raw: Mapping[str, Any],
    origin: str,
    error: type[Exception] = ConfigError,
    context: Mapping[str, Any] | None = None,
) -> M:
    """Validate a mapping against ``model``; on failure raise ``error`` naming ``origin`` (the
    file, e.g. ``"config file config/default.yaml"``), every wrong key and its rule.

    ``context`` is passed to the model's validators (for rules that depend on where the file is).
    """
    try:
        return model.model_validate(dict(raw), context=dict(context or {}))
    except ValidationError as exc:
        problems = describe_errors(exc)
        shown = "; ".join(problems[:MAX_ERRORS_SHOWN])
        more = f" (+{len(problems) - MAX_ERRORS_SHOWN} more)" if len(problems) > MAX_ERRORS_SHOWN else ""
        raise error(f"{origin}: {shown}{more}") from None


def load_settings_file(
    model: type[M],
    path: str | Path,
    what: str,
    error: type[Exception] = ConfigError,
    context: Mapping[str, Any] | None = None,
) -> M:
    """Read the YAML file at ``path`` and validate it against ``model`` (:func:`parse_settings`)."""
    raw = read_yaml_mapping(path, what, error)
    return parse_settings(model, raw, f"{what} {path}", error, context)


def errors_at(problems: Iterable[tuple[tuple[str | int, ...], str, Any]], title: str = "settings") -> ValidationError:
    """An error to raise from a validator whose rule is about keys below the one it validates.

    ``problems`` are ``(loc, rule, given)``: ``loc`` is relative to what the validator checks
    (a model or a field) and pydantic prefixes it with the path to there, so the message names
    the exact key, e.g. ``scenarios.mitigated.assumptions.block_transfer_pct.value`` for a rule
    checked on the whole file. Use it for cross-field rules (dates in order, a value above a cap
    set elsewhere in the file); a rule about the validated key itself simply raises ``ValueError``.
    """
    details = [
        InitErrorDetails(type=PydanticCustomError("value_error", rule), loc=tuple(loc), input=given)
        for loc, rule, given in problems
    ]
    return ValidationError.from_exception_data(title, details)
