"""Every reader of user files, fed any bytes and mutations of valid files: it parses, or it
raises its own error of the project's tree (TranscriptError, CodedDataError, RefiFileError,
CodebookError), never another exception.

Readers: transcripts (.txt, .vtt, .srt, .docx, .csv, then split into sentences as an upload
is), coded-units CSV, REFI-QDA .qdc and .qdpx, YAML codebooks. Mutations of valid files: a slice
cut, bytes put in, a byte changed, the file cut short; for zips (.docx, .qdpx) one member's
bytes are mutated and the archive rebuilt, so the damage reaches the XML instead of the zip's
checksums.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codebook.coded_csv import read_coded_csv
from codebook.errors import (
    CodebookError,
    CodedDataError,
    IntercoderError,
    RefiFileError,
    TranscriptError,
)
from codebook.loader import build_codebook, codebook_to_yaml, parse_codebook_yaml
from codebook.refi.qdc import read_qdc, write_qdc
from codebook.refi.qdpx_read import read_qdpx
from codebook.transcripts import parse_transcript, split_sentences
from tests.test_refi_project import foreign_qdpx
from tests.test_service_support import SMALL_CODEBOOK, TRANSCRIPT_TXT
from tests.test_transcript_formats import make_docx

EXAMPLES = 300
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CODEBOOK = build_codebook(SMALL_CODEBOOK)
HOSTILE_TEXT = ["\x00", "\u202e", "\u2066", "\u200f", "\ufeff", "\r", "x" * 20_000, "\U0001f600"]


def _docx_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return make_docx(Path(folder) / "t.docx").read_bytes()


VALID_FILES: dict[str, bytes] = {
    "txt": TRANSCRIPT_TXT.encode(),
    "vtt": b"WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v P3>We retrain weekly.\n\n"
    b"00:00:03.000 --> 00:00:04.000\n<v Interviewer>Why?\n",
    "srt": b"1\n00:00:01,000 --> 00:00:02,500\nP3: We retrain weekly.\n\n"
    b"2\n00:00:03,000 --> 00:00:04,000\nInterviewer: Why?\n",
    "csv": b"speaker,text\nP3,We retrain weekly.\nInterviewer,Why?\n",
    "docx": _docx_bytes(),
    "coded.csv": b"transcript_id,text,codes\nt1,Someone could poison the data.,T.1\n"
    b"t1,We retrain weekly.,P\nt2,Thanks.,\n",
    "qdc": write_qdc(CODEBOOK),
    "qdpx": foreign_qdpx(),
    "yaml": codebook_to_yaml(CODEBOOK).encode(),
}


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """A valid file with one or a few byte-level changes."""
    size = len(data)
    position = st.integers(0, size)
    cut = st.tuples(position, position).map(lambda ab: data[: min(ab)] + data[max(ab) :])
    put_in = st.tuples(position, st.binary(min_size=1, max_size=64)).map(
        lambda pb: data[: pb[0]] + pb[1] + data[pb[0] :]
    )
    text_in = st.tuples(position, st.sampled_from(HOSTILE_TEXT)).map(
        lambda pt: data[: pt[0]] + pt[1].encode() + data[pt[0] :]
    )
    changed = st.tuples(st.integers(0, max(size - 1, 0)), st.integers(0, 255)).map(
        lambda pv: data[: pv[0]] + bytes([pv[1]]) + data[pv[0] + 1 :]
    )
    short = position.map(lambda end: data[:end])
    return st.one_of(cut, put_in, text_in, changed, short)


def _zip_member_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """The archive rebuilt with one member's bytes mutated (or emptied)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}

    def rebuilt(name: str, content: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, original in members.items():
                archive.writestr(member, content if member == name else original)
        return buffer.getvalue()

    return st.sampled_from(sorted(members)).flatmap(
        lambda name: _mutations(members[name]).map(lambda content: rebuilt(name, content))
    )


def inputs(kind: str) -> st.SearchStrategy[bytes]:
    valid = VALID_FILES[kind]
    strategies = [st.binary(max_size=4096), st.just(valid), _mutations(valid)]
    if kind in {"docx", "qdpx"}:
        strategies.append(_zip_member_mutations(valid))
    return st.one_of(strategies)


def _transcript(kind: str) -> Callable[[bytes], object]:
    def read(data: bytes) -> object:
        transcript = parse_transcript(data, kind, "t", filename=f"t.{kind}")
        return split_sentences(transcript)  # as an upload is stored

    return read


READERS: dict[str, tuple[Callable[[bytes], object], type[IntercoderError]]] = {
    **{kind: (_transcript(kind), TranscriptError) for kind in ("txt", "vtt", "srt", "csv", "docx")},
    "coded.csv": (lambda data: read_coded_csv(io.BytesIO(data), CODEBOOK), CodedDataError),
    "qdc": (lambda data: read_qdc(data, source="t.qdc"), RefiFileError),
    "qdpx": (lambda data: read_qdpx(data, source="t.qdpx"), RefiFileError),
    "yaml": (lambda data: parse_codebook_yaml(_yaml_text(data), "t.yaml"), CodebookError),
}


def _yaml_text(data: bytes) -> str:
    """A codebook file's text as ``load_codebook`` reads it (UTF-8; undecodable bytes stay as
    escapes, so they reach the YAML parser)."""
    return data.decode("utf-8", errors="surrogateescape")


def test_every_valid_sample_parses() -> None:
    """The mutations start from files each reader accepts."""
    for kind, (read, _) in READERS.items():
        read(VALID_FILES[kind])


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_reader_parses_or_raises_its_own_error(kind: str) -> None:
    read, own_error = READERS[kind]

    @FUZZ
    @given(data=inputs(kind))
    def run(data: bytes) -> None:
        with contextlib.suppress(own_error):  # refused with its own error, saying what was wrong
            read(data)

    run()


def test_a_qdpx_whose_directory_offsets_lie_is_refused() -> None:
    """Found by the fuzz above: a central directory declared 16 MiB further on than it is
    makes zipfile seek to a negative offset (ValueError), which was a 500 on import."""
    data = bytearray(VALID_FILES["qdpx"])
    end = data.rfind(b"PK\x05\x06")  # end of central directory record
    declared = int.from_bytes(data[end + 16 : end + 20], "little")
    data[end + 16 : end + 20] = (declared + 0x1000000).to_bytes(4, "little")
    with pytest.raises(RefiFileError, match="is damaged"):
        read_qdpx(bytes(data), source="t.qdpx")
