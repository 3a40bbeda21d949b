"""Write ``examples/interview-01.docx``: the interview of ``interview-01.vtt`` as a Word file,
one ``Speaker: text`` paragraph per turn, the way a transcriber would type it up.

Run from the repository root (with the virtual environment active): ``python
examples/make_docx.py``. The .docx is committed; this script says where it came from.
"""

from __future__ import annotations

from pathlib import Path

import docx

from codebook.transcripts import read_transcript

HERE = Path(__file__).resolve().parent


def main() -> None:
    transcript = read_transcript(HERE / "interview-01.vtt")
    document = docx.Document()
    for turn in transcript.turns:
        document.add_paragraph(f"{turn.speaker}: {turn.text}")
    document.save(str(HERE / "interview-01.docx"))


if __name__ == "__main__":
    main()
