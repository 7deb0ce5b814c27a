"""Chunked, crash-safe results: one Parquet part per chunk, resume, consolidation.

While a job runs (and after it was interrupted) its output directory holds::

    job.json                  the job: inputs, seed, runs, chunk size (written first; --resume checks it)
    runs/part-000000.parquet  runs [0, C) of the job; part-000001 holds [C, 2C) ...
    events/part-000000.parquet, injects/part-000000.parquet   the same chunk's other tables

Sweeps name parts ``part-PPPPP-KKKKKK.parquet`` (design point, chunk within the point). A sweep
whose points are small (fewer runs than half a chunk) packs several whole consecutive points into
one chunk, named after its first point: a 100,000-point sweep of one run per point writes a few
parts, not 100,000 (the bytes of the consolidated tables are the same either way).
Every part is written to a hidden temporary file, flushed to disk and renamed into
place, so a part either exists whole or not at all. A chunk's ``runs`` part is written
last and a chunk counts as done only when its ``runs`` part holds exactly the chunk's
rows and its other parts exist: a kill between parts just means the chunk is redone.
The part directories are Parquet datasets (``pd.read_parquet(OUT / "runs")``).

When the job completes, each table is consolidated into one file (``runs.parquet``,
...) by streaming the parts in chunk order into row groups of a fixed size, so the
bytes do not depend on the chunk size, the number of workers or the order in which
chunks finished; then ``manifest.json`` is written and the parts and ``job.json`` are
removed. Memory stays bounded by one part plus one row group at any run count.

``atomic_write`` here is the project's one atomic writer (results, reports, MSEL exports,
workshop documents all use it).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# pyarrow (and with it numpy) is imported inside the functions: a spawned worker imports this
# module before its initialiser has capped the BLAS threads, which must happen before numpy loads.

TABLES = ("runs", "events", "injects")
JOB_FILE = "job.json"
MANIFEST_FILE = "manifest.json"
ROW_GROUP = 131_072  # rows per row group of a consolidated file (fixed: keeps bytes chunking-independent)
#: How each table is written where it differs from the default (zstd at its default level, ROW_GROUP rows):
#: the event log, by far the largest table, compresses harder in larger row groups (~8% smaller at a few
#: percent of a job's CPU; measured with benchmarks/bench_events.py).
WRITE_OPTIONS: dict[str, dict[str, int]] = {"events": {"compression_level": 6, "row_group": 524_288}}
#: Consolidated last, deleting each part once read: peak disk ~1x the final file, not 2x.
STREAMED = ("events",)
FORMAT = 2  # 2: nulls instead of -1/'' sentinels, ordered rungs (sim.experiments.columns)


@dataclass(frozen=True)
class Chunk:
    """Runs ``[start, stop)`` of one design point (``point`` is None for a plain run job), or of
    ``points`` consecutive design points from ``point`` on (a packed chunk of small points)."""

    point: int | None
    index: int
    start: int
    stop: int
    points: int = 1

    @property
    def n(self) -> int:
        return (self.stop - self.start) * self.points

    @property
    def members(self) -> range:
        """The design points this chunk covers."""
        return range(self.point or 0, (self.point or 0) + self.points)

    @property
    def name(self) -> str:
        if self.point is None:
            return f"part-{self.index:06d}.parquet"
        return f"part-{self.point:05d}-{self.index:06d}.parquet"


def plan_chunks(runs: Sequence[int], chunk_size: int, points: bool, pack: bool = False) -> list[Chunk]:
    """Chunk k of point p holds runs [k*C, min((k+1)*C, runs[p])): deterministic, so resume can skip.

    ``pack`` (sweeps without --until-ci): when every point has the same R runs and 2R <= C, each
    chunk holds C // R whole consecutive points instead.
    """
    if pack and points and runs and len(set(runs)) == 1 and 2 * runs[0] <= chunk_size:
        r, k = runs[0], chunk_size // runs[0]
        return [Chunk(p, 0, 0, r, min(k, len(runs) - p)) for p in range(0, len(runs), k)]
    out = []
    for p, n in enumerate(runs):
        for k, start in enumerate(range(0, n, chunk_size)):
            out.append(Chunk(p if points else None, k, start, min(start + chunk_size, n)))
    return out


def _write_bytes(path: Path, data: bytes) -> None:
    """Write and fsync, so a renamed part is on disk, not only in the page cache."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _with_path(exc: OSError, path: Path) -> OSError:
    """Name the file we were writing: a bare ENOSPC from write() carries no filename."""
    if exc.filename:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``: the one atomic writer.

    A crash or a full disk never leaves a truncated file, and the file being replaced stays
    intact until its replacement is complete. The result gets the permissions of a plain
    ``open()`` (per umask), not mkstemp's owner-only ones: results are for sharing. An
    ``OSError`` names ``path``; the temporary file is removed on any failure.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _with_path(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (fsync before the rename)."""
    atomic_write(path, lambda p: _write_bytes(p, data))


def write_json_atomic(obj: Any, path: Path) -> None:
    """A job or manifest file, durably; sorted keys, so the same content gives the same text."""
    atomic_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def prepare_outdir(out: Path) -> Path:
    """Create the output directory or fail with a clear message (``sim.inputs.paths.output_dir``)."""
    from sim.inputs.paths import output_dir

    return output_dir(out, "--out")


def read_json(path: Path) -> dict | None:
    """A job or manifest file, or None if absent. Unreadable JSON is bad input, not a crash."""
    try:
        if path.stat().st_size > 50_000_000:
            raise InputError(path, "", "file is too large for a job or manifest file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise InputError(path, "", "is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise InputError(path, "", "not UTF-8 text; remove it or choose another --out") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, "", f"not valid JSON ({exc.msg}); remove it or choose another --out") from None
    except RecursionError:
        raise InputError(path, "", "JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(path, "", "expected a JSON object")
    return data


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


#: What readers of a manifest (or job file) rely on: field -> (check, what it must be).
_MANIFEST_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seed": (lambda v: _is_int(v) and 0 <= v < 2**63, "a seed (0 .. 2**63 - 1)"),
    "runs": (lambda v: _is_int(v) and v >= 0, "a number of runs"),
    "turns": (lambda v: _is_int(v) and v >= 0, "a number of turns"),
    "hours_per_turn": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "levers": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of names"),
    "overlays": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of names"),
    "overrides": (lambda v: isinstance(v, list) and all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str)
                                                      for x in v), "a list of [path, value] pairs"),
    "files": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of file names"),
    **{k: (lambda v: isinstance(v, str), "text") for k in ("scenario", "scenario_file", "title", "content_hash",
                                                             "job_id", "created")},
}


def _check_fields(path: Path, data: dict) -> None:
    for key, (ok, what) in _MANIFEST_FIELDS.items():
        if key in data and data[key] is not None and not ok(data[key]):
            raise InputError(path, key, f"expected {what}, found {str(data[key])[:40]!r}")


def _writer_kwargs(name: str | None) -> dict[str, int]:
    """ParquetWriter settings of table ``name`` (the same for its parts and its consolidated file)."""
    opts = WRITE_OPTIONS.get(name or "", {})
    return {"compression_level": opts["compression_level"]} if "compression_level" in opts else {}


def row_group_of(name: str | None) -> int:
    """Rows per row group of table ``name``'s consolidated file."""
    return WRITE_OPTIONS.get(name or "", {}).get("row_group", ROW_GROUP)


def parquet_bytes(table: pa.Table, name: str | None = None) -> bytes:
    """Deterministic Parquet bytes: same table, same bytes (zstd; the level of table ``name``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", **_writer_kwargs(name))
    return sink.getvalue().to_pybytes()


class Store:
    """The part files of one job under ``out``."""

    def __init__(self, out: Path, tables: Iterable[str] = TABLES):
        self.out = Path(out)
        self.tables = tuple(tables)

    # ---------------------------------------------------------------- layout
    def dir(self, table: str) -> Path:
        return self.out / table

    def part(self, table: str, chunk: Chunk) -> Path:
        return self.out / table / chunk.name

    def prepare(self) -> None:
        for t in self.tables:
            d = self.dir(t)
            try:
                d.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise InputError(d, "--out", "exists and is not a directory") from None
            except OSError as exc:
                raise InputError(d, "--out", f"cannot create directory: {exc.strerror}") from None

    def part_files(self, table: str) -> list[Path]:
        d = self.dir(table)
        return sorted(d.glob("part-*.parquet")) if d.is_dir() else []

    # ---------------------------------------------------------------- writing
    def write_chunk(self, chunk: Chunk, parts: dict[str, bytes]) -> None:
        """Write a chunk's parts, ``runs`` last: its presence marks the chunk complete."""
        for t in sorted(self.tables, key=lambda t: t == "runs"):
            atomic_bytes(self.part(t, chunk), parts[t])

    def remove_chunk(self, chunk: Chunk) -> None:
        for t in sorted(self.tables, key=lambda t: t != "runs"):  # runs first: no longer counts as done
            self.part(t, chunk).unlink(missing_ok=True)

    def clean_tmp(self) -> None:
        """Remove temporary files left by a killed writer (they are never read)."""
        dirs = [self.out, *(self.dir(t) for t in TABLES)]
        for d in dirs:
            if d.is_dir():
                for f in d.glob(".*.tmp"):
                    f.unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget every part (a fresh job in a directory that held another one)."""
        for t in TABLES:
            for f in self.part_files(t):
                f.unlink()
        self.clean_tmp()

    def remove_parts(self) -> None:
        self.clear()
        for t in TABLES:
            d = self.dir(t)
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()

    def prune(self, keep: Iterable[Chunk]) -> None:
        """Delete parts of chunks not in ``keep`` (beyond a run count that --until-ci settled on)."""
        names = {c.name for c in keep}
        for t in TABLES:
            for f in self.part_files(t):
                if f.name not in names:
                    f.unlink()

    # ---------------------------------------------------------------- reading
    def is_done(self, chunk: Chunk) -> bool:
        """Done only if its runs part holds exactly the chunk's rows and its other parts are readable."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if pq.read_metadata(self.part("runs", chunk)).num_rows != chunk.n:
                return False
            return all(pq.read_metadata(self.part(t, chunk)) is not None for t in self.tables if t != "runs")
        except (OSError, pa.ArrowInvalid):
            return False

    def done(self, chunks: Iterable[Chunk]) -> set[Chunk]:
        return {c for c in chunks if self.is_done(c)}

    def read_part(self, table: str, chunk: Chunk, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(self.part(table, chunk), columns=columns)

    # ---------------------------------------------------------------- consolidation
    def consolidate(self, table: str, chunks: Sequence[Chunk], dest: Path | None = None,
                    row_group: int | None = None, on_part: Callable[[], None] | None = None) -> Path:
        """Stream a table's parts, in chunk order, into one file (``<table>.parquet`` by default).

        A table in :data:`STREAMED` deletes each part as soon as it has been read, so the disk
        never holds the table twice. If the job dies meanwhile, the chunks whose parts are gone
        are no longer complete (``is_done``) and ``--resume`` recomputes them (draws are keyed, so
        the rows are the same) before consolidating again.
        """
        dest = dest or self.out / f"{table}.parquet"
        concat_parts([self.part(table, c) for c in chunks], dest, row_group or row_group_of(table),
                     name=table, delete=table in STREAMED, on_part=on_part)
        return dest


# -------------------------------------------------------------------- consolidation helpers


def _index_type(n: int) -> pa.DataType:
    import pyarrow as pa

    return pa.int8() if n < 128 else pa.int16() if n < 32768 else pa.int32()


def _target_schema(paths: Sequence[Path]) -> tuple[pa.Schema, dict[str, pa.Array] | None]:
    """One schema for all parts (``_unify`` over the parts' files)."""
    import pyarrow.parquet as pq

    return _unify([pq.read_schema(p) for p in paths], lambda i, cols: pq.read_table(paths[i], columns=cols))


def combine_tables(tables: Sequence[pa.Table]) -> pa.Table:
    """Tables of consecutive design points as one (a packed chunk's part), united exactly as
    consolidation unites parts, so packing does not change the consolidated bytes."""
    import pyarrow as pa

    schema, dicts = _unify([t.schema for t in tables], lambda i, cols: tables[i].select(cols))
    if dicts is not None:
        tables = [_conform(t, schema, dicts) for t in tables]
    return pa.concat_tables(tables).combine_chunks()


def _unify(schemas: Sequence[pa.Schema], read: Callable[[int, list[str]], pa.Table],
           ) -> tuple[pa.Schema, dict[str, pa.Array] | None]:
    """One schema for all parts. Parts of one scenario share it; sweep points may not (a lever
    that opens a channel adds columns), so columns are united and dictionaries merged. Parts
    already united (no pandas metadata: packed chunks of differing points) are united again."""
    import pyarrow as pa

    first = schemas[0]
    if all(s.equals(first, check_metadata=True) for s in schemas[1:]) and b"pandas" in (first.metadata or {}):
        return first, None
    fields: dict[str, pa.Field] = {}
    for s in schemas:
        for f in s:
            fields.setdefault(f.name, f)
    dicts: dict[str, list] = {name: [] for name, f in fields.items() if pa.types.is_dictionary(f.type)}
    if dicts:
        seen: dict[str, dict] = {k: {} for k in dicts}
        for i, s in enumerate(schemas):
            cols = [c for c in dicts if c in s.names]
            if not cols:
                continue
            t = read(i, cols)
            for c in cols:
                for chunk in t.column(c).chunks:
                    for v in chunk.dictionary.to_pylist():
                        if v not in seen[c]:
                            seen[c][v] = len(seen[c])
                            dicts[c].append(v)
    out_fields = []
    for name, f in fields.items():
        if name in dicts:
            f = pa.field(name, pa.dictionary(_index_type(len(dicts[name])), f.type.value_type, f.type.ordered),
                         nullable=True)
        out_fields.append(f.with_nullable(True))
    return pa.schema(out_fields), {k: pa.array(v, fields[k].type.value_type) for k, v in dicts.items()}


def _conform(t: pa.Table, schema: pa.Schema, dicts: dict[str, pa.Array]) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    cols = []
    for f in schema:
        if f.name not in t.column_names:
            cols.append(pa.nulls(t.num_rows, f.type))
            continue
        col = t.column(f.name).combine_chunks()
        if f.name in dicts:
            target = dicts[f.name]
            pos = {v: i for i, v in enumerate(target.to_pylist())}
            remap = np.array([pos[v] for v in col.dictionary.to_pylist()], dtype=np.int64)
            idx = col.indices.to_numpy(zero_copy_only=False)
            new = remap[idx] if len(remap) else idx
            col = pa.DictionaryArray.from_arrays(pa.array(new, f.type.index_type, mask=col.is_null().to_numpy(
                zero_copy_only=False)), target)
        elif col.type != f.type:
            col = col.cast(f.type)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)


def concat_parts(paths: Sequence[Path], dest: Path, row_group: int = ROW_GROUP, name: str | None = None,
                 delete: bool = False, on_part: Callable[[], None] | None = None) -> None:
    """Stream Parquet parts, in order, into one file with fixed-size row groups (atomically).

    Row groups are cut at fixed row counts, not at part boundaries, so the same rows give
    the same bytes however they were chunked. ``name`` picks the table's writer settings;
    ``delete`` removes each part as soon as it has been read (see ``Store.consolidate``): the
    folder then holds the remaining parts plus the file written so far, about one copy.
    ``on_part`` is called after each part (a progress bar: combining a big event log takes a while).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not paths:
        raise ValueError("no parts to consolidate")
    schema, dicts = _target_schema(paths)

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema, compression="zstd", **_writer_kwargs(name)) as w:
            buf: list[pa.Table] = []
            n = 0
            for p in paths:
                t = pq.read_table(p)
                if delete:
                    p.unlink()
                if dicts is not None:
                    t = _conform(t, schema, dicts)
                if on_part is not None:
                    on_part()
                buf.append(t)
                n += t.num_rows
                while n >= row_group:
                    merged = pa.concat_tables(buf).combine_chunks()
                    w.write_table(merged.slice(0, row_group), row_group_size=row_group)
                    rest = merged.slice(row_group)
                    buf, n = [rest], rest.num_rows
            if n:
                w.write_table(pa.concat_tables(buf).combine_chunks(), row_group_size=row_group)
        _fsync(tmp)

    atomic_write(dest, write)


# -------------------------------------------------------------------- reading results


def read_table(out: str | Path, table: str = "runs", columns: list[str] | None = None) -> pd.DataFrame:
    """One results table of a job as a DataFrame: the consolidated file of a finished job, or
    the parts of the chunks completed so far (a running or interrupted job).

    A folder whose manifest does not describe its tables (``check_results``) and a file that is
    not readable Parquet are bad input (``InputError``), not a crash.
    """
    import pandas as pd

    out = Path(out)
    complete = check_results(out)
    single = out / f"{table}.parquet"
    parts_dir = out / table
    interrupted = not complete and (out / JOB_FILE).exists()
    parts = sorted(parts_dir.glob("part-*.parquet")) if parts_dir.is_dir() else []
    from sim.experiments.columns import upgrade

    if single.exists() and not (interrupted and parts):
        return upgrade(_read_parquet(single, columns), table)
    if not parts:
        raise FileNotFoundError(f"{out}: no {table} results (neither {single.name} nor {table}/part-*.parquet)")
    if table != "runs" and interrupted:  # only chunks whose runs part exists are complete
        done = {p.name for p in (out / "runs").glob("part-*.parquet")}
        parts = [p for p in parts if p.name in done]
    return upgrade(pd.concat([_read_parquet(p, columns) for p in parts], ignore_index=True), table)


def _corrupt(exc: BaseException) -> bool:
    """pyarrow's way of saying a file is not (whole) Parquet; a real I/O error has an errno."""
    import pyarrow as pa

    if isinstance(exc, OSError):  # pyarrow raises plain OSError (no errno) for a bad footer or thrift data
        return not exc.errno
    return isinstance(exc, pa.ArrowException)


def _read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:
        if _corrupt(exc):
            raise InputError(path, "", f"not a readable Parquet file (corrupt, truncated or not results): "
                             f"{str(exc).splitlines()[0][:200]}") from None
        raise


def _num_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        names = set(meta.schema.names)
    except Exception as exc:
        if _corrupt(exc):
            raise InputError(path, "", "not a readable Parquet file (corrupt, truncated or not results)") from None
        raise
    if not {"run", "outcome"} <= names:
        raise InputError(path, "", "not a runs table (no 'run' and 'outcome' columns)")
    return meta.num_rows


def check_results(out: str | Path) -> bool:
    """True if the folder holds a completed job (its manifest); refuse one whose manifest does not
    describe its tables: a manifest left by an earlier job beside the parts of an interrupted one,
    or one whose run count differs from the runs table (``report`` and ``compare`` would otherwise
    label one job's rows as another's)."""
    out = Path(out)
    man = read_json(out / MANIFEST_FILE)
    job = read_json(out / JOB_FILE)
    for path, data in ((out / MANIFEST_FILE, man), (out / JOB_FILE, job)):
        if data is not None:
            _check_fields(path, data)
    if man is None:
        return False  # a running or interrupted job (job.json), or no job at all
    if job is not None and job.get("job_id") != man.get("job_id"):
        ident = job.get("identity") or {}
        raise InputError(out, "", f"manifest.json is from an earlier job (seed {man.get('seed')}, {man.get('runs')} "
                         f"runs) than the interrupted job in this folder (seed {ident.get('seed')}): finish it "
                         "with --resume, or use another folder")
    runs = man.get("runs")
    if isinstance(runs, bool) or not isinstance(runs, int):
        return True  # not written by a job (e.g. a hand-made folder): nothing to check against
    single = out / "runs.parquet"
    if man.get("consolidated", True):
        files = [single] if single.exists() else []
    else:  # written with consolidate=False: the parts are the results
        files = sorted((out / "runs").glob("part-*.parquet")) if (out / "runs").is_dir() else []
    if not files:
        return True
    n = sum(_num_rows(f) for f in files)
    if n != runs:
        raise InputError(out, "", f"manifest.json says {runs:,} runs but the runs table holds {n:,}: the folder "
                         "was changed after the job, or two jobs wrote to it; re-run the job")
    return True


def read_runs(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The runs table of a job (``run_job``/``run_sweep`` output directory) as a DataFrame."""
    return read_table(out, "runs", columns)


def read_events(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The event log of a job (one row per actor turn), if it was written."""
    return read_table(out, "events", columns)


def read_design(out: str | Path) -> pd.DataFrame:
    """A sweep's design points: one row per point with its factor values and seed."""
    import pandas as pd

    return pd.read_parquet(Path(out) / "design.parquet")


def summarise(out: str | Path) -> pd.DataFrame:
    """Per design point of a sweep: factor values, runs, and each headline probability (outcome
    classes and use of force) as ``p_<name>`` with its 95% Wilson interval ``lo_<name>``..``hi_<name>``."""
    import numpy as np
    import pandas as pd

    from sim.analysis.stats import wilson
    from sim.experiments.measures import HEADLINE

    table = read_design(out).set_index("point")
    runs = read_runs(out, ["point", "outcome", "use_of_force"])
    counts = pd.crosstab(runs["point"], runs["outcome"].astype(str))
    counts["use_of_force"] = runs.groupby("point")["use_of_force"].sum()
    counts = counts.reindex(index=table.index, columns=list(HEADLINE), fill_value=0)
    n = runs.groupby("point").size().reindex(table.index, fill_value=0).to_numpy()
    table["runs"] = n
    for name in HEADLINE:
        k = counts[name].to_numpy()
        lo, hi = wilson(k, n)
        table[f"p_{name}"] = k / np.maximum(n, 1)
        table[f"lo_{name}"], table[f"hi_{name}"] = lo, hi
    return table.reset_index()
