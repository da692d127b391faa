"""Decision records: what a record holds, how predict/batch/the engine write them, and replay
against the bundled pack and a modified copy of it."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules import DecisionLog, DecisionRecord, read_decision_records
from refundrules._batch import _Stop, run_batch
from refundrules._cli import main
from refundrules._records import canonical_case, case_hash
from refundrules.exceptions import CaseError

from .conftest import PDD_PACK, ROOT

EXAMPLES = ROOT / "examples"
AS_OF = json.loads((EXAMPLES / "as_of.json").read_text(encoding="utf-8"))
LOW_VALUE = "06_platform_reviewing_low_value.yaml"


def lower_the_low_value_threshold(target: Path) -> Path:
    """A copy of the bundled pack whose low-value threshold (50 CNY) is 10: the 19.90 CNY
    example no longer gets a refund without return."""
    shutil.copytree(PDD_PACK, target)
    params = target / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    old = "low_value_threshold:\n    value: 50\n"
    assert text.count(old) == 1
    params.write_text(text.replace(old, "low_value_threshold:\n    value: 10\n"), encoding="utf-8")
    return target


def example(name: str) -> tuple[refundrules.Case, datetime]:
    return refundrules.load_case(EXAMPLES / name), datetime.fromisoformat(AS_OF[name])


def test_a_record_names_the_input_the_pack_and_the_outcome(pack: refundrules.RulePack) -> None:
    case, as_of = example(LOW_VALUE)
    prediction = pack.predict(case, as_of)
    record = DecisionRecord.from_prediction(prediction, case)
    assert record.case_id == case.case_id
    assert record.input_hash == case_hash(canonical_case(case))
    assert record.input_hash.startswith("sha256:") and len(record.input_hash) == 71
    assert record.pack == prediction.pack and record.pack.content_hash
    assert record.library_version == refundrules.__version__
    assert record.as_of == prediction.as_of == as_of
    assert record.outcome.resolution == prediction.resolution.outcome
    assert record.outcome.stage == prediction.stage
    assert record.outcome.refund_amount == prediction.resolution.refund_amount
    assert record.outcome.resolution_rule == "ruling_low_value_refund_without_return"
    assert "ruling_low_value_refund_without_return" in record.outcome.deciding_rules
    assert record.outcome.fired_rules == prediction.fired_rules
    # the recorded case is the case: it validates back to the same model
    assert refundrules.Case.model_validate(record.case) == case
    assert DecisionRecord.model_validate_json(record.model_dump_json()) == record


def test_the_input_hash_does_not_depend_on_how_the_case_was_written(tmp_path: Path) -> None:
    case, _ = example(LOW_VALUE)
    as_json = tmp_path / "case.json"
    # the same case as JSON with every default written out, keys in another order
    data = case.model_dump(mode="json")
    as_json.write_text(json.dumps(dict(reversed(list(data.items())))), encoding="utf-8")
    again = refundrules.load_case(as_json)
    assert case_hash(canonical_case(again)) == case_hash(canonical_case(case))
    changed = refundrules.load_case({**data, "case_id": "another"})
    assert case_hash(canonical_case(changed)) != case_hash(canonical_case(case))


def test_a_record_whose_case_was_edited_is_refused_with_file_and_line(
    pack: refundrules.RulePack, tmp_path: Path
) -> None:
    case, as_of = example(LOW_VALUE)
    record = json.loads(
        DecisionRecord.from_prediction(pack.predict(case, as_of), case).model_dump_json()
    )
    path = tmp_path / "records.jsonl"
    tampered = json.loads(json.dumps(record))
    tampered["case"]["request"]["amount"] = "9.90"
    path.write_text(json.dumps(record) + "\n\n" + json.dumps(tampered) + "\n", encoding="utf-8")
    with pytest.raises(CaseError) as caught:
        read_decision_records(path)
    assert caught.value.source == f"{path}:3"
    assert "does not match the recorded case" in str(caught.value)
    path.write_text(json.dumps(record) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(CaseError, match="not valid JSON") as caught:
        read_decision_records(path)
    assert caught.value.source == f"{path}:2"


def test_predict_appends_a_record_per_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "records.jsonl"
    for name in (LOW_VALUE, "01_awaiting_seller.yaml"):
        assert main(["predict", str(EXAMPLES / name), "--records", str(records)]) == 0
    capsys.readouterr()
    found = read_decision_records(records)
    assert [line for line, _ in found] == [1, 2]
    assert [record.case_id for _, record in found] == [
        refundrules.load_case(EXAMPLES / name).case_id
        for name in (LOW_VALUE, "01_awaiting_seller.yaml")
    ]


def test_an_engine_with_a_log_records_every_prediction(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    case, as_of = example(LOW_VALUE)
    with DecisionLog(path) as log, refundrules.Engine(["pinduoduo"], records=log) as engine:
        first = engine.predict(case, as_of)
        second = engine.predict(case.model_dump(mode="json"), as_of)
    assert first == second
    (_, one), (_, two) = read_decision_records(path)
    assert one.input_hash == two.input_hash
    assert one.outcome == two.outcome == refundrules.RecordedOutcome.of(first)


def _without_time(path: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row.pop("recorded_at")
    return rows


def batch_cases(path: Path) -> Path:
    lines = []
    for number, name in enumerate(sorted(AS_OF) * 5):
        case = refundrules.load_case(EXAMPLES / name).model_dump(mode="json")
        case["case_id"] = f"{case['case_id']}-{number}"
        lines.append(json.dumps({"case": case, "as_of": AS_OF[name]}))
    lines.insert(7, "{broken")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_writes_one_record_per_prediction_and_resumes_them(tmp_path: Path) -> None:
    cases = batch_cases(tmp_path / "cases.jsonl")
    clean = run_batch(
        cases,
        tmp_path / "clean.jsonl",
        jobs=1,
        partition=10,
        records=tmp_path / "clean.records.jsonl",
    )
    assert clean.reconciles and clean.errors == 1
    records = read_decision_records(tmp_path / "clean.records.jsonl")
    predictions = [json.loads(line) for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert len(records) == clean.predictions == len(predictions)
    assert [r.case_id for _, r in records] == [p["case_id"] for p in predictions]
    for (_, record), output in zip(records, predictions, strict=True):
        assert record.outcome.resolution.value == output["prediction"]["resolution"]["outcome"]
    out = tmp_path / "resumed.jsonl"
    rec = tmp_path / "resumed.records.jsonl"
    with pytest.raises(_Stop):
        run_batch(cases, out, jobs=1, partition=10, records=rec, _stop_after=2)
    assert not rec.exists()
    with (tmp_path / "resumed.records.jsonl.partial").open("a", encoding="utf-8") as handle:
        handle.write('{"format": "refundrules.decision/1", "case_id": "hal')
    run_batch(cases, out, jobs=1, partition=10, records=rec, resume=True)
    assert _without_time(rec) == _without_time(tmp_path / "clean.records.jsonl")


def record_examples(path: Path, pack: refundrules.RulePack) -> None:
    with DecisionLog(path) as log:
        for name in sorted(AS_OF):
            case, as_of = example(name)
            log.write(DecisionRecord.from_prediction(pack.predict(case, as_of), case))


def test_replay_with_the_same_pack_changes_nothing(
    pack: refundrules.RulePack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "records.jsonl"
    record_examples(records, pack)
    assert main(["replay", str(records), "--pack", "pinduoduo"]) == 0
    out = capsys.readouterr().out
    assert f"replayed {len(AS_OF)} decision records with pack pinduoduo: 0 changed" in out
    assert "no decision changed" in out


def test_replay_with_a_modified_pack_reports_each_changed_decision(
    pack: refundrules.RulePack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "records.jsonl"
    record_examples(records, pack)
    new = lower_the_low_value_threshold(tmp_path / "pinduoduo")
    assert main(["replay", str(records), "--pack", str(new), "--format", "json"]) == 1
    report = refundrules.ReplayReport.model_validate_json(capsys.readouterr().out)
    assert report.records == len(AS_OF) == report.changed + report.unchanged
    assert report.changed >= 1 and report.errors == 0
    low = [d for d in report.decisions if d.line == sorted(AS_OF).index(LOW_VALUE) + 1]
    assert len(low) == 1
    assert low[0].old.resolution.value == "refund_without_return"
    assert low[0].new is not None and low[0].new.resolution.value != "refund_without_return"
    assert low[0].transition == f"refund_without_return->{low[0].new.resolution.value}"
    assert low[0].new_pack is not None
    assert low[0].new_pack.content_hash != low[0].old_pack.content_hash
    assert sum(item.count for item in report.transitions) == report.changed
    # each unchanged record predicts the same under the new pack
    changed_lines = {d.line for d in report.decisions}
    modified = refundrules.load_rule_pack(new)
    for line, record in read_decision_records(records):
        if line not in changed_lines:
            again = modified.predict(modified.load_case(record.case), record.as_of)
            assert refundrules.RecordedOutcome.of(again).resolution == record.outcome.resolution
    assert main(["replay", str(records), "--pack", str(new)]) == 1
    text = capsys.readouterr().out
    assert f"refund_without_return->{low[0].new.resolution.value}" in text
    assert f"line {low[0].line} {low[0].case_id}" in text


def test_replay_of_a_case_the_new_pack_refuses_is_an_error_transition(
    pack: refundrules.RulePack, tmp_path: Path
) -> None:
    records = tmp_path / "records.jsonl"
    record_examples(records, pack)
    other = refundrules.load_rule_pack(ROOT / "tests" / "packs" / "fictional_marketplace")
    report = refundrules.replay_decision_records(read_decision_records(records), other)
    assert report.errors == report.changed == report.records
    assert {item.label for item in report.transitions} == {"error"}
    assert all(d.new is None and d.error for d in report.decisions)


def test_the_service_records_what_it_answers(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from refundrules._server import create_app

    path = tmp_path / "records.jsonl"
    case, as_of = example(LOW_VALUE)
    body = {"case": case.model_dump(mode="json"), "as_of": as_of.isoformat()}
    with DecisionLog(path) as log, refundrules.Engine(["pinduoduo"], records=log) as engine:
        client = TestClient(create_app(engine))
        answer = client.post("/predict", json=body)
        refused = client.post("/predict", json={**body, "case": {"platform": "pinduoduo"}})
    assert answer.status_code == 200 and refused.status_code == 422
    ((_, record),) = read_decision_records(path)  # the refused case leaves no record
    assert record.case_id == case.case_id
    assert record.outcome.resolution.value == answer.json()["resolution"]["outcome"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"case_id": ' + "9" * 5000 + "}", "not valid JSON: Exceeds the limit"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('{"case": ' + "[" * 150 + "]" * 150 + "}", "nested more than 100 levels"),
    ],
)
def test_a_hostile_record_line_is_a_case_error_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text("\n" + line + "\n", encoding="utf-8")
    with pytest.raises(CaseError, match=message) as caught:
        read_decision_records(path)
    assert caught.value.source == f"{path}:2"


def test_records_files_are_read_within_documented_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from refundrules import _records

    path = tmp_path / "records.jsonl"
    path.write_bytes(b"\n" + b" " * (_records.MAX_RECORD_BYTES + 1) + b"\n")
    with pytest.raises(CaseError, match="a record is longer than 1,000,000 bytes") as caught:
        read_decision_records(path)
    assert caught.value.source == f"{path}:2"
    path.write_bytes(b"\xff\xfe\n")
    with pytest.raises(CaseError, match="not UTF-8") as caught:
        read_decision_records(path)
    assert caught.value.source == f"{path}:1"
    monkeypatch.setattr(_records, "MAX_RECORDS_FILE_BYTES", 10)
    path.write_bytes(b"\n" * 5 + b"  \n" * 5)
    with pytest.raises(CaseError, match="larger than 10 bytes") as caught:
        read_decision_records(path)
    assert caught.value.source == f"{path}:7"  # 5 + 3 + 3 bytes: line 7 passes 10
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)  # no writer: refused at once instead of waiting
    with pytest.raises(CaseError, match="not a regular file"):
        read_decision_records(fifo)
    with pytest.raises(CaseError, match="No such file"):
        read_decision_records(tmp_path / "missing.jsonl")


def test_replay_escapes_control_characters_in_a_recorded_case_id(
    pack: refundrules.RulePack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case, as_of = example(LOW_VALUE)
    record = json.loads(
        DecisionRecord.from_prediction(pack.predict(case, as_of), case).model_dump_json()
    )
    record["case_id"] = "evil\x1b]0;owned\x07\x1b[2J\nforged line"  # not covered by the hash
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(record) + "\n", encoding="utf-8")
    new = lower_the_low_value_threshold(tmp_path / "pinduoduo")
    assert main(["replay", str(records), "--pack", str(new)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "line 1 evil\\x1b]0;owned\\x07\\x1b[2J\\nforged line (as of" in out
