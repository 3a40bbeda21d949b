"""``intercoder code``: many transcripts in one run, the same answers as ``suggest``, resumable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from codebook.coded_csv import read_coded_csv
from codebook.errors import InputError
from codebook.loader import load_codebook
from codebook.refi import read_qdpx
from codebook.transcripts import read_transcript, split_sentences
from models.methods import SuggestOptions
from models.testing import ContextHashingEncoder, HashingEncoder
from service.app.batch_coding import BatchRequest, run_batch
from service.app.batch_inputs import InputSource, find_inputs, iter_work
from service.app.batch_pipeline import BatchProgress
from service.app.batch_recipes import recipe_from_coded
from service.app.suggesting import suggest_offline
from service.cli.main import app
from service.settings import get_settings
from tests.batch_support import units_table, write_coded, write_transcripts

runner = CliRunner()


@pytest.fixture(autouse=True)
def hashing_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _recipe(tmp_path: Path, coded: bool = True):  # type: ignore[no-untyped-def]
    book = load_codebook("interview")
    frame = read_coded_csv(write_coded(tmp_path), book) if coded else None
    return recipe_from_coded(
        get_settings(), HashingEncoder(), book, frame, method="linear" if coded else "prototype",
        options=SuggestOptions(),
    )  # fmt: skip


def _code(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["code", *args, "--codebook", "interview", "--exemplars", str(tmp_path / "coded.csv")]
    )
    return result.exit_code, result.stdout, result.stderr


def test_finds_files_folders_and_globs_in_a_fixed_order(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 5)
    units_table(10, 2).to_csv(tmp_path / "units.csv", index=False)
    found = find_inputs([str(folder), str(tmp_path / "*.csv"), str(folder / "interview001.txt")])
    assert [source.path.name for source in found][:2] == ["interview001.txt", "interview002.txt"]
    assert len(found) == 6  # a file named twice is read once
    assert {source.kind for source in found if source.path.suffix == ".csv"} == {"table"}
    with pytest.raises(InputError, match="matches no transcript"):
        find_inputs([str(tmp_path / "missing")])


def test_same_answers_as_suggest_for_each_transcript(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 4)
    recipe = _recipe(tmp_path)
    request = BatchRequest(find_inputs([str(folder)]), tmp_path / "out", chunk_sentences=7)
    summary = run_batch(recipe, request)
    rows = pd.read_parquet(summary.output)
    for source in request.sources:
        sentences = split_sentences(read_transcript(source.path))
        expected = suggest_offline(
            HashingEncoder(), recipe.codebook, sentences, read_coded_csv(
                tmp_path / "coded.csv", recipe.codebook), method="linear",
        ).units  # fmt: skip
        got = rows[rows["transcript_id"] == source.name].sort_values("sentence")
        assert got["text"].tolist() == [sentence.text for sentence in sentences]
        assert [list(codes) for codes in got["codes"]] == [u.suggested for u in expected]
        assert [list(s) for s in got["top_scores"]] == [
            [round(code.score, 6) for code in unit.codes] for unit in expected
        ]
    assert summary.totals.sentences == len(rows)
    assert summary.totals.transcripts == 4
    assert sum(summary.totals.code_counts.values()) == sum(len(c) for c in rows["codes"])


def test_interrupted_run_continues_without_coding_twice(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 12)
    recipe = _recipe(tmp_path)
    sources = find_inputs([str(folder)])
    whole = run_batch(recipe, BatchRequest(sources, tmp_path / "whole", chunk_sentences=10))
    parts_seen: list[int] = []

    def stop_after_three(progress: BatchProgress) -> None:
        parts_seen.append(progress.items_done)
        if len(parts_seen) == 3:
            raise KeyboardInterrupt

    request = BatchRequest(sources, tmp_path / "resumed", chunk_sentences=10)
    with pytest.raises(KeyboardInterrupt):
        run_batch(recipe, request, progress=stop_after_three)
    first = pd.read_parquet(request.out)
    assert 0 < len(first) < whole.totals.sentences
    resumed = run_batch(recipe, request)
    assert resumed.sentences_this_run == whole.totals.sentences - len(first)
    pd.testing.assert_frame_equal(pd.read_parquet(request.out), pd.read_parquet(whole.output))
    assert resumed.totals == whole.totals


def test_unreadable_transcript_is_reported_and_skipped(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 3)
    (folder / "broken.vtt").write_text("not captions\n")
    write_coded(tmp_path)
    status, out, err = _code(tmp_path, str(folder), "--out", str(tmp_path / "out"), "--quiet")
    assert status == 0, err
    assert "skipped" in err
    assert "broken.vtt" in err
    assert "WEBVTT" in err
    assert "of 3 transcripts" in out
    summary = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert [item["source"] for item in summary["unreadable"]] == [str(folder / "broken.vtt")]


def test_strict_stops_at_an_unreadable_transcript_keeping_what_it_coded(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 2)
    (folder / "zz-broken.vtt").write_text("not captions\n")
    write_coded(tmp_path)
    status, _, err = _code(
        tmp_path, str(folder), "--out", str(tmp_path / "out"), "--strict", "--quiet"
    )
    assert status == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "zz-broken.vtt" in err
    assert len(pd.read_parquet(tmp_path / "out")) > 0


def test_a_folder_of_another_coder_is_refused_and_restart_discards_it(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 2)
    write_coded(tmp_path)
    out = str(tmp_path / "out")
    assert _code(tmp_path, str(folder), "--out", out, "--quiet")[0] == 0
    status, _, err = _code(tmp_path, str(folder), "--out", out, "--method", "knn", "--quiet")
    assert status == 2
    assert "another coder" in err
    assert "--restart" in err
    status, _out_text, err = _code(
        tmp_path, str(folder), "--out", out, "--method", "knn", "--restart", "--quiet"
    )
    assert status == 0, err
    assert json.loads((tmp_path / "out" / "_summary.json").read_text())["method"] == "knn"


def test_tables_of_units_read_in_slices_keep_each_units_previous_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = units_table(50, 4)
    table.to_parquet(tmp_path / "units.parquet", index=False)
    table.to_csv(tmp_path / "units.csv", index=False)
    sliced_units = _units(find_inputs([str(tmp_path / "units.parquet")]), table_rows=7)
    whole_units = _units(find_inputs([str(tmp_path / "units.csv")]), table_rows=500)
    expected = [
        "" if i == 0 or ids[i - 1] != ids[i] else texts[i - 1]
        for ids, texts in [(table["transcript_id"].tolist(), table["text"].tolist())]
        for i in range(len(table))
    ]
    assert sliced_units["previous_text"].tolist() == expected  # across slices of 7 rows too
    assert whole_units["previous_text"].tolist() == expected
    # a model that reads the previous unit codes the same either way
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing-context")
    get_settings.cache_clear()
    book = load_codebook("interview")
    coded = read_coded_csv(write_coded(tmp_path), book)
    recipe = recipe_from_coded(
        get_settings(), ContextHashingEncoder(), book, coded, method="linear",
        options=SuggestOptions(skip_speakers=()),
    )  # fmt: skip
    sliced = run_batch(recipe, BatchRequest(find_inputs([str(tmp_path / "units.parquet")]),
                                            tmp_path / "a", table_rows=7))  # fmt: skip
    whole = run_batch(recipe, BatchRequest(find_inputs([str(tmp_path / "units.csv")]),
                                           tmp_path / "b", table_rows=500))  # fmt: skip
    a, b = pd.read_parquet(sliced.output), pd.read_parquet(whole.output)
    assert len(a) == 50
    columns = ["transcript_id", "sentence", "text", "codes", "top_scores", "evidence_ids"]
    pd.testing.assert_frame_equal(a[columns], b[columns])


def _units(sources: list[InputSource], table_rows: int) -> pd.DataFrame:
    from codebook.transcripts import Segmenter

    items = iter_work(sources, table_rows=table_rows, segmenter=Segmenter())
    return pd.concat([item.units for item in items], ignore_index=True)


def test_csv_output_is_one_file_and_refi_has_the_machine_as_coder(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 3)
    write_coded(tmp_path)
    refi = tmp_path / "machine.qdpx"
    status, _out, err = _code(
        tmp_path, str(folder), "--out", str(tmp_path / "out"), "--format", "csv",
        "--refi", str(refi), "--quiet",
    )  # fmt: skip
    assert status == 0, err
    rows = pd.read_csv(tmp_path / "out" / "coded.csv", keep_default_na=False)
    assert len(rows) == 36
    assert not list((tmp_path / "out").glob(".*.tmp"))
    project = read_qdpx(refi.read_bytes())
    assert len(project.sources) == 3
    machine = [selection for selection in project.selections if "intercoder" in selection.coder]
    assert len(machine) == sum(len(codes.split(";")) for codes in rows["codes"] if codes)


def test_usage_mistakes_fail_before_any_work(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 1)
    (tmp_path / "file.txt").write_text("x")
    out = str(tmp_path / "o")
    cases = [
        ["code", str(folder), "--out", out],
        ["code", str(tmp_path / "nothing*"), "--out", out, "--codebook", "interview"],
        ["code", str(folder), "--out", str(tmp_path / "file.txt"), "--codebook", "interview"],
        ["code", str(folder), "--out", str(tmp_path / "o"), "--codebook", "interview",
         "--method", "linear"],
        ["code", str(folder), "--out", str(tmp_path / "o"), "--project", "nope"],
    ]  # fmt: skip
    for arguments in cases:
        result = runner.invoke(app, arguments)
        assert result.exit_code == 2, (arguments, result.output)
        assert result.stderr.startswith("error: ")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_resuming_never_codes_twice_whatever_the_spelling_chunks_or_out_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_transcripts(tmp_path / "in", 4)
    units_table(30, 2).to_csv(folder / "units.csv", index=False)
    write_coded(tmp_path)
    monkeypatch.chdir(tmp_path)
    out = "in/results"  # inside the input folder
    assert _code(tmp_path, "in", "--out", out, "--quiet", "--chunk-sentences", "5")[0] == 0
    first = pd.read_parquet(tmp_path / out)
    # the same inputs spelled absolutely, another chunk size: nothing left to code
    status, stdout, _ = _code(
        tmp_path, str(folder), "--out", out, "--quiet", "--chunk-sentences", "11"
    )
    assert status == 0
    assert "this run: 0 sentences" in stdout
    again = pd.read_parquet(tmp_path / out)
    assert len(again) == len(first) == 4 * 12 + 30
    assert not again.duplicated(["transcript_id", "sentence"]).any()


def test_a_part_of_skipped_units_only_keeps_the_folder_readable(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 2)
    (folder / "a-intro.txt").write_text("Interviewer: Welcome.\n\nInterviewer: Let us begin.\n")
    write_coded(tmp_path)
    refi = tmp_path / "m.qdpx"
    status, _, err = _code(
        tmp_path, str(folder), "--out", str(tmp_path / "out"), "--quiet",
        "--chunk-sentences", "2", "--refi", str(refi),
    )  # fmt: skip
    assert status == 0, err
    rows = pd.read_parquet(tmp_path / "out")
    assert rows[rows["transcript_id"] == "a-intro"]["skipped"].all()
    assert refi.exists()


def test_decimal_offsets_in_a_table_are_rounded(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "transcript_id,text,start,end\na,hello there my friend,0.5,2.25\n"
    )
    write_coded(tmp_path)
    status, _, err = _code(tmp_path, str(tmp_path / "t.csv"), "--out", str(tmp_path / "o"), "-q")
    assert status == 0, err
    rows = pd.read_parquet(tmp_path / "o")
    assert (rows["start"].tolist(), rows["end"].tolist()) == ([0], [2])


def test_unheard_speakers_are_warned_and_nothing_readable_is_an_error(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", 2)
    write_coded(tmp_path)
    status, _, err = _code(
        tmp_path, str(folder), "--out", str(tmp_path / "o"), "-q", "--speakers", "Nobody"
    )
    assert status == 0
    assert "--speakers names Nobody, who never spoke" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.vtt").write_text("not captions\n")
    status, _, err = _code(tmp_path, str(tmp_path / "bad"), "--out", str(tmp_path / "o2"), "-q")
    assert status == 2
    assert err.splitlines()[-1].startswith("error: none of the 1 input(s) could be read")
