"""``intercoder train`` as a user runs it: the expected time said first, Ctrl-C (a real SIGINT
to the process) stopping it with a checkpoint, the same command continuing to the very model a
run never stopped saves, and ``--resume`` refusing inputs that have no checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codebook.coded_csv import write_coded_csv
from models.model_card import read_card
from models.train_checkpoint import CHECKPOINTS_DIR
from models.train_progress import CACHING, TRAINING, TrainProgress
from service.cli import train as train_command
from service.cli.main import app
from tests.test_project_model import _frame

runner = CliRunner()


@contextmanager
def _ctrl_c_at_step(
    step: int, phase: str = TRAINING
) -> Iterator[tuple[Callable[[str], None], Callable[..., None]]]:
    """The command's progress, which sends the process a SIGINT once ``step`` is done."""

    def report(progress: TrainProgress) -> None:
        if progress.phase == phase and progress.done == step:
            os.kill(os.getpid(), signal.SIGINT)

    yield (lambda line: None), report


def _train(coded: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["train", "--data", str(coded), "--codebook", "annomi-client", "--out", str(out),
              "--trained-layers", "1", *extra],
    )  # fmt: skip
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def ctrl_c_as_on_a_terminal() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal: a suite started in the background
    by a non-interactive shell (CI under nohup) inherits it ignored, and so would the command."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def coded(tmp_path: Path) -> Path:
    written = tmp_path / "coded.csv"
    write_coded_csv(_frame(), written)
    return written


@pytest.mark.slow
def test_ctrl_c_keeps_a_checkpoint_and_the_same_command_continues_to_the_same_model(
    coded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, output = _train(coded, tmp_path / "plain")
    assert status == 0, output
    assert output.index("expected time: about") < output.index("wrote ")
    (plain,) = (tmp_path / "plain").glob("intercoder-tuned-*")

    out = tmp_path / "models"
    with monkeypatch.context() as patch:
        patch.setattr(train_command, "training_progress", lambda quiet: _ctrl_c_at_step(2))
        status, output = _train(coded, out, "--seed", "0")
    assert status == 130, output
    assert "interrupted: stopped at step 2 of 3; the checkpoint is in" in output
    assert "run the same command again to continue" in output
    assert list((out / CHECKPOINTS_DIR).glob("*/checkpoint.pt"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler put back

    status, output = _train(coded, out, "--seed", "1", "--resume")
    assert status == 2
    assert "--resume: no checkpoint for these inputs" in output
    assert "written for other inputs" in output
    assert "seed 0" in output  # which run the checkpoint there belongs to

    status, output = _train(coded, out, "--resume")
    assert status == 0, output
    assert "continued from the checkpoint at step 2" in output
    assert not (out / CHECKPOINTS_DIR).exists()  # deleted once the model was saved
    (resumed,) = out.glob("intercoder-tuned-*")
    assert resumed.name == plain.name
    resumed_card, plain_card = read_card(resumed), read_card(plain)
    assert resumed_card is not None
    assert plain_card is not None
    assert resumed_card.weights_sha256 == plain_card.weights_sha256


@pytest.mark.slow
def test_ctrl_c_before_the_first_step_keeps_nothing(
    coded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        train_command, "training_progress", lambda quiet: _ctrl_c_at_step(0, CACHING)
    )
    status, output = _train(coded, tmp_path / "models")
    assert status == 130, output
    assert "interrupted before the first training step: nothing was kept" in output
    assert not (tmp_path / "models" / CHECKPOINTS_DIR).exists()


@pytest.mark.slow
def test_sigterm_stops_the_process_with_a_checkpoint_and_a_rerun_continues(
    tmp_path: Path, shared_dir: Path
) -> None:
    out = tmp_path / "models"
    command = [
        sys.executable, "-m", "service.cli.main", "train", "--data", "annomi:client",
        "--max-transcripts", "8", "--shared-dir", str(shared_dir), "--out", str(out),
        "--trained-layers", "1", "--checkpoint-every", "1",
    ]  # fmt: skip
    env = {**os.environ, "INTERCODER_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not list(out.glob(f"{CHECKPOINTS_DIR}/*/checkpoint.json")):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no checkpoint before the run ended or timed out: {process.communicate()}")
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert b"interrupted: stopped at step" in stderr

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "continued from the checkpoint at step" in again.stdout
    assert len(list(out.glob("intercoder-tuned-*"))) == 1
