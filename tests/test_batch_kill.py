"""``intercoder code`` as a process: killed for real (SIGKILL, then Ctrl-C) and run again, nothing
coded twice, nothing lost, the result an uninterrupted run's; a progress bar only on a terminal."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from tests.batch_support import write_coded, write_transcripts

TRANSCRIPTS = 150


def _command(folder: Path, coded: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "service.cli.main", "code", str(folder), "--codebook", "interview",
        "--exemplars", str(coded), "--out", str(out), "--chunk-sentences", "1", "--quiet",
    ]  # fmt: skip


def _environment(data: Path) -> dict[str, str]:
    return {**os.environ, "INTERCODER_TEST_ENCODER": "hashing", "INTERCODER_DATA_DIR": str(data)}


def _items_done(out: Path) -> int:
    journal = out / "_progress.sqlite"
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM done").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not made yet, or the file is busy
        return 0


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_midway(command: list[str], env: dict[str, str], out: Path, sig: int) -> int:
    """Start the run, send ``sig`` once it has recorded a few parts; the run's exit status."""
    wanted = _items_done(out) + 5
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A job started in the background by a non-interactive shell (`nohup ... &`, some CI
        # runners) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt:
        # give the run the default disposition, as a terminal would, so that Ctrl-C reaches it.
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 120
    while _items_done(out) < wanted and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(sig)
    process.communicate(timeout=60)
    return process.returncode


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_killed_and_interrupted_runs_resume_to_the_uninterrupted_result(tmp_path: Path) -> None:
    folder = write_transcripts(tmp_path / "in", TRANSCRIPTS, turns=2)
    coded = write_coded(tmp_path)
    env = _environment(tmp_path / "data")
    reference = _run(_command(folder, coded, tmp_path / "reference"), env)
    assert reference.returncode == 0, reference.stderr
    expected = pd.read_parquet(tmp_path / "reference")

    out = tmp_path / "out"
    command = _command(folder, coded, out)
    killed = _interrupt_midway(command, env, out, signal.SIGKILL)
    assert killed == -signal.SIGKILL, "the run finished before it could be killed"
    after_kill = _items_done(out)
    assert 0 < after_kill < TRANSCRIPTS

    interrupted = _interrupt_midway(command, env, out, signal.SIGINT)
    after_interrupt = _items_done(out)
    assert interrupted == 130, "the run finished before Ctrl-C reached it"
    assert after_kill < after_interrupt < TRANSCRIPTS

    resumed = _run(command, env)
    assert resumed.returncode == 0, resumed.stderr
    # each transcript is 2 turns of 2 sentences, one part each: the rest is coded, no more
    assert f"{len(expected) - 4 * after_interrupt:,} sentences in" in resumed.stdout
    rows = pd.read_parquet(out)
    assert not rows.duplicated(["transcript_id", "sentence"]).any()
    pd.testing.assert_frame_equal(rows, expected)
    assert not [path.name for path in out.iterdir() if path.name.endswith(".tmp")]


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(tmp_path: Path) -> None:
    import pty

    folder = write_transcripts(tmp_path / "in", 20, turns=2)
    coded = write_coded(tmp_path)
    env = {**_environment(tmp_path / "data"), "COLUMNS": "160"}
    command = [c for c in _command(folder, coded, tmp_path / "tty") if c != "--quiet"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=follower, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        shown += data
    assert process.wait(timeout=120) == 0, shown.decode(errors="replace")
    os.close(leader)
    text = shown.decode(errors="replace")
    assert "coding" in text
    assert "/s" in text
    assert "20/20" in text
    piped = _run(_command(folder, coded, tmp_path / "pipe")[:-1], env)  # without --quiet
    assert piped.returncode == 0, piped.stderr
    # in a pipe only the data warnings reach stderr, no progress
    assert [line for line in piped.stderr.splitlines() if not line.startswith("warning:")] == []
