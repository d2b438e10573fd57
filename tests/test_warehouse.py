import subprocess
import sys
from pathlib import Path

import duckdb

FUNDGUARD = str(Path(sys.executable).with_name("fundguard"))


def test_a_locked_warehouse_gives_a_bilingual_error_not_a_traceback(tmp_path):
    path = tmp_path / "wh.duckdb"
    holder = duckdb.connect(str(path))  # another process's writer holds the file lock
    try:
        r = subprocess.run([FUNDGUARD, "kb", "list", "-w", str(path)], capture_output=True, text=True)
    finally:
        holder.close()
    assert r.returncode == 2
    assert "正被其他进程使用" in r.stderr and "locked by another process" in r.stderr
    assert "Traceback" not in r.stderr
