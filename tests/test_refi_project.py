"""REFI-QDA projects (.qdpx): the NVivo sample, lenient reading, coded sentences, round trips."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from codebook.coded import CodedUnit, coded_frame, majority_labels
from codebook.errors import CodedDataError, RefiFileError
from codebook.loader import parse_codebook_yaml
from codebook.refi import (
    MachineCodings,
    OverlapRule,
    RefiProject,
    machine_user_name,
    project_from_parts,
    read_qdpx,
    read_refi_file,
    write_qdpx,
)
from codebook.refi.offsets import OffsetCounter
from codebook.refi.overlap import CoverageCounter, merge_spans
from codebook.transcripts import parse_transcript, split_sentences

SCHEMAS = Path(__file__).resolve().parents[1] / "codebook" / "refi" / "schemas"
ALICE, BOB = "{AAAAAAAA-1111-1111-1111-111111111111}", "bbbbbbbb-2222-2222-2222-222222222222"
FEAR, HOPE = "C0000000-0000-0000-0000-000000000002", "c0000000-0000-0000-0000-000000000003"
TEXT = "Interviewer: How do you feel?\r\n\r\nP1: I think it is scary. But I hope it helps.\r\n"


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def span(text: str, part: str) -> str:
    start = text.index(part)
    return f'startPosition="{start}" endPosition="{start + len(part)}"'


def coding(code: str, user: str | None, number: int) -> str:
    who = f' creatingUser="{user}"' if user else ""
    guid = f"dddddddd-0000-0000-0000-{number:012d}"
    return f'<Coding guid="{guid}"{who}><CodeRef targetGUID="{code}"/></Coding>'


def foreign_qde(namespace: str = "urn:QDA-XML:project:1:0") -> bytes:
    """A project as another program might write it: every lenient-reading case at once."""
    selections = [
        f'<PlainTextSelection guid="E0000000-0000-0000-0000-000000000001" '
        f'{span(TEXT, "I think it")} creatingUser="{ALICE}">'
        f"{coding(FEAR, None, 1)}</PlainTextSelection>",
        f'<PlainTextSelection guid="{{e0000000-0000-0000-0000-000000000002}}" '
        f"{span(TEXT, 'But I hope it helps.')}>"
        f"{coding(HOPE, ALICE, 2)}{coding(FEAR, BOB, 3)}</PlainTextSelection>",
        f'<PlainTextSelection guid="e0000000-0000-0000-0000-000000000003" '
        f"{span(TEXT, 'How do you feel?')}>{coding(HOPE, None, 4)}</PlainTextSelection>",
    ]
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project name="Trial" origin="Some QDA 1.0" xmlns="{namespace}">
 <Users><User guid="{ALICE}" name="Alice"/><User guid="{BOB}" id="B" name="Bob"/></Users>
 <CodeBook><Codes>
  <Code guid="c0000000-0000-0000-0000-000000000001" name="Feelings" isCodable="false">
   <Code guid="{FEAR}" name="Fear" isCodable="true" color="#FF0000"/>
   <Code guid="{HOPE}" name="Hope" isCodable="true"/>
  </Code>
 </Codes></CodeBook>
 <Sources>
  <TextSource guid="5a000000-0000-0000-0000-000000000001" name="Interview 1.txt"
    plainTextPath="internal://s1.txt">{"".join(selections)}</TextSource>
  <PictureSource guid="5a000000-0000-0000-0000-000000000002" name="photo.jpg"/>
 </Sources>
 <Sets><Set guid="5e000000-0000-0000-0000-000000000001" name="Emotions">
  <MemberCode targetGUID="{FEAR}"/><MemberCode targetGUID="{HOPE}"/></Set></Sets>
</Project>""".encode()


def foreign_qdpx(**changes: bytes) -> bytes:
    entries = {
        "Trial.qde": foreign_qde(),
        "Sources/s1.txt": b"\xef\xbb\xbf" + TEXT.encode(),
        "Sources/photo.jpg": b"\xff\xd8",
    }
    return zip_bytes({**entries, **changes})


def codes_of(project: RefiProject, coder: str) -> list[set[str]]:
    rows = project.coded[project.coded["coder"] == coder]
    return [set(codes) for codes in rows["codes"]]


def assert_valid(document: bytes, schema: Path) -> None:
    validator = etree.XMLSchema(etree.parse(str(schema)))
    assert validator.validate(etree.fromstring(document)), validator.error_log


def project_document(qdpx: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(qdpx)).read("project.qde")


def test_nvivo_sample_imports_and_round_trips(shared_dir: Path) -> None:
    path = shared_dir / "samples" / "refi-qda" / "nvivo-mac-15.0-qdpx" / "nvivo_project.qdpx"
    project = read_refi_file(path)
    book = project.codebook
    assert (project.name, book.name, book.source) == (
        "qc project",
        "qc project",
        "NVivo for Mac 15.0.0",
    )
    assert len(book.codes) == 262
    assert [code.id for code in book.children(None)] == [
        "rq1_definition", "rq2_curriculum_and_instruction", "rq3_process",
    ]  # fmt: skip
    assert book.ancestors("writing") == (
        "english", "humanities", "other_subject_areas", "interdisciplinary_cs", "curriculum",
        "rq2_curriculum_and_instruction",
    )  # fmt: skip
    assert book.ancestors("programming") == ("competencies", "rq1_definition")
    assert book.get("cs_as_programming_programming").parent == "cs_as_programming"
    assert book.get("rq1_definition").guid == "34653336-3766-3235-6466-363134396437"
    assert [source.transcript.text for source in project.sources] == ["\n", "\n"]
    first = "66653866-6334-3535-3435-366637306566"
    assert project.sources[0].name == project.transcripts[0].id == first
    assert (project.coders, project.selections, len(project.coded)) == ((), (), 0)
    written = write_qdpx(project)
    assert_valid(project_document(written), shared_dir / "samples/refi-qda/schema/Project.xsd")
    assert read_qdpx(written) == project
    assert write_qdpx(read_qdpx(written)) == written


def test_lenient_reading_of_a_foreign_project() -> None:
    project = read_qdpx(foreign_qdpx(), source="trial.qdpx")
    assert project.name == "Trial"
    assert [(code.id, code.parent) for code in project.codebook.codes] == [
        ("feelings", None), ("fear", "feelings"), ("hope", "feelings"),
    ]  # fmt: skip
    assert project.codebook.get("fear").guid == FEAR.lower()
    assert project.codebook.sets[0].codes == ("fear", "hope")
    (source,) = project.sources
    assert (source.name, source.transcript.id, source.transcript.text) == (
        "Interview 1.txt",
        "Interview 1",
        TEXT,
    )
    assert [s.text for s in source.sentences] == [
        "How do you feel?", "I think it is scary.", "But I hope it helps.",
    ]  # fmt: skip
    assert project.coders == ("Alice", "Bob", "unknown")
    pairs = [(s.code_id, s.coder, s.guid[-2:]) for s in project.selections]
    assert pairs == [
        ("fear", "Alice", "01"),
        ("hope", "Alice", "02"),
        ("fear", "Bob", "02"),
        ("hope", "unknown", "03"),
    ]
    first = project.selections[0]
    assert TEXT[first.start : first.end] == "I think it"
    assert read_qdpx(write_qdpx(project)) == project


def test_coded_sentences_follow_the_overlap_rule() -> None:
    """'I think it' covers 8 of the 16 non-space characters of 'I think it is scary.'."""
    project = read_qdpx(foreign_qdpx())
    assert list(project.coded.columns[:9]) == [
        "transcript_id", "unit_id", "turn_index", "speaker", "text", "codes", "coder",
        "previous_text", "group",
    ]  # fmt: skip
    assert codes_of(project, "Alice") == [set(), {"fear"}, {"hope"}]
    assert codes_of(project, "Bob") == [set(), set(), {"fear"}]
    assert codes_of(project, "unknown") == [{"hope"}, set(), set()]
    alice = project.coded[project.coded["coder"] == "Alice"]
    assert list(alice["speaker"]) == ["Interviewer", "P1", "P1"]
    assert list(alice["previous_text"]) == ["", "How do you feel?", "I think it is scary."]
    assert set(project.coded["group"]) == {"Interview 1"}
    stricter = read_qdpx(foreign_qdpx(), rule=OverlapRule(min_share=0.6))
    assert codes_of(stricter, "Alice") == [set(), set(), {"hope"}]
    assert majority_labels(project.coded)["codes"].tolist() == [frozenset()] * 3


@pytest.mark.parametrize("namespace", ["urn:QDA-XML:project:1.0", "urn:QDA-XML:project:0:4", ""])
def test_namespaces_and_project_document_names(namespace: str) -> None:
    qde = foreign_qde(namespace).replace(b' xmlns=""', b"")
    project = read_qdpx(foreign_qdpx(**{"Trial.qde": qde}))
    assert codes_of(project, "Alice") == [set(), {"fear"}, {"hope"}]


def test_the_overlap_rule_refuses_impossible_shares() -> None:
    for share in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(RefiFileError, match="min_share"):
            OverlapRule(min_share=share)


@given(
    st.text(alphabet="ab \n", max_size=40),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=5),
    st.tuples(st.integers(0, 40), st.integers(0, 40)),
)
def test_coverage_counts_what_a_brute_force_count_does(
    text: str, spans: list[tuple[int, int]], sentence: tuple[int, int]
) -> None:
    n = len(text)
    spans = [(min(a, b, n), min(max(a, b), n)) for a, b in spans]
    start, end = min(sentence[0], n), min(max(sentence), n)
    start = min(start, end)
    expected = sum(
        1 for i in range(start, end) if not text[i].isspace() and any(a <= i < b for a, b in spans)
    )
    assert CoverageCounter(text).covered(start, end, merge_spans(spans)) == expected


@given(st.text(alphabet="a\r\n😀é", max_size=30))
def test_utf16_offsets_convert_both_ways(text: str) -> None:
    counter = OffsetCounter(text, utf16=True)
    assert counter.length == len(text.encode("utf-16-le")) // 2
    for index in range(len(text) + 1):
        assert counter.to_index(counter.to_offset(index)) == index


UTF16_TEXT = "P1: Nice 😀 day.\r\nP2: Great 👍 idea.\r\n"


def utf16_project(start: int, end: int) -> bytes:
    qde = foreign_qde().replace(b'internal://s1.txt"', b'internal://u.txt"')
    qde = qde.replace(
        span(TEXT, "I think it").encode(), f'startPosition="{start}" endPosition="{end}"'.encode()
    )
    qde = qde.replace(
        b"e0000000-0000-0000-0000-000000000002", b"e0000000-0000-0000-0000-000000000001"
    )
    qde = qde.replace(
        span(TEXT, "But I hope it helps.").encode(), b'startPosition="0" endPosition="2"'
    )
    qde = qde.replace(span(TEXT, "How do you feel?").encode(), b'startPosition="0" endPosition="2"')
    return zip_bytes({"project.qde": qde, "sources/u.txt": UTF16_TEXT.encode()})


def test_nvivo_windows_utf16_offsets_with_emoji_and_crlf() -> None:
    """In UTF-16 units 'Great 👍 idea.' is [22, 36); in code points it is [21, 34)."""
    assert (len(UTF16_TEXT), len(UTF16_TEXT.encode("utf-16-le")) // 2) == (36, 38)
    project = read_qdpx(utf16_project(22, 36), utf16_offsets=True)
    first = project.selections[0]
    assert (first.start, first.end) == (21, 34)
    assert UTF16_TEXT[first.start : first.end] == "Great 👍 idea."
    assert codes_of(project, "Alice") == [set(), {"fear"}]
    written = project_document(write_qdpx(project, utf16_offsets=True))
    assert b'startPosition="22" endPosition="36"' in written
    assert read_qdpx(write_qdpx(project, utf16_offsets=True), utf16_offsets=True) == project
    assert b'startPosition="21" endPosition="34"' in project_document(write_qdpx(project))
    assert project.warnings == ()
    with pytest.raises(RefiFileError, match="NVivo for Windows"):
        read_qdpx(utf16_project(22, 38))


def test_a_selection_splitting_a_surrogate_pair_is_widened_with_one_warning() -> None:
    """9 is the 😀's first unit and 10 its second: [10, 12) starts inside it, [9, 10) ends
    inside it; both widen to the whole emoji, and the file reads with one warning."""
    project = read_qdpx(utf16_project(10, 12), utf16_offsets=True)
    first = project.selections[0]
    assert UTF16_TEXT[first.start : first.end] == "😀 "
    assert len(project.warnings) == 1
    assert "1 selection(s) split a character" in project.warnings[0]
    inside_end = read_qdpx(utf16_project(9, 10), utf16_offsets=True).selections[0]
    assert UTF16_TEXT[inside_end.start : inside_end.end] == "😀"


def test_snapping_moves_an_offset_inside_a_character_outward() -> None:
    counter = OffsetCounter("a😀b", utf16=True)  # units: a=0, 😀=1-2, b=3
    assert counter.to_index_snapped(2, is_end=False) == (1, True)
    assert counter.to_index_snapped(2, is_end=True) == (2, True)
    assert counter.to_index_snapped(3, is_end=True) == (2, False)
    assert counter.to_index_snapped(5, is_end=True) is None


def parts_project() -> RefiProject:
    book = parse_codebook_yaml(
        "name: study\ncodes:\n  - {id: T, name: topics, codable: false}\n"
        "  - {id: T.1, name: risk, parent: T}\n  - {id: T.2, name: use, parent: T}\n"
        "sets:\n  - {name: all, codes: [T.1, T.2]}\n"
    )
    transcripts = [
        parse_transcript("I: Why?\r\n\r\nP: Scary 😀 stuff. It helps.\r\n".encode(), "text", "p1"),
        parse_transcript(b"Just one paragraph of notes. Another sentence.", "text", "notes.txt"),
    ]
    bob = {("p1", "1"): {"T.1"}, ("p1", "2"): {"T.1", "T.2"}}
    by_coder = {"ann": {**bob, ("notes.txt", "0"): {"T.2"}}, "bob": bob}
    rows = [
        CodedUnit(
            t.id,
            str(s.index),
            s.turn_index,
            s.text,
            codes=frozenset(codes.get((t.id, str(s.index)), ())),
            speaker=s.speaker,
            coder=coder,
        )
        for coder, codes in by_coder.items()
        for t in transcripts
        for s in split_sentences(t)
    ]
    return project_from_parts("export", book, transcripts, coded_frame(rows))


def test_a_project_from_parts_round_trips_exactly() -> None:
    project = parts_project()
    assert [source.name for source in project.sources] == ["p1.txt", "notes.txt.txt"]
    assert project.coders == ("ann", "bob")
    assert codes_of(project, "ann") == [set(), {"T.1"}, {"T.1", "T.2"}, {"T.2"}, set()]
    assert codes_of(project, "bob") == [set(), {"T.1"}, {"T.1", "T.2"}]
    for utf16 in (False, True):
        written = write_qdpx(project, utf16_offsets=utf16)
        assert_valid(project_document(written), SCHEMAS / "Project.xsd")
        again = read_qdpx(written, utf16_offsets=utf16)
        assert again == project
        assert again.codebook.version == project.codebook.version
        pd.testing.assert_frame_equal(again.coded, project.coded)
    archive = zipfile.ZipFile(io.BytesIO(write_qdpx(project)))
    texts = {name: archive.read(name) for name in archive.namelist() if name.startswith("sources/")}
    assert sorted(texts.values()) == sorted(t.text.encode() for t in project.transcripts)


def test_machine_codings_become_a_coder_of_their_own() -> None:
    project = parts_project()
    user = machine_user_name("all-MiniLM-L6-v2", "knn")
    assert user == "intercoder (all-MiniLM-L6-v2, knn)"
    rows = [CodedUnit("p1", "2", 1, "x", frozenset({"T.2"})), CodedUnit("p1", "0", 0, "x")]
    written = write_qdpx(project, machine=MachineCodings(user, coded_frame(rows)))
    assert_valid(project_document(written), SCHEMAS / "Project.xsd")
    again = read_qdpx(written)
    assert again.coders == ("ann", "bob", user)
    assert codes_of(again, user) == [set(), set(), {"T.2"}]
    replaced = MachineCodings(user, coded_frame([CodedUnit("p1", "1", 1, "x", frozenset({"T.1"}))]))
    twice = read_qdpx(write_qdpx(again, machine=replaced))
    assert codes_of(twice, user) == [set(), {"T.1"}, set()]
    unknown = MachineCodings(user, coded_frame([CodedUnit("p1", "99", 0, "x", frozenset({"T.1"}))]))
    with pytest.raises(CodedDataError, match="at most once"):
        write_qdpx(project, machine=unknown)


def test_parts_refuse_rows_that_name_no_sentence_or_a_category() -> None:
    project = parts_project()
    for unit, codes, expected in (("9", {"T.1"}, "no such sentence"), ("0", {"T"}, "category")):
        rows = coded_frame([CodedUnit("p1", unit, 0, "x", frozenset(codes))])
        with pytest.raises(CodedDataError) as caught:
            project_from_parts("x", project.codebook, project.transcripts, rows)
        assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            b'plainTextPath="internal://s1.txt"',
            b'richTextPath="internal://s1.docx"',
            "only the rich-text file",
        ),
        (b"internal://s1.txt", b"relative://s1.txt", "stored outside the project"),
        (b"internal://s1.txt", b"internal://../s1.txt", "unsafe path"),
        (b"internal://s1.txt", b"internal://s2.txt", "has no sources/s2.txt"),
        (
            f'targetGUID="{HOPE}"/></Coding>'.encode(),
            b'targetGUID="c0000000-0000-0000-0000-0000000000ff"/></Coding>',
            "does not have",
        ),
        (b"<CodeBook>", b"<CodeBookX>", "has no <CodeBook>"),
    ],
)
def test_broken_projects_are_clear_errors(old: bytes, new: bytes, expected: str) -> None:
    qde = foreign_qde().replace(old, new, 1)
    if b"<CodeBookX>" in qde:
        qde = qde.replace(b"</CodeBook>", b"</CodeBookX>")
    with pytest.raises(RefiFileError) as caught:
        read_qdpx(foreign_qdpx(**{"Trial.qde": qde}), source="trial.qdpx")
    assert expected in str(caught.value)
    assert "trial.qdpx" in str(caught.value)


def test_inline_text_unlabelled_paragraphs_and_whole_source_codings() -> None:
    text = "First thought here. Second thought.\n\nA new paragraph."
    qde = (
        foreign_qde()
        .replace(
            b'plainTextPath="internal://s1.txt">',
            f"><PlainTextContent>{text}</PlainTextContent>".encode(),
        )
        .replace(b"<PlainTextSelection", b"<Ignored")
        .replace(b"</PlainTextSelection>", b"</Ignored>")
    )
    qde = qde.replace(b"</TextSource>", f"{coding(HOPE, BOB, 9)}</TextSource>".encode())
    project = read_qdpx(zip_bytes({"x.qde": qde}))
    (source,) = project.sources
    assert [turn.speaker for turn in source.transcript.turns] == [""]
    assert [text[s.start : s.end] for s in source.sentences] == [
        "First thought here.", "Second thought.", "A new paragraph.",
    ]  # fmt: skip
    assert codes_of(project, "Bob") == [{"hope"}] * 3
    assert read_qdpx(write_qdpx(project)) == project


def test_read_refi_file_by_suffix(tmp_path: Path) -> None:
    path = tmp_path / "study.QDPX"
    path.write_bytes(foreign_qdpx())
    assert read_refi_file(path).coders == ("Alice", "Bob", "unknown")
    other = tmp_path / "study.zip"
    other.write_bytes(b"")
    with pytest.raises(RefiFileError, match=r"expected the extension \.qdc"):
        read_refi_file(other)
    with pytest.raises(RefiFileError, match="cannot read"):
        read_refi_file(tmp_path / "missing.qdc")
