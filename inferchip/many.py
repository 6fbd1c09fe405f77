"""Many workloads in one run: `inferchip compare A.toml B.toml ...` (or a folder).

Each workload is evaluated as `compare` evaluates one (its own [economics] layer,
the same catalog, filters, --sort and --top per workload), and the results come
back as one document: every row carries a `workload` column (the profile's
name), the per-workload inputs sit in `workloads`. The catalog is read once and
each workload's factors are attached for its class (LLM or fixed work), so a
script comparing ten workloads pays the start-up once instead of ten times."""

from __future__ import annotations

from pathlib import Path

from inferchip.errors import NotFoundError, UsageError, shown

MAX_WORKLOADS = 1_000  # a folder of profiles, not a data set: bounded before any is read


def expand(arguments: list[str] | None) -> list[str | None]:
    """Workload arguments as a list of profiles: a folder stands for its *.toml files
    (sorted by name); no argument is the bundled default (None)."""
    if not arguments:
        return [None]
    out: list[str | None] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(str(p) for p in path.glob("*.toml") if p.is_file())
            if not found:
                raise NotFoundError(f"{shown(argument)}: a folder with no workload profile (*.toml) in it; "
                                    "give profile files, bundled names or a folder of profiles")
            out.extend(found)
        else:
            out.append(argument)
        if len(out) > MAX_WORKLOADS:
            raise UsageError(f"more than {MAX_WORKLOADS:,} workloads in one run; split them over several runs")
    return out


def check_names(names: list[str], origins: list[str]) -> None:
    """Each row says its workload by name, so two workloads may not share one."""
    seen: dict[str, str] = {}
    for name, origin in zip(names, origins, strict=True):
        if name in seen:
            raise UsageError(f"{shown(Path(origin).name)} and {shown(Path(seen[name]).name)} are both named "
                             f"'{shown(name)}'; the results tell workloads apart by name: give each profile its own"
                             " name = \"...\"")
        seen[name] = origin


def document(docs: list[dict]) -> dict[str, object]:
    """One document from per-workload `compare` documents: the shared header, each
    workload with its assumptions, and every result row with its `workload`."""
    first = docs[0]
    return {
        "schema_version": first["schema_version"],
        "inferchip_version": first["inferchip_version"],
        "command": "compare",
        "catalog": first["catalog"],
        "workloads": [{"workload": d["workload"], "assumptions": d["assumptions"], "cheapest": d["cheapest"]}
                      for d in docs],
        "results": [{"workload": d["workload"]["name"], **row} for d in docs for row in d["results"]],
    }


def delimited_rows(doc: dict, fields: list[str] | None = None) -> list[dict]:
    """Rows for CSV/TSV: workload, accelerator, option (the row key), then `fields` (--columns) or every field."""
    rows = doc["results"]
    if fields:
        keep = ["workload", "accelerator", "option",
                *[f for f in fields if f not in ("workload", "accelerator", "option")]]
        return [{k: row.get(k) for k in keep} for row in rows]
    return rows
