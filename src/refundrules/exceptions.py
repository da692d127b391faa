"""The exceptions refundrules raises.

Every error a caller can cause derives from :class:`RefundRulesError`. This module
imports nothing else from the package so that it can be imported anywhere.

>>> from refundrules.exceptions import RulePackError
>>> err = RulePackError("unknown fact 'hours_since_requst'", path="rules/x.yaml", line=12,
...                     rule_id="seller_timeout", hint="did you mean 'hours_since_request'?")
>>> print(err)
rules/x.yaml:12: rule 'seller_timeout': unknown fact 'hours_since_requst' (did you mean 'hours_since_request'?)
"""

from __future__ import annotations

__all__ = [
    "CaseError",
    "EngineError",
    "EvaluationError",
    "MissingExtraError",
    "RefundRulesError",
    "ReloadError",
    "RulePackError",
    "UnknownPackError",
]


class RefundRulesError(Exception):
    """Root of every error raised by refundrules."""


class RulePackError(RefundRulesError, ValueError):
    """A rule pack could not be loaded: bad YAML, an unknown fact, a bad operator, …

    Attributes: ``path`` (the file), ``line`` (1-based, when known), ``rule_id`` (when the
    problem is inside one rule), ``field`` (the key path inside the file) and ``hint``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        rule_id: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.rule_id = rule_id
        self.field = field
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        rule = f"rule {self.rule_id!r}: " if self.rule_id else ""
        field = f"at {self.field}: " if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{rule}{field}{self.message}{hint}"


class CaseError(RefundRulesError, ValueError):
    """A case is invalid. ``errors`` lists ``(field_path, message)`` pairs, one per problem.

    >>> print(CaseError([("order.paid_at", "a timezone is required")]))
    invalid case: order.paid_at: a timezone is required
    """

    def __init__(self, errors: list[tuple[str, str]], *, source: str | None = None) -> None:
        self.errors = list(errors)
        self.source = source
        self.field = self.errors[0][0] if self.errors else None
        lines = [f"{path}: {message}" if path else message for path, message in self.errors]
        prefix = f"invalid case in {source}" if source else "invalid case"
        if len(lines) == 1:
            text = f"{prefix}: {lines[0]}"
        else:
            text = f"{prefix} ({len(lines)} problems):\n  " + "\n  ".join(lines)
        super().__init__(text)


class EvaluationError(RefundRulesError, RuntimeError):
    """A valid case could not be evaluated by a valid pack (e.g. no rule decided a resolution)."""

    def __init__(self, message: str, *, pack_id: str | None = None) -> None:
        self.pack_id = pack_id
        super().__init__(f"{pack_id}: {message}" if pack_id else message)


class MissingExtraError(RefundRulesError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it.

    >>> print(MissingExtraError("refundrules.authoring", module="hypothesis", extra="authoring"))
    refundrules.authoring needs hypothesis, which is not installed; install it with: pip install 'refundrules[authoring]'
    """

    def __init__(self, feature: str, *, module: str, extra: str) -> None:
        self.feature = feature
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs {module}, which is not installed; "
            f"install it with: pip install 'refundrules[{extra}]'"
        )


class EngineError(EvaluationError):
    """durable-rules itself failed on a case; the engine was reset before this was raised."""


class UnknownPackError(RefundRulesError, LookupError):
    """A long-lived engine holds no pack family by that id; ``known`` lists the ones it holds."""

    def __init__(self, pack_id: str, *, known: tuple[str, ...] = ()) -> None:
        self.pack_id = pack_id
        self.known = tuple(known)
        names = ", ".join(self.known) or "none"
        super().__init__(f"no rule pack {pack_id!r} is loaded (loaded: {names})")


class ReloadError(RefundRulesError):
    """Reloading a pack failed; the engine keeps predicting with the pack it had.

    ``pack_id`` names the family, ``cause`` is the error that stopped the new pack (usually a
    :class:`RulePackError` with its file and line), ``kept`` the content hash still in use.

    >>> print(ReloadError("pinduoduo", RulePackError("bad", path="p.yaml"), kept="ab12"))
    reloading 'pinduoduo' failed, still using content ab12: p.yaml: bad
    """

    def __init__(self, pack_id: str, cause: BaseException, *, kept: str) -> None:
        self.pack_id = pack_id
        self.cause = cause
        self.kept = kept
        super().__init__(f"reloading {pack_id!r} failed, still using content {kept}: {cause}")
