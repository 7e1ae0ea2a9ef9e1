"""`python -m backprop_lab`: the headless first check, run as a student would run it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_lab import cli

ROOT = Path(__file__).resolve().parents[1]
EPOCH_LINE = re.compile(r"^epoch +(\d+)/(\d+) +loss (\d+\.\d+)$", re.M)


def run(*args, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "backprop_lab", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout)


@pytest.mark.slow
def test_train_prints_a_loss_line_per_epoch_and_the_accuracy():
    proc = run("train", "--epochs", "3", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    lines = EPOCH_LINE.findall(proc.stdout)
    assert [(int(e), int(n)) for e, n, _ in lines] == [(1, 3), (2, 3), (3, 3)], proc.stdout
    losses = [float(loss) for *_, loss in lines]
    assert losses[0] > losses[-1] > 0, f"the loss should fall: {losses}"
    match = re.search(r"test accuracy: (\d+\.\d+)% \((\d+)/450\)", proc.stdout)
    assert match, proc.stdout
    assert float(match.group(1)) > 80.0
    assert "digits" in proc.stdout and "[64, 256, 10]" in proc.stdout
    assert "training" in proc.stderr, "the tqdm progress bar goes to stderr"


@pytest.mark.slow
def test_train_is_the_default_command_and_seeds_reproduce():
    a = run("--epochs", "2", "--no-progress", "--dataset", "moons", "--hidden", "16,16")
    b = run("train", "--epochs", "2", "--no-progress", "--dataset", "moons", "--hidden", "16,16")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert len(EPOCH_LINE.findall(a.stdout)) == 2
    assert EPOCH_LINE.findall(a.stdout) == EPOCH_LINE.findall(b.stdout)
    assert "[2, 16, 16, 2]" in a.stdout
    assert a.stderr == "", "no progress bar with --no-progress"


def test_example_prints_the_worked_example():
    proc = run("example", "--iterations", "0")
    assert proc.returncode == 0, proc.stderr
    for needle in ("0.298371109", "0.751365070", "0.772928465", "Δ[1]", "w5", "0.358916480", "0.149780716"):
        assert needle in proc.stdout, f"{needle!r} missing from:\n{proc.stdout}"


@pytest.mark.parametrize("args, words", [
    (["--dataset", "digts"], ["--dataset", "did you mean 'digits'"]),
    (["--epochs", "0"], ["--epochs", "positive integer"]),
    (["--epochs", "ten"], ["--epochs", "'ten'"]),
    (["--lr", "-0.1"], ["--lr", "positive"]),
    (["--hidden", "32,abc"], ["--hidden", "32,abc"]),
    (["--activation", "softmax"], ["--activation", "relu"]),
    (["--dataset", "digits", "--noise", "0.1"], ["--noise", "digits"]),
    (["--epocs", "3"], ["unrecognized", "did you mean --epochs"]),
    (["trian"], ["unknown command", "did you mean 'train'"]),
    (["grade-demo", "--students", "0", "--dest", "never-made"], ["--students", "positive integer", "got 0"]),
    (["grade-demo", "--shards", "-2", "--dest", "never-made"], ["--shards", "positive integer", "got -2"]),
    (["grade", "--timeout", "0"], ["--timeout", "positive integer"]),
    (["similarity", "01-forward", "--threshold", "1.5"], ["--threshold", "from 0 to 1", "got 1.5"]),
    (["similarity"], ["assignment"]),
])
def test_bad_arguments_exit_2_with_a_message(args, words):
    proc = run(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "error:" in proc.stderr
    for word in words:
        assert word in proc.stderr, f"{word!r} missing from: {proc.stderr}"
    assert "epoch 1/" not in proc.stdout, "nothing should have trained"


@pytest.mark.slow
def test_main_in_process_returns_exit_codes(capsys):
    assert cli.main(["--version"]) == 0
    assert "backprop_lab" in capsys.readouterr().out
    assert cli.main(["train", "--batch-size", "0"]) == 2
    assert "--batch-size" in capsys.readouterr().err
    assert cli.main(["--dataset", "xor", "--hidden", "4", "--activation", "tanh", "--epochs", "3",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "4 train / 4 test" in out and len(EPOCH_LINE.findall(out)) == 3


@pytest.mark.slow
def test_divergence_exits_1(capsys):
    assert cli.main(["--lr", "1000", "--epochs", "3", "--no-progress"]) == 1
    assert "diverged" in capsys.readouterr().err


def test_parse_hidden():
    assert cli.parse_hidden("64") == (64,)
    assert cli.parse_hidden(" 32, 16 ") == (32, 16)
    assert cli.parse_hidden("none") == ()
    for bad in ("0", "-3", "3.5", "1,,2"):
        with pytest.raises(Exception, match="positive integers"):
            cli.parse_hidden(bad)
