"""The checks that notebook test cells call: messages a student can act on, and no way for
a student cell to make a wrong answer pass."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from backprop_lab.grading import GradingError, task


def fails(fn, *args, **kwargs) -> str:
    with pytest.raises(GradingError) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_messages_name_task_expected_and_found():
    t = task("1.3 dense_forward")
    msg = fails(t.shape, np.ones((3, 4)), (4, 3), "dense_forward(X, W, b)")
    assert msg.startswith("Task 1.3 dense_forward: dense_forward(X, W, b) has shape (3, 4); expected (4, 3)")
    assert "Hint: the result is the transpose" in msg
    msg = fails(t.close, np.array([[1.0, 2.0], [3.0, 5.0]]), [[1.0, 2.0], [3.0, 4.0]], "in")
    assert "1 of 4 entries differ" in msg and "at index [1, 1]: found 5, expected 4" in msg


@pytest.mark.parametrize("got_factor,batch,expected_hint", [
    (-1.0, None, "opposite sign"), (4.0, 4, "4× too large (4 = the batch size): average"),
    (0.25, 4, "4× too small"), (2.0, None, "½ of ½ Σ"), (0.5, None, "half the expected"),
    (3.0, None, "3 times the expected value")])
def test_value_hints_recognise_usual_mistakes(got_factor, batch, expected_hint):
    expected = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])
    msg = fails(task("x").close, expected * got_factor, expected, batch=batch)
    assert expected_hint in msg


def test_shape_hints():
    t = task("x")
    assert "keep the batch axis" in fails(t.shape, np.ones(3), (1, 3))
    assert "sum or average" in fails(t.shape, np.ones((2, 3)), (3,))
    assert "a single number where an array" in fails(t.shape, 1.0, (3,))


def test_custom_hint_is_added_to_what_the_numbers_show():
    msg = fails(task("x").close, -np.ones(3), np.ones(3), hint="look at Err = t − o")
    assert "opposite sign" in msg and "look at Err = t − o" in msg


def test_call_reports_not_implemented_and_exceptions_and_in_place_changes():
    t = task("2.1 f")

    def stub(x):
        raise NotImplementedError()

    assert "f" in fails(t.call, stub, np.ones(2)) and "not implemented yet" in fails(t.call, stub, np.ones(2))

    def boom(x):
        return x @ np.ones((3, 3))

    msg = fails(t.call, boom, np.ones((2, 2)), hint="W has shape (fan_in, fan_out)")
    assert "raised ValueError" in msg and "fan_in" in msg

    def in_place(x):
        x += 1
        return x

    x = np.zeros(3)
    assert "modified its input (argument 1) in place" in fails(t.call, in_place, x)

    def update_list(weights, lr):
        weights[1] -= lr
        return weights

    msg = fails(t.call, update_list, [np.ones(2), np.ones(3)], 0.1)
    assert "modified its input (argument 1[1]) in place" in msg
    assert t.call(lambda x: x + 1, np.zeros(2)).tolist() == [1.0, 1.0]
    assert "is a int, not a function" in fails(t.call, 3)


def test_values_that_are_not_numbers():
    t = task("x")
    assert "is None; did the function forget to `return`" in fails(t.close, None, [1.0])
    assert "is a str" in fails(t.close, "0.5", [0.5])
    assert "contains NaN" in fails(t.close, [np.nan, 1.0], [1.0, 1.0])
    assert "expected a single number" in fails(t.scalar, np.array([1.0]), 1.0)
    assert task("x").scalar(np.float64(0.5), 0.5) == 0.5


def test_dtype_and_raises():
    t = task("x")
    assert "expected a floating-point array" in fails(t.dtype, np.array([1, 2]), "f")
    t.dtype(np.array([1.0]), "f")

    def raises_value_error():
        raise ValueError("X has 3 columns")

    t.raises(ValueError, raises_value_error, match="columns")
    assert "returned normally" in fails(t.raises, ValueError, lambda: None)
    assert "does not mention 'rows'" in fails(t.raises, ValueError, raises_value_error, match="rows")


def test_equivalent_accepts_other_forms_and_explains_a_wrong_one():
    import sympy

    x = sympy.Symbol("x")
    s = 1 / (1 + sympy.exp(-x))
    t = task("2.3 sigmoid_prime")
    assert t.equivalent(sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2, s * (1 - s), "sigmoid_prime")
    msg = fails(t.equivalent, s * (1 - x), s * (1 - s), "sigmoid_prime")
    assert msg.startswith("Task 2.3 sigmoid_prime: sigmoid_prime is not equal to the expected expression")
    assert "could not be read" in fails(t.equivalent, "1 +* x", s, "sigmoid_prime")
    assert "is None" in fails(t.equivalent, None, s)


STUDENT_CHEATS = [
    "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: np.ones(1, bool)",
    "np.testing.assert_allclose = lambda *a, **k: None",
    "np.abs = lambda x: 0 * x\nnp.max = lambda *a, **k: 0.0",
    "import sys\nsys.modules['numpy'] = type(sys)('numpy')",
    "import backprop_lab.mlp\nbackprop_lab.mlp.MLP.forward = lambda self, X: X[:, :2]",
]


@pytest.mark.parametrize("cheat", STUDENT_CHEATS)
def test_a_student_cell_replacing_numpy_or_the_library_cannot_make_a_wrong_answer_pass(cheat):
    """Runs like a notebook: the setup cell imports the library and its grading checks, then a
    'student cell' cheats, then the test cell checks a wrong answer."""
    code = textwrap.dedent("""
        import numpy as np
        import backprop_lab
        import backprop_lab.grading
        from backprop_lab import MLP
        {cheat}
        from backprop_lab.grading import task, GradingError
        t = task("1.5 mlp_forward")
        import numpy as np
        net = MLP([2, 3, 2], seed=0)
        X = np.array([[0.5, -1.0], [2.0, 0.1]])
        expected = net.forward(X)
        try:
            t.close(expected + 1e-3, expected, "mlp_forward(X)")
        except GradingError as e:
            print("CAUGHT", e)
        t.close(expected, expected, "mlp_forward(X)")
        print("CORRECT PASSES")
    """).format(cheat=cheat)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "CAUGHT" in proc.stdout and "CORRECT PASSES" in proc.stdout, proc.stdout
    assert "note: restored" in proc.stdout


class EqualsEverything(np.ndarray):
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.view(np.ndarray), dtype=dtype)


def test_objects_with_a_fake_eq_are_compared_by_their_numbers():
    fake = np.zeros(3).view(EqualsEverything)
    assert fake == np.ones(3)  # the trick works on a naive test
    assert "3 of 3 entries differ" in fails(task("x").close, fake, np.ones(3))

    class Liar:
        def __eq__(self, other):
            return True

    assert "not an array of numbers" in fails(task("x").close, Liar(), np.ones(3))
