"""Opening a .qdpx archive without trusting it.

A .qdpx is a zip file from someone else's computer, so before anything is read the central
directory is checked against :class:`RefiLimits` (archive size, entry count, declared unzipped
size, per-entry compression ratio) and every entry name is checked: an absolute path, a drive
letter, a backslash, a ``..`` component or a NUL byte refuses the whole file. Entries are then
read into memory only (never extracted to disk), in chunks, with the limits checked again on the
bytes actually inflated, because declared sizes are written by the sender.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from codebook.errors import RefiFileError

MIB = 1024 * 1024
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class RefiLimits:
    """What a .qdpx may hold before intercoder refuses it (all sizes in bytes).

    ``max_ratio`` bounds each entry's unzipped size over its compressed size; it applies to
    entries larger than ``ratio_applies_above``, since tiny entries compress by any ratio.
    """

    max_archive_bytes: int = 200 * MIB
    max_uncompressed_bytes: int = 1024 * MIB
    max_entries: int = 10_000
    max_ratio: float = 200.0
    max_xml_bytes: int = 100 * MIB
    ratio_applies_above: int = 1 * MIB


DEFAULT_LIMITS = RefiLimits()


class SafeArchive:
    """The entries of a checked .qdpx, read into memory on demand within the limits."""

    def __init__(self, data: bytes, source: str, limits: RefiLimits) -> None:
        self.source = source
        self.limits = limits
        self._inflated = 0
        if len(data) > limits.max_archive_bytes:
            raise self._refuse(
                f"is {len(data)} bytes, over the limit of {limits.max_archive_bytes}",
                "raise max_archive_bytes in the REFI-QDA limits if the file is genuine",
            )
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
            hint = " (it looks like XML: a .qdc codebook?)" if data.lstrip()[:1] == b"<" else ""
            raise self._refuse(
                f"is not a zip archive{hint} ({error})",
                "a .qdpx is a zip file holding project.qde and a sources/ folder; "
                "export the project again from the QDA program",
            ) from None
        self._entries = {info.filename: info for info in self._zip.infolist()}
        self._check_directory(self._zip.infolist())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def project_document(self) -> str:
        """The project's .qde entry: ``project.qde`` if present, else the only .qde at the top."""
        top = [name for name in self._entries if "/" not in name.rstrip("/")]
        documents = [name for name in top if name.lower().endswith(".qde")]
        for name in documents:
            if name.lower() == "project.qde":
                return name
        if len(documents) == 1:
            return documents[0]
        found = ", ".join(documents) if documents else "none (entries: " + self._listing() + ")"
        raise self._refuse(
            f"has {len(documents)} .qde project documents at its top level: {found}",
            "a .qdpx holds exactly one project document (project.qde); export it again",
        )

    def source_entry(self, relative: str, where: str) -> str:
        """The entry of an ``internal://`` source: ``sources/NAME`` in either case (Sources/)."""
        parts = PurePosixPath(relative).parts
        if not relative or ".." in parts or relative.startswith("/") or "\\" in relative:
            raise self._refuse(f"{where} points at an unsafe path {relative!r}", _EXPORT_AGAIN)
        wanted = f"sources/{relative}".lower()
        exact = [name for name in self._entries if name.lower() == wanted]
        preferred = [name for name in exact if name.split("/", 1)[1] == relative]
        if preferred or exact:
            return (preferred or exact)[0]
        raise self._refuse(
            f"{where} points at internal://{relative}, but the archive has no "
            f"sources/{relative} (entries: {self._listing()})",
            "export the project again with its sources included",
        )

    def read(self, name: str, cap: int | None = None) -> bytes:
        """An entry's bytes, refusing it as soon as it inflates past a limit."""
        info = self._entries[name]
        cap = self.limits.max_uncompressed_bytes if cap is None else cap
        budget = min(cap, self.limits.max_uncompressed_bytes - self._inflated)
        chunks: list[bytes] = []
        total = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    self._check_inflation(name, info, total, budget)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            # ValueError: zipfile seeks to a negative offset when the directory's offsets lie
            raise self._refuse(f"entry {name!r} is damaged ({error})", _EXPORT_AGAIN) from None
        except (NotImplementedError, RuntimeError) as error:
            raise self._refuse(
                f"entry {name!r} cannot be unpacked ({error})",
                "export the project again without encryption, using ordinary zip compression",
            ) from None
        self._inflated += total
        return b"".join(chunks)

    def _check_inflation(self, name: str, info: zipfile.ZipInfo, total: int, budget: int) -> None:
        limits = self.limits
        if total > budget:
            raise self._refuse(
                f"entry {name!r} unzips to more than {budget} bytes, over the limits "
                f"(max_uncompressed_bytes {limits.max_uncompressed_bytes}, "
                f"max_xml_bytes {limits.max_xml_bytes} for XML)",
                "raise the REFI-QDA limits if the file is genuine",
            )
        if total > limits.ratio_applies_above and total > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise self._refuse(
                f"entry {name!r} inflates more than {limits.max_ratio:g} times its compressed "
                "size, as zip bombs do",
                "raise max_ratio in the REFI-QDA limits if the file is genuine",
            )

    def _check_directory(self, infos: list[zipfile.ZipInfo]) -> None:
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise self._refuse(
                f"has {len(infos)} entries, over the limit of {limits.max_entries}",
                "raise max_entries in the REFI-QDA limits if the file is genuine",
            )
        for info in infos:
            problem = unsafe_name_problem(info.filename)
            if problem:
                raise self._refuse(
                    f"has an entry named {info.filename!r} with {problem}, which could write "
                    "outside the folder it is unpacked into",
                    "do not open this file; ask its sender for a clean export",
                )
        if len(self._entries) != len(infos):
            raise self._refuse("has two entries with the same name", _EXPORT_AGAIN)
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_uncompressed_bytes:
            raise self._refuse(
                f"declares {declared} unzipped bytes, over the limit of "
                f"{limits.max_uncompressed_bytes}",
                "raise max_uncompressed_bytes in the REFI-QDA limits if the file is genuine",
            )
        for info in infos:
            if info.file_size > limits.ratio_applies_above and info.file_size > (
                limits.max_ratio * max(info.compress_size, 1)
            ):
                raise self._refuse(
                    f"entry {info.filename!r} declares {info.file_size} bytes compressed into "
                    f"{info.compress_size}, a ratio over {limits.max_ratio:g} as zip bombs have",
                    "raise max_ratio in the REFI-QDA limits if the file is genuine",
                )

    def _listing(self) -> str:
        names = list(self._entries)
        shown = ", ".join(names[:10]) or "none"
        return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")

    def _refuse(self, found: str, fix: str) -> RefiFileError:
        return RefiFileError(f"REFI-QDA project {self.source} {found}; {fix}")


_EXPORT_AGAIN = "export the project again from the QDA program"


def unsafe_name_problem(name: str) -> str | None:
    """What makes a zip entry name unsafe to honour (None when it is safe)."""
    if "\x00" in name:
        return "a NUL byte"
    if "\\" in name:
        return "a backslash"
    if name.startswith("/"):
        return "an absolute path"
    if _DRIVE.match(name):
        return "a drive letter"
    if ".." in name.split("/"):
        return "a '..' component"
    return None
