"""The HTML report: self-contained, complete, escaped, and written atomically beside its JSON."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from eval.html_report import NOT_AVAILABLE, render_html, write_report
from eval.report_model import (
    CodeRow,
    CoderPair,
    Confusion,
    CoveragePoint,
    DatasetInfo,
    FoldInfo,
    HumanAgreement,
    HumanComparison,
    HumanReference,
    Interval,
    LearningCurve,
    LearningPoint,
    MethodResult,
    Report,
    SchemeKind,
    TrustVerdict,
)

HOSTILE_CODE = "<script>alert(1)</script>"
HOSTILE_NAME = "\"quoted\" & <b>bold</b> 'name'"
IMG_TAG = '<img src="data:image/png;base64,'

# Images per layout: per method, one per-code bar plot (when it has codes), one confusion heat
# map (when it has a confusion matrix) and one coverage curve (when a point has a kappa); then
# one combined coverage plot (when any method has a curve) and one learning curve (when present).
SINGLE_LABEL_IMAGES = 2 * 3 + 1 + 1
MULTI_LABEL_IMAGES = (1 + 1) + (1 + 0) + 1


# --- report builders ----------------------------------------------------------------------


def _interval(low: float | None, high: float | None) -> Interval:
    return Interval(low=low, high=high, n_resamples=200)


def _code_rows(kappas: list[float | None], hostile: bool = False) -> list[CodeRow]:
    codes = ["GREET", "ASK", "$cost$", "a$b"]
    if hostile:
        codes[0] = HOSTILE_CODE
    return [
        CodeRow(
            code=codes[index],
            name=HOSTILE_NAME if hostile and index == 0 else f"Code {index}",
            prevalence=0.1 * (index + 1),
            n_true=10 + index,
            n_predicted=9 + index,
            kappa=kappa,
            kappa_ci=None if kappa is None else _interval(kappa - 0.1, min(1.0, kappa + 0.1)),
        )
        for index, kappa in enumerate(kappas)
    ]


def _curve(kappas: list[float | None]) -> list[CoveragePoint]:
    steps = len(kappas)
    return [
        CoveragePoint(coverage=(index + 1) / steps, n_units=10 * (index + 1), kappa=kappa)
        for index, kappa in enumerate(kappas)
    ]


def _single_label_method(name: str, kappa: float, hostile: bool = False) -> MethodResult:
    labels = ["GREET", "ASK", "(no code)"]
    if hostile:
        labels[0] = HOSTILE_CODE
    return MethodResult(
        method=name,
        description=f"{name} over sentence embeddings",
        kappa=kappa,
        kappa_ci=_interval(kappa - 0.05, kappa + 0.05),
        accuracy=0.81,
        macro_f1=None,
        per_code=_code_rows([kappa, 0.5, None, -0.05], hostile=hostile),
        confusion=Confusion(labels=labels, matrix=[[30, 2, 1], [3, 25, 4], [0, 5, 40]]),
        coverage_curve=_curve([0.95, 0.9, 0.8, None, kappa]),
        coverage_at_human_level=0.6,
        vs_humans=HumanComparison(
            n_units=40,
            vs_majority=0.7,
            vs_each_coder={"ann": 0.68, "bob": None},
            vs_each_coder_mean=0.68,
        ),
        seconds=12.34,
    )


def _base(kind: SchemeKind, methods: list[MethodResult], **extra: object) -> Report:
    fields: dict[str, object] = {
        "created": "2024-05-01T12:00:00Z",
        "intercoder_version": "0.1.0",
        "codebook_name": "Motivational interviewing",
        "codebook_version": "2.1",
        "model_id": "sentence-transformers/all-MiniLM-L6-v2",
        "kind": kind,
        "dataset": DatasetInfo(
            name="AnnoMI",
            sha256="ab" * 32,
            n_units=500,
            n_transcripts=40,
            n_groups=20,
            subsample=None,
        ),
        "folds": FoldInfo(k=5, grouping="video", seed=13, leave_one_group_out=False),
        "package_versions": {"numpy": "2.0.0", "torch": "2.13.0"},
        "human_agreement": None,
        "human_reference": None,
        "methods": methods,
        "learning_curve": None,
        "notes": [],
    }
    fields.update(extra)
    return Report.model_validate(fields)


def single_label_report() -> Report:
    """Two methods with confusion matrices, human agreement, a learning curve, hostile names."""
    return _base(
        "single-label",
        [_single_label_method("knn", 0.72, hostile=True), _single_label_method("centroid", 0.64)],
        human_agreement=HumanAgreement(
            n_units=40,
            n_coders=3,
            fleiss_kappa=0.66,
            pairwise_mean=0.67,
            pairwise_min=0.6,
            pairwise_max=0.75,
            pairs=[
                CoderPair(coder_a="ann", coder_b="bob", n_units=40, kappa=0.6),
                CoderPair(coder_a="ann", coder_b=HOSTILE_CODE, n_units=40, kappa=None),
            ],
        ),
        human_reference=HumanReference(kappa=0.67, source="pairwise mean on AnnoMI"),
        learning_curve=LearningCurve(
            method="knn",
            points=[
                LearningPoint(share=share, n_transcripts=32 * share, kappa=0.4 + 0.3 * share)
                for share in (0.05, 0.1, 0.25, 0.5, 1.0)
            ],
        ),
        notes=["Subsampled for speed", HOSTILE_CODE],
    )


def multi_label_report() -> Report:
    """No human agreement, no confusion; the second method has no figures at all but codes."""
    complete = MethodResult(
        method="knn-multilabel",
        description="threshold on neighbour votes",
        kappa=0.58,
        kappa_ci=_interval(0.5, 0.66),
        mean_kappa=0.55,
        alpha_masi=0.61,
        per_code=_code_rows([0.6, 0.55]),
        coverage_curve=_curve([0.8, 0.7, 0.58]),
        coverage_at_human_level=None,
        seconds=3.0,
    )
    empty = MethodResult(
        method="keyword-baseline",
        description="matches code names",
        kappa=None,
        kappa_ci=None,
        mean_kappa=None,
        alpha_masi=None,
        per_code=_code_rows([None, None]),
        coverage_curve=_curve([None, None]),
        coverage_at_human_level=None,
        seconds=0.02,
    )
    return _base(
        "multi-label",
        [complete, empty],
        dataset=DatasetInfo(
            name="toy",
            sha256="cd" * 32,
            n_units=30,
            n_transcripts=3,
            n_groups=3,
            subsample="first 30 units",
        ),
    )


@pytest.fixture(scope="module")
def single_page() -> str:
    return render_html(single_label_report())


@pytest.fixture(scope="module")
def multi_page() -> str:
    return render_html(multi_label_report())


@pytest.fixture(params=["single", "multi"])
def page(request: pytest.FixtureRequest, single_page: str, multi_page: str) -> str:
    return single_page if request.param == "single" else multi_page


def _method_row(page: str, method: str) -> str:
    """The row of the side-by-side table that names the method."""
    table = page.split("<h2>Methods side by side</h2>", 1)[1].split("</table>", 1)[0]
    rows = [row for row in table.split("<tr") if f"<strong>{method}</strong>" in row]
    assert len(rows) == 1
    return rows[0]


# --- tests --------------------------------------------------------------------------------


def test_page_fetches_nothing(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page
    assert "url(" not in page


def test_page_is_one_html_document(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<html") == 1
    assert page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page


def test_image_count_per_layout(single_page: str, multi_page: str) -> None:
    assert single_page.count(IMG_TAG) == SINGLE_LABEL_IMAGES
    assert multi_page.count(IMG_TAG) == MULTI_LABEL_IMAGES


def test_images_are_png(single_page: str) -> None:
    payloads = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)"', single_page)
    assert len(payloads) == SINGLE_LABEL_IMAGES
    for payload in payloads:
        assert base64.b64decode(payload).startswith(b"\x89PNG\r\n\x1a\n")


def test_every_method_and_its_kappa_appear(single_page: str, multi_page: str) -> None:
    for method in ("knn", "centroid"):
        assert f"<strong>{method}</strong>" in single_page
    assert "0.720 [0.670, 0.770]" in _method_row(single_page, "knn")
    assert "0.640" in _method_row(single_page, "centroid")
    assert "0.580 [0.500, 0.660]" in _method_row(multi_page, "knn-multilabel")
    assert "keyword-baseline" in multi_page


def test_header_carries_what_reproduces_the_figures(single_page: str, multi_page: str) -> None:
    for expected in ("Motivational interviewing", "2.1", "all-MiniLM-L6-v2", "ab" * 32, "seed 13"):
        assert expected in single_page
    assert "5-fold, grouped by video" in single_page
    assert "<td>torch</td>" in single_page
    assert "first 30 units" in multi_page
    assert "<li>Subsampled for speed</li>" in single_page


def test_scores_follow_the_scheme(single_page: str, multi_page: str) -> None:
    assert "Macro-F1" in single_page
    assert "Krippendorff" not in single_page
    assert "Krippendorff&#x27;s alpha (MASI)" in multi_page
    assert "Accuracy" not in multi_page


def test_human_agreement_only_when_present(single_page: str, multi_page: str) -> None:
    assert "Fleiss" in single_page
    assert "pairwise mean on AnnoMI" in single_page
    assert "Human agreement" not in multi_page


def test_hostile_strings_are_escaped(single_page: str) -> None:
    assert HOSTILE_CODE not in single_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in single_page
    assert "<b>bold</b>" not in single_page
    assert "&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; &#x27;name&#x27;" in single_page


def test_hostile_method_name_is_escaped() -> None:
    report = multi_label_report()
    hostile = report.methods[0].model_copy(update={"method": HOSTILE_CODE})
    page = render_html(report.model_copy(update={"methods": [hostile]}))
    assert HOSTILE_CODE not in page
    assert "<script" not in page.lower()


def test_none_renders_as_not_available(single_page: str, multi_page: str) -> None:
    empty_row = _method_row(multi_page, "keyword-baseline")
    # kappa, mean kappa, macro-F1, alpha, coverage, vs majority, vs each coder, multi-coded units
    assert empty_row.count(f">{NOT_AVAILABLE}<") == 8
    assert f'<td class="num">{NOT_AVAILABLE}</td>' in _method_row(single_page, "knn")  # macro-F1
    text = re.sub(r"data:image/png;base64,[^\"]+", "", multi_page)
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_best_kappa_is_marked_once(single_page: str, multi_page: str) -> None:
    assert single_page.count("best kappa</span>") == 1
    assert "best kappa</span>" in _method_row(single_page, "knn")
    assert "best kappa</span>" in _method_row(multi_page, "knn-multilabel")


def test_first_method_section_is_open(single_page: str) -> None:
    assert single_page.count("<details open>") == 1
    # One more method section, and the folded table of coder pairs before the methods.
    assert single_page.count("<details>") == 2
    assert "<details><summary>Every pair of coders (" in single_page
    assert single_page.index("<details open>") < single_page.rindex("<details>")


def test_kappa_scale_legend(page: str) -> None:
    assert "Landis &amp; Koch" in page
    assert "substantial" in page
    assert "almost perfect" in page


def test_rendering_closes_every_figure() -> None:
    plt.close("all")
    render_html(multi_label_report())
    assert plt.get_fignums() == []


def test_report_without_methods_renders() -> None:
    page = render_html(_base("single-label", []))
    assert page.count(IMG_TAG) == 0
    assert "Methods side by side" in page


def test_write_report_writes_both_files(tmp_path: Path) -> None:
    report = single_label_report()
    out_dir = tmp_path / "runs" / "first"
    json_path, html_path = write_report(report, out_dir)
    assert (json_path, html_path) == (out_dir / "report.json", out_dir / "report.html")
    assert Report.model_validate_json(json_path.read_text(encoding="utf-8")) == report
    assert html_path.read_text(encoding="utf-8").count(IMG_TAG) == SINGLE_LABEL_IMAGES
    assert sorted(path.name for path in out_dir.iterdir()) == ["report.html", "report.json"]


def test_write_report_replaces_an_earlier_report(tmp_path: Path) -> None:
    write_report(multi_label_report(), tmp_path)
    report = _base("single-label", [], notes=["second run"])
    json_path, html_path = write_report(report, tmp_path)
    assert Report.model_validate_json(json_path.read_text(encoding="utf-8")) == report
    page = html_path.read_text(encoding="utf-8")
    assert "second run" in page
    assert "keyword-baseline" not in page
    assert len(list(tmp_path.iterdir())) == 2


def _verdicts(page: str) -> list[str]:
    return re.findall(r'<span class="verdict (\w+)">([^<]*)</span>', page)


def test_each_code_gets_its_verdict_with_the_rule_beside_the_table(
    single_page: str, multi_page: str
) -> None:
    # knn's GREET: kappa 0.72 with interval 0.62-0.82, under the humans' 0.67 at its low end.
    kinds = [kind for kind, _ in _verdicts(single_page)]
    assert kinds == ["suggest_only", "suggest_only", "code_by_hand", "code_by_hand"] * 2
    says = _verdicts(single_page)[0][1]
    assert says.startswith("suggest only: kappa 0.72 reaches 0.41")
    assert "human level 0.67" in says
    assert "here 0.67 (the human reference: pairwise mean on AnnoMI)" in single_page
    assert "here 0.61 (no human agreement" in multi_page  # no reference: the default


def test_a_verdict_kept_in_the_report_is_shown_as_written() -> None:
    row = _code_rows([0.9])[0]
    verdict = TrustVerdict(kind="machine_alone", says="machine can code this alone: kept")
    kept = row.model_copy(update={"trust": verdict})
    method = _single_label_method("knn", 0.9).model_copy(update={"per_code": [kept]})
    assert _verdicts(render_html(_base("single-label", [method]))) == [
        ("machine_alone", "machine can code this alone: kept")
    ]
