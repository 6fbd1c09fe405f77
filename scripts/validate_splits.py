"""Write data/heldout.csv: leave-one-out and time-split predictions of every benchmark row
(make validate-splits; a few minutes: the LOO fit refits once per row).

The README accuracy table, compare's trust fields and `uncertainty` read these held-out
ratios; the file is stamped with a digest of the data files they were computed from, and a
test fails when the data changed without regenerating it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from inferchip import validate_split as vs
    from inferchip.assumptions import resolve
    from inferchip.calibration import read_calibration
    from inferchip.catalog import load_catalog
    from inferchip.measured import read_benchmarks
    from inferchip.report import write_output

    bench, chips, calibration = read_benchmarks(), load_catalog(), read_calibration()
    values = dict(resolve([]).values)
    progress = lambda message: print(message, file=sys.stderr)  # noqa: E731
    tables = {split: vs.run_split(bench, chips, calibration, values, split, progress=progress)
              for split in vs.CACHED_SPLITS}
    path = ROOT / "data" / "heldout.csv"
    text = vs.heldout_csv_text(tables, vs.inputs_digest())
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        write_output(text, path)
        print("data/heldout.csv: written", file=sys.stderr)
    else:
        print("data/heldout.csv: already current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
