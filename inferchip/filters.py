"""Row filters shared by `compare` and the analysis commands: vendor, kind, named
chips, price basis and estimated prices.

Catalog filters (vendor, kind, chips) pick catalog rows before any model runs.
Result filters (basis, estimated prices) look at result rows: `compare` drops the
rows that fail them; the analysis commands keep the accelerators with at least one
base-case `compare` row that passes (they price each chip one way)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from inferchip.errors import NotFoundError, UsageError

# The result column holding how a row is paid for: the first one a result frame has.
BASIS_COLUMNS = ("basis", "price_basis")


@dataclass(frozen=True)
class RowFilter:
    vendors: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    chips: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    exclude_estimated: bool = False

    @property
    def on_catalog(self) -> bool:
        return bool(self.vendors or self.kinds or self.chips)

    @property
    def on_results(self) -> bool:
        return bool(self.bases or self.exclude_estimated)

    def describe(self) -> str:
        """The filters as the options that set them (for messages)."""
        parts = [f"--vendor {v}" for v in self.vendors] + [f"--kind {k}" for k in self.kinds]
        parts += [f"--chip {c!r}" for c in self.chips] + [f"--basis {b}" for b in self.bases]
        parts += ["--exclude-estimated"] if self.exclude_estimated else []
        return " ".join(parts)


def filter_catalog(chips: pd.DataFrame, rf: RowFilter) -> pd.DataFrame:
    """Catalog rows of the given vendors (case-insensitive substring, as `catalog list
    --vendor`), kinds (exact) and named chips (each resolved like --chip of `explain`:
    a unique part of the name is enough); all given filters must hold."""
    if not rf.on_catalog:
        return chips
    keep = pd.Series(True, index=chips.index)
    if rf.vendors:
        vendor = chips["vendor"].str.lower()
        matches = pd.Series(False, index=chips.index)
        for wanted in rf.vendors:
            hit = vendor.str.contains(wanted.lower(), regex=False)
            if not hit.any():
                raise NotFoundError(f"--vendor {wanted}: no accelerator of this vendor in the catalog; vendors: "
                                    + ", ".join(sorted(chips["vendor"].unique(), key=str.lower)))
            matches |= hit
        keep &= matches
    if rf.kinds:
        known = sorted(chips["kind"].str.lower().unique())
        unknown = [k for k in rf.kinds if k.lower() not in known]
        if unknown:
            raise UsageError(f"--kind {unknown[0]}: no accelerator of this kind in the catalog; kinds: {', '.join(known)}")
        keep &= chips["kind"].str.lower().isin([k.lower() for k in rf.kinds])
    if rf.chips:
        from inferchip.catalog import find_chip

        names = {str(find_chip(chips, name)["name"]) for name in rf.chips}
        keep &= chips["name"].isin(names)
    out = chips[keep]
    if out.empty:
        raise NotFoundError(f"no accelerator matches {rf.describe()}; see `inferchip catalog list`")
    return out


def basis_column(results: pd.DataFrame) -> str:
    """The column that says how a result row is paid for ('basis' where rows come per
    basis, else 'price_basis')."""
    found = next((c for c in BASIS_COLUMNS if c in results), None)
    if found is None:
        raise UsageError("--basis: these results have no basis column")
    return found


def filter_results(results: pd.DataFrame, rf: RowFilter) -> pd.DataFrame:
    """Result rows whose basis is one of `bases` (by the value of the basis column, so a
    new basis needs no code) and, with `exclude_estimated`, whose price is not a
    secondary estimate."""
    if not rf.on_results:
        return results
    keep = pd.Series(True, index=results.index)
    if rf.bases:
        column = basis_column(results)
        values = results[column].astype(str).str.lower()
        known = sorted(values.unique())
        unknown = [b for b in rf.bases if b.lower() not in known]
        if unknown:
            raise UsageError(f"--basis {unknown[0]}: no result row has this {column}; values here: {', '.join(known)}")
        keep &= values.isin([b.lower() for b in rf.bases])
    if rf.exclude_estimated:
        keep &= ~results["price_is_estimate"].fillna(False).astype(bool)
    return results[keep]


def chips_passing(chips: pd.DataFrame, workload, assumptions, rf: RowFilter) -> pd.DataFrame:
    """For the analysis commands: the catalog rows with at least one base-case `compare`
    row that passes the result filters (one vectorized evaluation of the catalog)."""
    if not rf.on_results:
        return chips
    from inferchip.compare import run_compare

    results = filter_results(run_compare(workload, assumptions, chips), rf)
    out = chips[chips["name"].isin(set(results["accelerator"]))]
    if out.empty:
        raise NotFoundError(f"no accelerator matches {rf.describe()} for this workload")
    return out
