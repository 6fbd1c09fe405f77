"""inferchip.report.numtext.general_10 gives exactly Python's '%.10g' strings."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inferchip.report.analysis_view import SIGNIFICANT_DIGITS
from inferchip.report.numtext import DIGITS, general_10


def _python(values) -> list[str]:
    return ["%.10g" % v for v in np.asarray(values, dtype=np.float64).tolist()]


def test_same_digits_as_the_row_formatter():
    assert DIGITS == SIGNIFICANT_DIGITS


EDGES = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 0.5, 2.5, 0.1 + 0.2, 1e-5, 1e-4, 9.99999999995e-5,
         0.0001234567891, 1e9, 1e10, 9999999999.5, 1234567890.5, 12345678905.0, 99999999995.0, 123456789012.0,
         1e16, 1e31, 9.9999999999e31, 1e32, 1e-13, 9.99999999995e-14, 1e-14, 1e-300, 5e-324,
         1.7976931348623157e308, -2.5e-7, 3.000000000049999, 7e22, 1e22, 1e-22]


def test_edges_exactly_as_python():
    assert general_10(EDGES) == _python(EDGES)
    assert general_10(np.array([], dtype=float)) == []


def test_ties_and_near_ties_at_every_scale():
    # values whose eleventh significant digit is a 5 (exact ties, and the doubles next to them)
    rng = np.random.default_rng(7)
    base = (rng.integers(10**9, 10**10, 5000) + 0.5) * 10.0 ** rng.integers(-23, 23, 5000)
    values = np.concatenate([base, np.nextafter(base, 0), np.nextafter(base, np.inf), -base])
    assert general_10(values) == _python(values)


def test_costs_and_integers_as_python():
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.uniform(-1, 1, 20000) * 10.0 ** rng.integers(-20, 35, 20000),
                             rng.integers(-10**12, 10**12, 20000).astype(float),
                             np.round(rng.uniform(0, 1000, 20000), 4),
                             rng.integers(0, 2**64 - 1, 20000, dtype=np.uint64).view(np.float64)])
    assert general_10(values) == _python(values)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 60), elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_any_doubles_as_python(values):
    assert general_10(values) == _python(values)
