"""The part store: chunk plan, atomic parts, done-detection, consolidation independent of chunking."""

from __future__ import annotations

import errno

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.experiments import store as st
from sim.experiments.store import Chunk, Store, concat_parts, parquet_bytes, plan_chunks, read_runs


def frame(start: int, stop: int, extra: dict | None = None) -> pd.DataFrame:
    df = pd.DataFrame({
        "run": np.arange(start, stop, dtype=np.int64),
        "outcome": pd.Categorical.from_codes(np.arange(start, stop) % 3, ["a", "b", "c"]),
        "path": [f"p{i % 7}" for i in range(start, stop)],
        "x": np.sin(np.arange(start, stop, dtype=np.float64)),
    })
    for k, v in (extra or {}).items():
        df[k] = v
    return df


def pbytes(df: pd.DataFrame) -> bytes:
    return parquet_bytes(pa.Table.from_pandas(df, preserve_index=False))


def test_plan_chunks_cover_runs_exactly_once():
    chunks = plan_chunks([10, 7], 4, points=True)
    assert [(c.point, c.index, c.start, c.stop) for c in chunks] == [
        (0, 0, 0, 4), (0, 1, 4, 8), (0, 2, 8, 10), (1, 0, 0, 4), (1, 1, 4, 7)]
    assert chunks[3].name == "part-00001-000000.parquet"
    assert plan_chunks([5], 5, points=False) == [Chunk(None, 0, 0, 5)]
    assert plan_chunks([5], 5, points=False)[0].name == "part-000000.parquet"


def test_chunk_is_done_only_with_all_parts_and_the_right_row_count(tmp_path):
    s = Store(tmp_path, ("runs", "injects"))
    s.prepare()
    c = Chunk(None, 0, 0, 5)
    assert not s.is_done(c)
    st.atomic_bytes(s.part("injects", c), pbytes(frame(0, 5)))
    assert not s.is_done(c)  # runs part (written last) missing
    s.write_chunk(c, {"runs": pbytes(frame(0, 5)), "injects": pbytes(frame(0, 2))})
    assert s.is_done(c)
    assert not s.is_done(Chunk(None, 0, 0, 6))  # a part from a longer plan is not this chunk
    s.part("injects", c).write_bytes(b"PAR1 truncated")
    assert not s.is_done(c)  # unreadable part: redo the chunk


def test_write_chunk_writes_runs_last(tmp_path, monkeypatch):
    s = Store(tmp_path, ("runs", "events", "injects"))
    s.prepare()
    order = []
    real = st._write_bytes
    monkeypatch.setattr(st, "_write_bytes", lambda p, d: (order.append(p.parent.name), real(p, d)))
    s.write_chunk(Chunk(None, 0, 0, 3), {t: pbytes(frame(0, 3)) for t in ("runs", "events", "injects")})
    assert order[-1] == "runs" and sorted(order) == ["events", "injects", "runs"]


@pytest.mark.parametrize("row_group", [7, 1000])
def test_consolidated_bytes_do_not_depend_on_chunking(tmp_path, row_group):
    outs = []
    for size in (3, 10, 64):
        d = tmp_path / f"c{size}"
        d.mkdir()
        paths = []
        for k, start in enumerate(range(0, 64, size)):
            p = d / f"part-{k:06d}.parquet"
            p.write_bytes(pbytes(frame(start, min(start + size, 64))))
            paths.append(p)
        concat_parts(paths, d / "all.parquet", row_group=row_group)
        outs.append((d / "all.parquet").read_bytes())
    assert outs[0] == outs[1] == outs[2]
    back = pd.read_parquet(tmp_path / "c3" / "all.parquet")
    pd.testing.assert_frame_equal(back, frame(0, 64))
    assert pq.ParquetFile(tmp_path / "c3" / "all.parquet").metadata.row_group(0).num_rows == min(row_group, 64)


def test_consolidation_unites_columns_and_categories(tmp_path):
    """Sweep points may differ in columns (a lever opens a channel) and in categories."""
    a = frame(0, 4, {"tried_x": np.int16(1)})
    b = frame(4, 8)
    b["outcome"] = pd.Categorical.from_codes(np.zeros(4, int), ["d", "a"])
    paths = [tmp_path / "p0.parquet", tmp_path / "p1.parquet"]
    paths[0].write_bytes(pbytes(a))
    paths[1].write_bytes(pbytes(b))
    concat_parts(paths, tmp_path / "all.parquet")
    out = pd.read_parquet(tmp_path / "all.parquet")
    assert out["outcome"].astype(str).tolist() == ["a", "b", "c", "a", "d", "d", "d", "d"]
    assert list(out["outcome"].cat.categories) == ["a", "b", "c", "d"]
    assert out["tried_x"].iloc[:4].tolist() == [1, 1, 1, 1] and out["tried_x"].iloc[4:].isna().all()


def test_clean_tmp_and_clear_touch_only_our_files(tmp_path):
    s = Store(tmp_path, ("runs",))
    s.prepare()
    (tmp_path / "runs" / ".part-000000.parquet.abc.tmp").write_bytes(b"half")
    (tmp_path / ".runs.parquet.xyz.tmp").write_bytes(b"half")
    (tmp_path / "runs" / "part-000000.parquet").write_bytes(pbytes(frame(0, 2)))
    (tmp_path / "notes.txt").write_text("mine")
    s.clean_tmp()
    assert not list(tmp_path.rglob("*.tmp")) and (tmp_path / "runs" / "part-000000.parquet").exists()
    s.remove_parts()
    assert not (tmp_path / "runs").exists() and (tmp_path / "notes.txt").read_text() == "mine"


def test_read_runs_prefers_parts_of_an_interrupted_job(tmp_path):
    s = Store(tmp_path, ("runs",))
    s.prepare()
    pd.DataFrame({"run": [99]}).to_parquet(tmp_path / "runs.parquet")  # an older, finished job
    assert read_runs(tmp_path)["run"].tolist() == [99]
    (tmp_path / st.JOB_FILE).write_text("{}")
    s.write_chunk(Chunk(None, 1, 3, 5), {"runs": pbytes(frame(3, 5))})
    s.write_chunk(Chunk(None, 0, 0, 3), {"runs": pbytes(frame(0, 3))})
    assert read_runs(tmp_path)["run"].tolist() == [0, 1, 2, 3, 4]
    assert pd.read_parquet(tmp_path / "runs")["run"].sort_values().tolist() == [0, 1, 2, 3, 4]  # a dataset


def test_disk_full_leaves_no_partial_file(tmp_path, monkeypatch):
    s = Store(tmp_path, ("runs", "injects"))
    s.prepare()

    def full(path, data):
        path.write_bytes(data[: len(data) // 2])  # the disk fills up half-way through
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(st, "_write_bytes", full)
    c = Chunk(None, 0, 0, 4)
    with pytest.raises(OSError) as exc:
        s.write_chunk(c, {"runs": pbytes(frame(0, 4)), "injects": pbytes(frame(0, 4))})
    assert exc.value.errno == errno.ENOSPC and "injects" in exc.value.filename
    assert not [p for p in tmp_path.rglob("*") if p.is_file()] and not s.is_done(c)


def test_consolidation_failure_keeps_parts_and_removes_tmp(tmp_path, monkeypatch):
    paths = []
    for k in range(2):
        paths.append(tmp_path / f"part-{k}.parquet")
        paths[-1].write_bytes(pbytes(frame(k * 5, k * 5 + 5)))

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(st, "_fsync", full)
    with pytest.raises(OSError) as exc:
        concat_parts(paths, tmp_path / "runs.parquet")
    assert exc.value.filename.endswith("runs.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part-0.parquet", "part-1.parquet"]


def test_streamed_consolidation_deletes_each_part_once_read_and_keeps_the_bytes(tmp_path, monkeypatch):
    """Deleting parts as they are consumed changes nothing in the file, and no part outlives its reading."""
    outs, alive = [], []
    real = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda p, *a, **k: (
        alive.append(len(list(p.parent.glob("part-*")))), real(p, *a, **k))[1])
    for delete in (False, True):
        d = tmp_path / f"d{delete}"
        d.mkdir()
        paths = []
        for k, start in enumerate(range(0, 64, 10)):
            p = d / f"part-{k:06d}.parquet"
            p.write_bytes(pbytes(frame(start, min(start + 10, 64))))
            paths.append(p)
        alive.clear()
        concat_parts(paths, d / "all.parquet", row_group=16, delete=delete)
        outs.append((d / "all.parquet").read_bytes())
        assert all(p.exists() for p in paths) is not delete
    assert outs[0] == outs[1]
    assert alive == [7, 6, 5, 4, 3, 2, 1]  # when each part is read, the ones before it are gone


def test_consolidation_reports_each_part_for_the_combining_bar(tmp_path):
    paths = []
    for k, start in enumerate(range(0, 30, 10)):
        p = tmp_path / f"part-{k:06d}.parquet"
        p.write_bytes(pbytes(frame(start, start + 10)))
        paths.append(p)
    seen: list[int] = []
    concat_parts(paths, tmp_path / "all.parquet", on_part=lambda: seen.append(len(seen)))
    assert seen == [0, 1, 2]
