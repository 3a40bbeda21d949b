"""AnnoMI and SwDA as coded-units tables, and the dataset registry.

Counts are those of /work/shared/README.md and the datasets' own READMEs; the per-scheme AnnoMI
counts are the interlocutor counts of AnnoMI-simple.csv and AnnoMI-full.csv.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from codebook import datasets
from codebook.coded import CODED_COLUMNS
from codebook.datasets import (
    DATASETS,
    SWDA_NOCODE_TAGS,
    default_shared_dir,
    load_annomi,
    load_dataset,
    load_swda,
    load_swda_nocode,
)
from codebook.errors import CodedDataError, DatasetUnavailableError, UnknownNameError
from codebook.loader import load_codebook

FULLY_CODED = ["7", "27", "55", "56", "66", "109", "130"]
ANNOMI_HEADER = (
    "transcript_id,video_url,utterance_id,interlocutor,utterance_text,"
    "main_therapist_behaviour,client_talk_type\n"
)


@pytest.fixture(scope="module")
def therapist(shared_dir: Path) -> pd.DataFrame:
    return load_annomi("therapist", root=shared_dir)


@pytest.fixture(scope="module")
def client(shared_dir: Path) -> pd.DataFrame:
    return load_annomi("client", root=shared_dir)


@pytest.fixture(scope="module")
def swda(shared_dir: Path) -> pd.DataFrame:
    return load_swda(root=shared_dir)


def label_counts(frame: pd.DataFrame) -> dict[str, int]:
    return dict(Counter(code for codes in frame["codes"] for code in codes))


# --- AnnoMI ----------------------------------------------------------------------------------


def test_annomi_simple_has_every_turn_once(therapist: pd.DataFrame, client: pd.DataFrame) -> None:
    both = pd.concat([therapist, client])
    assert (len(therapist), len(client), len(both)) == (4882, 4817, 9699)
    assert both["transcript_id"].nunique() == 133
    assert both["group"].nunique() == 119
    assert not both.duplicated(["transcript_id", "unit_id"]).any()
    assert set(both["coder"]) == {"majority"}
    assert tuple(therapist.columns) == CODED_COLUMNS


def test_annomi_simple_labels(therapist: pd.DataFrame, client: pd.DataFrame) -> None:
    assert label_counts(therapist) == {
        "other": 1586,
        "question": 1386,
        "reflection": 1296,
        "therapist_input": 614,
    }
    assert label_counts(client) == {"neutral": 3102, "change": 1174, "sustain": 541}
    assert set(therapist["speaker"]) == {"therapist"}
    assert set(client["speaker"]) == {"client"}
    assert set(therapist["codes"].map(len)) == {1}


def test_annomi_turn_fields_and_previous_text(
    therapist: pd.DataFrame, client: pd.DataFrame
) -> None:
    first = therapist.iloc[0]
    assert (first["transcript_id"], first["unit_id"], first["turn_index"]) == ("0", "0", 0)
    assert first["previous_text"] == ""
    assert first["text"].startswith("Thanks for filling it out.")
    assert first["group"] == "https://www.youtube.com/watch?v=PaSKcfTmFEk"
    reply = client.iloc[0]
    assert (reply["transcript_id"], reply["unit_id"], reply["text"]) == ("0", "1", "Sure.")
    # The client's previous turn is the therapist's, across the two schemes.
    assert reply["previous_text"] == first["text"]


def test_annomi_full_has_every_annotator(shared_dir: Path) -> None:
    therapist = load_annomi("therapist", variant="full", root=shared_dir)
    client = load_annomi("client", variant="full", root=shared_dir)
    assert (len(therapist), len(client)) == (6826, 6725)
    both = pd.concat([therapist, client])
    assert set(both["coder"]) == {f"annotator-{number}" for number in range(10)}
    coders_per_transcript = both.groupby("transcript_id")["coder"].nunique()
    assert sorted(coders_per_transcript[coders_per_transcript > 1].index, key=int) == FULLY_CODED
    assert set(coders_per_transcript[coders_per_transcript > 1]) == {10}
    fully = both[both["transcript_id"].isin(FULLY_CODED)]
    turns = fully.drop_duplicates(["transcript_id", "unit_id"])
    assert (len(turns), Counter(turns["speaker"])) == (428, {"therapist": 216, "client": 212})
    assert len(fully) == 4280
    assert both.drop_duplicates(["transcript_id", "unit_id"]).shape[0] == 9699


def test_annomi_full_previous_text_skips_repeated_annotations(shared_dir: Path) -> None:
    client = load_annomi("client", variant="full", root=shared_dir)
    simple = load_annomi("client", root=shared_dir).set_index(["transcript_id", "unit_id"])
    fully = client[client["transcript_id"] == "7"]
    expected = simple.loc[list(zip(fully["transcript_id"], fully["unit_id"], strict=True))]
    assert fully["previous_text"].tolist() == expected["previous_text"].tolist()


def test_annomi_rejects_unknown_scheme_and_variant(shared_dir: Path) -> None:
    with pytest.raises(UnknownNameError, match="expected one of therapist, client"):
        load_annomi("counsellor", root=shared_dir)  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError, match="expected simple or full"):
        load_annomi("client", variant="partial", root=shared_dir)  # type: ignore[arg-type]


def write_annomi(root: Path, rows: str) -> Path:
    folder = root / "data" / "annomi"
    folder.mkdir(parents=True)
    (folder / "AnnoMI-simple.csv").write_text(ANNOMI_HEADER + rows, encoding="utf-8")
    return root


def test_annomi_reports_coded_turns_without_a_label(tmp_path: Path) -> None:
    root = write_annomi(tmp_path, "3,u,0,therapist,Hi,n/a,n/a\n3,u,1,client,Hello,n/a,neutral\n")
    with pytest.raises(CodedDataError) as caught:
        load_annomi("therapist", root=root)
    assert [str(problem) for problem in caught.value.problems] == [
        "transcript 3, utterance 0: main_therapist_behaviour is 'n/a'"
    ]
    assert load_annomi("client", root=root)["codes"].tolist() == [frozenset({"neutral"})]


def test_annomi_checks_labels_against_the_shipped_codebook(tmp_path: Path) -> None:
    root = write_annomi(tmp_path, "3,u,0,therapist,Hi,affirm,n/a\n")
    with pytest.raises(CodedDataError) as caught:
        load_annomi("therapist", root=root)
    assert [str(problem) for problem in caught.value.problems] == [
        "row 1 (transcript 3, unit 0): unknown code 'affirm'"
    ]


# --- SwDA ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_swda_counts(swda: pd.DataFrame) -> None:
    assert len(swda) == 199740
    assert swda["transcript_id"].nunique() == 1155
    assert list(swda.columns) == [*CODED_COLUMNS, "split"]
    files = swda.groupby("split")["transcript_id"].nunique().to_dict()
    assert files == {"train": 1115, "val": 21, "test": 19}
    assert swda["split"].value_counts().to_dict() == {"train": 192390, "test": 4078, "val": 3272}
    counts = label_counts(swda)
    assert len(counts) == 41
    assert (counts["sd"], counts["b"], counts["ft"]) == (75136, 38281, 78)
    assert set(swda["codes"].map(len)) == {1}
    assert Counter(swda["speaker"]) == {"A": 103144, "B": 96596}
    assert (swda["group"] == swda["transcript_id"]).all()
    assert set(swda["coder"]) == {"swda"}


@pytest.mark.slow
def test_swda_lines_in_order_with_previous_text(swda: pd.DataFrame) -> None:
    first = swda[swda["transcript_id"] == "2005"].head(3)
    assert first["unit_id"].tolist() == ["0", "1", "2"]
    assert first["turn_index"].tolist() == [0, 1, 2]
    assert first["speaker"].tolist() == ["A", "A", "B"]
    assert first["codes"].tolist() == [
        frozenset({'fo_o_fw_"_by_bc'}),
        frozenset({"qo"}),
        frozenset({"sv"}),
    ]
    assert first["previous_text"].tolist()[:2] == ["", "Okay."]
    assert first["previous_text"].iloc[2] == first["text"].iloc[1]


def test_swda_loads_chosen_splits(shared_dir: Path) -> None:
    test_split = load_swda(root=shared_dir, splits=["test"])
    assert (len(test_split), test_split["transcript_id"].nunique()) == (4078, 19)
    assert set(test_split["split"]) == {"test"}


def test_swda_rejects_an_unknown_split(shared_dir: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown SwDA split\\(s\\) dev; expected some of"):
        load_swda(root=shared_dir, splits=["train", "dev"])


@pytest.mark.slow
def test_swda_nocode_counts(swda: pd.DataFrame, shared_dir: Path) -> None:
    codebook, recoded = load_dataset("swda-nocode", root=shared_dir)
    assert recoded[["transcript_id", "unit_id", "text"]].equals(
        swda[["transcript_id", "unit_id", "text"]]
    )
    assert label_counts(recoded) == {
        "opinion": 26421,
        "agreement": 11227,
        "question": 9531,
        "answer": 5837,
        "disagreement": 551,
    }
    assert (recoded["codes"].map(len) == 0).sum() == 146173  # 73.2% carry no code
    assert set(codebook.codable_ids) == set(SWDA_NOCODE_TAGS)


def test_swda_nocode_maps_tags_and_leaves_the_rest_uncoded(tmp_path: Path) -> None:
    lines = "A|I think so.|sv\nB|Uh-huh.|b\nA|Is it?|qy^d\nB|Well, no.|arp_nd\nA|Right.|aap_am\n"
    frame = load_swda_nocode(root=write_swda(tmp_path, lines), splits=["val"])
    assert frame["codes"].tolist() == [
        frozenset({"opinion"}),
        frozenset(),
        frozenset({"question"}),
        frozenset({"disagreement"}),
        frozenset({"agreement"}),
    ]
    assert frame["previous_text"].tolist()[1] == "I think so."


def test_swda_nocode_tags_are_swda_tags_each_once() -> None:
    tags = [tag for chosen in SWDA_NOCODE_TAGS.values() for tag in chosen]
    assert len(tags) == len(set(tags))
    assert set(tags) <= set(load_codebook("swda").codable_ids)
    assert set(SWDA_NOCODE_TAGS) == set(load_codebook("swda-nocode").codable_ids)


def write_swda(root: Path, lines: str) -> Path:
    folder = root / "data" / "swda" / "swda_data" / "val"
    folder.mkdir(parents=True)
    (folder / "0042.txt").write_text(lines, encoding="utf-8")
    return root


def test_swda_keeps_a_bar_in_the_text(tmp_path: Path) -> None:
    root = write_swda(tmp_path, "A|either|or|sd\nB|Yeah.|b\n")
    frame = load_swda(root=root, splits=["val"])
    assert frame["text"].tolist() == ["either|or", "Yeah."]
    assert frame["previous_text"].tolist() == ["", "either|or"]


def test_swda_reports_a_malformed_line(tmp_path: Path) -> None:
    root = write_swda(tmp_path, "A|Okay.|b\nB no bars here\n")
    with pytest.raises(CodedDataError) as caught:
        load_swda(root=root, splits=["val"])
    path = root / "data" / "swda" / "swda_data" / "val" / "0042.txt"
    assert str(caught.value) == (
        f"{path}:2: expected 'speaker|text|tag', found 'B no bars here'; "
        "the SwDA files are not the expected processed release"
    )


# --- registry and location -------------------------------------------------------------------


def test_registry_names() -> None:
    assert list(DATASETS) == [
        "annomi:therapist",
        "annomi:client",
        "annomi-full:therapist",
        "annomi-full:client",
        "swda",
        "swda-nocode",
        "chatterbot",
    ]


def test_load_dataset_pairs_codebook_and_table(shared_dir: Path) -> None:
    codebook, frame = load_dataset("annomi-full:client", root=shared_dir)
    assert codebook.codable_ids == ("change", "neutral", "sustain")
    assert len(frame) == 6725
    codebook, frame = load_dataset("annomi:therapist", root=shared_dir)
    assert codebook.codable_ids == ("question", "therapist_input", "reflection", "other")
    assert len(frame) == 4882


def test_load_dataset_rejects_an_unknown_name() -> None:
    with pytest.raises(UnknownNameError) as caught:
        load_dataset("annomi")
    assert str(caught.value) == (
        "unknown dataset 'annomi'; expected one of: annomi:therapist, annomi:client, "
        "annomi-full:therapist, annomi-full:client, swda, swda-nocode, chatterbot"
    )


def test_default_shared_dir_finds_the_shared_folder(shared_dir: Path) -> None:
    assert default_shared_dir().resolve() == shared_dir.resolve()


def test_default_shared_dir_names_the_paths_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path.resolve()
    monkeypatch.setattr(datasets, "__file__", str(tmp_path / "project" / "codebook" / "x.py"))
    (tmp_path / "elsewhere" / "work").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "elsewhere" / "work")
    with pytest.raises(DatasetUnavailableError) as caught:
        default_shared_dir()
    assert str(caught.value) == (
        f"the shared datasets folder was not found (looked for a 'data' folder in "
        f"{tmp_path / 'shared'}, {tmp_path / 'elsewhere' / 'shared'}); "
        "pass root=<path to the shared folder>"
    )


def test_a_root_without_the_dataset_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as caught:
        load_annomi("client", root=tmp_path)
    assert str(caught.value) == (
        f"dataset folder {tmp_path / 'data' / 'annomi'} does not exist; root must be the shared "
        f"folder that holds data/annomi (got root={tmp_path})"
    )
