"""Decision records: an audit line for every prediction, and the file they are kept in.

A :class:`DecisionRecord` says what was decided, by what and from what: the case itself (its
canonical JSON) and a SHA-256 of it, the pack version (id, version, content hash) that decided,
the library version, the as-of time, the outcome and the rule ids. Records carry the case
rather than point to it: a pointer (a file and a line, a database key) stops resolving when the
source moves or is edited, and then neither an auditor nor ``refundrules replay`` could
reproduce the decision; with the case inside, the record alone is enough, and the hash shows
it was not altered since. The price is size (a case is a few hundred bytes to a few KB) and
that a record file holds the same personal data as the cases it came from.

>>> from datetime import datetime
>>> import refundrules
>>> pack = refundrules.load_rule_pack("pinduoduo")
>>> case = refundrules.load_case("examples/06_platform_reviewing_low_value.yaml")  # doctest: +SKIP
>>> prediction = pack.predict(case, datetime.fromisoformat("2025-04-17T15:00:00+08:00"))  # doctest: +SKIP
>>> refundrules.DecisionRecord.from_prediction(prediction, case).outcome.resolution  # doctest: +SKIP
<Resolution.REFUND_WITHOUT_RETURN: 'refund_without_return'>
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from refundrules._case import Case
from refundrules._prediction import PackRef, Prediction
from refundrules._version import __version__
from refundrules._vocabulary import Resolution, Stage
from refundrules.exceptions import CaseError, RefundRulesError

__all__ = [
    "MAX_RECORDS_FILE_BYTES",
    "MAX_RECORD_BYTES",
    "MAX_RECORD_DEPTH",
    "RECORD_FORMAT",
    "DecisionLog",
    "DecisionRecord",
    "RecordedOutcome",
    "append_record",
    "canonical_case",
    "case_hash",
    "read_decision_records",
]

RECORD_FORMAT: Final = "refundrules.decision/1"
# Bounds on reading a records file: a record (a case and its outcome) is a few KB, so a line
# past a megabyte, or nesting deeper than any case has, is not a record; the file bound keeps
# a wrong path (a device, a disk image) from filling memory.
MAX_RECORD_BYTES: Final = 1_000_000
MAX_RECORD_DEPTH: Final = 100
MAX_RECORDS_FILE_BYTES: Final = 200_000_000


def canonical_case(case: Case) -> dict[str, Any]:
    """The case as JSON data without defaulted fields: the form a record stores and hashes."""
    data: dict[str, Any] = case.model_dump(mode="json", exclude_defaults=True)
    return data


def case_hash(data: Mapping[str, Any]) -> str:
    """``sha256:`` + the hex digest of the case data as canonical JSON (sorted keys, no
    spaces, UTF-8)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordedOutcome(_Out):
    """What a prediction decided: stage, resolution, refund, the rule that set the resolution,
    the deciding rules (reasons with role ``decided``) and every rule that fired."""

    stage: Stage
    resolution: Resolution
    refund_amount: Decimal
    currency: str
    resolution_rule: str
    deciding_rules: tuple[str, ...]
    fired_rules: tuple[str, ...]

    @classmethod
    def of(cls, prediction: Prediction) -> RecordedOutcome:
        return cls(
            stage=prediction.stage,
            resolution=prediction.resolution.outcome,
            refund_amount=prediction.resolution.refund_amount,
            currency=prediction.resolution.currency,
            resolution_rule=prediction.resolution.rule_id,
            deciding_rules=tuple(r.rule_id for r in prediction.reasons if r.role == "decided"),
            fired_rules=prediction.fired_rules,
        )


class DecisionRecord(_Out):
    """The audit record of one prediction (one JSON line in a records file).

    ``input_hash`` is :func:`case_hash` of ``case``; a record whose case does not match its
    hash does not validate. ``as_of`` is the moment the case was predicted at (the
    prediction's own, so a replay sees the case exactly as it stood), ``recorded_at`` when the
    record was made.
    """

    format: Literal["refundrules.decision/1"] = RECORD_FORMAT
    case_id: str
    input_hash: str
    case: dict[str, Any]
    as_of: datetime
    recorded_at: datetime
    library_version: str
    pack: PackRef
    outcome: RecordedOutcome

    @model_validator(mode="after")
    def _hash_matches(self) -> DecisionRecord:
        actual = case_hash(self.case)
        if actual != self.input_hash:
            raise ValueError(
                f"input_hash {self.input_hash} does not match the recorded case ({actual}): "
                "the case was changed after it was recorded"
            )
        return self

    @classmethod
    def from_prediction(
        cls, prediction: Prediction, case: Case, *, recorded_at: datetime | None = None
    ) -> DecisionRecord:
        """The record of ``prediction``, made from ``case``."""
        data = canonical_case(case)
        return cls(
            case_id=prediction.case_id,
            input_hash=case_hash(data),
            case=data,
            as_of=prediction.as_of,
            recorded_at=recorded_at or datetime.now(UTC),
            library_version=__version__,
            pack=prediction.pack,
            outcome=RecordedOutcome.of(prediction),
        )


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _depth_within(data: Any, limit: int) -> bool:
    """Whether ``data`` (parsed JSON) nests at most ``limit`` levels deep (walked iteratively)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)
    return True


def _record_lines(source: Path) -> Iterator[tuple[int, bytes]]:
    """The lines of a records file with their numbers, read under the documented bounds."""
    try:
        # Non-blocking, so a FIFO with no writer is refused at once instead of hanging.
        descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CaseError(
            [("", f"cannot read the records file: {exc.strerror or exc}")], source=str(source)
        ) from exc
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise CaseError(
                [("", "cannot read the records file: not a regular file")], source=str(source)
            )
        total = 0
        for number, line in enumerate(iter(lambda: handle.readline(MAX_RECORD_BYTES + 1), b""), 1):
            total += len(line)
            if total > MAX_RECORDS_FILE_BYTES:
                raise CaseError(
                    [("", f"the records file is larger than {MAX_RECORDS_FILE_BYTES:,} bytes")],
                    source=f"{source}:{number}",
                )
            if len(line.rstrip(b"\r\n")) > MAX_RECORD_BYTES:
                raise CaseError(
                    [("", f"a record is longer than {MAX_RECORD_BYTES:,} bytes")],
                    source=f"{source}:{number}",
                )
            yield number, line


def _parsed(line: bytes, where: str) -> Any:
    try:
        data = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CaseError([("", "not UTF-8 text")], source=where) from exc
    except json.JSONDecodeError as exc:
        raise CaseError([("", f"not valid JSON: {exc.msg}")], source=where) from exc
    except (ValueError, RecursionError) as exc:  # an integer past Python's digit limit; depth
        raise CaseError([("", f"not valid JSON: {str(exc)[:200]}")], source=where) from exc
    if not _depth_within(data, MAX_RECORD_DEPTH):
        raise CaseError(
            [("", f"the record is nested more than {MAX_RECORD_DEPTH} levels deep")],
            source=where,
        )
    return data


def read_decision_records(path: str | Path) -> list[tuple[int, DecisionRecord]]:
    """The records of a JSON Lines file with their line numbers (blank lines skipped).

    The file must be a regular file of at most :data:`MAX_RECORDS_FILE_BYTES`, each record at
    most :data:`MAX_RECORD_BYTES` long and nested at most :data:`MAX_RECORD_DEPTH` deep.
    Raises :class:`CaseError` naming the file, line and field of the first bad record.
    """
    source = Path(path)
    records: list[tuple[int, DecisionRecord]] = []
    for number, line in _record_lines(source):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        data = _parsed(line, where)
        try:
            records.append((number, DecisionRecord.model_validate(data)))
        except ValidationError as exc:
            problems = [
                (_field(error["loc"]), error["msg"].removeprefix("Value error, "))
                for error in exc.errors(include_url=False)
            ]
            raise CaseError(problems, source=where) from exc
    return records


class DecisionLog:
    """Appends decision records to a JSON Lines file: one line each, flushed as written, safe
    to share between threads. ``with DecisionLog(path) as log: log.write(record)``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def write(self, record: DecisionRecord) -> None:
        line = record.model_dump_json() + "\n"
        with self._lock:
            if self._file is None:
                raise RefundRulesError(f"the decision log {self.path} was closed")
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DecisionLog {self.path}>"


def append_record(path: str | Path, prediction: Prediction, case: Case) -> None:
    """Append the record of one prediction to a records file (what ``predict --records`` does)."""
    with DecisionLog(path) as log:
        log.write(DecisionRecord.from_prediction(prediction, case))
