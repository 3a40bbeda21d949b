"""The Ray engine of ``intercoder code``: the same rows as the single-machine run, row for row.

The tests marked ``ray`` start a local Ray (2 CPUs) and need the extra:
``pip install -e '.[ray]'`` (without it they skip, saying so). The others run everywhere: the
unit reading both engines share, the error without Ray, and the folder rules between engines.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from codebook.coded_csv import read_coded_csv
from codebook.errors import InputError
from codebook.loader import load_codebook
from models.methods import SuggestOptions
from service.app.batch_coding import BatchRequest, run_batch
from service.app.batch_inputs import (
    InputSource,
    find_inputs,
    parquet_row_groups,
    row_group_units,
    table_work,
)
from service.app.batch_output import OutputFolder
from service.app.batch_recipes import recipe_from_coded
from service.app.batch_rows import OUTPUT_COLUMNS, CoderRecipe
from service.app.runtime import build_encoder
from service.cli.main import app
from service.errors import StrictStopError
from service.settings import get_settings

CODED_CSV = textwrap.dedent(
    """\
    transcript_id,text,codes
    x,Someone could poison our training data with fake samples.,A.1
    x,Attackers could fool the classifier with crafted inputs.,A.2
    x,We retrain the model every week on customer data.,E.1
    x,The team shares the monitoring work.,B.1
    x,Nobody would bother attacking a small company like ours.,L.3
    x,I had coffee this morning.,
    y,We retrain whenever new data arrives.,E.1
    y,Fake samples could slip into the data.,A.1
    y,Crafted inputs fool our classifier sometimes.,A.2
    y,Thanks for having me.,
    """
)
LINES = (
    "Interviewer: How do you train your models? Tell me more.",
    "P{n}: We retrain every week on customer data. Someone could poison it.",
    "Interviewer: Do attackers worry you?",
    "P{n}: Honestly, nobody would attack a small company like ours. We share the work.",
    "P{n}: Crafted inputs could fool the classifier. I had coffee this morning.",
)
SORT = ["transcript_id", "sentence"]


@pytest.fixture(autouse=True)
def hashing_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def recipe(tmp_path: Path) -> CoderRecipe:
    coded_path = tmp_path / "coded.csv"
    coded_path.write_text(CODED_CSV)
    book = load_codebook("interview")
    coded = read_coded_csv(coded_path, book)
    settings = get_settings()
    options = SuggestOptions(top=3)
    encoder = build_encoder(settings)
    return recipe_from_coded(settings, encoder, book, coded, method="linear", options=options)


def _transcripts(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        lines = LINES[n % 2 :] + LINES[: n % 2]  # not all alike: different previous texts
        (folder / f"interview{n}.txt").write_text("\n".join(lines).format(n=n) + "\n")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    return folder


def _units_table(path: Path, *, row_group_size: int) -> Path:
    """A table of units whose row groups end in the middle of transcripts."""
    rows = [
        {"transcript_id": f"table{t}", "speaker": f"P{t}" if i % 3 else "Interviewer",
         "text": f"{line} ({t}.{i})"}
        for t in range(4)
        for i, line in enumerate(CODED_CSV.splitlines()[1:])
    ]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)
    return path


def _rows(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder).sort_values(SORT).reset_index(drop=True)


# ----- without Ray --------------------------------------------------------------------------


def test_row_groups_give_the_units_the_whole_table_gives(tmp_path: Path) -> None:
    path = _units_table(tmp_path / "units.parquet", row_group_size=7)
    source = InputSource(path, "table", "units")
    whole = pd.concat([item.units for item in table_work(source, 4)], ignore_index=True)
    groups = parquet_row_groups(path)
    assert len(groups) > 2
    pieces = [
        units for group, first in groups for units in row_group_units(source, group, first, 4)
    ]
    by_groups = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(by_groups, whole)
    assert (whole["previous_text"] != "").sum() == len(whole) - 4  # "" only where one starts


def test_without_ray_the_engine_fails_at_once_naming_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ray", "ray.data"):
        monkeypatch.setitem(sys.modules, name, None)  # import ray now raises ImportError
    folder = _transcripts(tmp_path / "in", 1)
    result = CliRunner().invoke(
        app,
        ["code", str(folder), "--codebook", "interview", "--out", str(tmp_path / "out"),
         "--engine", "ray"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert "pip install 'intercoder[ray]'" in result.stderr
    assert not (tmp_path / "out" / "_run.json").exists()


def test_a_local_run_refuses_a_folder_the_ray_engine_wrote(tmp_path: Path) -> None:
    with OutputFolder(tmp_path, "parquet") as folder:
        folder.claim("f" * 64, {"engine": "ray"})
    with OutputFolder(tmp_path, "parquet") as folder, pytest.raises(InputError, match="--restart"):
        folder.claim("f" * 64, {})
    with OutputFolder(tmp_path, "parquet") as folder:
        folder.discard()
        folder.claim("f" * 64, {})  # --restart: the local engine starts over


# ----- with a local Ray ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="the Ray engine needs: pip install -e '.[ray]'")
    pytest.importorskip("ray.data", reason="the Ray engine needs: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def _both_engines(
    recipe: CoderRecipe, inputs: list[str], tmp_path: Path, **given: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Code the inputs with each engine; their summaries, less where and how long."""
    from service.app.batch_ray import run_batch_ray

    summaries = []
    for engine in ("local", "ray"):
        request = BatchRequest(
            sources=find_inputs(inputs), out=tmp_path / engine, chunk_sentences=5, **given
        )
        if engine == "local":
            summary = run_batch(recipe, request)
        else:
            summary = run_batch_ray(recipe, request, address=None, workers=2)
        saved = json.loads((tmp_path / engine / "_summary.json").read_text())
        assert saved == summary.as_json()
        summaries.append(
            {k: v for k, v in saved.items() if k not in ("output", "seconds_this_run")}
        )
    return summaries[0], summaries[1]


@pytest.mark.ray
def test_files_and_tables_give_the_local_rows(
    local_ray: Any, recipe: CoderRecipe, tmp_path: Path
) -> None:
    """One run of each engine over transcript files (one unreadable), a Parquet table whose
    row groups end mid-transcript, and a CSV table (one Ray run: each costs seconds)."""
    folder = _transcripts(tmp_path / "in", 6)
    parquet = _units_table(folder / "units.parquet", row_group_size=7)
    table = pd.read_parquet(parquet).assign(transcript_id=lambda f: "csv-" + f["transcript_id"])
    table.to_csv(folder / "more.csv", index=False)
    local, ray = _both_engines(recipe, [str(folder)], tmp_path)
    rows = _rows(tmp_path / "ray")
    assert list(rows.columns) == list(OUTPUT_COLUMNS)
    pd.testing.assert_frame_equal(rows, _rows(tmp_path / "local"))
    assert ray == local
    assert ray["sentences"] == len(rows) > 100
    assert ray["transcripts"] == 6 + 4 + 4
    assert [u["source"] for u in ray["unreadable"]] == [str(folder / "broken.docx")]
    assert ray["code_counts"], "some sentences got codes: the comparison compares something"


@pytest.mark.ray
def test_folder_rules_and_strict(local_ray: Any, recipe: CoderRecipe, tmp_path: Path) -> None:
    from service.app.batch_ray import run_batch_ray

    folder = _transcripts(tmp_path / "in", 2)
    request = BatchRequest(sources=find_inputs([str(folder)]), out=tmp_path / "out")
    run_batch(recipe, request)  # a local run's folder: the Ray engine cannot resume it either
    with pytest.raises(InputError, match="cannot resume"):
        run_batch_ray(recipe, request, address=None, workers=1)
    again = BatchRequest(sources=request.sources, out=request.out, restart=True)
    restarted = run_batch_ray(recipe, again, address=None, workers=1)
    assert restarted.totals.sentences == len(pd.read_parquet(request.out)) > 10
    strict = BatchRequest(sources=request.sources, out=tmp_path / "strict", strict=True)
    with pytest.raises(StrictStopError, match=r"broken\.docx"):
        run_batch_ray(recipe, strict, address=None, workers=1)
