"""The batch's freed arrays are reused, not faulted in afresh (``sim.engine.allocator``)."""

import platform
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
from sim.engine.allocator import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
def turn():  # a turn's worth of 1 MB temporaries, all freed at its end (100 MB at the heap's top)
    xs = [np.ones(2**17) for _ in range(100)]
    del xs
turn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    turn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_freed_arrays_are_reused_not_faulted_in_again():
    # untuned, glibc returns the freed 100 MB to the OS each turn and faults it in again (256 pages per
    # MB); tuned, the heap keeps it
    assert faults("default") > 10 * 100 * 128
    assert faults("tuned") < 2_000

