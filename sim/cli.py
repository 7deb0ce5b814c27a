"""Command line: ``crisis-sim [run] SCENARIO --runs N --seed S --out DIR`` (or ``python run_sim.py ...``).

Heavy modules (numpy, pandas, mesa) are imported inside the commands, so ``--help``
answers at once. Exit codes: 0 success, 2 bad input (one line naming the file and
field), 1 environment failure (e.g. disk full), 130 interrupted. Every subcommand is one entry
of ``COMMANDS`` (help, arguments, handler): the parser, its epilog and the dispatch read it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.inputs.paths import cli_path

DEFAULT_COMMAND = "run"  # ``run_sim.py X.yaml`` means ``run_sim.py run X.yaml``
DEFAULT_RUNS = 10_000
DESCRIPTION = ("Crisis-management simulation for Northeast-Asian flashpoints. "
               "With no arguments: run the default scenario ensemble (Taiwan Strait, 10,000 runs).")


def prog_name() -> str:
    """The name the user typed: ``crisis-sim`` from the entry point, ``run_sim.py`` from the script."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name and name not in ("-c", "__main__.py") else "crisis-sim"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's default exit code is 2 too; keep one line
        self.exit(2, f"{self.prog}: error: {message}\n")


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, a function adding its arguments, and its handler (exit code)."""

    help: str
    add_args: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


# ============================================================================ arguments


def _no_args(p: argparse.ArgumentParser) -> None:
    """For commands without arguments."""


def _execution_args(p: argparse.ArgumentParser) -> None:
    """How a job runs (never what it computes: results are identical for any of these)."""
    p.add_argument("--jobs", type=int, metavar="N",
                   help="worker processes (default: one per CPU for 20,000+ runs, else 1 = in this process)")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local process pool (default) or a Dask cluster (pip install 'crisis-sim[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: start a local cluster)")
    p.add_argument("--chunk-size", type=int, metavar="RUNS",
                   help="runs per chunk and Parquet part (default: automatic)")
    p.add_argument("--resume", action="store_true",
                   help="finish the interrupted job in --out (same arguments); starts it if there is none")


def _output_args(p: argparse.ArgumentParser) -> None:
    """How much a job says, and whether it may replace finished results."""
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    talk.add_argument("-v", "--verbose", action="store_true",
                      help="also say where the inputs were found and how the job runs (on stderr)")
    p.add_argument("--force", action="store_true",
                   help="replace a completed results folder in --out (without it, that is refused)")


def _library_args(p: argparse.ArgumentParser) -> None:
    """Every command: where the postures come from."""
    p.add_argument("--actors", type=cli_path, metavar="DIR",
                   help="posture folder to use instead of the shipped one (baseline.yaml and one file per "
                        "actor; 'crisis-sim init' copies the shipped one to edit); also CRISIS_SIM_ACTORS")


def _rerun_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", type=cli_path, help="a completed results folder (its manifest.json says how it was made)")
    p.add_argument("--out", type=cli_path, help="new folder (default RESULTS-rerun)")
    p.add_argument("--jobs", type=int, metavar="N", help="worker processes (results do not depend on it)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _init_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", type=cli_path, help="folder to create (must be empty or absent)")


def _run_args(r: argparse.ArgumentParser) -> None:
    r.add_argument("scenario", nargs="?", type=cli_path,
                   help="scenario YAML file, in any folder, or a shipped one by path or id (e.g. senkaku; "
                        "'list' shows them; default: taiwan_strait)")
    r.add_argument("--runs", type=int, default=DEFAULT_RUNS, help=f"number of runs (default {DEFAULT_RUNS:,})")
    r.add_argument("--seed", type=int, default=0, help="root seed, 0 .. 2**63 - 1 (default 0)")
    r.add_argument("--out", type=cli_path, help="output directory (default results/<scenario>-seed<S>)")
    r.add_argument("--lever", dest="levers", action="append", default=[], metavar="ID",
                   help="switch on a policy lever defined in the scenario (repeatable; see 'describe')")
    r.add_argument("--overlay", dest="overlays", action="append", default=[], metavar="ID",
                   help="apply an overlay from scenarios/overlays (e.g. pandemic, election_season)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value by dotted path, e.g. parameters.fog=0.3 or "
                        "postures.US.weights.cost.value=2 (repeatable)")
    r.add_argument("--no-events", action="store_true", help="skip the per-actor-turn event log")
    r.add_argument("--batch-size", type=int, default=5_000, help="runs advanced together (memory vs speed)")
    _output_args(r)
    _execution_args(r)
    r.add_argument("--parameters", metavar="FILE",
                   help="parameter set overlaying actors/baseline.yaml (default: the calibrated set if it is marked "
                        "default, else none; 'baseline' for none)")
    r.add_argument("--posterior", type=int, metavar="N",
                   help="run the ensemble over N draws from the calibration's posterior (--runs per draw, in memory) "
                        "and report sampling-only and total intervals side by side")
    r.add_argument("--posterior-file", type=cli_path, metavar="CSV",
                   help="posterior sample (default actors/parameters/calibrated_posterior.csv)")
    r.add_argument("--until-ci", type=float, metavar="EPS",
                   help="add chunks until every headline probability's 95%% interval half-width is below EPS "
                        "(e.g. 0.01); --runs is then the maximum")


def _sweep_args(sw: argparse.ArgumentParser) -> None:
    sw.add_argument("file", type=cli_path, help="sweep YAML file (see sweeps/)")
    sw.add_argument("--out", type=cli_path, help="output directory (default results/sweep-<file name>)")
    sw.add_argument("--batch-size", type=int, default=5_000, help="runs advanced together (memory vs speed)")
    _output_args(sw)
    _execution_args(sw)


def _validate_args(v: argparse.ArgumentParser) -> None:
    v.add_argument("files", nargs="+", type=cli_path)


def _describe_args(d: argparse.ArgumentParser) -> None:
    d.add_argument("file", type=cli_path)


def _schema_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--out", type=cli_path, default=Path("schemas"))


def _facilitate_args(fa: argparse.ArgumentParser) -> None:
    fa.add_argument("scenario", nargs="?", type=cli_path, help="scenario file (not needed to resume a session)")
    fa.add_argument("--session", type=cli_path,
                    help="session folder (default sessions/<scenario>); resumed if it exists")
    fa.add_argument("--seed", type=int, default=0)
    fa.add_argument("--seats", default="", help="e.g. US=human,PRC=hybrid (others are AI)")
    fa.add_argument("--terminal", action="store_true", help="no browser: a command prompt on the same session")
    fa.add_argument("--attach", action="store_true",
                    help="with --terminal: drive the session through the web server that holds it")
    fa.add_argument("--read-only", action="store_true", help="with --terminal: look, replay and export; no writes")
    fa.add_argument("--host", default="127.0.0.1",
                    help="address to serve on (default 127.0.0.1: this machine only; 0.0.0.0: the room's network, "
                         "every page needs its join link)")
    fa.add_argument("--port", type=int, default=8765)
    fa.add_argument("--new-links", action="store_true", help="make new join links (the old ones stop working)")


def _postures_args(po: argparse.ArgumentParser) -> None:
    po.add_argument("--markdown", nargs="?", const=Path("docs/postures.md"), type=cli_path, metavar="PATH",
                    help="write Markdown instead (default docs/postures.md)")


def _msel_args(ms: argparse.ArgumentParser) -> None:
    msub = ms.add_subparsers(dest="msel_command", required=True)
    me = msub.add_parser("export", help="write the MSEL as CSV with HSEEP columns")
    me.add_argument("scenario", type=cli_path)
    me.add_argument("--csv", type=cli_path, required=True)
    mi = msub.add_parser("import", help="replace a scenario's injects with those in a CSV; writes a new scenario file")
    mi.add_argument("scenario", type=cli_path)
    mi.add_argument("--csv", type=cli_path, required=True)
    mi.add_argument("--out", type=cli_path, required=True, help="new scenario file (never overwrites the input)")


def _report_args(rp: argparse.ArgumentParser) -> None:
    rp.add_argument("results", type=cli_path, help="results directory (written by run_sim.py run)")
    rp.add_argument("--out", type=cli_path, help="HTML file (default RESULTS/report.html)")
    rp.add_argument("--lever-runs", type=int, default=2000, metavar="N",
                    help="runs per lever for the lever comparison, same seed as the results (default 2,000; 0: off)")
    rp.add_argument("--title", help="report title (default: the scenario's)")


def _compare_args(cp: argparse.ArgumentParser) -> None:
    cp.add_argument("a", type=cli_path, metavar="DIR_A", help="reference results directory")
    cp.add_argument("b", type=cli_path, metavar="DIR_B", help="alternative results directory")
    cp.add_argument("--out", type=cli_path, help="HTML file (default DIR_B/compare-<DIR_A name>.html)")
    cp.add_argument("--labels", nargs=2, metavar=("A", "B"), help="names for the two conditions")
    cp.add_argument("--title", help="report title")


def _check_claims_args(cc: argparse.ArgumentParser) -> None:
    cc.add_argument("file", nargs="?", type=cli_path, help="claims file (default validation/claims.yaml)")
    cc.add_argument("--runs", type=int, help="runs per arm (default: the file's, 2,000)")
    cc.add_argument("--seed", type=int, help="root seed (default: the file's)")
    cc.add_argument("--markdown", type=cli_path, metavar="FILE", help="also write the table as Markdown")
    cc.add_argument("--power", action="store_true",
                    help="treat the runs as a pilot: print the runs per arm each claim needs (a shift of min_effect/2 "
                         "detected with the file's power) and the count to record in the file")
    cc.add_argument("--claim", dest="claims", action="append", metavar="ID", help="only this claim (repeatable)")


def _backtest_args(bt: argparse.ArgumentParser) -> None:
    bt.add_argument("cases", type=cli_path, help="cases YAML (format of validation/cases.yaml)")
    bt.add_argument("--runs", type=int, default=2000, help="runs per case (default 2,000)")
    bt.add_argument("--seed", type=int, default=0)
    bt.add_argument("--out", type=cli_path, help="directory for backtest.csv, backtest.md and calibration.png")


def _calibration_args(ca: argparse.ArgumentParser) -> None:
    ca.add_argument("--runs", type=int, default=2000, help="runs per scenario (default 2,000)")
    ca.add_argument("--seed", type=int, default=0)
    ca.add_argument("--markdown", type=cli_path, metavar="FILE", help="also write the table as Markdown")


def _calibrate_args(ca: argparse.ArgumentParser) -> None:
    ca.add_argument("file", nargs="?", type=cli_path, help="calibration file (default validation/calibration.yaml)")
    ca.add_argument("--out", type=cli_path, default=Path("results/calibration"),
                    help="output folder: abc.db (checkpoint), posterior.csv, fit.csv, diagnostics.json, patterns.png, "
                         "marginals.png (default results/calibration)")
    ca.add_argument("--budget", choices=("tiny", "real"), default="real",
                    help="tiny: seconds (tests, CI); real: the documented calibration, ~15-20 min on 2 cores")
    ca.add_argument("--population", type=int, help="particles per generation (overrides the budget)")
    ca.add_argument("--generations", type=int, help="ABC-SMC generations (overrides the budget)")
    ca.add_argument("--runs", type=int, help="runs per scenario per particle (overrides the budget)")
    ca.add_argument("--max-evaluations", type=int, help="at most this many particles simulated")
    ca.add_argument("--seed", type=int, help="root seed (default: the file's)")
    ca.add_argument("--resume", action="store_true", help="continue the calibration checkpointed in --out/abc.db")
    ca.add_argument("--write-set", type=cli_path, metavar="FILE",
                    help="write the calibrated parameter set (posterior medians, provenance) to FILE, e.g. "
                         "actors/parameters/calibrated.yaml")
    ca.add_argument("--markdown", type=cli_path, metavar="FILE", help="also write the fit table as Markdown")
    ca.add_argument("--jobs", type=int, metavar="N", help="worker processes (default 1: in this process)")
    ca.add_argument("--backend", choices=("local", "dask"), default="local")
    ca.add_argument("--scheduler", metavar="ADDRESS")
    ca.add_argument("--quiet", action="store_true", help="no progress bar")


# ============================================================================ handlers


def _prestart_pool(a: argparse.Namespace) -> None:
    """A job that will run on a local pool starts its warm fork server first, so the model loads
    there while this process imports the job machinery (sim.experiments.forkserver)."""
    from sim.experiments import forkserver

    jobs = a.jobs if a.jobs is not None else forkserver.auto_workers(a.runs, a.backend)
    if a.backend == "local" and jobs > 1 and a.posterior is None:
        forkserver.prestart()


def _say_compile(a: argparse.Namespace) -> None:
    """Before a job that will compile the turn kernel (nothing in Numba's cache for it yet: the first
    run after installing), say why it is slow, once, from this process (sim.engine.jit_cache): the job
    calls this just before its first chunk, after the inputs were checked (bad input stays one line).
    The pool's fork server (``_prestart_pool``) may be compiling by then; any kernel still missing from
    the cache means it is, and a cache it has completed already means there is nothing to wait for.
    Not with --quiet, nor for a remote Dask cluster, whose workers have their own caches."""
    if a.quiet or getattr(a, "scheduler", None):
        return
    from sim.engine.jit_cache import cold_cache, compile_notice

    where = cold_cache()
    if where is not None:
        print(compile_notice(where), file=sys.stderr)


def cmd_run(a: argparse.Namespace) -> int:
    """Chunked job (sim.experiments.jobs): parts streamed to OUT/<table>/, consolidated at the end."""
    _prestart_pool(a)
    from sim.experiments.jobs import run_job
    from sim.inputs.condition import Condition, parse_override

    condition = Condition.of(a.scenario, levers=a.levers, overlays=a.overlays,
                             overrides=[parse_override(x) for x in a.overrides], parameters=_parameters(a.parameters))
    _say_inputs(a, condition.scenario)
    if a.posterior is not None:
        return _run_posterior(a, condition)
    res = run_job(condition, a.runs, a.seed, a.out, events=not a.no_events, jobs=a.jobs, backend=a.backend,
                  scheduler=a.scheduler, chunk_size=a.chunk_size, resume=a.resume, until_ci=a.until_ci,
                  batch_size=a.batch_size, progress=not a.quiet, force=a.force, say=_note,
                  starting=lambda: _say_compile(a))
    _say_job(a, res)
    _notes(res.manifest.get("notes", []))
    if not a.quiet:
        from sim.analysis.tables import format_summary
        from sim.experiments.store import read_runs

        runs = read_runs(res.out, ["outcome", "use_of_force", "incidents", "peak_rung", "path", "turns"])
        print(format_summary(runs, f"{res.manifest.get('title', res.title)}  (seed {a.seed})"))
        ci = res.until_ci
        if ci:
            worst = max(ci["half_widths"].items(), key=lambda kv: kv[1])
            how = "reached" if ci["reached"] else "NOT reached (hit the --runs cap)"
            print(f"\n--until-ci {ci['eps']}: {how} at {ci['runs']:,} runs "
                  f"(widest half-width {worst[1]:.4f}, {worst[0]})")
        files = ", ".join(res.manifest.get("files", []))
        print(f"\nwrote {res.out}/: {files}, manifest.json")
    return 0


def _say_inputs(a: argparse.Namespace, scenario: str | Path) -> None:
    """--verbose: where the inputs were found (the library, --actors), before the job starts."""
    if getattr(a, "verbose", False):
        from sim.inputs import library

        print(f"scenario: {Path(scenario).resolve()}\npostures: {library.ACTORS_DIR}", file=sys.stderr)


def _say_job(a: argparse.Namespace, res) -> None:
    """--verbose: how the job ran."""
    if getattr(a, "verbose", False):
        job, ex = res.manifest.get("job", {}), res.manifest.get("execution", {})
        print(f"job {res.manifest.get('job_id', '')}: {res.chunks_computed} chunks computed, "
              f"{res.chunks_reused} reused, chunk size {job.get('chunk_size')}, backend {ex.get('backend')} "
              f"({ex.get('workers')} worker(s)), {res.seconds:.1f} s", file=sys.stderr)


def _parameters(choice: str | None) -> str | None:
    """--parameters: 'baseline' or an existing parameter-set file (checked now: bad input is exit 2)."""
    if choice is None or choice == "baseline":
        return choice
    from sim.inputs.loader import load
    from sim.inputs.schema import ParameterSet

    path = cli_path(choice)
    load(ParameterSet, path)
    return str(path)


def _run_posterior(a: argparse.Namespace, condition) -> int:
    from sim.analysis.uncertainty import POSTERIOR, intervals_markdown, posterior_ensemble
    from sim.errors import InputError

    if not 2 <= a.posterior <= 1000:
        raise InputError("--posterior", "", f"must be 2 .. 1000 draws (got {a.posterior})")
    _runs(a.runs * a.posterior, "--runs x --posterior")
    table = posterior_ensemble(condition, a.posterior, a.runs, a.seed, posterior=a.posterior_file or POSTERIOR,
                               progress=not a.quiet)
    cols = ["p", "sampling_low", "sampling_high", "total_low", "total_high", "parameter_sd"]
    print(f"{condition.name}: {a.posterior} posterior draws x {a.runs:,} runs (seed {a.seed})\n")
    print(table[cols].to_string(float_format=lambda x: f"{x:.3f}"))
    if a.out:
        from sim.inputs.paths import output_dir

        out = output_dir(a.out, "--out")
        _write_text(out / "posterior_intervals.md", intervals_markdown(table))
        print(f"\nwrote {out}/posterior_intervals.md")
    return 0


def cmd_sweep(a: argparse.Namespace) -> int:
    """Sweep job (sim.experiments.jobs.run_sweep), then the per-point table (sim.experiments.store.summarise)."""
    from sim.experiments.jobs import run_sweep
    from sim.inputs.library import find_sweep

    a.file = find_sweep(a.file)
    _say_inputs(a, a.file)
    res = run_sweep(a.file, a.out, jobs=a.jobs, backend=a.backend, scheduler=a.scheduler,
                    chunk_size=a.chunk_size, resume=a.resume, batch_size=a.batch_size, progress=not a.quiet,
                    force=a.force, say=_note, starting=lambda: _say_compile(a))
    _say_job(a, res)
    if not a.quiet:
        from sim.experiments.store import read_design, summarise

        table = summarise(res.out)
        factors = list(read_design(res.out).columns[2:])
        print(f"{res.title}: {len(table)} design points, {res.runs:,} runs\n")
        cols = ["point", *factors, "runs", "p_use_of_force", "p_major_war", "p_deescalated_agreement"]
        print(table[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        print(f"\nwrote {res.out}/: {', '.join(res.manifest.get('files', []))}, manifest.json")
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from sim.inputs.compile import check_scenario

    for f in a.files:
        spec = check_scenario(f)
        print(f"{f}: ok ({spec.scenario.id}, {len(spec.actor_ids)} actors, {len(spec.injects)} injects)")
        _notes(spec.notes)
    return 0


def _notes(notes) -> None:
    """Deprecations and other things the user should hear once, on stderr."""
    for n in notes:
        _note(n)


def _note(text: str) -> None:
    """One note on stderr (also with --quiet), e.g. the job's before it computes (an interrupted job discarded)."""
    print(f"note: {text}", file=sys.stderr)


def cmd_migrate(a: argparse.Namespace) -> int:
    from sim.inputs.migrate import migrate

    for f in a.files:
        changes = migrate(f)
        print(f"{f}: {len(changes) // 2} field(s) rewritten to per-day units" if changes else f"{f}: already current")
    return 0


def _migrate_args(m: argparse.ArgumentParser) -> None:
    m.add_argument("files", nargs="+", type=Path, help="scenario files to rewrite in place (comments are kept)")


def cmd_list(a: argparse.Namespace) -> int:
    """The shipped scenarios; finding none is an installation fault, said as such (exit 1)."""
    from sim.inputs.library import SCENARIOS_DIR
    from sim.inputs.loader import read_yaml

    files = sorted(SCENARIOS_DIR.glob("*.yaml"))
    if not files:
        print(f"error: no scenarios found in {SCENARIOS_DIR}: the scenario library is missing from this "
              "installation (reinstall crisis-sim)", file=sys.stderr)
        return 1
    for f in files:
        data, _ = read_yaml(f)
        title = data.get("title", "") if isinstance(data, dict) else ""
        fp = data.get("flashpoint", "") if isinstance(data, dict) else ""
        print(f"{f.relative_to(SCENARIOS_DIR.parent)!s:<40} {fp:<18} {title}")
    return 0


def cmd_init(a: argparse.Namespace) -> int:
    """Copy the shipped library into DIR so a user can edit scenarios and postures."""
    from sim.errors import InputError
    from sim.inputs.library import copy_library
    from sim.inputs.paths import output_dir

    if a.dir.exists() and (not a.dir.is_dir() or any(a.dir.iterdir())):
        raise InputError(a.dir, "init", "exists and is not an empty folder; choose a new one")
    dest = output_dir(a.dir, "init")
    for folder in copy_library(dest):
        print(f"wrote {folder}/")
    print(f"\nnext: {prog_name()} run {dest / 'scenarios' / 'senkaku.yaml'} --actors {dest / 'actors'}")
    return 0


def cmd_rerun(a: argparse.Namespace) -> int:
    """Re-run from the manifest; exit 0 only if every Parquet file came out byte-identical."""
    from sim.experiments.rerun import rerun

    res = rerun(a.results, a.out, jobs=a.jobs, progress=not a.quiet)
    for note in res.version_notes:
        print(f"note: {note}", file=sys.stderr)
    for f, same in res.identical.items():
        print(f"{f}: {'identical' if same else 'DIFFERS'}")
    print(f"wrote {res.out}/: {'reproduced byte for byte' if res.ok else 'NOT reproduced'}")
    return 0 if res.ok else 1


def cmd_describe(a: argparse.Namespace) -> int:
    from sim.inputs.compile import compile_scenario

    spec = compile_scenario(a.file)
    s = spec.scenario
    print(f"{s.title}  [{s.id}, flashpoint {s.flashpoint}]\n\n{s.summary.strip()}\n")
    print(f"Turns: {s.turns.max} x {s.turns.hours:g} h")
    print("Actors:")
    for sa in s.actors:
        p = spec.postures[sa.id]
        adv = ", ".join(sa.adversaries) or "-"
        var = f" (variant {sa.variant})" if sa.variant else ""
        print(f"  {sa.id:<5} {p.name}{var}; adversaries: {adv}")
    print("Channels: " + ", ".join(f"{c} ({['not operational', 'suspended', 'open'][st + 1]})"
                                   for c, st in zip(spec.channel_ids, spec.channels.status0, strict=True)))
    print("Injects:")
    for inj in s.injects:
        when = f"turn {inj.turn}" if inj.kind == "scheduled" else inj.kind
        print(f"  {inj.id:<6} {when:<12} {inj.title}")
    print("Parameters: " + ", ".join(f"{k}={v}" for k, v in s.parameters.model_dump().items()))
    if s.levers:
        print("Levers (--lever ID):")
        for lv in s.levers:
            flag = "  [model disagrees]" if lv.model_disagrees else ""
            print(f"  {lv.id:<26} expect {lv.expect} {lv.measure}{flag}  ({lv.source.paper.split(',')[0]})")
    if s.roles:
        print("Role sheets: " + ", ".join(s.roles))
    return 0


def cmd_schema(a: argparse.Namespace) -> int:
    from sim.inputs.jsonschema import write_schemas
    from sim.inputs.paths import output_dir

    for path in write_schemas(output_dir(a.out, "--out")):
        print(path)
    return 0


def _output_file(path: Path | None, flag: str) -> None:
    """Check an output file before any work (its folder may be created): bad ones are exit 2."""
    from sim.inputs.paths import output_file

    if path is not None:
        output_file(path, flag, make_parent=True)


def _write_text(path: Path, text: str) -> None:
    """A --markdown file: its folder created, written atomically (an earlier copy survives a failure)."""
    from sim.experiments.store import atomic_write

    _output_file(path, "--markdown")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: p.write_text(text))


def cmd_postures(a: argparse.Namespace) -> int:
    from sim.inputs.provenance import reference

    if a.markdown:
        _output_file(a.markdown, "--markdown")
        _write_text(a.markdown, reference(markdown=True))
        print(a.markdown)
    else:
        print(reference(), end="")
    return 0


def cmd_msel(a: argparse.Namespace) -> int:
    from sim.inputs.msel import export_csv, import_csv

    if a.msel_command == "export":
        n = export_csv(a.scenario, a.csv)
        print(f"wrote {n} injects to {a.csv}")
    else:
        n = import_csv(a.scenario, a.csv, a.out)
        print(f"wrote {a.out} with {n} injects")
    return 0


def cmd_facilitate(a: argparse.Namespace) -> int:
    from sim.errors import InputError
    from sim.experiments.seeds import check_seed
    from sim.workshop.launch import facilitate

    if a.session is None and a.scenario is None:
        raise InputError("facilitate", "scenario", "give a scenario file or --session to resume")
    check_seed(a.seed)
    if not 0 <= a.port <= 65535:
        raise InputError("--port", "", f"must be 0 .. 65535 (got {a.port})")
    return facilitate(a)


def cmd_report(a: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")
    _runs(a.lever_runs, "--lever-runs", zero=True)
    if a.out is not None:
        _output_file(a.out, "--out")
    from sim.analysis.report import build_report

    out = build_report(a.results, a.out, lever_runs=max(a.lever_runs, 0), title=a.title)
    print(f"wrote {out}")
    return 0


def cmd_compare(a: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")
    if a.out is not None:
        _output_file(a.out, "--out")
    from sim.analysis.report import build_compare

    out = build_compare(a.a, a.b, a.out, labels=tuple(a.labels) if a.labels else None, title=a.title)
    print(f"wrote {out}")
    return 0


MAX_MEMORY_RUNS = 1_000_000  # runs simulated in one batch in memory (check-claims, backtest, calibration, report)


def _runs(n: int | None, flag: str, zero: bool = False) -> None:
    """A run count for the commands that simulate in memory: positive (or 0 if allowed) and bounded."""
    from sim.errors import InputError

    if n is not None and not (0 if zero else 1) <= n <= MAX_MEMORY_RUNS:
        raise InputError(flag, "", f"must be a number of runs from {0 if zero else 1} to {MAX_MEMORY_RUNS:,}")


def _seed(seed: int | None) -> None:
    from sim.experiments.seeds import check_seed

    if seed is not None:
        check_seed(seed)


def cmd_check_claims(a: argparse.Namespace) -> int:
    _runs(a.runs, "--runs")
    _seed(a.seed)
    _output_file(a.markdown, "--markdown")
    from sim.analysis.validation import CLAIMS_FILE, check_claims, claims_markdown, claims_summary

    file = a.file or CLAIMS_FILE
    table = check_claims(file, runs=a.runs, seed=a.seed, only=a.claims)
    cols = ["id", "scenario", "measure", "expect", "construction", "p_base", "p_cond", "effect", "ci_low", "ci_high",
            "verdict", "recorded"]
    print(table[cols].to_string(index=False, float_format=lambda x: f"{x:+.3f}" if x < 0 else f"{x:.3f}"))
    s = claims_summary(table)
    print(f"\nevidence (direction not fixed by construction): {s['evidence_supported']} of {s['evidence']} emergent "
          f"claims supported, {s['evidence_contradicted']} contradicted; {s['by_construction']} claims are fixed by "
          f"construction and are not evidence ({s['supported']} of {s['claims']} supported in all); "
          f"{int((~table.matches).sum())} differ from the file's record "
          f"({int(table.runs.iat[0]):,} runs per arm, seed {int(table.seed.iat[0])}, paired intervals)")
    if a.power:
        _print_power(file, table)
    if a.markdown:
        _write_text(a.markdown, claims_markdown(table))
        print(f"wrote {a.markdown}")
    return 0


def _print_power(file: Path, table) -> None:
    from sim.analysis.validation import power_runs, recorded_runs
    from sim.inputs.loader import load
    from sim.inputs.schema import ClaimsFile

    spec = load(ClaimsFile, Path(file))
    need = power_runs(table, table["threshold"], spec.power, spec.alpha)
    print(f"\nruns per arm to tell each effect from its boundary (+-{spec.min_effect}, or +-{spec.min_relative} of "
          f"P(base) if smaller) with power {spec.power} "
          f"(pilot {int(table.runs.iat[0]):,} runs; borderline: more than 20,000 needed):")
    print(need.sort_values("runs_needed", ascending=False).to_string(float_format=lambda x: f"{x:+.4f}"))
    print(f"record in the file: runs: {recorded_runs(need)}")


def cmd_backtest(a: argparse.Namespace) -> int:
    from sim.inputs.paths import output_dir
    from sim.inputs.safe_csv import frame_text

    _runs(a.runs, "--runs")
    _seed(a.seed)
    if a.out:
        output_dir(a.out, "--out", create=False)
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")
    from sim.analysis.validation import (
        backtest,
        backtest_by_class,
        backtest_markdown,
        calibration_figure,
        coding_sensitivity,
        summary_markdown,
    )

    table = backtest(a.cases, runs=a.runs, seed=a.seed)
    cols = ["case", "trigger_class", "out_of_sample", "actual_peak", "p1", "p2", "p3", "p4", "p5", "rps", "rps_base",
            "skill", "p80_low", "p80_high", "in_80", "actual_outcome", "p_outcome"]
    print(table[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    by_class, coding = backtest_by_class(table), coding_sensitivity(table, a.cases)
    fmt = {"mean_rps": "{:.3f}".format, "mean_rps_base": "{:.3f}".format, "skill": "{:+.2f}".format}
    print("\nskill vs the MID NEA50 base rate, by trigger class (nothing is fitted to these cases; 'out of sample':"
          " no input was changed because of the case's miss, see informed_by in the cases file):")
    print(by_class.to_string(formatters=fmt))
    print("\ncoding sensitivity (the same runs scored against each alternative coding of a peak):")
    print(coding.to_string(formatters=fmt))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "backtest.csv").write_text(frame_text(table))
        (a.out / "backtest.md").write_text(backtest_markdown(table) + "\n" + summary_markdown(by_class) + "\n"
                                           + summary_markdown(coding))
        calibration_figure(table).savefig(a.out / "calibration.png", dpi=120)
        print(f"wrote {a.out}/: backtest.csv, backtest.md, calibration.png")
    return 0


def cmd_calibration(a: argparse.Namespace) -> int:
    _runs(a.runs, "--runs")
    _seed(a.seed)
    _output_file(a.markdown, "--markdown")
    from sim.analysis.validation import calibration, table_markdown

    table = calibration(runs=a.runs, seed=a.seed)
    print(table.to_string(float_format=lambda x: f"{x:.1%}", na_rep="-"))
    if a.markdown:
        _write_text(a.markdown, table_markdown(table))
        print(f"wrote {a.markdown}")
    return 0


def _budget(a: argparse.Namespace):
    from dataclasses import replace

    from sim.analysis.calibrate import BUDGETS

    b = BUDGETS[a.budget]
    changes = {k: getattr(a, k) for k in ("population", "generations", "runs", "max_evaluations")
               if getattr(a, k) is not None}
    for k, v in changes.items():
        _runs(v, f"--{k.replace('_', '-')}")
    return replace(b, **changes)


def cmd_calibrate(a: argparse.Namespace) -> int:
    import importlib.util
    import os

    if importlib.util.find_spec("pyabc") is None:
        print("error: calibrate needs pyabc: pip install 'crisis-sim[calibrate]'", file=sys.stderr)
        return 1

    os.environ.setdefault("MPLBACKEND", "Agg")
    from sim.inputs.paths import output_dir

    _seed(a.seed)
    budget = _budget(a)
    output_dir(a.out, "--out", create=False)
    _output_file(a.markdown, "--markdown")
    _output_file(a.write_set, "--write-set")
    from sim.analysis.calibrate import CALIBRATION_FILE, calibrate, fit_markdown
    from sim.experiments.evaluators import make_evaluator

    with make_evaluator(a.backend, a.jobs or 1, a.scheduler) as ev:
        res = calibrate(a.file or CALIBRATION_FILE, a.out, budget=budget, seed=a.seed, resume=a.resume,
                        evaluator=ev, progress=not a.quiet, argv=["run_sim.py", *a.argv])
    import pandas as pd

    fit = pd.DataFrame.from_dict(res.diagnostics["fit"], orient="index")
    print(fit[["observed", "baseline", "calibrated", "ppc_low", "ppc_high", "inside"]].to_string(
        float_format=lambda x: f"{x:.3f}"))
    d = res.diagnostics["distance"]
    print(f"\ndistance (sum of squared z): baseline {d['baseline']:.1f}, calibrated {d['calibrated']:.1f}; "
          f"{res.diagnostics['patterns_inside_90']} of {res.diagnostics['patterns']} observed patterns inside the 90% "
          f"posterior-predictive interval; credible: {'yes' if res.credible else 'NO (keep the baseline)'}")
    print("posterior medians: " + ", ".join(f"{k}={v:.3f}" for k, v in res.diagnostics["point"].items()))
    if a.markdown:
        _write_text(a.markdown, fit_markdown(fit))
    if a.write_set:
        from sim.inputs.parameters import write_parameter_set

        write_parameter_set(res, a.write_set)
        print(f"wrote {a.write_set}")
    print(f"wrote {res.out}/: posterior.csv, fit.csv, diagnostics.json, patterns.png, marginals.png, abc.db")
    return 0


# ============================================================================ the command table

COMMANDS: dict[str, Command] = {
    "run": Command("run an ensemble of seeded runs and write Parquet results", _run_args, cmd_run),
    "sweep": Command("run a sweep file: factorial grid or Latin hypercube, N runs per point", _sweep_args,
                     cmd_sweep),
    "validate": Command("check scenario files against the schema", _validate_args, cmd_validate),
    "migrate": Command("rewrite scenario files from per-turn to per-day rates (older files)", _migrate_args,
                       cmd_migrate),
    "list": Command("list the shipped scenarios", _no_args, cmd_list),
    "rerun": Command("re-run a results folder from its manifest and check the files come out byte for byte",
                     _rerun_args, cmd_rerun),
    "init": Command("copy the shipped scenarios, postures, sweeps and validation data into a folder to edit",
                    _init_args, cmd_init),
    "describe": Command("show a scenario's actors, channels, injects", _describe_args, cmd_describe),
    "schema": Command("write JSON Schemas for every data file", _schema_args, cmd_schema),
    "facilitate": Command("run a live workshop: web console (facilitator, projector, teams) or --terminal",
                          _facilitate_args, cmd_facilitate),
    "postures": Command("print every posture value with its source, and the sourced share", _postures_args,
                        cmd_postures),
    "msel": Command("export a scenario's injects (MSEL) to CSV, or import an edited CSV", _msel_args, cmd_msel),
    "report": Command("write a self-contained HTML report on a results directory", _report_args, cmd_report),
    "compare": Command("write an HTML report comparing two results directories (e.g. two levers)", _compare_args,
                       cmd_compare),
    "check-claims": Command("test the papers' claims (validation/claims.yaml) against the model",
                            _check_claims_args, cmd_check_claims),
    "backtest": Command("back-test historical cases: RPS of the simulated peak MID level, skill against the NEA50 "
                        "base rate, 80%% interval coverage, calibration plot", _backtest_args, cmd_backtest),
    "calibration": Command("peak MID shares per scenario and pooled, beside ICB/MID base rates", _calibration_args,
                           cmd_calibration),
    "calibrate": Command("fit the free constants to ICB/MID patterns (ABC-SMC, validation/calibration.yaml)",
                         _calibrate_args, cmd_calibrate),
}


def parser() -> argparse.ArgumentParser:
    """The parser, its epilog and its subcommands, all from ``COMMANDS``."""
    names = ", ".join(f"{n} (default)" if n == DEFAULT_COMMAND else n for n in COMMANDS)
    prog = prog_name()
    p = _Parser(prog=prog, description=DESCRIPTION,
                epilog=f"Commands: {names}. '{prog} COMMAND --help' for details.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sp = sub.add_parser(name, help=command.help)
        command.add_args(sp)
        _library_args(sp)
    return p


def _is_scenario_arg(arg: str) -> bool:
    """``crisis-sim X.yaml`` means ``crisis-sim run X.yaml``; a bare word that is not a file is a
    mistyped command (argparse then says "invalid choice"), not a missing scenario."""
    return arg.startswith("-") or arg.endswith((".yaml", ".yml")) or "/" in arg or os.path.exists(arg)


def main(argv: list[str] | None = None) -> int:
    """Parse, dispatch, and turn failures into exit codes: 2 bad input, 1 environment, 130 interrupted."""
    whole_process = argv is None  # the command line itself, not a test or notebook calling main([...])
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help") and _is_scenario_arg(argv[0])):
        argv = [DEFAULT_COMMAND, *argv]
    args = parser().parse_args(argv)
    args.argv = argv  # the command as given, for provenance (calibrate)
    from sim.errors import InputError

    try:
        if args.actors is not None:
            _use_actors(args.actors)
        return COMMANDS[args.command].handler(args)
    except InputError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted{_resume_hint(args, argv)}", file=sys.stderr)
        if whole_process:
            _exit_if_stuck(130)
        return 130
    except BrokenPipeError:  # ``crisis-sim list | head``: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # disk full, permissions changed mid-run: not a bug, not bad input
        where = exc.filename or "output"
        print(f"error: {one_line(f'{where}: {exc.strerror or exc}')}", file=sys.stderr)
        return 1


#: Seconds an interrupted command waits for its helper threads (a pool's manager thread) before leaving
#: without them: Python joins them at exit without a time limit, so one stuck thread would hang the
#: command after it has said "interrupted" (seen once in CI with two workers; an assumption: a pool
#: torn down by ``close(cancel=True)`` stops within seconds, so ten is generous).
EXIT_GRACE_SECONDS = 10.0


def _exit_if_stuck(code: int) -> None:
    """After an interrupt of the command line (never of an in-process ``main([...])``, whose caller's threads
    are its own): if a non-daemon thread outlives the grace period, say so and exit at once (the finished
    chunks are already on disk; nothing else is left to write)."""
    import threading
    import time

    deadline = time.monotonic() + EXIT_GRACE_SECONDS
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
             and t.is_alive()]
    if stuck:
        print(f"note: {', '.join(stuck)} did not stop within {EXIT_GRACE_SECONDS:.0f} s; leaving without it",
              file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(code)


def _use_actors(path: Path) -> None:
    """--actors DIR: a posture folder with baseline.yaml, used by this command and its workers."""
    from sim.errors import InputError
    from sim.inputs.library import use_actors

    if not (path / "baseline.yaml").is_file():
        raise InputError(path, "--actors", "not a posture folder: it needs baseline.yaml and one file per actor "
                         "(crisis-sim init DIR copies the shipped ones)")
    use_actors(path)


def _resume_hint(args: argparse.Namespace, argv: list[str]) -> str:
    """After Ctrl-C in a job: the command that continues it (finished chunks are kept)."""
    if args.command not in ("run", "sweep") or getattr(args, "resume", False):
        return "; run the same command again to continue" if getattr(args, "resume", False) else ""
    return ("; finished chunks are kept: run the same command with --resume to continue "
            f"({prog_name()} {shlex.join(argv)} --resume)")


def one_line(text: str, limit: int = 2000) -> str:
    """An error message as one printable line: control characters (from file names, cells or
    values the user gave) are escaped, and a very long message is cut in the middle."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else f"{text[: limit // 2]} ... {text[-limit // 2:]}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
