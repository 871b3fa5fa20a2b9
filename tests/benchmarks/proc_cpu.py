"""CPU time of a process from /proc, for the benchmarks' server-side figures."""

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> tuple[tuple[int, int], int] | None:
    """((pid, start time), user + system ticks so far), or None if the process has ended.
    The start time tells a process from a later one given the same pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (pid, int(fields[19])), int(fields[11]) + int(fields[12])
