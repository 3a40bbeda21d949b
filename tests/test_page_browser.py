"""The review page in a real browser: Debian's chromium, headless, driven by Playwright, against
a real ``intercoder serve`` on loopback (a subprocess with the hashing test encoder and a
temporary data folder). Screenshots of each step go to ``test-artifacts/page/``.

Chromium must be installed (``apt-get install chromium chromium-driver``); where it is not,
these tests fail with one line saying so. Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.page_support import CODEBOOK_YAML, HOSTILE_TEXT, interview_vtt
from tests.test_service_support import ServerProcess

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "page"
AXE = Path(__file__).parent / "assets" / "axe.min.js"
SEVERE = ("serious", "critical")


def _playwright() -> Any:
    """Playwright's sync API, or one line saying how to get what is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            "chromium is missing: apt-get install -y chromium chromium-driver", pytrace=False
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[dev]'", pytrace=False)
    return sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("page-server")
    # INTERCODER_PAGE_TEST_MODEL=1: the same tests with the configured model (a one-off run)
    real_model = os.environ.get("INTERCODER_PAGE_TEST_MODEL") == "1"
    configured_model: dict[str, str | None] = {"INTERCODER_TEST_ENCODER": None}
    process = ServerProcess(
        folder / "data", folder / "server.log", env=configured_model if real_model else None
    )
    process.start(timeout=600 if real_model else 60)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _playwright()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with its console errors (CSP violations among them) and script dialogs."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def shot(self, name: str) -> None:
        # caret="initial": hiding the caret would inject a style, which the CSP blocks
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


@pytest.fixture
def watched(browser: Any, server: ServerProcess) -> Iterator[Watched]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    yield Watched(context.new_page())
    context.close()


def _create_project(watched: Watched, project_id: str) -> None:
    page = watched.page
    page.goto("/")
    page.wait_for_url("**/page/")
    page.locator("#project-id").fill(project_id)
    page.locator("#codebook-file").set_input_files(
        files=[{"name": "threats.yaml", "mimeType": "text/yaml", "buffer": CODEBOOK_YAML}]
    )
    page.get_by_role("button", name="Create the project").click()
    page.wait_for_url(f"**/page/projects/{project_id}")


def _upload(watched: Watched, name: str, content: bytes) -> None:
    page = watched.page
    page.locator("#transcript-files").set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )
    page.get_by_role("button", name="Upload transcripts").click()
    page.locator(".notice", has_text="sentences stored").wait_for()


def _focused_index(watched: Watched) -> int:
    return int(watched.page.locator("#detail .sentence-detail").get_attribute("data-index"))


def _coded(watched: Watched) -> int:
    text = watched.page.locator("#progress").inner_text()
    found = re.search(r"(\d+) coded", text)
    assert found is not None, text
    return int(found.group(1))


def _wait_for_coded(watched: Watched, count: int) -> None:
    progress = watched.page.locator("#progress strong").first
    try:
        progress.filter(has_text=re.compile(f"^{count}$")).wait_for()
    except Exception as error:
        notices = watched.page.locator("#notices").inner_text()
        raise AssertionError(
            f"expected {count} coded: {progress.inner_text()}; {notices}"
        ) from error


def test_a_coder_codes_ten_sentences_by_keyboard_alone(
    watched: Watched, server: ServerProcess
) -> None:
    page = watched.page
    _create_project(watched, "study")
    watched.shot("01-project")
    _upload(watched, "interview.vtt", interview_vtt())
    watched.shot("02-uploaded")
    page.get_by_role("link", name="Review interview").click()
    page.locator("#detail .sentence-detail").wait_for()
    watched.shot("03-review")
    assert _focused_index(watched) == 0

    decided: list[int] = []
    for step in range(10):
        index = _focused_index(watched)
        decided.append(index)
        if step % 2 == 0:
            page.keyboard.press("a")  # accept the machine's codes: saved, and on to the next
        else:
            page.keyboard.press("1")  # the best-ranked code on or off: saved, stays here
            page.locator(f"#s-{index}.status-coded").wait_for()
            page.keyboard.press("j")
        page.locator(f'#detail .sentence-detail[data-index="{index + 1}"]').wait_for()
        _wait_for_coded(watched, step + 1)
    watched.shot("04-ten-coded")
    assert decided == list(range(10))

    page.reload()
    assert page.locator("#sentences > li.status-coded").count() == 10
    assert _coded(watched) == 10
    # the next sentence's evidence is made of the decisions just taken
    page.locator("#s-10 a.pick").focus()
    page.keyboard.press("Enter")
    page.locator('#detail .sentence-detail[data-index="10"]').wait_for()
    evidence = page.locator("#detail .exemplar").all_inner_texts()
    said = set(page.locator("#sentences > li.status-coded .text").all_inner_texts())
    assert any(text.split(" (")[0] in said for text in evidence), (evidence, said)
    watched.shot("05-evidence-after-reload")

    page.keyboard.press("r")  # reject sentence 10's suggestion
    _wait_for_coded(watched, 11)
    decisions = httpx.get(f"{server.url}/v1/projects/study/decisions", params={"limit": 100})
    assert decisions.status_code == 200, decisions.text
    assert [d["action"] for d in decisions.json()["items"]][-1] == "reject"
    page.keyboard.press("k")
    page.locator('#detail .sentence-detail[data-index="10"]').wait_for()
    page.keyboard.press("/")
    page.keyboard.type("evasion")
    page.keyboard.press("Enter")  # adds the first code found to sentence 10
    page.locator("#s-10 .human", has_text="T.2").wait_for()
    page.keyboard.press("Escape")
    page.keyboard.press("u")
    page.locator("#s-10 .human").wait_for(state="detached")
    watched.shot("06-rejected-searched-undone")

    page.goto("/page/projects/study")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export codings (CSV)").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.count("\n") == 11  # the header and the ten coded sentences
    with page.expect_download() as refi:
        page.get_by_role("link", name="Export REFI-QDA (.qdpx)").click()
    assert Path(refi.value.path()).read_bytes()[:2] == b"PK"
    assert watched.errors == []


def test_a_hostile_transcript_shows_as_text(watched: Watched) -> None:
    page = watched.page
    _create_project(watched, "hostile")
    _upload(watched, "hostile.txt", HOSTILE_TEXT.encode())
    page.get_by_role("link", name="Review hostile").click()
    said = page.locator("#detail .said").inner_text()
    assert '<script>alert("x")</script>' in said
    assert '" onmouseover="alert(1)' in said
    page.locator("#detail .said").hover()
    assert page.locator("[onmouseover]").count() == 0
    assert page.locator("#main script").count() == 0
    assert watched.dialogs == []
    watched.shot("07-hostile")


def test_a_change_without_the_csrf_token_is_refused(watched: Watched) -> None:
    page = watched.page
    _create_project(watched, "csrf")
    _upload(watched, "interview.vtt", interview_vtt())
    url = "/page/projects/csrf/transcripts/interview/sentences/1/decision"
    page.goto("/page/projects/csrf/transcripts/interview")
    status = page.evaluate(
        """url => fetch(url, {method: "POST", body: new URLSearchParams({action: "accept"})})
            .then(response => response.status)""",
        url,
    )
    assert status == 403
    page.reload()
    assert _coded(watched) == 0


def test_no_serious_accessibility_violations(
    browser: Any, server: ServerProcess, watched: Watched
) -> None:
    _create_project(watched, "axe")
    _upload(watched, "interview.vtt", interview_vtt())
    # axe goes in as an inline script, which the page's CSP rightly blocks: this context
    # alone bypasses the CSP, to audit the pages.
    context = browser.new_context(base_url=server.url, bypass_csp=True)
    page = context.new_page()
    pages = ["/page/", "/page/projects/axe", "/page/projects/axe/agreement"]
    pages.append("/page/projects/axe/transcripts/interview")
    try:
        found = {}
        for path in pages:
            page.goto(path)
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(
                "() => axe.run().then(r => r.violations.map(v => [v.id, v.impact, v.nodes.length]))"
            )
            found[path] = [v for v in violations if v[1] in SEVERE]
        assert found == {path: [] for path in pages}
    finally:
        context.close()


def test_the_api_docs_render_offline(watched: Watched) -> None:
    page = watched.page
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    watched.shot("08-docs")
    page.goto("/redoc")
    page.locator("redoc [role=search], .redoc-wrap").first.wait_for()


def test_a_coder_signs_in_with_a_project_key(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.app.keys import create_key
    from service.store.database import Store

    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "intercoder.sqlite3")
    admin, _ = create_key(store, None, "admin")
    monkeypatch.setenv("INTERCODER_REQUIRE_API_KEYS", "true")
    server = ServerProcess(data, tmp_path / "server.log")
    server.start()
    try:
        headers = {"X-API-Key": admin}
        for project in ("mine", "theirs"):
            created = httpx.post(
                f"{server.url}/v1/projects",
                json={"id": project, "shipped_codebook": "interview"},
                headers=headers,
            )
            assert created.status_code == 201, created.text
        key, _ = create_key(store, "mine", "ana")
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        page.goto("/page/projects/mine")
        page.wait_for_url("**/page/sign-in?next=/page/projects/mine")
        page.get_by_label("API key").fill(key)
        page.get_by_label("Your name").fill("Ana")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/page/projects/mine")
        assert "coding as Ana" in page.locator("header").inner_text()
        Watched(page).shot("09-signed-in")
        assert page.goto("/page/projects/theirs").status == 403
        page.goto("/page/")
        assert page.locator("a[href='/page/projects/theirs']").count() == 0
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/page/sign-in")
        assert page.goto("/page/projects/mine").url.endswith(
            "/page/sign-in?next=/page/projects/mine"
        )
        context.close()
    finally:
        server.stop()
        store.close()
