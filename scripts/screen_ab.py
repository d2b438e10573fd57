"""Screen one warehouse with several library trees in turn, alternating.

Compares libraries on a machine whose speed drifts (docs/performance.md, round 6). Each run is a fresh process
importing fundguard from that tree's src.

    git worktree add /tmp/old <commit>
    python scripts/screen_ab.py WAREHOUSE /tmp/old . --rounds 2

Prints one line per run: tree, engine seconds, wall seconds, process CPU seconds, the machine's steal seconds
(CPU time the hypervisor gave to other guests) over the run, findings, amount. The warehouse's findings are replaced
by each run (`--full`); use a copy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

_RUN = """
import os, resource, sys, time
sys.path.insert(0, sys.argv[1] + "/src")
import fundguard
assert fundguard.__file__.startswith(sys.argv[1]), fundguard.__file__
from fundguard.engine.library import load_library
from fundguard.engine.screen import ScreenOptions, screen
library = load_library()
def steal():  # CPU time the hypervisor gave to other guests, all cores (/proc/stat)
    return int(open("/proc/stat").readline().split()[8]) / os.sysconf("SC_CLK_TCK")
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t, c, s = time.perf_counter(), cpu(), steal()
res = screen(sys.argv[2], ScreenOptions(full=True), library=library)
print(sys.argv[1], "engine", round(res.seconds, 1), "wall", round(time.perf_counter() - t, 1), "cpu",
      round(cpu() - c, 1), "steal", round(steal() - s, 1), res.n_findings, round(res.total_amount, 2), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("trees", nargs="+", help="folders holding a fundguard checkout (src/fundguard)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in args.trees]
    for _ in range(args.rounds):
        for tree in trees:
            subprocess.run([sys.executable, "-c", _RUN, tree, args.warehouse], check=True)


if __name__ == "__main__":
    main()
