"""Where the scenario library lives: postures, scenarios, overlays, sweeps and validation data.

The one copy of the library is the top of the checkout (``actors/``, ``scenarios/``, ``sweeps/``,
``validation/``). The wheel installs each folder as a data-only package of ``crisis_sim_library``
(``pyproject.toml``), and here they are found through :mod:`importlib.resources`: in a checkout
(editable install) that resolves to the checkout's folders, in an installed package to
site-packages. Without either (a checkout on ``PYTHONPATH`` only) the checkout's folders are used.

The postures can be replaced as a whole: ``--actors DIR`` on the command line, or the
``CRISIS_SIM_ACTORS`` environment variable (read when ``sim`` is first imported, because the
actor list is built from the posture files). ``crisis-sim init DIR`` copies the library into a
folder a user can edit. The engine's own tables (ladder, actions, channels) are in ``sim/data``.
"""

from __future__ import annotations

import importlib.util
import os
from importlib import resources
from pathlib import Path

LIBRARY_PACKAGE = "crisis_sim_library"
FOLDERS = ("scenarios", "actors", "validation", "sweeps")
#: The checkout this module sits in (None when installed): its git commit goes into manifests.
CHECKOUT: Path | None = (lambda p: p if (p / "pyproject.toml").is_file() and (p / "sim").is_dir() else None)(
    Path(__file__).resolve().parent.parent.parent)


def library_dir(name: str) -> Path:
    """The folder ``name`` (one of :data:`FOLDERS`) of the shipped library, as a real directory: the
    checkout's own when this code runs from a checkout (so a copy of a checkout on ``PYTHONPATH`` reads
    its own data, not an editable install's), else the installed package data."""
    if CHECKOUT is not None and (CHECKOUT / name).is_dir():
        return CHECKOUT / name
    package = f"{LIBRARY_PACKAGE}.{name}"
    try:
        return _as_dir(resources.files(package)) or _fallback(name)
    except ModuleNotFoundError:
        return _fallback(name)
    except NotADirectoryError:
        # setuptools' editable finder adds a placeholder entry to a namespace package's path,
        # which importlib.resources refuses; the import system's own answer names the folder.
        spec = importlib.util.find_spec(package)
        dirs = [Path(p) for p in (spec.submodule_search_locations or []) if Path(p).is_dir()] if spec else []
        return dirs[0] if dirs else _fallback(name)


def _fallback(name: str) -> Path:
    """The checkout's folder, for a checkout used without installing it (``PYTHONPATH=.``)."""
    return Path(__file__).resolve().parent.parent.parent / name


def _as_dir(found: object) -> Path | None:
    """A resource folder as a ``Path``: a namespace package answers with a MultiplexedPath whose
    first location is the folder (the library is always installed as files, never zipped)."""
    if isinstance(found, Path):
        return found if found.is_dir() else None
    for loc in getattr(found, "_paths", ()):
        if Path(loc).is_dir():
            return Path(loc)
    return None


SCENARIOS_DIR = library_dir("scenarios")
#: The library's root: scenario references in claims, cases and sweeps (``scenarios/x.yaml``) resolve here.
ROOT = SCENARIOS_DIR.parent
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SHIPPED_ACTORS_DIR = library_dir("actors")
ACTORS_DIR = Path(os.environ["CRISIS_SIM_ACTORS"]) if os.environ.get("CRISIS_SIM_ACTORS") else SHIPPED_ACTORS_DIR
OVERLAYS_DIR = SCENARIOS_DIR / "overlays"
VALIDATION_DIR = library_dir("validation")
SWEEPS_DIR = library_dir("sweeps")
DEFAULT_SCENARIO = SCENARIOS_DIR / "taiwan_strait.yaml"
CATALOGUE_FILES = ("ladder.yaml", "actions.yaml", "channels.yaml")


def find_scenario(path: str | Path) -> Path:
    """A scenario file as given if it exists; else, for a relative path, the library's copy
    (``scenarios/senkaku.yaml`` works from any folder, as does a bare id such as ``senkaku``)."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    for cand in (ROOT / given, SCENARIOS_DIR / given, SCENARIOS_DIR / f"{given}.yaml"):
        if cand.is_file():
            return cand
    return given


def find_sweep(path: str | Path) -> Path:
    """A sweep file as given, else the library's (``sweeps/senkaku_lhs.yaml`` or ``senkaku_lhs``)."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    for cand in (ROOT / given, SWEEPS_DIR / given, SWEEPS_DIR / f"{given}.yaml"):
        if cand.is_file():
            return cand
    return given


def use_actors(path: str | Path) -> Path:
    """Use the posture folder ``path`` instead of the shipped one (``--actors DIR``).

    Set in the environment too, so worker processes and a fresh ``import sim`` (which builds the
    actor list from the folder's files) see the same folder."""
    global ACTORS_DIR
    ACTORS_DIR = Path(path).resolve()
    os.environ["CRISIS_SIM_ACTORS"] = str(ACTORS_DIR)
    return ACTORS_DIR


def copy_library(dest: Path) -> list[Path]:
    """Copy the shipped library (scenarios with overlays, actors, sweeps, validation) into ``dest``,
    a folder a user can edit; returns the folders written."""
    import shutil

    written = []
    for name in FOLDERS:
        shutil.copytree(library_dir(name), dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        written.append(dest / name)
    return written
