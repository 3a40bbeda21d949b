"""The evaluation harness on small synthetic data with a deterministic encoder."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from codebook.coded import CodedUnit, coded_frame
from codebook.errors import InputError
from codebook.loader import parse_codebook_yaml
from eval.crossval import make_folds, prepare, subsample_groups
from eval.harness import EvalOptions, evaluate
from eval.inputs import EvalInput
from eval.methods import MajorityBaseline, SuggesterMethod, TfidfKnnBaseline
from models.testing import HashingEncoder

SINGLE = parse_codebook_yaml(
    textwrap.dedent(
        """\
        name: mood
        codes:
          - {id: M, name: mood, codable: false, exclusive: true}
          - {id: happy, parent: M, name: happy}
          - {id: sad, parent: M, name: sad}
          - {id: calm, parent: M, name: calm}
        """
    )
)
MULTI = parse_codebook_yaml(
    textwrap.dedent(
        """\
        name: topics
        codes:
          - {id: fruit, name: fruit}
          - {id: weather, name: weather}
        """
    )
)
WORDS = {"happy": "glad joyful smile", "sad": "gloomy tears grief", "calm": "quiet still peace"}


def single_label_frame(transcripts: int = 8) -> pd.DataFrame:
    rows = []
    for t in range(transcripts):
        for u, label in enumerate(["happy", "sad", "calm"] * 4):
            rows.append(
                CodedUnit(
                    transcript_id=f"t{t}",
                    unit_id=str(u),
                    turn_index=u,
                    text=f"{WORDS[label]} unit{u} talk{t}",
                    codes=frozenset({label}),
                    coder="ref",
                )
            )
    return coded_frame(rows)


def multi_coded_frame(reference: pd.DataFrame) -> pd.DataFrame:
    """Two coders on transcripts t0 and t1: one agrees with the reference, one flips 'calm'."""
    rows = []
    for _, row in reference.loc[reference["transcript_id"].isin(["t0", "t1"])].iterrows():
        label = next(iter(row["codes"]))
        flipped = "happy" if label == "calm" else label
        rows.append({**row.to_dict(), "coder": "ann", "codes": frozenset({label})})
        rows.append({**row.to_dict(), "coder": "bob", "codes": frozenset({flipped})})
    return coded_frame(pd.DataFrame(rows))


def test_folds_are_grouped_reproducible_and_cover_every_unit() -> None:
    groups = tuple(f"g{i % 6}" for i in range(60))
    folds = make_folds(groups, 3, seed=4)
    assert [t.tolist() for _, t in folds] == [t.tolist() for _, t in make_folds(groups, 3, 4)]
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(60))
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
    assert len(make_folds(groups, None, seed=0)) == 6
    with pytest.raises(InputError, match="between 2 and the number of transcripts"):
        make_folds(groups, 7, seed=0)
    with pytest.raises(InputError, match="at least 2 transcripts"):
        make_folds(("one",) * 4, 2, seed=0)


def test_subsample_groups_keeps_whole_groups() -> None:
    groups = tuple(f"g{i % 10}" for i in range(100))
    rows = subsample_groups(np.arange(100), groups, 0.3, seed=1)
    chosen = {groups[i] for i in rows}
    assert len(chosen) == 3
    assert len(rows) == 30


def test_embeddings_are_computed_once() -> None:
    encoder = HashingEncoder()
    data = prepare(single_label_frame(), SINGLE, encoder)
    source = EvalInput("mood", SINGLE, data.frame, None, None)
    methods = [SuggesterMethod("knn"), SuggesterMethod("linear"), MajorityBaseline()]
    evaluate(source, data, methods, EvalOptions(n_folds=4, learning_method="knn"))
    assert len(encoder.calls) == 1


def test_single_label_report_with_humans_beside_the_machine() -> None:
    reference = single_label_frame()
    data = prepare(reference, SINGLE, HashingEncoder())
    source = EvalInput("mood", SINGLE, data.frame, multi_coded_frame(reference), None)
    methods = [SuggesterMethod("knn"), TfidfKnnBaseline(), MajorityBaseline()]
    report = evaluate(source, data, methods, EvalOptions(n_folds=4, learning_method=None))

    assert report.kind == "single-label"
    assert report.codebook_version == SINGLE.version
    assert report.dataset.n_units == 96
    assert report.folds.k == 4
    humans = report.human_agreement
    assert humans is not None
    assert humans.n_units == 24
    assert humans.n_coders == 2
    # bob disagrees on the 8 'calm' units out of 24: kappa from the 2x3 table by hand.
    observed, expected = 16 / 24, (8 / 24) * (16 / 24) + (8 / 24) * (8 / 24) + 0.0
    assert humans.pairwise_mean == pytest.approx((observed - expected) / (1 - expected))
    assert report.human_reference is not None
    assert report.human_reference.kappa == humans.pairwise_mean

    by_name = {result.method: result for result in report.methods}
    knn = by_name["knn"]
    assert knn.kappa is not None
    assert knn.kappa > 0.9
    assert knn.accuracy is not None
    assert knn.confusion is not None
    assert sum(map(sum, knn.confusion.matrix)) == 96
    assert by_name["majority"].kappa == pytest.approx(0.0)
    assert knn.vs_humans is not None
    assert knn.vs_humans.n_units == 24
    assert set(knn.vs_humans.vs_each_coder) == {"ann", "bob"}
    coverages = [point.coverage for point in knn.coverage_curve]
    assert coverages == sorted(coverages)
    assert coverages[-1] == 1.0
    assert knn.coverage_curve[-1].kappa == pytest.approx(knn.kappa)
    assert knn.coverage_at_human_level == 1.0
    assert [row.code for row in knn.per_code] == ["happy", "sad", "calm"]


def test_multi_label_report_and_learning_curve() -> None:
    rows = []
    for t in range(6):
        for u in range(10):
            codes = {"fruit"} if u % 3 == 0 else {"weather"} if u % 3 == 1 else set()
            if u == 9:
                codes = {"fruit", "weather"}
            text = " ".join(
                (["apple pear"] if "fruit" in codes else [])
                + (["rain wind"] if "weather" in codes else [])
                + [f"word{u} chat{t}"]
            )
            rows.append(
                CodedUnit(
                    transcript_id=f"t{t}",
                    unit_id=str(u),
                    turn_index=u,
                    text=text,
                    codes=frozenset(codes),
                )
            )
    frame = coded_frame(rows)
    data = prepare(frame, MULTI, HashingEncoder())
    source = EvalInput("topics", MULTI, data.frame, None, None)
    report = evaluate(
        source, data, [SuggesterMethod("knn")], EvalOptions(n_folds=3, learning_method="knn")
    )
    assert report.kind == "multi-label"
    [knn] = report.methods
    assert knn.alpha_masi is not None
    assert knn.mean_kappa is not None
    assert knn.confusion is None
    assert report.human_reference is None
    assert knn.coverage_at_human_level is None
    assert report.learning_curve is not None
    shares = [point.share for point in report.learning_curve.points]
    assert shares == [0.1, 0.25, 0.5, 1.0]
    assert report.learning_curve.points[-1].kappa == pytest.approx(knn.kappa)
    assert report.learning_curve.points[0].n_transcripts == 1.0


def test_prepare_refuses_several_codings_of_one_unit() -> None:
    frame = single_label_frame(2)
    doubled = pd.concat([frame, frame.assign(coder="other")], ignore_index=True)
    with pytest.raises(InputError, match="coded more than once"):
        prepare(doubled, SINGLE, HashingEncoder())
