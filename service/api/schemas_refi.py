"""Response bodies of the REFI-QDA import (the export answers with the file itself)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.api.schemas import ProjectOut


class CoderOut(BaseModel):
    coder: str = Field(description="the user's name in the QDA tool")
    coded_units: int = Field(description="sentences this coder gave at least one code")


class RefiImportOut(BaseModel):
    """The project made from a REFI-QDA file, and what it took from the file."""

    project: ProjectOut
    codes: int = Field(description="codable codes in the codebook")
    categories: int = Field(description="codes that only group others (not codable)")
    transcripts: int = Field(description="text sources stored as transcripts")
    sentences: int = Field(description="sentences of those transcripts")
    coders: list[CoderOut] = Field(description="every user with codings, in name order")
    exemplars: int = Field(
        description="coded sentences stored as exemplars (the coders' majority where several "
        "coded one); every coder's own coding is in the decision log"
    )
