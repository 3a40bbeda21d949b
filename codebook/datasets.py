"""Public human-coded datasets as coded-units tables: AnnoMI, SwDA and SwDA recoded so that most
utterances carry no code, and a registry by name.

The datasets live in the ``shared`` folder beside the project (``shared/data/annomi``,
``shared/data/swda``); nothing is copied into the package. Every loader checks the codes it
produces against the matching shipped codebook, so a table that loads is one the agreement code
can trust.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from codebook import chatterbot
from codebook.coded import CODED_COLUMNS, check_codes, coded_frame
from codebook.errors import CodedDataError, DatasetUnavailableError, Problem, UnknownNameError
from codebook.loader import load_codebook
from codebook.model import Codebook

AnnomiScheme = Literal["therapist", "client"]
AnnomiVariant = Literal["simple", "full"]

DATASETS: dict[str, str] = {
    "annomi:therapist": "AnnoMI therapist turns, main therapist behaviour, one label per turn",
    "annomi:client": "AnnoMI client turns, client talk type, one label per turn",
    "annomi-full:therapist": "AnnoMI therapist turns, main therapist behaviour, every annotator",
    "annomi-full:client": "AnnoMI client turns, client talk type, every annotator",
    "swda": "Switchboard dialogue acts: 1,155 conversations, 199,740 utterances, 41 tags",
    "swda-nocode": "SwDA as stance and questions: 5 codes, 73% of utterances uncoded",
    "chatterbot": "ChatterBot corpus openings by topic (18 codes; needs the dev extra)",
}
"""Dataset name -> one-line description, for ``load_dataset`` and listings."""

SWDA_SPLITS: tuple[str, ...] = ("train", "val", "test")

SWDA_NOCODE_TAGS: dict[str, tuple[str, ...]] = {
    "opinion": ("sv",),
    "agreement": ("aa", "aap_am"),
    "disagreement": ("ar", "arp_nd"),
    "question": ("qy", "qw", "qo", "qh", "qy^d", "qw^d", "qrr", "^g"),
    "answer": ("ny", "nn", "na", "ng", "no"),
}
"""The ``swda-nocode`` codes and the SwDA tags each takes; every other tag is "no code".

Fixed before any evaluation ran, as a study of stance and questions would code a conversation:
the acts that carry a view or an exchange of questions and answers, grouped as a qualitative
codebook groups them. Statements of fact (sd, 38%), back-channels, abandoned talk, fillers and
conventional formulas are left uncoded, so most utterances (73%) carry no code, as most
sentences of an interview study do."""

# Per AnnoMI scheme: the interlocutor whose turns are coded, the label column, the codebook.
_ANNOMI_SCHEMES: dict[str, tuple[str, str, str]] = {
    "therapist": ("therapist", "main_therapist_behaviour", "annomi-therapist"),
    "client": ("client", "client_talk_type", "annomi-client"),
}
_ANNOMI_COLUMNS = (
    "transcript_id",
    "video_url",
    "utterance_id",
    "interlocutor",
    "utterance_text",
    "main_therapist_behaviour",
    "client_talk_type",
)
# AnnoMI writes "n/a" in the label column of the other interlocutor's turns.
_ANNOMI_NO_LABEL = ("", "n/a")


def default_shared_dir() -> Path:
    """The ``shared`` folder beside the project root, else beside the working directory."""
    candidates = [
        Path(__file__).resolve().parents[1].parent / "shared",
        Path.cwd().parent / "shared",
    ]
    for candidate in candidates:
        if (candidate / "data").is_dir():
            return candidate
    tried = ", ".join(str(candidate) for candidate in candidates)
    raise DatasetUnavailableError(
        f"the shared datasets folder was not found (looked for a 'data' folder in {tried}); "
        "pass root=<path to the shared folder>"
    )


def _data_dir(root: Path | None, *parts: str) -> Path:
    shared = default_shared_dir() if root is None else Path(root)
    folder = shared.joinpath("data", *parts)
    if not folder.is_dir():
        raise DatasetUnavailableError(
            f"dataset folder {folder} does not exist; root must be the shared folder that holds "
            f"data/{'/'.join(parts)} (got root={shared})"
        )
    return folder


def load_annomi(
    scheme: AnnomiScheme, *, variant: AnnomiVariant = "simple", root: Path | None = None
) -> pd.DataFrame:
    """AnnoMI turns of one interlocutor, coded with that interlocutor's scheme.

    Units are whole turns, not sentences: AnnoMI's experts labelled turns, and one turn can be
    several sentences. ``scheme="therapist"`` gives therapist turns coded with
    ``main_therapist_behaviour``; ``"client"`` gives client turns coded with
    ``client_talk_type``. ``variant="simple"`` has one label per turn (coder "majority"; where
    several annotators coded a turn it is their most frequent label, not always a strict
    majority); ``"full"`` has every annotator's label (coder "annotator-<id>"), all ten of them
    for transcripts 7, 27, 55, 56, 66, 109 and 130. ``previous_text`` is the turn before, of
    either interlocutor; ``group`` is the video URL, since several transcripts come from one
    video.
    """
    if scheme not in _ANNOMI_SCHEMES:
        raise UnknownNameError(
            f"unknown AnnoMI scheme {scheme!r}; expected one of {', '.join(_ANNOMI_SCHEMES)}"
        )
    if variant not in ("simple", "full"):
        raise UnknownNameError(f"unknown AnnoMI variant {variant!r}; expected simple or full")
    interlocutor, label_column, codebook_name = _ANNOMI_SCHEMES[scheme]
    raw = _read_annomi_csv(_data_dir(root, "annomi") / f"AnnoMI-{variant}.csv")
    raw["previous_text"] = _previous_utterance(raw)
    turns = raw[raw["interlocutor"] == interlocutor]
    _check_labelled(turns, label_column)
    if variant == "full":
        coder_names = "annotator-" + turns["annotator_id"].astype(str)
    else:
        coder_names = pd.Series("majority", index=turns.index)
    frame = coded_frame(
        pd.DataFrame(
            {
                "transcript_id": turns["transcript_id"].astype(str),
                "unit_id": turns["utterance_id"].astype(str),
                "turn_index": turns["utterance_id"],
                "speaker": turns["interlocutor"],
                "text": turns["utterance_text"],
                "codes": [frozenset({label}) for label in turns[label_column]],
                "coder": coder_names,
                "previous_text": turns["previous_text"],
                "group": turns["video_url"],
            }
        )
    )
    check_codes(frame, load_codebook(codebook_name))
    return frame


def _read_annomi_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetUnavailableError(f"AnnoMI file {path} does not exist; check root")
    # keep_default_na=False: "n/a" is a value AnnoMI writes on purpose, not a missing cell.
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [column for column in _ANNOMI_COLUMNS if column not in raw.columns]
    if missing:
        raise CodedDataError(
            f"{path} lacks column(s) {', '.join(missing)}; expected the AnnoMI release's columns"
        )
    for column in ("transcript_id", "utterance_id", "annotator_id"):
        if column in raw.columns:
            raw[column] = raw[column].astype("int64")
    order = ["transcript_id", "utterance_id"]
    order += ["annotator_id"] if "annotator_id" in raw.columns else []
    return raw.sort_values(order, kind="stable").reset_index(drop=True)


def _previous_utterance(raw: pd.DataFrame) -> pd.Series:
    """The text of the utterance before each row's, in its transcript ("" for the first)."""
    # The full file repeats a turn once per annotator, so shift over distinct turns only.
    turns = raw.drop_duplicates(["transcript_id", "utterance_id"])
    previous = turns.groupby("transcript_id")["utterance_text"].shift(1, fill_value="")
    turn_keys = zip(turns["transcript_id"], turns["utterance_id"], strict=True)
    lookup = dict(zip(turn_keys, previous, strict=True))
    keys = zip(raw["transcript_id"], raw["utterance_id"], strict=True)
    return pd.Series([lookup[key] for key in keys], index=raw.index, dtype=str)


def _check_labelled(turns: pd.DataFrame, label_column: str) -> None:
    unlabelled = turns[turns[label_column].isin(_ANNOMI_NO_LABEL)]
    if unlabelled.empty:
        return
    problems = [
        Problem(f"transcript {transcript}, utterance {utterance}", f"{label_column} is {label!r}")
        for transcript, utterance, label in zip(
            unlabelled["transcript_id"],
            unlabelled["utterance_id"],
            unlabelled[label_column],
            strict=True,
        )
    ]
    raise CodedDataError(
        f"{len(problems)} AnnoMI turn(s) lack a {label_column} label although their "
        "interlocutor is coded with it; the AnnoMI file is not the expected release",
        problems,
    )


def load_swda(*, root: Path | None = None, splits: Sequence[str] = SWDA_SPLITS) -> pd.DataFrame:
    """Switchboard dialogue acts: one unit per utterance, its tag as the one code.

    transcript_id and group are the conversation file's stem, unit_id and turn_index the line's
    position in it (from 0), coder "swda"; the extra column ``split`` names the file's folder.
    Utterances are the processed corpus's (non-verbal ones dropped, interrupted ones merged).
    """
    unknown = [split for split in splits if split not in SWDA_SPLITS]
    if unknown:
        raise UnknownNameError(
            f"unknown SwDA split(s) {', '.join(unknown)}; expected some of {', '.join(SWDA_SPLITS)}"
        )
    base = _data_dir(root, "swda", "swda_data")
    rows: list[tuple[object, ...]] = []
    for split in splits:
        split_dir = base / split
        if not split_dir.is_dir():
            raise DatasetUnavailableError(f"SwDA split folder {split_dir} does not exist")
        for path in sorted(split_dir.glob("*.txt")):
            rows += _conversation_rows(path, split)
    frame = coded_frame(pd.DataFrame.from_records(rows, columns=_SWDA_COLUMNS))
    check_codes(frame, load_codebook("swda"))
    return frame


_SWDA_COLUMNS = [*CODED_COLUMNS, "split"]


def _conversation_rows(path: Path, split: str) -> list[tuple[object, ...]]:
    """One row per line ``speaker|text|tag`` of a conversation file, in _SWDA_COLUMNS order."""
    rows: list[tuple[object, ...]] = []
    previous_text = ""
    stem = path.stem
    for position, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        speaker, _, rest = line.partition("|")
        # rpartition: the tag never holds '|', so a '|' in the text stays in the text.
        text, separator, tag = rest.rpartition("|")
        if not separator or not tag:
            raise CodedDataError(
                f"{path}:{position + 1}: expected 'speaker|text|tag', found {line!r}; "
                "the SwDA files are not the expected processed release"
            )
        code_set = frozenset({tag})
        rows.append(
            (
                stem,
                str(position),
                position,
                speaker,
                text,
                code_set,
                "swda",
                previous_text,
                stem,
                split,
            )
        )
        previous_text = text
    return rows


def load_swda_nocode(
    *, root: Path | None = None, splits: Sequence[str] = SWDA_SPLITS
) -> pd.DataFrame:
    """SwDA recoded with the ``swda-nocode`` codebook: an utterance whose tag is in
    :data:`SWDA_NOCODE_TAGS` gets that code, every other utterance an empty code set."""
    code_of_tag = {tag: code for code, tags in SWDA_NOCODE_TAGS.items() for tag in tags}
    frame = load_swda(root=root, splits=splits)
    frame["codes"] = pd.Series(
        [
            frozenset(code_of_tag[tag] for tag in codes if tag in code_of_tag)
            for codes in frame["codes"]
        ],
        index=frame.index,
        dtype=object,
    )
    check_codes(frame, load_codebook("swda-nocode"))
    return frame


_LOADERS: dict[str, tuple[str, Callable[[Path | None], pd.DataFrame]]] = {
    "annomi:therapist": ("annomi-therapist", lambda root: load_annomi("therapist", root=root)),
    "annomi:client": ("annomi-client", lambda root: load_annomi("client", root=root)),
    "annomi-full:therapist": (
        "annomi-therapist",
        lambda root: load_annomi("therapist", variant="full", root=root),
    ),
    "annomi-full:client": (
        "annomi-client",
        lambda root: load_annomi("client", variant="full", root=root),
    ),
    "swda": ("swda", lambda root: load_swda(root=root)),
    "swda-nocode": ("swda-nocode", lambda root: load_swda_nocode(root=root)),
    # an installed package, not ../shared: root does not apply
    "chatterbot": (chatterbot.CODEBOOK_NAME, lambda root: chatterbot.load_chatterbot()),
}


def load_dataset(name: str, root: Path | None = None) -> tuple[Codebook, pd.DataFrame]:
    """The shipped codebook and coded-units table of a dataset named in :data:`DATASETS`."""
    if name not in _LOADERS:
        raise UnknownNameError(f"unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")
    codebook_name, loader = _LOADERS[name]
    return load_codebook(codebook_name), loader(root)
