"""Make the web console work with no network: fill Solara's asset cache from the npm registry.

Solara's browser front end (its Vuetify app, RequireJS, Font Awesome) is normally fetched from
a public CDN the first time a page loads, then cached under ``<venv>/share/solara/cdn``. A
workshop laptop may have no network at all, so ``run_sim.py facilitate --prepare-offline``
(and CI) fetches the same files once with ``npm pack`` and puts them in that cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: npm packages whose files the Solara front end requests (package@version as in the CDN URL)
PACKAGES = ("@widgetti/solara-vuetify3-app@5.2.0", "requirejs@2.3.6", "font-awesome@4.5.0")
SENTINEL = {"@widgetti/solara-vuetify3-app@5.2.0": "dist/solara-vuetify-app8.min.js",
            "requirejs@2.3.6": "require.js", "font-awesome@4.5.0": "css/font-awesome.min.css"}


def cache_dir() -> Path:
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def missing() -> list[str]:
    return [p for p in PACKAGES if not (cache_dir() / p / SENTINEL[p]).exists()]


def prepare(verbose: bool = True) -> list[str]:
    """Fetch whatever is missing from the npm registry; return the packages fetched."""
    todo = missing()
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch the console's browser assets (apt-get install npm)")
    fetched = []
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in todo:
            out = subprocess.run([npm, "pack", pkg, "--silent"], cwd=tmp, capture_output=True, text=True,
                                 timeout=300, check=True).stdout.strip().splitlines()[-1]
            target = cache_dir() / pkg
            with tarfile.open(Path(tmp) / out) as tar:
                for m in tar.getmembers():
                    if not m.isfile() or not m.name.startswith("package/") or ".." in m.name:
                        continue
                    dest = target / m.name[len("package/"):]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(m) as src:
                        dest.write_bytes(src.read())
            fetched.append(pkg)
            if verbose:
                print(f"cached {pkg} in {target}")
    return fetched


if __name__ == "__main__":
    prepare()
