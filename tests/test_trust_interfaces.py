"""The trust verdicts where users meet them: a flag per code in the API's suggestions (the same
shape evaluated or not), the command line's suggest output, batch summaries, kept summaries."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codebook.loader import load_codebook
from eval.agreement_common import NO_CODE
from eval.report_model import CodeRow, Interval, TrustVerdict
from eval.trust import HEADLINES, TRUST_KINDS
from service.api.schemas_batch import BatchOut
from service.cli.main import app
from service.settings import get_settings
from service.store.batches import BatchRow
from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    add_exemplars,
    checked,
    create_project,
    running_service,
    service_settings,
)

CODABLE = {code["id"] for code in SMALL_CODEBOOK["codes"] if code.get("codable", True)}
SENTENCES = {"sentences": ["Someone could poison the data.", "We retrain every week."]}


def _keys(value: Any) -> Any:
    """A JSON value's shape: its objects' keys all the way down (a list: its first item's)."""
    if isinstance(value, dict):
        return {key: _keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_keys(item) for item in value[:1]]
    return None


def _suggest(client: Any) -> dict[str, Any]:
    answer: dict[str, Any] = checked(client.post("/v1/projects/p1/suggestions", json=SENTENCES))
    for unit in answer["units"]:
        for code in unit["suggestions"]:  # the flag beside each code is the response's verdict
            assert code["trust"] == answer["trust"][code["code"]]["kind"]
    return answer


def _evaluable_project(client: Any) -> None:
    """Project p1 with five copies of the coded rows over four transcripts: each code has 10
    human-coded units, enough for a verdict other than too few examples."""
    create_project(client)
    rows = [
        {**row, "transcript_id": f"t{i % 4}", "text": f"{row['text']} ({i})"}
        for i, row in enumerate(CODED_ROWS * 5)
    ]
    add_exemplars(client, "p1", rows)


def test_suggestions_flag_each_codes_verdict_in_one_shape(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        _evaluable_project(client)
        before = _suggest(client)
        assert set(before["trust"]) == CODABLE
        for verdict in before["trust"].values():
            assert verdict["kind"] == "not_evaluated"
            assert verdict["says"].startswith("not evaluated: no evaluation of method 'linear'")
            assert verdict["more_needed"] is None
        checked(client.post("/v1/projects/p1/evaluations", json={"methods": ["knn"], "folds": 2}))
        other = _suggest(client)  # knn's verdicts say nothing about linear's suggestions
        assert {verdict["kind"] for verdict in other["trust"].values()} == {"not_evaluated"}
        report = checked(client.post("/v1/projects/p1/evaluations", json={"folds": 2}))
        after = _suggest(client)
    (linear,) = [result for result in report["methods"] if result["method"] == "linear"]
    # the report's "(no code)" row is scored, but suggestions flag codes only
    by_code = {row["code"]: row["trust"] for row in linear["per_code"] if row["code"] != NO_CODE}
    assert after["trust"] == by_code
    assert {verdict["kind"] for verdict in after["trust"].values()} != {"not_evaluated"}
    assert _keys(before) == _keys(after)


def test_a_batch_summary_counts_the_codes_of_each_verdict(tmp_path: Path) -> None:
    """What the service keeps for a batch gives each code's verdict and the counts."""
    row = _batch_row({"trust": {"T.1": "suggest_only", "T.2": "suggest_only", "P": "code_by_hand"},
                      "trust_counts": {"suggest_only": 2, "code_by_hand": 1}})  # fmt: skip
    summary = BatchOut.of(row).summary
    assert summary is not None
    assert summary.trust == {"T.1": "suggest_only", "T.2": "suggest_only", "P": "code_by_hand"}


@pytest.mark.parametrize(
    ("kept", "trust"),
    [
        (None, {"T.1": "not_evaluated", "P": "not_evaluated"}),
        ({"T.1": "review", "P": "too few examples"},
         {"T.1": "suggest_only", "P": "too_few_examples"}),
        ({"T.1": "trust", "P": "code by hand"}, {"T.1": "machine_alone", "P": "code_by_hand"}),
    ],
)  # fmt: skip
def test_a_summary_kept_before_the_verdicts_were_counted_still_answers(
    kept: dict[str, str] | None, trust: dict[str, str]
) -> None:
    summary = BatchOut.of(_batch_row({"trust": kept})).summary
    assert summary is not None
    assert summary.trust == trust
    assert list(summary.trust_counts) == list(TRUST_KINDS)
    assert sum(summary.trust_counts.values()) == len(trust)
    for kind in set(trust.values()):
        assert summary.trust_counts[kind] == list(trust.values()).count(kind)  # type: ignore[index]


def _batch_row(trust_fields: dict[str, Any]) -> BatchRow:
    summary = {
        "sentences": 3, "transcripts": 1, "no_code": 1, "abstained": 0, "skipped": 0,
        "code_counts": {"T.1": 2, "P": 1}, "model_id": "m", "method": "linear", "warnings": [],
        **trust_fields,
    }  # fmt: skip
    return BatchRow(
        id="ab" * 16, project_id="p1", state="done", request="{}", items_done=1, items_total=1,
        sentences_done=3, summary=json.dumps(summary), error=None, created_at="2026-01-01",
        finished_at="2026-01-01",
    )  # fmt: skip


# --- the command line ---------------------------------------------------------------------

runner = CliRunner()
TRANSCRIPT = "Interviewer: How do you train?\nP3: We retrain every week on customer data.\n"
CODED_CSV = textwrap.dedent(
    """\
    transcript_id,text,codes
    t1,Someone could poison our training data with fake samples.,A.1
    t1,We retrain the model every week.,E.1
    t2,Attackers could fool the classifier with crafted inputs.,A.2
    t2,We retrain whenever new data arrives.,E.1
    """
)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    (tmp_path / "interview.txt").write_text(TRANSCRIPT)
    (tmp_path / "coded.csv").write_text(CODED_CSV)
    (tmp_path / "report.json").write_text(_report_json(load_codebook("interview").name))
    yield tmp_path
    get_settings.cache_clear()


def _report_json(codebook_name: str) -> str:
    """A report of ``intercoder evaluate`` on the interview codebook: A.1 can be coded by the
    machine alone (its interval starts at 0.80, over the default 0.61), E.1 has 3 human units."""
    rows = [
        CodeRow(code="A.1", name="a", prevalence=0.2, n_true=20, n_predicted=20, kappa=0.9,
                kappa_ci=Interval(low=0.8, high=0.95, n_resamples=200)),
        CodeRow(code="E.1", name="e", prevalence=0.05, n_true=3, n_predicted=2, kappa=0.5,
                kappa_ci=None),
    ]  # fmt: skip
    method = {
        "method": "linear", "description": "", "kappa": 0.5, "kappa_ci": None,
        "per_code": [row.model_dump() for row in rows], "coverage_curve": [],
        "coverage_at_human_level": None, "seconds": 1.0,
    }  # fmt: skip
    return json.dumps({
        "created": "2026-01-01", "intercoder_version": "0", "codebook_name": codebook_name,
        "codebook_version": "1", "model_id": "m", "kind": "multi-label",
        "dataset": {"name": "d", "sha256": "0", "n_units": 40, "n_transcripts": 4, "n_groups": 4,
                    "subsample": None},
        "folds": {"k": 2, "grouping": "group", "seed": 0, "leave_one_group_out": False},
        "package_versions": {}, "human_agreement": None, "human_reference": None,
        "methods": [method], "learning_curve": None, "notes": [],
    })  # fmt: skip


def _suggest_cli(files: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        ["suggest", str(files / "interview.txt"), "--codebook", "interview", "--exemplars",
         str(files / "coded.csv"), "--quiet", *extra],
    )  # fmt: skip


def test_the_command_line_flags_each_code_from_an_evaluation_report(files: Path) -> None:
    result = _suggest_cli(files, "--format", "json", "--evaluation", str(files / "report.json"))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = {"A.1": "machine_alone", "E.1": "too_few_examples"}
    for row in rows:
        codes = [code["code"] for code in row["suggestion"]["codes"]]
        assert row["trust"] == {code: expected.get(code, "not_evaluated") for code in codes}
    table = _suggest_cli(files, "--evaluation", str(files / "report.json"))
    assert table.exit_code == 0, table.output
    assert "A.1: machine can code this alone at >= human level" in table.stdout
    assert "E.1: too few examples: code 7 more" in table.stdout
    assert "L.3: not evaluated" in table.stdout
    csv = _suggest_cli(files, "--format", "csv", "--evaluation", str(files / "report.json"))
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.splitlines()[0].endswith(",evidence,trust")


def test_without_a_report_every_code_is_not_evaluated_in_the_same_shape(files: Path) -> None:
    plain = _suggest_cli(files, "--format", "json")
    evaluated = _suggest_cli(files, "--format", "json", "--evaluation", str(files / "report.json"))
    assert plain.exit_code == evaluated.exit_code == 0, plain.output + evaluated.output
    rows, evaluated_rows = json.loads(plain.stdout), json.loads(evaluated.stdout)
    assert [set(row) for row in rows] == [set(row) for row in evaluated_rows]
    assert {kind for row in rows for kind in row["trust"].values()} == {"not_evaluated"}
    table = _suggest_cli(files)
    assert "trust: not evaluated (give --evaluation" in table.stdout


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "is not an evaluation report"),
        ('{"methods": []}', "is not an evaluation report"),
        (None, "evaluates codebook 'Another', not"),
    ],
)
def test_a_report_that_is_not_one_is_refused_before_the_model_loads(
    files: Path, content: str | None, says: str
) -> None:
    report = files / "bad.json"
    report.write_text(_report_json("Another") if content is None else content)
    result = _suggest_cli(files, "--evaluation", str(report))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_command_lines_batch_summary_gives_each_codes_verdict(files: Path) -> None:
    result = runner.invoke(
        app,
        ["code", str(files / "interview.txt"), "--codebook", "interview", "--exemplars",
         str(files / "coded.csv"), "--out", str(files / "out"), "--format", "csv", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trust: not evaluated with linear" in result.stdout
    summary = json.loads((files / "out" / "_summary.json").read_text())
    codable = load_codebook("interview").codable_ids
    assert summary["trust"] == dict.fromkeys(codable, "not_evaluated")
    assert summary["trust_counts"] == dict.fromkeys(TRUST_KINDS, 0) | {
        "not_evaluated": len(codable)
    }


def test_verdicts_are_typed_and_say_their_kind_first() -> None:
    verdict = TrustVerdict(kind="suggest_only", says="suggest only: kappa 0.50 reaches 0.41")
    assert verdict.more_needed is None
    with pytest.raises(ValueError, match="kind"):
        TrustVerdict.model_validate({"kind": "trust", "says": "old name"})


def test_a_projects_batch_on_the_command_line_counts_the_codes_per_verdict(
    files: Path, tmp_path: Path
) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        _evaluable_project(client)
        report = checked(client.post("/v1/projects/p1/evaluations", json={"folds": 2}))
    result = runner.invoke(
        app,
        ["code", str(files / "interview.txt"), "--project", "p1", "--out", str(files / "out"),
         "--format", "csv", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (linear,) = [method for method in report["methods"] if method["method"] == "linear"]
    coded_rows = [row for row in linear["per_code"] if row["code"] != NO_CODE]  # codes only
    kinds = {row["code"]: row["trust"]["kind"] for row in coded_rows}
    counts = {kind: list(kinds.values()).count(kind) for kind in TRUST_KINDS}
    listed = "; ".join(f"{HEADLINES[kind]} {n}" for kind, n in counts.items() if n)
    assert f"  codes by verdict: {listed}\n" in result.stdout
    for row in coded_rows:  # each code's line ends with its verdict
        more = row["trust"]["more_needed"]
        flag = HEADLINES[row["trust"]["kind"]] + ("" if more is None else f": code {more} more")
        lines = [
            line for line in result.stdout.splitlines() if line.startswith(f"  {row['code']} ")
        ]
        assert len(lines) == 1
        assert lines[0].endswith(f"  {flag}")
    summary = json.loads((files / "out" / "_summary.json").read_text())
    assert summary["trust"] == kinds
    assert summary["trust_counts"] == counts
