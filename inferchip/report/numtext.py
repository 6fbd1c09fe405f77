"""Many floats to text at once: `general_10(values)` is `['%.10g' % v for v in values]`
computed with numpy array operations (the sweep's CSV writer renders hundreds of
thousands of distinct costs; Python's `%` takes most of its time).

How, per value v != 0 with |v| in [1e-13, 1e32):
- its decimal exponent X = floor(log10 |v|) (corrected by one either way below) and
  the scaled value m = |v| x 10^(9 - X), one correctly rounded multiplication or
  division by an exact power of ten (10^0..10^22), so |m - exact| <= 1e10 x 2^-53
  ~ 1.1e-6;
- its 10 significant digits q = rint(m): the exact value rounds the same way unless
  its fraction is within that error of one half, so values whose m has a fraction
  within 1e-5 of 0.5 are rendered by Python's `%` instead (exact ties included);
  q = 10^10 carries into the exponent;
- the text laid out as `%g` does: fixed notation for -4 <= X < 10, else `d.ddde+XX`;
  trailing zeros dropped, a leading '-' for a negative sign bit. Each (sign, X,
  number of digits kept) has one layout of byte positions, applied to all its values.
Zero, -0.0, NaN, infinities and values outside that range go through `%` too."""

from __future__ import annotations

import numpy as np

DIGITS = 10  # significant digits, as '%.10g' (document.SIGNIFICANT_DIGITS; the layout below is built for 10)
_LOW, _HIGH = -13, 31  # decimal exponents with an exact 10^(9 - X) (|9 - X| <= 22)
_POW10 = 10.0 ** np.arange(23)  # exact doubles
_CONST = b"0.-e+\n"  # characters a layout adds to the digits; then the ten digits for exponents
_TABLE_WIDTH = 10 + len(_CONST) + 10
_LAYOUT_WIDTH = 17  # "-1.234567891e-13" and its newline
_groups = None  # (digits of every 5-digit group as one 5-byte item, trailing zeros of each), built on first use


def _five_digit_groups():
    global _groups
    if _groups is None:
        n = np.arange(100_000)
        digits = (n[:, None] // 10 ** np.arange(4, -1, -1) % 10 + 48).astype(np.uint8).view("V5").ravel()
        zeros = np.zeros(100_000, dtype=np.int64)
        for k in range(1, 6):
            zeros[n % 10**k == 0] = k
        _groups = digits, zeros
    return _groups


def _scaled(magnitude, exponent):
    """magnitude x 10^(9 - exponent), one rounding [exponent in _LOW.._HIGH]."""
    k = 9 - exponent
    return np.where(k >= 0, magnitude * _POW10[np.clip(k, 0, 22)], magnitude / _POW10[np.clip(-k, 0, 22)])


def _layout(negative: bool, exponent: int, kept: int) -> list[int]:
    """Columns of the table (0-9 the digits, then _CONST, then '0'-'9') spelling one value."""
    const = {c: 10 + i for i, c in enumerate(_CONST.decode())}
    cells = [const["-"]] if negative else []
    if -4 <= exponent < DIGITS:
        if exponent >= 0:
            cells += list(range(exponent + 1))
            if kept > exponent + 1:
                cells += [const["."], *range(exponent + 1, kept)]
        else:
            cells += [const["0"], const["."]] + [const["0"]] * (-exponent - 1) + list(range(kept))
    else:
        cells += [0] + ([const["."], *range(1, kept)] if kept > 1 else [])
        digit = 10 + len(_CONST)
        cells += [const["e"], const["-" if exponent < 0 else "+"], digit + abs(exponent) // 10,
                  digit + abs(exponent) % 10]
    return [*cells, const["\n"]]


def general_10(values) -> list[str]:
    """'%.10g' % v for each value of a float64 array, as the same strings."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    magnitude = np.abs(values)
    ok = np.isfinite(magnitude) & (magnitude > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.clip(np.floor(np.log10(np.where(ok, magnitude, 1.0))), _LOW, _HIGH).astype(np.int64)
        m = _scaled(magnitude, exponent)
        exponent += (m >= 1e10).astype(np.int64) - (m < 1e9)  # log10 may be off by one near a power of ten
        ok &= (exponent >= _LOW) & (exponent <= _HIGH)
        np.clip(exponent, _LOW, _HIGH, out=exponent)
        m = _scaled(magnitude, exponent)
        ok &= (m >= 1e9) & (m < 1e10) & (np.abs(m - np.floor(m) - 0.5) > 1e-5)
    q = np.rint(np.where(ok, m, 1e9)).astype(np.int64)
    carry = q >= 10**10
    q[carry] = 10**9
    exponent += carry
    groups, zeros = _five_digit_groups()
    high, low = np.divmod(q, 100_000)
    kept = DIGITS - np.where(low == 0, 5 + zeros[high], zeros[low])
    key = (np.signbit(values) * 64 + (exponent - _LOW)) * 16 + kept
    keys, which = np.unique(key, return_inverse=True)
    layouts = np.full((len(keys), _LAYOUT_WIDTH), -1, dtype=np.intp)
    for i, k in enumerate(keys.tolist()):
        cells = _layout(bool(k // 1024), k // 16 % 64 + _LOW, k % 16)
        layouts[i, :len(cells)] = cells
    table = np.empty((n, _TABLE_WIDTH), dtype=np.uint8)
    table[:, :5] = groups[high].view(np.uint8).reshape(n, 5)
    table[:, 5:10] = groups[low].view(np.uint8).reshape(n, 5)
    table[:, 10:] = np.frombuffer(_CONST + b"0123456789", dtype=np.uint8)
    columns = layouts[which.ravel()]
    used = columns >= 0
    picked = table.ravel()[(np.arange(n)[:, None] * _TABLE_WIDTH + columns)[used]]
    cells = picked.tobytes().decode("ascii").split("\n")
    cells.pop()  # after the last newline
    for i in np.flatnonzero(~ok).tolist():
        cells[i] = "%.10g" % values[i]
    return cells
