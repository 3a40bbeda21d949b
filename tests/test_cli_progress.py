"""The steps a long command reports: shown on a terminal, each finished one with its time;
nothing with --quiet or in a pipe (where CliRunner runs every other CLI test)."""

from __future__ import annotations

import pytest

from service.cli import progress


def test_steps_show_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "shows_progress", lambda quiet: not quiet)
    with progress.step_progress(quiet=False) as step:
        step("loading the model")
        step("embedding 3 [sentences]")
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "loading the model (" in shown.err
    assert "embedding 3 [sentences] (" in shown.err  # brackets are text, not rich markup


def test_steps_are_silent_when_quiet_or_in_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    for quiet in (True, False):  # under pytest, stderr is no terminal
        with progress.step_progress(quiet=quiet) as step:
            step("loading the model")
    assert capsys.readouterr() == ("", "")
