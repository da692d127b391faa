"""Published outcomes: real disputes whose platform-level outcome a public source states.

A family keeps them in ``outcomes/*.yaml`` beside its rules; each record holds the case as it
stood just before the platform decided, what the platform decided, the source and a
confidence grade. They are read and checked like pack tests (:func:`read_outcomes`), and
``calibrate`` measures the pack against them. Records marked ``holdout: true`` were set aside
before any rule was tuned on the others; they are reported separately and never tuned on.

>>> from refundrules._outcomes import OutcomeClass
>>> OutcomeClass("partial_refund_without_return").money_back
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from refundrules._case import Case, case_error_from
from refundrules._yaml import YamlDocument, load_yaml_file
from refundrules.exceptions import CaseError, RulePackError

__all__ = [
    "LoadedOutcome",
    "OutcomeClass",
    "OutcomeRecord",
    "OutcomeSource",
    "PublishedOutcome",
    "read_outcome_files",
]

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=120)]
Money = Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")]


class OutcomeClass(StrEnum):
    """How a published dispute ended, in the classes calibration compares."""

    FULL_REFUND_WITHOUT_RETURN = "full_refund_without_return"
    PARTIAL_REFUND_WITHOUT_RETURN = "partial_refund_without_return"
    RETURN_AND_REFUND = "return_and_refund"
    REJECTED = "rejected"
    REFUND_ON_TIMEOUT = "refund_on_timeout"

    @property
    def money_back(self) -> bool:
        """The buyer gets money back (the coarse class)."""
        return self is not OutcomeClass.REJECTED


class _Spec(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, populate_by_name=True
    )


class OutcomeSource(_Spec):
    """Where the outcome is published: the page read, its title, publisher and kind."""

    url: HttpUrl
    """The address of the page read."""
    title: str = Field(min_length=1, max_length=300)
    """Its title, as it reads."""
    publisher: str = Field(min_length=1, max_length=200)
    """Who published it."""
    kind: Literal[
        "court_judgment",
        "court_report",
        "consumer_association",
        "complaint_platform",
        "platform_announcement",
        "news",
        "forum",
        "regulator",
    ]
    """What kind of source it is (`court_judgment`, `court_report`, `news`, `forum`, ...)."""
    published_on: date | None = None
    """When it was published."""


class PublishedOutcome(_Spec):
    """What the platform (or its timer) decided, as the source states it."""

    outcome_class: OutcomeClass = Field(alias="class")
    """The resolution class the platform decided (`full_refund_without_return`,
    `partial_refund_without_return`, `return_and_refund`, `rejected`, `refund_on_timeout`).
    """
    amount: Money | None = None
    """The refund amount, where the source states it."""
    decided_by: Literal["platform", "system"]
    """`platform` or `system` (a timer ran out)."""


class OutcomeRecord(_Spec):
    """One published dispute. ``case`` is checked separately (against the family's profile)."""

    id: Identifier
    """The record's id, unique across the repository."""
    platform: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    """The platform that decided (an unnamed Chinese platform is filed with `pinduoduo`)."""
    platform_named: bool = True
    """The source names the platform."""
    decided_on: date
    """When the platform decided (best estimate)."""
    date_precision: Literal["day", "month", "year"] = "day"
    """How precise `decided_on` is (`day`, `month`, `year`)."""
    as_of: AwareDatetime
    """When to predict, just after the last event before the platform decided."""
    source: OutcomeSource
    """Where the dispute was published."""
    grade: Literal["A", "B", "C"]
    """`A` official (court, government, platform), `B` mainstream news or law firm, `C` forum
    or blog.
    """
    paraphrase: str = Field(min_length=20, max_length=1200)
    """The dispute in our own words."""
    outcome: PublishedOutcome
    """What the platform decided."""
    assumptions: tuple[str, ...] = ()
    """Details the source does not give that the case fills in."""
    holdout: bool = False
    """Set aside before any rule was tuned; never tune on it."""
    case: dict[str, Any]
    """The case as it stood before the platform decided."""


class OutcomesFile(_Spec):
    outcomes: tuple[OutcomeRecord, ...] = Field(min_length=1)
    """The records of this file."""


@dataclass(frozen=True, eq=False)
class LoadedOutcome:
    """A published outcome with its validated case and where it was read."""

    record: OutcomeRecord
    case: Case
    path: str
    line: int | None

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def expected(self) -> OutcomeClass:
        return self.record.outcome.outcome_class


def read_outcome_files(
    files: Iterable[Path], *, profile: Any | None = None, root: Path | None = None
) -> tuple[LoadedOutcome, ...]:
    """Read outcome files; with a platform ``profile`` each case is checked against its flow.
    Locations are shown relative to ``root`` (the pack folder) when given.

    Raises :class:`RulePackError` with the file, line and field of the first bad record.
    """
    loaded: list[LoadedOutcome] = []
    seen: dict[str, str] = {}
    context = {"profile": profile} if profile is not None else None
    for file in files:
        display = str(file.relative_to(root)) if root is not None else None
        doc = load_yaml_file(file, display)
        parsed = _validate_file(doc)
        for index, record in enumerate(parsed.outcomes):
            line = doc.line_of(("outcomes", index))
            if record.id in seen:
                raise RulePackError(
                    f"outcome id {record.id!r} is used twice (first in {seen[record.id]})",
                    path=doc.path,
                    line=line,
                    field="id",
                )
            seen[record.id] = doc.path
            case = _case_of(record, doc, index, context)
            _check_record(record, case, doc, index)
            loaded.append(LoadedOutcome(record=record, case=case, path=doc.path, line=line))
    return tuple(loaded)


def _validate_file(doc: YamlDocument) -> OutcomesFile:
    try:
        return OutcomesFile.model_validate(doc.data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        field = ".".join(str(part) for part in loc[2:]) or None
        raise RulePackError(
            f"invalid outcome record: {error['msg']}",
            path=doc.path,
            line=doc.line_of(loc) or doc.line_of(loc[:2]),
            field=field,
        ) from exc


def _case_of(
    record: OutcomeRecord, doc: YamlDocument, index: int, context: dict[str, Any] | None
) -> Case:
    try:
        return Case.model_validate(record.case, context=context)
    except CaseError as exc:
        raise RulePackError(
            f"outcome {record.id!r}: invalid case: {exc}",
            path=doc.path,
            line=doc.line_of(("outcomes", index, "case")),
            field=f"case.{exc.field}" if exc.field else "case",
        ) from exc
    except ValidationError as exc:  # pragma: no cover - Case wraps its own errors
        raise RulePackError(str(case_error_from(exc)), path=doc.path) from exc


def _check_record(record: OutcomeRecord, case: Case, doc: YamlDocument, index: int) -> None:
    def fail(message: str, field: str) -> None:
        raise RulePackError(
            f"outcome {record.id!r}: {message}",
            path=doc.path,
            line=doc.line_of(("outcomes", index, *field.split("."))),
            field=field,
        )

    if record.platform_named and case.platform != record.platform:
        fail(f"the case is on {case.platform!r}, the record on {record.platform!r}", "platform")
    if record.as_of < case.request.requested_at:
        fail("as_of is before the request: there is nothing to predict yet", "as_of")
    if case.timeline and record.as_of < case.timeline[-1].at:
        fail("as_of is before the case's last event", "as_of")
    amount = record.outcome.amount
    if amount is not None and float(amount) > float(case.order.paid_amount):
        fail("the refund is above the paid amount", "outcome.amount")
    if record.outcome.outcome_class is OutcomeClass.REFUND_ON_TIMEOUT and (
        record.outcome.decided_by != "system"
    ):
        fail("a refund on timeout is decided by the system", "outcome.decided_by")
