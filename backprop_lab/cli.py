"""``backprop-lab`` / ``python -m backprop_lab``: a first check that everything works, headless.

Commands::

    backprop-lab [train] [--dataset digits] [--hidden 256] [--activation relu] [--epochs 60] ...
        Train the reference MLP on a bundled data set (no download), print the loss of
        every epoch and the test accuracy. ``train`` is the default command.

    backprop-lab example [--iterations 10000]
        Print the published 2-2-2 worked example step by step (:mod:`backprop_lab.examples`).

Exit status: 0 on success, 1 if training diverged, 2 for bad arguments.

The defaults reach about 98% test accuracy on the digits in well under a second of
training. The test set has only 450 images (one image is 0.2%), so which images land in it
moves the figure by a point or so from seed to seed: ``--seed`` 0 to 9 give 96.7% to 98.9%
(mean 97.8%); on the split of seed 0, ten other initialisations and shuffles all reach 97.6%
or more (mean 98.2%).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from . import __version__, datasets
from ._argtypes import fraction as _fraction
from ._argtypes import non_negative_float as _non_negative_float
from ._argtypes import non_negative_int as _non_negative_int
from ._argtypes import positive_float as _positive_float
from ._argtypes import positive_int as _positive_int
from ._validation import lookup
from . import activations, losses
from .instructor.commands import COMMANDS as INSTRUCTOR_COMMANDS
from .instructor.commands import add_commands
from .losses import get_loss, one_hot
from .mlp import MLP, History

__all__ = ["main", "train", "TrainResult", "DEFAULTS", "parse_hidden"]

#: the reference settings of ``backprop-lab train``
DEFAULTS = dict(dataset="digits", hidden=(256,), activation="relu", loss="cross_entropy", epochs=60,
                lr=0.05, batch_size=16, seed=0, test_size=0.25)

_HIDDEN_ACTIVATIONS = activations.names(hidden=True)
_LOSSES = tuple(losses.LOSSES)
#: output activation for a loss that does not require one: the data sets are classifications
#: with one-hot targets, and sigmoid outputs lie in [0, 1] like them
_FREE_OUTPUT = "sigmoid"
_COMMANDS = ("train", "example", *INSTRUCTOR_COMMANDS)


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes
    ----------
    model : MLP
        The trained network.
    history : History
        Loss per epoch and why training stopped.
    split : datasets.Split
        The data it was trained and tested on.
    accuracy : float
        Fraction of the test samples classified correctly (argmax of the outputs).
    seconds : float
        Wall-clock time of the training itself.
    """

    model: MLP
    history: History
    split: datasets.Split
    accuracy: float
    seconds: float


def train(dataset: str = "digits", hidden: Sequence[int] = (256,), activation: str = "relu",
          loss: str = "cross_entropy", epochs: int = 60, lr: float = 0.05, batch_size: int | None = 16,
          seed: int | None = 0, test_size: float = 0.25, progress: bool = False,
          log: Callable[[str], None] | None = print, **options) -> TrainResult:
    """Train the reference MLP on a bundled data set and measure its test accuracy.

    The network is ``[n_features, *hidden, n_classes]``: softmax outputs for
    ``cross_entropy``, sigmoid outputs with one-hot targets for ``squared_error``.

    Parameters
    ----------
    dataset : str
        ``"digits"``, ``"moons"``, ``"spirals"`` or ``"xor"`` (see :mod:`backprop_lab.datasets`).
        The four XOR points (``xor`` without ``n``) are not split: the network is trained and
        tested on all four.
    hidden : sequence of int
        Hidden-layer sizes; ``()`` for none.
    activation : str
        Hidden activation.
    loss : str
        A name in :data:`~backprop_lab.losses.LOSSES`; the output activation is the one it
        requires (softmax for cross-entropy), else sigmoid.
    epochs, lr, batch_size :
        As in :meth:`MLP.fit`.
    seed : int or None
        One seed for everything (split, initial weights, shuffling): the same seed gives
        the same numbers.
    test_size : float
        Fraction of the samples held out for testing (stratified).
    progress : bool
        Show a tqdm progress bar.
    log : callable or None
        Called with a line describing the data and one describing the model, then one line
        per epoch (``"epoch  3/50  loss 0.123456"``); ``None`` prints nothing.
    **options
        For the data set, e.g. ``n=500, noise=0.1`` for moons.

    Returns
    -------
    TrainResult
    """
    # independent streams for the split, the initial weights and the shuffling
    data_rng, init_rng, fit_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    if lookup(datasets.DATASETS, dataset, "dataset") is datasets.xor and options.get("n") is None:
        # the four XOR points: nothing to hold out, so train and test on all four
        ds = datasets.get_dataset("xor", seed=data_rng, **options)
        scaler = datasets.Standardizer.fit(ds.X)
        X = scaler.transform(ds.X)
        split = datasets.Split(X, X.copy(), ds.y.copy(), ds.y.copy(), ds, scaler)
    else:
        split = datasets.load(dataset, seed=data_rng, test_size=test_size, **options)
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {', '.join(_LOSSES)}, got {loss!r}")
    sizes = [split.n_features, *hidden, split.n_classes]
    output = get_loss(loss).requires or _FREE_OUTPUT
    model = MLP(sizes, activation, output_activation=output, loss=loss, seed=init_rng)
    # one-hot rows suit every loss (cross-entropy takes them as well as labels: the same numbers)
    Y_train = one_hot(split.y_train, split.n_classes)
    width = len(str(epochs))
    if log is not None:
        log(f"data: {split!r}")
        log(f"model: {model!r}, {model.n_params} parameters")

    def report(epoch: int, history: History, _model: MLP) -> None:
        if log is not None:
            loss_ = history.loss[-1]
            log(f"epoch {epoch + 1:>{width}}/{epochs}  loss {loss_:.6f}" if abs(loss_) < 1e6 else
                f"epoch {epoch + 1:>{width}}/{epochs}  loss {loss_:.6g}")

    start = time.perf_counter()
    history = model.fit(split.X_train, Y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=fit_rng,
                        progress=progress, callback=report)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.forward(split.X_test).argmax(axis=1) == split.y_test))
    return TrainResult(model, history, split, accuracy, seconds)


# --- argument parsing --------------------------------------------------------------------

def parse_hidden(text: str) -> tuple[int, ...]:
    """``"128"`` -> ``(128,)``, ``"32,32"`` -> ``(32, 32)``, ``"none"`` or ``""`` -> ``()``."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a list of layer sizes; expected positive integers separated by commas, "
                "e.g. 64 or 32,32 (or none)")
        sizes.append(int(part))
    return tuple(sizes)




def _dataset_name(text: str) -> str:
    try:
        lookup(datasets.DATASETS, text, "dataset")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip().lower().replace("-", "_")


def _choice(choices: Sequence[str], kind: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        key = text.strip().lower().replace("-", "_")
        if key in choices:
            return key
        close = difflib.get_close_matches(key, choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise argparse.ArgumentTypeError(f"unknown {kind} {text!r}; expected one of {', '.join(choices)}{hint}")
    parse.__name__ = kind
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``backprop-lab`` (``train`` is the default command)."""
    parser = argparse.ArgumentParser(
        prog="backprop-lab",
        description="Headless first check of backprop_lab: train the reference MLP on a bundled data set, "
                    "or print the published worked example. Instructors: release the student notebooks.",
        epilog="Without a command, 'train' runs: backprop-lab --epochs 5 is backprop-lab train --epochs 5.")
    parser.add_argument("--version", action="version", version=f"backprop_lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(_COMMANDS) + "}")

    d = DEFAULTS
    tr = sub.add_parser("train", help="train the reference MLP and report the test accuracy (default)",
                        description="Train the reference MLP on a bundled data set (no download), printing the "
                                    "training loss of every epoch and then the test accuracy.")
    tr.add_argument("--dataset", type=_dataset_name, default=d["dataset"],
                    help=f"one of {', '.join(datasets.DATASETS)} (default: %(default)s)")
    tr.add_argument("--hidden", type=parse_hidden, default=d["hidden"], metavar="SIZES",
                    help="hidden-layer sizes, comma separated, e.g. 64 or 32,32, or none (default: 256)")
    tr.add_argument("--activation", type=_choice(_HIDDEN_ACTIVATIONS, "activation"), default=d["activation"],
                    help=f"hidden activation: {', '.join(_HIDDEN_ACTIVATIONS)} (default: %(default)s)")
    tr.add_argument("--loss", type=_choice(_LOSSES, "loss"), default=d["loss"],
                    help=", ".join(f"{name} ({get_loss(name).requires or _FREE_OUTPUT} outputs)"
                                   for name in _LOSSES) + " (default: %(default)s)")
    tr.add_argument("--epochs", type=_positive_int, default=d["epochs"], help="default: %(default)s")
    tr.add_argument("--lr", type=_positive_float, default=d["lr"], help="learning rate α (default: %(default)s)")
    tr.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                    help="samples per update (default: %(default)s)")
    tr.add_argument("--seed", type=_non_negative_int, default=d["seed"],
                    help="seed for split, initial weights and shuffling (default: %(default)s)")
    tr.add_argument("--test-size", type=_fraction, default=d["test_size"],
                    help="fraction of samples held out for testing (default: %(default)s)")
    tr.add_argument("--samples", type=_positive_int, default=None, metavar="N",
                    help="number of samples (xor, moons, spirals only)")
    tr.add_argument("--noise", type=_non_negative_float, default=None,
                    help="noise standard deviation (xor, moons, spirals only)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")

    ex = sub.add_parser("example", help="print the published 2-2-2 worked example step by step",
                        description="Print Mazur's worked example (one back-propagation update of a 2-2-2 "
                                    "sigmoid network) in the course notation, next to the published numbers.")
    ex.add_argument("--iterations", type=_non_negative_int, default=10000,
                    help="also report the error after this many weight-only updates; 0 skips "
                         "(default: %(default)s)")
    instructor = add_commands(sub)
    parser.set_defaults(command="train")
    parser._commands = {"train": tr, "example": ex, **instructor}  # for error messages from the right parser
    return parser


def _run_train(args, parser: argparse.ArgumentParser) -> int:
    from tqdm.auto import tqdm

    options = {}
    for flag, key in (("samples", "n"), ("noise", "noise")):
        value = getattr(args, flag)
        if value is not None:
            if args.dataset == "digits":
                parser.error(f"--{flag} applies to the generated data sets (xor, moons, spirals), not digits")
            options[key] = value
    progress = not args.no_progress
    log = tqdm.write if progress else print
    hidden = list(args.hidden)
    print(f"backprop_lab {__version__}: training the reference MLP on {args.dataset!r}, hidden layers {hidden}, "
          f"{args.activation}, {args.loss}, lr {args.lr:g}, batch size {args.batch_size}, {args.epochs} epochs, "
          f"seed {args.seed}", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            result = train(args.dataset, args.hidden, args.activation, args.loss, args.epochs, args.lr,
                           args.batch_size, args.seed, args.test_size, progress=progress, log=log, **options)
        except ValueError as exc:  # e.g. a test fraction that leaves no training sample
            print(f"backprop-lab: error: {exc}", file=sys.stderr)
            return 2
    split, hist = result.split, result.history
    if hist.diverged:
        # MLP.fit's own warning names the epoch; numpy's overflow warnings before it add nothing
        message = next((str(w.message) for w in reversed(caught) if "diverged" in str(w.message)),
                       f"training diverged after {hist.epochs} epoch(s)")
        print(f"backprop-lab: {message}", file=sys.stderr)
        return 1
    for w in caught:
        print(f"backprop-lab: warning: {w.message}", file=sys.stderr)
    n_test = split.y_test.shape[0]
    correct = int(round(result.accuracy * n_test))
    print(f"test accuracy: {result.accuracy:.2%} ({correct}/{n_test}) after {hist.epochs} epochs, "
          f"final training loss {hist.loss[-1]:.6f}, {result.seconds:.2f} s of training")
    return 0


def _run_example(args) -> int:
    from . import examples

    print(examples.report(args.iterations))
    return 0


def _ensure_printable() -> None:
    """Replace characters the console cannot encode (Δ, ∂, ½) instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            "Δ∂½⊙".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="replace")
        except AttributeError:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``backprop-lab`` with the arguments ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 training diverged, 2 bad arguments (the message is
        printed to stderr). ``main`` itself never exits the interpreter.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    _ensure_printable()
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "train")
    try:
        if argv[0] not in _COMMANDS and not argv[0].startswith("-"):
            close = difflib.get_close_matches(argv[0], _COMMANDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            parser.error(f"unknown command {argv[0]!r}; expected one of {', '.join(_COMMANDS)}{hint}")
        args, extras = parser.parse_known_args(argv)
        command = parser._commands[args.command]
        if extras:
            options = [o for a in command._actions for o in a.option_strings]
            hints = [f"{x} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(x, options, n=1)) else x
                     for x in extras]
            command.error(f"unrecognized arguments: {' '.join(hints)}")
        if args.command == "example":
            return _run_example(args)
        if args.command in INSTRUCTOR_COMMANDS:
            return INSTRUCTOR_COMMANDS[args.command][1](args)
        return _run_train(args, command)
    except SystemExit as exc:  # argparse: --help, --version (0) and bad arguments (2)
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
