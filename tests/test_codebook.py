"""Codebook model, YAML validation and the shipped codebooks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from codebook.errors import CodebookError, UnknownNameError
from codebook.loader import (
    SHIPPED_CODEBOOKS,
    codebook_to_yaml,
    load_codebook,
    parse_codebook_yaml,
)

NESTED = textwrap.dedent(
    """\
    name: nested
    codes:
      - id: T
        name: top
        codable: false
      - id: T.1
        parent: T
        name: talk type
        exclusive: true
        codable: false
      - id: T.1.a
        parent: T.1
        name: change
        colour: "#0F0"
      - id: T.1.b
        parent: T.1
        name: sustain
      - id: T.1.b.i
        parent: T.1.b
        name: strong sustain
      - id: T.2
        parent: T
        name: free code
    """
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(CodebookError) as caught:
        parse_codebook_yaml(text, "book.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_hierarchy_of_any_depth_and_exclusive_groups() -> None:
    book = parse_codebook_yaml(NESTED)
    assert book.ancestors("T.1.b.i") == ("T.1.b", "T.1", "T")
    assert book.depth("T.1.b.i") == 3
    assert book.codable_ids == ("T.1.a", "T.1.b", "T.1.b.i", "T.2")
    assert book.exclusive_groups == {"T.1": ("T.1.a", "T.1.b", "T.1.b.i")}
    assert [code.id for code in book.children("T.1")] == ["T.1.a", "T.1.b"]
    assert book.get("T.1.a").colour == "#00ff00"


def test_code_set_problems_name_what_is_wrong() -> None:
    book = parse_codebook_yaml(NESTED)
    assert book.code_set_problems({"T.1.a", "T.2"}) == []
    assert book.code_set_problems(set()) == []
    clash = book.code_set_problems({"T.1.a", "T.1.b.i"})
    assert len(clash) == 1
    assert "exclusive category 'T.1'" in clash[0]
    assert book.code_set_problems({"nope", "T"}) == [
        "unknown code 'nope'",
        "'T' is a category, not a codable code",
    ]


def test_version_is_a_content_hash() -> None:
    first = parse_codebook_yaml(NESTED)
    again = parse_codebook_yaml(NESTED)
    edited = parse_codebook_yaml(NESTED.replace("name: change", "name: change talk"))
    assert first.version == again.version
    assert first.version != edited.version
    assert len(first.version) == 16


def test_yaml_round_trip_keeps_content_and_version() -> None:
    book = load_codebook("interview")
    assert parse_codebook_yaml(codebook_to_yaml(book)) == book
    assert parse_codebook_yaml(codebook_to_yaml(book)).version == book.version


def test_every_problem_is_reported_with_its_line() -> None:
    text = textwrap.dedent(
        """\
        name: broken
        codes:
          - id: A
            name: one
          - id: A
            name: two
          - id: B
            parent: Z
            name: orphan
          - id: C
            name: "  "
          - id: D
            name: painted
            colour: red
        """
    )
    found = problems_of(text)
    assert found == [
        "book.yaml:11: code 'C': 'name' must be a non-empty string",
        "book.yaml:14: code 'D': bad colour 'red'; expected '#rrggbb' or '#rgb' in hex",
        "book.yaml:5: duplicate id 'A' (first defined at book.yaml:3)",
        "book.yaml:8: code 'B': unknown parent 'Z'; add it or fix the id",
    ]


def test_cycle_is_reported_once() -> None:
    text = textwrap.dedent(
        """\
        name: cyclic
        codes:
          - id: X
            parent: Y
            name: x
          - id: Y
            parent: X
            name: y
          - id: S
            parent: S
            name: self
        """
    )
    found = problems_of(text)
    assert found == [
        "book.yaml:4: parent cycle X -> Y -> X; a code cannot be its own ancestor",
        "book.yaml:10: parent cycle S -> S; a code cannot be its own ancestor",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "found an empty file"),
        ("- a\n- b\n", "found list"),
        ("name: x\n", "'codes' must be a non-empty list"),
        ("codes: [{id: a, name: b}]\n", "'name' must be a non-empty string"),
        ("name: x\ncolour: red\ncodes: [{id: a, name: b}]\n", "unknown top-level key 'colour'"),
        ("name: x\ncodes: [{id: a, name: b, colr: '#fff'}]\n", "unknown field 'colr'"),
        ("name: x\ncodes: [{id: 'a b', name: b}]\n", "id may not contain spaces"),
        ("name: x\ncodes: [{name: b}]\n", "'id' must be a non-empty string"),
        ("name: x\ncodes: [{id: a, name: b, exclusive: yes please}]\n", "'exclusive' must be"),
        ("name: x\ncodes: [{id: a, name: b, exclusive: true}]\n", "has no codable codes beneath"),
        ("name: x\ncodes: [{id: a, name: b, examples: [1]}]\n", "example 1 must be non-empty"),
        ("name: x\ncodes: [oops]\n", "codes[0] must be a mapping"),
        ("name: x\ncodes: [{id: a, name: b}\n", "not valid YAML"),
    ],
)
def test_each_validation_error(text: str, expected: str) -> None:
    with pytest.raises(CodebookError) as caught:
        parse_codebook_yaml(text, "book.yaml")
    assert expected in str(caught.value)


def test_examples_take_the_file_default_source_unless_overridden() -> None:
    text = textwrap.dedent(
        """\
        name: sourced
        examples_source: project
        codes:
          - id: a
            name: a
            examples:
              - "written for us"
              - {text: "quoted", source: study}
        """
    )
    examples = parse_codebook_yaml(text).get("a").examples
    assert [(example.text, example.source) for example in examples] == [
        ("written for us", "project"),
        ("quoted", "study"),
    ]


def test_load_from_path_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(NESTED, encoding="utf-8")
    assert load_codebook(path).name == "nested"
    with pytest.raises(UnknownNameError, match="interview"):
        load_codebook(tmp_path / "missing.yaml")


def test_codebook_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: caf\xe9\ncodes: []\n".encode("latin-1"))
    with pytest.raises(CodebookError, match="not UTF-8"):
        load_codebook(path)


@pytest.mark.parametrize(
    ("name", "categories", "codes", "exclusive"),
    [
        ("interview", 12, 75, False),
        ("drawing", 5, 44, False),
        ("annomi-therapist", 1, 4, True),
        ("annomi-client", 1, 3, True),
        ("swda", 1, 41, True),
    ],
)
def test_shipped_codebooks_load_with_their_counts(
    name: str, categories: int, codes: int, exclusive: bool
) -> None:
    book = load_codebook(name)
    assert len(book.codable_ids) == codes
    assert len(book.codes) - len(book.codable_ids) == categories
    assert bool(book.exclusive_groups) is exclusive
    for code_id in book.codable_ids:
        code = book.get(code_id)
        assert code.definition, f"{name} {code_id} has no definition"
        assert code.colour is not None
        assert code.parent is not None


def test_interview_codebook_has_project_written_examples() -> None:
    book = load_codebook("interview")
    for code_id in book.codable_ids:
        examples = book.get(code_id).examples
        assert len(examples) >= 3, code_id
        assert {example.source for example in examples} == {"project"}
    assert "WRITTEN FOR THE INTERCODER PROJECT" in _shipped_text("interview")
    assert [code.id for code in book.children(None)] == list("ABCDEFGHIJKL")


def test_interview_codebook_names_match_the_study() -> None:
    book = load_codebook("interview")
    assert book.get("A.1").name == "poisoning"
    assert book.get("K.2").name == "security and AML"
    assert book.get("L.13").name == "coding perspective"


def test_shipped_dataset_codebooks_use_the_dataset_labels() -> None:
    assert set(load_codebook("annomi-therapist").codable_ids) == {
        "question",
        "therapist_input",
        "reflection",
        "other",
    }
    assert set(load_codebook("annomi-client").codable_ids) == {"change", "neutral", "sustain"}
    assert {"sd", "qy^d", 'fo_o_fw_"_by_bc', "^q"} <= set(load_codebook("swda").codable_ids)


def test_every_shipped_codebook_is_listed() -> None:
    from importlib import resources

    files = {
        entry.name.removesuffix(".yaml")
        for entry in resources.files("codebook").joinpath("data").iterdir()
        if entry.name.endswith(".yaml")
    }
    assert files == set(SHIPPED_CODEBOOKS)


def _shipped_text(name: str) -> str:
    from importlib import resources

    text = resources.files("codebook").joinpath("data", f"{name}.yaml").read_text("utf-8")
    yaml.safe_load(text)
    return text
