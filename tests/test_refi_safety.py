"""Hostile and broken REFI-QDA files are refused with a clear error, and nothing is written."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codebook.errors import RefiFileError
from codebook.refi import RefiLimits, read_qdc, read_qdpx, read_refi_file

PROJECT = b"""<?xml version="1.0" encoding="utf-8"?>
<Project name="p" xmlns="urn:QDA-XML:project:1.0"><CodeBook><Codes>
<Code guid="c0000000-0000-0000-0000-000000000001" name="A" isCodable="true"/>
</Codes></CodeBook></Project>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<ROOT name="&lol9;"><CodeBook><Codes>
<Code guid="c0000000-0000-0000-0000-000000000001" name="&lol9;" isCodable="true"/>
</Codes></CodeBook></ROOT>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE CodeBook [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CodeBook><Codes><Code guid="c0000000-0000-0000-0000-000000000001" name="&secret;"
 isCodable="true"/></Codes></CodeBook>"""


def zip_bytes(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names made on purpose
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, data in entries.items():
                info = zipfile.ZipInfo(name.rstrip("#"))  # "#" makes a second key for one name
                info.compress_type = method
                archive.writestr(info, data)
    return buffer.getvalue()


def patch_headers(data: bytes, local_offset: int, central_offset: int, value: int) -> bytes:
    """Overwrite a 32-bit field of the local and the central header of a one-entry zip."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        position = patched.find(signature)
        assert position >= 0
        struct.pack_into("<I", patched, position + offset, value)
    return bytes(patched)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder inside tmp_path; the test fails if anything appears under tmp_path."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    before = sorted(tmp_path.rglob("*"))
    yield tmp_path
    assert sorted(tmp_path.rglob("*")) == before
    assert not Path("/tmp/intercoder-evil.txt").exists()


def refused(data: bytes, suffix: str, folder: Path, limits: RefiLimits | None = None) -> str:
    """The message of the RefiFileError that reading ``data`` as a file raises."""
    path = folder / f"hostile{suffix}"
    path.write_bytes(data)
    try:
        with pytest.raises(RefiFileError) as caught:
            read_refi_file(path, limits=limits or RefiLimits())
    finally:
        path.unlink()
    message = str(caught.value)
    assert str(path) in message
    return message


def test_entity_expansion_is_refused_in_projects_and_codebooks(workdir: Path) -> None:
    message = refused(zip_bytes({"project.qde": LAUGHS}), ".qdpx", workdir)
    assert "project.qde" in message
    assert "entities" in message
    assert "entities" in refused(LAUGHS, ".qdc", workdir)


def test_external_entities_are_refused(workdir: Path) -> None:
    assert "external" in refused(EXTERNAL, ".qdc", workdir)
    with pytest.raises(RefiFileError, match="entities"):
        read_qdc(EXTERNAL.replace(b'SYSTEM "file:///etc/passwd"', b'"harmless"'))


def test_a_zip_bomb_is_refused_from_its_central_directory(workdir: Path) -> None:
    bomb = zip_bytes({"project.qde": PROJECT, "sources/big.txt": b"\0" * (16 * 1024 * 1024)})
    assert len(bomb) < 100_000
    assert "ratio over 200" in refused(bomb, ".qdpx", workdir)
    lenient = RefiLimits(max_ratio=1e9, max_uncompressed_bytes=8 * 1024 * 1024)
    message = refused(bomb, ".qdpx", workdir, lenient)
    assert "declares 1677" in message


def test_declared_sizes_are_not_trusted(workdir: Path) -> None:
    """The headers claim 100 bytes for an entry that inflates to 4 MiB."""
    lying = patch_headers(
        zip_bytes({"project.qde": PROJECT + b" " * (4 * 1024 * 1024)}), 22, 24, 100
    )
    assert zipfile.ZipFile(io.BytesIO(lying)).infolist()[0].file_size == 100
    assert "damaged" in refused(lying, ".qdpx", workdir)
    honest = zip_bytes({"project.qde": PROJECT + b" " * 5000})
    small = RefiLimits(max_xml_bytes=1000)
    assert "unzips to more than 1000 bytes" in refused(honest, ".qdpx", workdir, small)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.txt", "a '..' component"),
        ("sources/../../evil.txt", "a '..' component"),
        ("/tmp/intercoder-evil.txt", "an absolute path"),
        ("C:/evil.txt", "a drive letter"),
        ("..\\evil.txt", "a backslash"),
    ],
)
def test_paths_leaving_the_archive_are_refused(workdir: Path, name: str, problem: str) -> None:
    data = zip_bytes({"project.qde": PROJECT, name: b"pwned"})
    message = refused(data, ".qdpx", workdir)
    assert problem in message
    assert repr(name) in message


@pytest.mark.parametrize(
    ("entries", "limits", "expected"),
    [
        ({f"sources/{n}.txt": b"x" for n in range(11)}, RefiLimits(max_entries=10), "11 entries"),
        ({"project.qde": PROJECT}, RefiLimits(max_archive_bytes=100), "over the limit of 100"),
        ({"project.qde": PROJECT}, RefiLimits(max_uncompressed_bytes=100), "declares"),
        ({"a.qde": PROJECT, "b.qde": PROJECT}, None, "2 .qde project documents"),
        ({"sub/project.qde": PROJECT}, None, "0 .qde project documents"),
        ({"project.qde": PROJECT, "project.qde#": PROJECT}, None, "same name"),
        ({"project.qde": b"<Project"}, None, "not well-formed XML"),
        ({"project.qde": b"<CodeBook/>"}, None, "<CodeBook> root element where a <Project>"),
    ],
)
def test_limits_and_broken_archives(
    workdir: Path, entries: dict[str, bytes], limits: RefiLimits | None, expected: str
) -> None:
    assert expected in refused(zip_bytes(entries), ".qdpx", workdir, limits)


def test_encrypted_entries_and_non_zip_data_are_refused(workdir: Path) -> None:
    encrypted = patch_headers(zip_bytes({"project.qde": PROJECT}, zipfile.ZIP_STORED), 6, 8, 1)
    assert "cannot be unpacked" in refused(encrypted, ".qdpx", workdir)
    assert "looks like XML" in refused(PROJECT, ".qdpx", workdir)
    assert "not a zip archive" in refused(b"plain text", ".qdpx", workdir)


def test_limits_apply_to_bytes_as_well() -> None:
    with pytest.raises(RefiFileError, match=r"<qdpx> has an entry named '\.\./x'"):
        read_qdpx(zip_bytes({"project.qde": PROJECT, "../x": b""}))
    with pytest.raises(RefiFileError, match="over the limit of 10"):
        read_qdc(PROJECT, limits=RefiLimits(max_xml_bytes=10))
