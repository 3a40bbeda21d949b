"""The coded-units table and the generic CSV reader/writer."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codebook.coded import (
    CODED_COLUMNS,
    CodedUnit,
    check_codes,
    coded_frame,
    coders,
    majority_labels,
)
from codebook.coded_csv import read_coded_csv, write_coded_csv
from codebook.errors import CodedDataError, Problem
from codebook.loader import parse_codebook_yaml
from codebook.model import Codebook

# "topic" lets a unit carry several codes; "mood" allows one of its codes per unit.
BOOK_YAML = """
name: test book
codes:
  - {id: topic, name: Topic, codable: false}
  - {id: work, name: Work, parent: topic}
  - {id: family, name: Family, parent: topic}
  - {id: health, name: Health, parent: topic}
  - {id: mood, name: Mood, codable: false, exclusive: true}
  - {id: happy, name: Happy, parent: mood}
  - {id: sad, name: Sad, parent: mood}
"""


@pytest.fixture(scope="module")
def book() -> Codebook:
    return parse_codebook_yaml(BOOK_YAML)


def unit(transcript: str, unit_id: str, *codes: str, coder: str = "ann") -> CodedUnit:
    return CodedUnit(
        transcript_id=transcript,
        unit_id=unit_id,
        turn_index=int(unit_id),
        text=f"text {transcript}/{unit_id}",
        codes=frozenset(codes),
        coder=coder,
    )


def read_text(text: str, book: Codebook, **options: str) -> pd.DataFrame:
    return read_coded_csv(io.StringIO(text), book, **options)


# --- the table -------------------------------------------------------------------------------


def test_coded_frame_from_units_has_the_columns_in_order_and_typed() -> None:
    frame = coded_frame([unit("t1", "0", "work"), unit("t1", "1")])
    assert tuple(frame.columns) == CODED_COLUMNS
    assert frame["turn_index"].dtype == "int64"
    assert frame["transcript_id"].tolist() == ["t1", "t1"]
    assert frame["codes"].tolist() == [frozenset({"work"}), frozenset()]
    assert frame["group"].tolist() == ["t1", "t1"]
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in ("unit_id", "text", "group"))


def test_coded_frame_normalises_a_dataframe_and_keeps_extra_columns_after() -> None:
    raw = pd.DataFrame(
        {
            "split": ["train", "test"],
            "transcript_id": [7, 7],
            "unit_id": ["a", "b"],
            "turn_index": ["3", 4.0],
            "speaker": ["A", "B"],
            "text": ["hi", "yo"],
            "codes": [["work", "family"], " work ; health "],
            "coder": ["x", "x"],
            "previous_text": ["", "hi"],
            "group": ["g", "g"],
        }
    )
    frame = coded_frame(raw)
    assert list(frame.columns) == [*CODED_COLUMNS, "split"]
    assert frame["transcript_id"].tolist() == ["7", "7"]
    assert frame["turn_index"].tolist() == [3, 4]
    assert frame["codes"].tolist() == [frozenset({"work", "family"}), frozenset({"work", "health"})]
    assert frame["split"].tolist() == ["train", "test"]


def test_coded_frame_names_missing_columns() -> None:
    raw = pd.DataFrame({"transcript_id": ["t"], "text": ["x"], "codes": [frozenset()]})
    with pytest.raises(CodedDataError, match="lacks column\\(s\\) unit_id, turn_index, speaker"):
        coded_frame(raw)


def test_coded_frame_lists_every_malformed_cell() -> None:
    raw = coded_frame([unit("t1", "0"), unit("t1", "1"), unit("t2", "2")])
    raw["turn_index"] = pd.Series(["0", "one", "2.5"], dtype=object)
    raw["coder"] = ["ann", "", "ann"]
    raw["codes"] = pd.Series([frozenset(), 5, frozenset()], dtype=object)
    with pytest.raises(CodedDataError) as caught:
        coded_frame(raw)
    assert caught.value.problems == [
        Problem("row 2 (transcript t1, unit 1)", "coder is empty"),
        Problem("row 2 (transcript t1, unit 1)", "turn_index must be an integer, found 'one'"),
        Problem("row 3 (transcript t2, unit 2)", "turn_index must be an integer, found '2.5'"),
        Problem(
            "row 2 (transcript t1, unit 1)",
            "codes must be a set of code ids or a ';'-separated string, found 5",
        ),
    ]


def test_check_codes_accepts_allowed_sets(book: Codebook) -> None:
    check_codes(coded_frame([unit("t", "0", "work", "family", "sad"), unit("t", "1")]), book)


def test_check_codes_reports_every_row_with_its_location(book: Codebook) -> None:
    frame = coded_frame(
        [
            unit("t1", "0", "work"),
            unit("t1", "1", "wrok"),
            unit("t2", "0", "topic"),
            unit("t2", "1", "happy", "sad", "wrok"),
        ]
    )
    with pytest.raises(CodedDataError) as caught:
        check_codes(frame, book)
    assert caught.value.problems == [
        Problem("row 2 (transcript t1, unit 1)", "unknown code 'wrok'"),
        Problem("row 3 (transcript t2, unit 0)", "'topic' is a category, not a codable code"),
        Problem("row 4 (transcript t2, unit 1)", "unknown code 'wrok'"),
        Problem(
            "row 4 (transcript t2, unit 1)",
            "codes happy, sad are all under exclusive category 'mood'; "
            "a unit may carry at most one of them",
        ),
    ]
    assert caught.value.message == (
        "3 coded unit(s) use codes that codebook 'test book' does not allow; "
        "add the codes to the codebook or correct the data"
    )


def test_coders_are_distinct_and_sorted() -> None:
    frame = coded_frame([unit("t", "0", coder="zoe"), unit("t", "0", coder="al"), unit("t", "1")])
    assert coders(frame) == ("al", "ann", "zoe")


def test_majority_labels_keep_codes_chosen_by_more_than_half() -> None:
    frame = coded_frame(
        [
            unit("t", "0", "work", "sad", coder="a"),
            unit("t", "0", "work", coder="b"),
            unit("t", "0", "family", "sad", coder="c"),
            unit("t", "1", "work", coder="a"),
            unit("t", "1", "family", coder="b"),
        ]
    )
    majority = majority_labels(frame)
    assert majority["unit_id"].tolist() == ["0", "1"]
    assert majority["codes"].tolist() == [frozenset({"work", "sad"}), frozenset()]
    assert majority["coder"].tolist() == ["majority", "majority"]
    assert tuple(majority.columns) == CODED_COLUMNS


# --- reading CSV -----------------------------------------------------------------------------


def test_read_fills_defaults_from_row_order(book: Codebook) -> None:
    frame = read_text(
        "transcript_id,text,codes\nt1,Hello,work\nt2,Other,\nt1,Again, work ; family \n", book
    )
    assert frame["unit_id"].tolist() == ["0", "0", "1"]
    assert frame["turn_index"].tolist() == [0, 0, 1]
    assert frame["previous_text"].tolist() == ["", "", "Hello"]
    assert frame["codes"].tolist() == [
        frozenset({"work"}),
        frozenset(),
        frozenset({"work", "family"}),
    ]
    assert frame["speaker"].tolist() == ["", "", ""]
    assert frame["coder"].tolist() == ["coder", "coder", "coder"]
    assert frame["group"].tolist() == ["t1", "t2", "t1"]


def test_read_takes_the_coder_argument_and_case_insensitive_names(book: Codebook) -> None:
    text = "Transcript_ID, TEXT ,Codes,Unit_Id,Speaker,Turn_Index,Group,Note\n"
    text += "t,hi,happy,u9,A,12,g1,keep me\n"
    frame = read_text(text, book, coder="maria")
    assert list(frame.columns) == [*CODED_COLUMNS, "Note"]
    row = frame.iloc[0]
    assert (row["unit_id"], row["speaker"], row["turn_index"], row["group"]) == (
        "u9",
        "A",
        12,
        "g1",
    )
    assert (row["coder"], row["Note"]) == ("maria", "keep me")


def test_read_positions_count_each_coder_separately(book: Codebook) -> None:
    text = "transcript_id,text,codes,coder\nt,one,work,a\nt,two,,a\nt,one,work,b\nt,two,,b\n"
    frame = read_text(text, book)
    assert frame["unit_id"].tolist() == ["0", "1", "0", "1"]
    assert frame["previous_text"].tolist() == ["", "one", "", "one"]


def test_read_reports_all_unknown_codes_with_rows(book: Codebook) -> None:
    text = "transcript_id,unit_id,text,codes\nt,a,x,work\nt,b,y,wrok;happy\nt,c,z,joy\n"
    with pytest.raises(CodedDataError) as caught:
        read_text(text, book)
    assert caught.value.problems == [
        Problem("row 2 (transcript t, unit b)", "unknown code 'wrok'"),
        Problem("row 3 (transcript t, unit c)", "unknown code 'joy'"),
    ]
    assert "add the codes to the codebook or correct the data" in str(caught.value)


def test_read_reports_an_exclusive_clash(book: Codebook) -> None:
    with pytest.raises(CodedDataError) as caught:
        read_text("transcript_id,text,codes\nt,x,happy;sad\n", book)
    assert [str(problem) for problem in caught.value.problems] == [
        "row 1 (transcript t, unit 0): codes happy, sad are all under exclusive category "
        "'mood'; a unit may carry at most one of them"
    ]


def test_read_names_missing_columns(book: Codebook) -> None:
    with pytest.raises(CodedDataError) as caught:
        read_text("transcript,text\nt,x\n", book)
    assert str(caught.value) == (
        "the CSV header lacks column(s) transcript_id, codes (found: transcript, text); it needs "
        "transcript_id, text, codes once each, optionally unit_id, turn_index, speaker, coder, "
        "previous_text, group"
    )


def test_read_rejects_a_column_given_twice(book: Codebook) -> None:
    with pytest.raises(CodedDataError, match="repeats column\\(s\\) text"):
        read_text("transcript_id,text,codes,Text\nt,x,,y\n", book)


def test_read_reports_duplicate_units(book: Codebook) -> None:
    text = "transcript_id,unit_id,text,codes,coder\nt,1,x,,a\nt,1,y,,b\nt,2,z,,a\nt,1,w,,a\n"
    with pytest.raises(CodedDataError) as caught:
        read_text(text, book)
    assert caught.value.problems == [
        Problem("rows 1, 4", "transcript t, unit 1 is coded 2 times by a")
    ]
    assert "distinct unit_id values" in caught.value.message


def test_read_rejects_undecodable_bytes(book: Codebook) -> None:
    content = "transcript_id,text,codes\nt,caf\u00e9,\n".encode("latin-1")
    with pytest.raises(CodedDataError) as caught:
        read_coded_csv(io.BytesIO(content), book)
    assert str(caught.value) == (
        "the CSV input is not UTF-8 text: byte 0xe9 at offset 30 (line 2) cannot be decoded; "
        "save the file as UTF-8 (CSV UTF-8 in spreadsheet programs)"
    )


def test_read_accepts_a_utf8_bom_from_a_path(book: Codebook, tmp_path: Path) -> None:
    path = tmp_path / "coded.csv"
    path.write_bytes("\ufefftranscript_id,text,codes\nt,caf\u00e9,work\n".encode())
    frame = read_coded_csv(path, book)
    assert frame["text"].tolist() == ["caf\u00e9"]


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_read_rejects_an_empty_file(book: Codebook, content: str) -> None:
    with pytest.raises(CodedDataError, match=r"^the CSV is empty; expected a header row"):
        read_text(content, book)


def test_read_of_a_header_alone_gives_an_empty_table(book: Codebook) -> None:
    frame = read_text("transcript_id,text,codes\n", book)
    assert len(frame) == 0
    assert tuple(frame.columns) == CODED_COLUMNS


def test_read_reports_rows_with_the_wrong_number_of_fields(book: Codebook) -> None:
    with pytest.raises(CodedDataError) as caught:
        read_text("transcript_id,text,codes\nt,a,b,work\nt,ok,\nt\n", book)
    assert caught.value.problems == [
        Problem("row 1 (line 2)", "has 4 fields, the header 3"),
        Problem("row 3 (line 4)", "has 1 fields, the header 3"),
    ]


def test_read_reports_a_bad_turn_index_and_an_empty_id(book: Codebook) -> None:
    text = "transcript_id,unit_id,turn_index,text,codes\nt,1,x,a,\n,2,3,b,\n"
    with pytest.raises(CodedDataError) as caught:
        read_text(text, book)
    assert [str(problem) for problem in caught.value.problems] == [
        "row 2 (transcript , unit 2): transcript_id is empty",
        "row 2 (transcript , unit 2): group is empty",
        "row 1 (transcript t, unit 1): turn_index must be an integer, found 'x'",
    ]


# --- writing and round trips -----------------------------------------------------------------


def test_write_sorts_codes_and_joins_them(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_coded_csv(coded_frame([unit("t", "0", "work", "family", "sad"), unit("t", "1")]), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        ",".join(CODED_COLUMNS),
        "t,0,0,,text t/0,family;sad;work,ann,,t",
        "t,1,1,,text t/1,,ann,,t",
    ]


def test_round_trip_through_a_path_and_buffers(book: Codebook, tmp_path: Path) -> None:
    frame = coded_frame(
        [
            CodedUnit("t1", "u0", 0, 'He said, "no"\nthen left', frozenset({"work", "sad"}), "A"),
            CodedUnit("t1", "u1", 1, "", frozenset(), "B", "rater", 'He said, "no"', "video-1"),
        ]
    )
    frame["split"] = ["train", "test"]
    write_coded_csv(frame, tmp_path / "x.csv")
    pd.testing.assert_frame_equal(read_coded_csv(tmp_path / "x.csv", book), frame)
    text, binary = io.StringIO(), io.BytesIO()
    write_coded_csv(frame, text)
    write_coded_csv(frame, binary)
    assert binary.getvalue() == text.getvalue().encode("utf-8")
    pd.testing.assert_frame_equal(read_coded_csv(io.BytesIO(binary.getvalue()), book), frame)


CODE_IDS = ["work", "family", "health", "happy", "sad"]
# Ids are stored verbatim; anything but surrogates and NUL (which CSV cannot carry) may occur.
any_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
an_id = any_text.filter(bool)


@st.composite
def coded_tables(draw: st.DrawFn) -> pd.DataFrame:
    keys = draw(st.lists(st.tuples(an_id, an_id, an_id), unique=True, max_size=8))
    units = [
        CodedUnit(
            transcript_id=transcript,
            unit_id=unit_id,
            turn_index=draw(st.integers(-(2**63), 2**63 - 1)),
            text=draw(any_text),
            codes=frozenset(
                draw(st.sets(st.sampled_from(CODE_IDS[:3])))
                | draw(st.sets(st.sampled_from(CODE_IDS[3:]), max_size=1))
            ),
            speaker=draw(any_text),
            coder=coder,
            previous_text=draw(any_text),
            group=draw(st.one_of(st.none(), an_id)),
        )
        for transcript, unit_id, coder in keys
    ]
    return coded_frame(units)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(frame=coded_tables())
def test_any_table_survives_a_write_and_read(frame: pd.DataFrame) -> None:
    book = parse_codebook_yaml(BOOK_YAML)
    buffer = io.StringIO()
    write_coded_csv(frame, buffer)
    buffer.seek(0)
    pd.testing.assert_frame_equal(read_coded_csv(buffer, book), frame)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_read_sniffs_the_delimiter_from_the_header(book: Codebook, delimiter: str) -> None:
    """Spreadsheets in comma-decimal locales save ';' (tabs and '|' also occur); codes keep
    their own ';' inside a quoted cell."""
    d = delimiter
    text = f'transcript_id{d}text{d}codes\nt1{d}"a, b"{d}"work;happy"\nt1{d}c{d}\n'
    frame = read_coded_csv(io.StringIO(text), book)
    assert list(frame["text"]) == ["a, b", "c"]
    assert list(frame["codes"]) == [frozenset({"work", "happy"}), frozenset()]


def test_a_header_without_the_columns_is_shown_split_as_the_file_has_it(book: Codebook) -> None:
    with pytest.raises(CodedDataError, match="found: id, words, labels"):
        read_coded_csv(io.StringIO("id;words;labels\n1;a;b\n"), book)
