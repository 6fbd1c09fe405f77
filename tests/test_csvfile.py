"""inferchip.csvfile: the shared header and empty-cell checks of the small data CSVs."""

import pytest

from inferchip import breakeven, power, purchase
from inferchip.csvfile import empty_cells, require_columns
from inferchip.errors import InputError


def test_require_columns_names_every_missing_column_at_line_1(tmp_path):
    path = tmp_path / "x.csv"
    require_columns(path, ["a", "b"], ("a", "b"))  # complete: no error
    with pytest.raises(InputError) as err:
        require_columns(path, ["b"], ("a", "b", "c"), "; the header is: a,b,c")
    assert err.value.message == f"{path}: line 1: missing column(s): a, c; the header is: a,b,c"


def test_empty_cells_lists_each_empty_or_blank_column():
    row = {"a": "x", "b": "", "c": "  "}
    assert empty_cells("f.csv", 7, row, ("a", "b", "c", "d")) == [
        "f.csv: line 7: column 'b' is empty", "f.csv: line 7: column 'c' is empty",
        "f.csv: line 7: column 'd' is empty"]


@pytest.mark.parametrize("reader, columns, required, fix", [
    (power.read_profiles, power.PROFILE_COLUMNS, ("accelerator", "source", "as_of"), ""),
    (breakeven.read_api_prices, breakeven.API_COLUMNS, ("provider", "model", "comparable_preset", "source", "as_of"),
     ""),
    (purchase.read_units, purchase.UNIT_COLUMNS, ("accelerator", "unit", "source", "as_of"),
     f"; the header is: {','.join(purchase.UNIT_COLUMNS)}"),
])
def test_readers_share_the_messages(tmp_path, reader, columns, required, fix):
    short = tmp_path / "short.csv"
    short.write_text(",".join(columns[1:]) + "\n")
    with pytest.raises(InputError) as err:
        reader(short)
    assert err.value.message == f"{short}: line 1: missing column(s): {columns[0]}{fix}"
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(columns) + "\n" + ",".join("" if c in required else "x" for c in columns) + "\n")
    with pytest.raises(InputError) as err:
        reader(empty)
    for column in required:
        assert f"{empty}: line 2: column '{column}' is empty" in err.value.message.splitlines()
