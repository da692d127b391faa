"""Batch prediction of a JSON Lines file on every core: ``refundrules batch``.

Each input line is a case, or ``{"case": ..., "as_of": ...}``. Lines are cut into partitions;
:func:`predict_partition` predicts one partition with an :class:`Engine` built once per
process, so the same function serves a process pool here and a Dask, Spark or Ray worker
elsewhere. Results are written in input order: one ``{"line", "case_id", "prediction"}`` per
good line, one ``{"line", "error", "field"}`` per bad line to the error file, both first to
``.partial`` files that are renamed when the run completes. After every partition a
checkpoint records how far the run got and the size of both files, so ``resume=True``
continues a killed run exactly where the last checkpoint left it. With ``records=PATH`` each
prediction's decision record goes to a third file, written and checkpointed the same way.
"""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, Any, NamedTuple

from refundrules._records import DecisionRecord
from refundrules._service import Engine
from refundrules.exceptions import CaseError, RefundRulesError

__all__ = ["BatchSummary", "LineResult", "predict_lines", "predict_partition", "run_batch"]

PARTITION = 200


@dataclass(frozen=True)
class BatchSummary:
    """How a batch run ended: ``lines`` read = ``predictions`` + ``errors``; ``resumed`` lines
    were done by an earlier run."""

    lines: int
    predictions: int
    errors: int
    resumed: int
    output: Path
    error_file: Path

    @property
    def reconciles(self) -> bool:
        return self.lines == self.predictions + self.errors


@cache
def _engine(packs: tuple[str, ...] | None) -> Engine:
    """One engine per process and pack selection (worker processes build theirs once)."""
    return Engine(list(packs) if packs is not None else None)


def _parse_time(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CaseError([(field, f"not an ISO 8601 time: {text!r}")]) from None
    if moment.tzinfo is None:
        raise CaseError([(field, "a timezone is required")])
    return moment


def _one(
    engine: Engine, pack: str | None, text: str, as_of: str | None, records: bool
) -> tuple[dict[str, Any], str | None]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise CaseError([("", "a line must hold a JSON object (a case)")])
    moment = as_of
    if "case" in data and isinstance(data["case"], dict):
        if isinstance(data.get("as_of"), str):
            moment = data["as_of"]
        data = data["case"]
    when = _parse_time(moment, "as_of") if moment is not None else None
    case, prediction = engine.predict_case(data, when, pack=pack)
    record = DecisionRecord.from_prediction(prediction, case).model_dump_json() if records else None
    return {"case_id": prediction.case_id, "prediction": prediction.model_dump(mode="json")}, record


class LineResult(NamedTuple):
    """One predicted line: its number, whether it predicted, the output (or error) record as
    JSON, and the decision record as JSON when asked for."""

    line: int
    ok: bool
    text: str
    record: str | None


def predict_lines(
    lines: Iterable[tuple[int, str]],
    *,
    packs: tuple[str, ...] | None = None,
    pack: str | None = None,
    as_of: str | None = None,
    records: bool = False,
) -> list[LineResult]:
    """:func:`predict_partition`, with each good line's decision record if ``records``."""
    engine = _engine(packs)
    results: list[LineResult] = []
    for number, text in lines:
        decision: str | None = None
        try:
            output, decision = _one(engine, pack, text, as_of, records)
            record = {"line": number, **output}
            ok = True
        except json.JSONDecodeError as exc:
            record = {"line": number, "error": f"malformed JSON: {exc.msg}", "field": None}
            ok = False
        except CaseError as exc:
            record = {"line": number, "error": str(exc), "field": exc.field}
            ok = False
        except RefundRulesError as exc:
            record = {"line": number, "error": str(exc), "field": None}
            ok = False
        except (RecursionError, ValueError, OverflowError, TypeError) as exc:
            record = {"line": number, "error": f"{type(exc).__name__}: {exc}", "field": None}
            ok = False
        results.append(LineResult(number, ok, json.dumps(record, ensure_ascii=False), decision))
    return results


def predict_partition(
    lines: Iterable[tuple[int, str]],
    *,
    packs: tuple[str, ...] | None = None,
    pack: str | None = None,
    as_of: str | None = None,
) -> list[tuple[int, bool, str]]:
    """Predict numbered lines; each result is ``(line, ok, JSON record)``, in input order.

    The engine is built once per process (``packs``: names or folders to load, default every
    bundled pack); a bad line gives an error record, never an exception.
    """
    return [
        (result.line, result.ok, result.text)
        for result in predict_lines(lines, packs=packs, pack=pack, as_of=as_of)
    ]


def _partitions(stream: IO[str], skip: int, size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for number, raw in enumerate(stream, start=1):
        if number <= skip:
            continue
        chunk.append((number, raw.rstrip("\r\n")))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _progress(enabled: bool, initial: int) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return None
    return tqdm(initial=initial, unit="case", file=sys.stderr, dynamic_ncols=True)


class _Stop(Exception):
    """Raised by the test hook to stop a run as a kill would (after a checkpoint)."""


def run_batch(
    source: str | Path,
    output: str | Path,
    *,
    error_file: str | Path | None = None,
    packs: tuple[str, ...] | None = None,
    pack: str | None = None,
    as_of: datetime | None = None,
    jobs: int | None = None,
    resume: bool = False,
    progress: bool = False,
    records: str | Path | None = None,
    partition: int = PARTITION,
    _stop_after: int | None = None,
) -> BatchSummary:
    """Predict every line of ``source`` (a path, or ``"-"`` for stdin) into ``output``; with
    ``records``, each prediction's :class:`DecisionRecord` also goes to that file."""
    out_path = Path(output)
    err_path = (
        Path(error_file)
        if error_file is not None
        else out_path.with_name(out_path.stem + ".errors.jsonl")
    )
    out_tmp = out_path.with_name(out_path.name + ".partial")
    err_tmp = err_path.with_name(err_path.name + ".partial")
    rec_path = Path(records) if records is not None else None
    rec_tmp = rec_path.with_name(rec_path.name + ".partial") if rec_path is not None else None
    checkpoint = out_path.with_name(out_path.name + ".checkpoint")
    done = predictions = errors = 0
    if (
        resume
        and checkpoint.is_file()
        and out_tmp.is_file()
        and err_tmp.is_file()
        and (rec_tmp is None or rec_tmp.is_file())
    ):
        state = json.loads(checkpoint.read_text(encoding="utf-8"))
        done, predictions, errors = state["lines"], state["predictions"], state["errors"]
        with out_tmp.open("r+b") as handle:
            handle.truncate(state["out_bytes"])
        with err_tmp.open("r+b") as handle:
            handle.truncate(state["err_bytes"])
        if rec_tmp is not None:
            with rec_tmp.open("r+b") as handle:
                handle.truncate(state.get("rec_bytes", 0))
        mode = "ab"
    else:
        mode = "wb"
    resumed = done
    as_of_text = as_of.isoformat() if as_of is not None else None
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    stream: IO[str]
    stream = (
        sys.stdin
        if str(source) == "-"
        else Path(source).open(encoding="utf-8", errors="surrogateescape", newline="\n")  # noqa: SIM115 - closed in the finally below
    )
    bar = _progress(progress, done)
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    written = 0
    try:
        with ExitStack() as files:
            out = files.enter_context(out_tmp.open(mode))
            err = files.enter_context(err_tmp.open(mode))
            rec = files.enter_context(rec_tmp.open(mode)) if rec_tmp is not None else None

            def write(results: list[LineResult]) -> None:
                nonlocal done, predictions, errors, written
                for number, ok, text, decision in results:
                    (out if ok else err).write(text.encode("utf-8", "surrogateescape") + b"\n")
                    if rec is not None and decision is not None:
                        rec.write(decision.encode("utf-8", "surrogateescape") + b"\n")
                    predictions += ok
                    errors += not ok
                    done = number
                for handle in (out, err, rec):
                    if handle is not None:
                        handle.flush()
                        os.fsync(handle.fileno())
                state = {
                    "lines": done,
                    "predictions": predictions,
                    "errors": errors,
                    "out_bytes": out.tell(),
                    "err_bytes": err.tell(),
                    "rec_bytes": rec.tell() if rec is not None else 0,
                }
                partial = checkpoint.with_name(checkpoint.name + ".tmp")
                partial.write_text(json.dumps(state), encoding="utf-8")
                os.replace(partial, checkpoint)
                if bar is not None:
                    bar.update(len(results))
                written += 1
                if _stop_after is not None and written >= _stop_after:
                    raise _Stop

            chunks = _partitions(stream, done, partition)
            options: dict[str, Any] = {
                "packs": packs,
                "pack": pack,
                "as_of": as_of_text,
                "records": rec_tmp is not None,
            }
            if pool is None:
                for chunk in chunks:
                    write(predict_lines(chunk, **options))
            else:
                pending: deque[Future[list[LineResult]]] = deque()
                for chunk in chunks:
                    pending.append(pool.submit(predict_lines, chunk, **options))
                    if len(pending) >= workers * 3:
                        write(pending.popleft().result())
                while pending:
                    write(pending.popleft().result())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if bar is not None:
            bar.close()
        if stream is not sys.stdin:
            stream.close()
    os.replace(out_tmp, out_path)
    os.replace(err_tmp, err_path)
    if rec_path is not None and rec_tmp is not None:
        os.replace(rec_tmp, rec_path)
    checkpoint.unlink(missing_ok=True)
    return BatchSummary(done, predictions, errors, resumed, out_path, err_path)
