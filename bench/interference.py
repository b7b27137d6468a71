"""How much CPU other processes take while something is timed, from /proc/stat: the
machine's busy CPU time (steal time included) minus this process's and its children's.
A timing made while other work ran is noisy, a multi-threaded one most of all."""

import os
import resource
import time

BUSY_CPUS = 0.25
"""Other processes keeping more CPUs than this busy on average make a figure unreliable."""


class OtherWork:
    """Started when made; `summary()` says how busy other processes kept the machine since."""

    def __init__(self):
        self._start = (time.perf_counter(), _machine_busy_seconds(), _own_cpu_seconds())

    def cpus_busy(self):
        """The average number of CPUs other processes kept busy (None without /proc/stat)."""
        wall, machine_busy, own = self._start
        now = _machine_busy_seconds()
        if now is None or machine_busy is None:
            return None
        others = (now - machine_busy) - (_own_cpu_seconds() - own)
        return max(0.0, others / max(time.perf_counter() - wall, 1e-9))

    def summary(self):
        """{"cpus_busy": see cpus_busy, "load_average": the 1-minute load average now}."""
        return {"cpus_busy": self.cpus_busy(), "load_average": os.getloadavg()[0]}


def _machine_busy_seconds():
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    user, nice, system, _, _, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds():
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total
