"""REFI-QDA codebooks (.qdc): the shared samples, round trips, schema validity, the YAML keys."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from lxml import etree

from codebook.errors import CodebookError, RefiFileError
from codebook.loader import SHIPPED_CODEBOOKS, codebook_to_yaml, load_codebook, parse_codebook_yaml
from codebook.model import Code, Codebook, Example
from codebook.refi import read_qdc, read_refi_file, write_qdc
from codebook.refi.codes import EXCLUSIVE_NOTE, describe, parse_description, slug
from service.api.problems import ERROR_STATUS

PACKAGED_SCHEMAS = Path(__file__).resolve().parents[1] / "codebook" / "refi" / "schemas"

# Computed before sets and guids existed; the canonical form leaves both out when unused.
# The interview codebook's changed on purpose when it declared `speakers: {skip: ...}`.
SHIPPED_VERSIONS = {
    "interview": "dbc5227cfcc4dc12",
    "drawing": "a1de4f7c87763614",
    "annomi-therapist": "c41181bd2ce63162",
    "annomi-client": "e25c8c60c8c25a0a",
    "swda": "9510c1afd7b5c695",
    "swda-nocode": "e9825b2192fe352d",
    "chatterbot-topics": "65eb30f41da6bbfd",
}


def samples(shared_dir: Path) -> Path:
    return shared_dir / "samples" / "refi-qda"


def sample_codebook(shared_dir: Path, path: str) -> Codebook:
    file = samples(shared_dir) / path
    return read_qdc(file.read_bytes(), source=file.name)


def assert_valid(document: bytes, schema: Path) -> None:
    validator = etree.XMLSchema(etree.parse(str(schema)))
    assert validator.validate(etree.fromstring(document)), validator.error_log


def test_shipped_codebook_versions_are_unchanged() -> None:
    assert set(SHIPPED_VERSIONS) == set(SHIPPED_CODEBOOKS)
    for name, version in SHIPPED_VERSIONS.items():
        assert load_codebook(name).version == version, name


def test_packaged_schemas_are_the_shared_ones(shared_dir: Path) -> None:
    for name in ("Codebook.xsd", "Project.xsd"):
        shared = (samples(shared_dir) / "schema" / name).read_bytes()
        assert (PACKAGED_SCHEMAS / name).read_bytes() == shared
        assert b"Permission is hereby granted" in shared


def test_atlasti_codebook_with_a_code_group(shared_dir: Path) -> None:
    book = sample_codebook(shared_dir, "atlasti-23.4-win-qdc/atlasti_23.4_codebook.qdc")
    assert book.name == "atlasti_23.4_codebook"
    assert book.source == "ATLAS.ti Win 23.4.0"
    (code,) = book.codes
    assert (code.id, code.name, code.definition) == ("code1", "code1", "description")
    assert code.colour == "#46aa00"
    assert code.guid == "1ff58b12-6f6f-4b0c-8be5-bbdc91f55294"
    (group,) = book.sets
    assert (group.name, group.description, group.codes) == (
        "code group 1",
        "kategorie 1",
        ("code1",),
    )
    assert group.guid == "eca18d76-2b8b-4f26-bc1d-19eca19fb3f0"


def test_spec_annex_codebook_with_braced_guids_and_folders(shared_dir: Path) -> None:
    book = sample_codebook(shared_dir, "refi-spec-annex-a/spec_example1_codebook.qdc")
    assert [code.id for code in book.codes] == [
        "topics", "economy", "health_care", "values", "conservatives", "liberals",
    ]  # fmt: skip
    assert [code.id for code in book.codes if not code.codable] == ["topics", "values"]
    assert book.get("topics").guid == "5215cc69-b628-4e02-afb9-9beeaee55808"
    assert book.get("values").guid == "9fa9bcb7-5b59-47a9-8c3e-f65cffdc7520"
    health = book.get("health_care")
    assert (health.name, health.colour) == ("Health care", "#33cc33")
    assert health.definition == "Health care issues, doctor, patients, etc."
    assert all(code.parent is None for code in book.codes)
    assert book.sets == ()


def test_taguette_codebook_with_empty_sets_and_unicode_names(shared_dir: Path) -> None:
    book = sample_codebook(shared_dir, "taguette-1.5.2-qdc/taguette_codebook.qdc")
    assert [code.id for code in book.codes] == [
        "interesting", "people", "interesting_places", "coping_strategies_e_u",
    ]  # fmt: skip
    assert book.get("coping_strategies_e_u").name == "coping/strategies (é, ü, 😀)"
    assert book.sets == ()
    assert book.source == "Taguette 1.5.2"


@pytest.mark.parametrize(
    "path",
    [
        "atlasti-23.4-win-qdc/atlasti_23.4_codebook.qdc",
        "refi-spec-annex-a/spec_example1_codebook.qdc",
        "taguette-1.5.2-qdc/taguette_codebook.qdc",
    ],
)
def test_every_sample_survives_export_import_and_yaml(shared_dir: Path, path: str) -> None:
    book = sample_codebook(shared_dir, path)
    written = write_qdc(book)
    assert_valid(written, samples(shared_dir) / "schema" / "Codebook.xsd")
    again = read_qdc(written, source="elsewhere.qdc")
    assert again == book
    assert again.version == book.version
    assert parse_codebook_yaml(codebook_to_yaml(book)) == book
    assert read_refi_file(samples(shared_dir) / path).codebook.codes == book.codes


@pytest.mark.parametrize("name", sorted(SHIPPED_CODEBOOKS))
def test_shipped_codebooks_round_trip_exactly(name: str) -> None:
    book = load_codebook(name)
    written = write_qdc(book)
    assert_valid(written, PACKAGED_SCHEMAS / "Codebook.xsd")
    again = read_qdc(written)
    assert again == book
    assert again.version == SHIPPED_VERSIONS[name]
    assert all(code.guid is None for code in again.codes)
    assert write_qdc(again) == written


def test_descriptions_carry_criteria_examples_and_exclusivity() -> None:
    code = Code(
        id="c",
        name="c",
        definition="What it means.\n\nA second paragraph.",
        inclusion="When to use it.",
        exclusion="When not to.",
        examples=(Example(text="One."), Example(text="Two.", source="study")),
        exclusive=True,
    )
    text = describe(code)
    assert text == (
        "What it means.\n\nA second paragraph.\n\nInclusion: When to use it.\n\n"
        "Exclusion: When not to.\n\nExample: One.\n\nExample (study): Two.\n\n" + EXCLUSIVE_NOTE
    )
    parsed = parse_description(text)
    assert parsed["definition"] == code.definition
    assert (parsed["inclusion"], parsed["exclusion"]) == ("When to use it.", "When not to.")
    assert parsed["examples"] == [
        {"text": "One.", "source": "user"},
        {"text": "Two.", "source": "study"},
    ]
    assert parsed["exclusive"] is True


def test_a_paragraph_after_a_label_continues_it() -> None:
    parsed = parse_description("Inclusion: first.\n\nsecond.\n\nExample: ex")
    assert parsed["inclusion"] == "first.\n\nsecond."
    assert parsed["definition"] == ""
    assert parsed["examples"] == [{"text": "ex", "source": "user"}]


def qdc(body: str, namespace: str | None = "urn:QDA-XML:codebook:1.0") -> bytes:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return f'<?xml version="1.0" encoding="utf-8"?>\n<CodeBook{xmlns}>{body}</CodeBook>'.encode()


NESTED = """<Codes>
  <Code guid="{AAAAAAAA-0000-0000-0000-000000000001}" name="Feelings" isCodable="false">
    <Code guid="AAAAAAAA-0000-0000-0000-000000000002" name="Fear" isCodable="true" color="#F00">
      <Description>Being afraid.\r\n\r\nInclusion: Worry too.</Description>
    </Code>
    <Code guid="aaaaaaaa-0000-0000-0000-000000000003" name="Fear" isCodable="1" color="red"/>
  </Code>
</Codes>"""


@pytest.mark.parametrize(
    "namespace",
    ["urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:1:0", "urn:QDA-XML:codebook:0:4", None],
)
def test_namespace_variants_bom_crlf_and_guid_spellings(namespace: str | None) -> None:
    data = b"\xef\xbb\xbf" + qdc(NESTED, namespace).replace(b"\n", b"\r\n")
    book = read_qdc(data, source="feelings.qdc")
    assert book.name == "feelings"
    assert [(c.id, c.parent, c.codable) for c in book.codes] == [
        ("feelings", None, False),
        ("fear", "feelings", True),
        ("feelings_fear", "feelings", True),
    ]
    fear = book.get("fear")
    assert fear.guid == "aaaaaaaa-0000-0000-0000-000000000002"
    assert (fear.colour, fear.definition, fear.inclusion) == (
        "#ff0000",
        "Being afraid.",
        "Worry too.",
    )
    assert book.get("feelings_fear").colour is None  # "red" is not a REFI colour


def test_codebook_sets_and_guids_in_yaml() -> None:
    text = textwrap.dedent(
        """\
        name: sets
        codes:
          - {id: a, name: A, guid: "{0D62985D-B147-5D01-A9B5-CAE5DCD98342}"}
          - {id: b, name: B}
        sets:
          - {name: both, description: all of them, codes: [a, b]}
        """
    )
    book = parse_codebook_yaml(text)
    assert book.get("a").guid == "0d62985d-b147-5d01-a9b5-cae5dcd98342"
    assert book.sets[0].codes == ("a", "b")
    assert parse_codebook_yaml(codebook_to_yaml(book)) == book
    assert read_qdc(write_qdc(book)) == book
    plain = codebook_to_yaml(load_codebook("swda"))
    assert "\nsets:" not in plain
    assert "guid:" not in plain


def test_bad_guids_sets_and_shared_guids_are_codebook_problems() -> None:
    text = textwrap.dedent(
        """\
        name: bad
        codes:
          - {id: a, name: A, guid: not-a-guid}
          - {id: b, name: B, guid: 0d62985d-b147-5d01-a9b5-cae5dcd98342}
          - {id: c, name: C, guid: "{0D62985D-B147-5D01-A9B5-CAE5DCD98342}"}
        sets:
          - {name: s, codes: [a, zz], colour: red}
          - {codes: [b]}
        """
    )
    with pytest.raises(CodebookError) as caught:
        parse_codebook_yaml(text, "bad.yaml")
    found = " | ".join(str(problem) for problem in caught.value.problems)
    assert "bad guid 'not-a-guid'" in found
    assert "code 'c' has the guid of code 'b'" in found
    assert "unknown code 'zz'" in found
    assert "unknown field 'colour'" in found
    assert "sets[1]: 'name' must be a non-empty string" in found


def test_broken_codebooks_are_clear_refi_errors() -> None:
    cases = {
        b"<CodeBook><Codes>": "not well-formed XML",
        b"<Project name='p'/>": "<Project> root element where a <CodeBook> was expected",
        qdc("<Codes/>"): "has no codes",
        qdc('<Codes><Code name="x" isCodable="true"/></Codes>'): "needs a guid GUID",
        qdc(
            '<Codes><Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="x" isCodable="true"/>'
            '</Codes><Sets><Set guid="aaaaaaaa-0000-0000-0000-000000000009" name="s">'
            '<MemberCode guid="bbbbbbbb-0000-0000-0000-000000000001"/></Set></Sets>'
        ): "set 's' lists a code 'bbbbbbbb-0000-0000-0000-000000000001'",
    }
    for data, expected in cases.items():
        with pytest.raises(RefiFileError) as caught:
            read_qdc(data, source="broken.qdc")
        assert "broken.qdc" in str(caught.value)
        assert expected in str(caught.value)


def test_write_is_deterministic_and_keeps_metadata() -> None:
    book = parse_codebook_yaml("name: N\ndescription: D\nsource: S\ncodes: [{id: 'A.1', name: x}]")
    written = write_qdc(book)
    assert written == write_qdc(book)
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<CodeBook')
    assert b'xmlns="urn:QDA-XML:codebook:1.0"' in written
    again = read_qdc(written)
    assert (again.name, again.description, again.source) == ("N", "D", "S")
    assert again.get("A.1").guid is None


def test_slugs() -> None:
    assert slug("coping/strategies (é, ü, 😀)") == "coping_strategies_e_u"
    assert slug("😀") == "code"
    assert slug("  Health care ") == "health_care"


def test_refi_file_errors_are_client_errors() -> None:
    assert ERROR_STATUS[RefiFileError][0] == 422
