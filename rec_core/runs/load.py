"""How busy the machine is: the runnable threads of other work that share this process's cores.

A run's seconds depend on what else the machine does: on a 2-core machine a run whose 2 torch
threads share the cores with 2 other runnable threads gets about half of them. The measure is
"other runnable threads": the machine's runnable threads (/proc/loadavg's fourth field, an
instant count) less this process's own (/proc/self/task) and, where asked, its descendants'
(the runs and calibrations an app started: they are ours, not other work), sampled and averaged:

- `LoadSampler`, while a run or a calibration works: the average over its own work.
- `machine_others`, when an estimate is made: the average over the last `WINDOW_S` from a
  background monitor of this process (started on first use with a burst of samples).

Not the load average: it lags a minute behind, counts our own runs, and counts threads waiting
for disk, which take no core (here it read 9 while 5 threads were runnable). `busy_factor`
turns the count into how much slower than on an idle machine a run goes (processor sharing);
`rec_app.estimate` scales measured seconds by the ratio of the factor now to the one they were
measured under. Linux only (procfs); elsewhere nothing is measured (None) and estimates are not
scaled.

procfs is read directly for the two counts psutil does not give: the machine's runnable threads
(/proc/loadavg's fourth field; psutil's load averages lag) and each thread's scheduler state
(psutil's threads carry CPU times only).
"""

from __future__ import annotations

import collections
import os
import threading
import time
import weakref
from pathlib import Path

import psutil

__all__ = ["WINDOW_S", "LoadSampler", "busy_factor", "cores", "machine_others", "runnable_now"]

WINDOW_S = 60.0  # the estimate-time average covers this many seconds (as the 1-minute load average)
_MONITOR_INTERVAL_S = 0.5


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def busy_factor(others: float, threads: int | None = None, n_cores: int | None = None) -> float:
    """How many times slower than on an idle machine a process with `threads` busy threads
    runs while `others` other threads are runnable on `n_cores` cores: it gets
    threads / (threads + others) of the cores, and would get min(threads, cores) alone.

    Processor sharing only: a model of many tiny operations over several OpenMP threads can be
    slowed far more (every operation waits for its slowest thread), which no factor captures."""
    n = n_cores or cores()
    t = max(1, threads or n)
    return max(1.0, (t + max(0.0, others)) / n) / max(1.0, t / n)


def _runnable_threads(pid: int | str) -> int:
    count = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the process ended meanwhile
        return 0
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        count += stat[stat.rfind(")") + 2 :].startswith("R")
    return count


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, theirs, ...)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def runnable_now(descendants: bool = False) -> tuple[int, int] | None:
    """(runnable threads on the machine, of them this process's own, with its descendants'
    when asked), or None without procfs."""
    try:
        machine = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    pid = os.getpid()
    own = _runnable_threads(pid)
    if descendants:
        own += sum(_runnable_threads(child) for child in _descendants(pid))
    return machine, own


class LoadSampler:
    """Averages the other runnable threads while this process works (see the module doc).

    `start()` samples in a daemon thread every `interval` seconds; `stop()` ends it and returns
    the average (None when nothing could be measured). The thread holds the sampler weakly and
    ends on its own once the sampler is gone, so an exception that skips `stop()` leaks nothing.
    `descendants`: this process's child processes count as its own work too.
    """

    def __init__(self, interval: float = 1.0, *, descendants: bool = False, window_s: float | None = None) -> None:
        self.interval = interval
        self.descendants = descendants
        self.window_s = window_s  # keep only the samples of the last window_s seconds
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def sample(self) -> None:
        now = runnable_now(self.descendants)
        if now is None:
            return
        machine, own = now
        t = time.monotonic()
        with self._lock:
            self._samples.append((t, max(0, machine - own)))
            if self.window_s is not None:
                while self._samples and self._samples[0][0] < t - self.window_s:
                    self._samples.popleft()

    @property
    def others(self) -> float | None:
        with self._lock:
            return sum(n for _, n in self._samples) / len(self._samples) if self._samples else None

    @property
    def n_samples(self) -> int:
        with self._lock:
            return len(self._samples)

    def start(self) -> LoadSampler:
        self.sample()
        ref = weakref.ref(self)
        stopped, interval = self._stopped, self.interval

        def loop() -> None:
            while not stopped.wait(interval):
                sampler = ref()
                if sampler is None:
                    return
                sampler.sample()
                del sampler

        threading.Thread(target=loop, name="rec_core-load-sampler", daemon=True).start()
        return self

    def stop(self) -> float | None:
        self._stopped.set()
        self.sample()
        return self.others

    def finish(self) -> dict[str, float]:
        """`stop()` as a run's timing entry: {"others_runnable": average}, or {} when unmeasured."""
        others = self.stop()
        return {} if others is None else {"others_runnable": round(others, 2)}

    def __del__(self) -> None:
        self._stopped.set()


_monitor: LoadSampler | None = None
_monitor_lock = threading.Lock()


def machine_others(burst: int = 10) -> float | None:
    """Other work's runnable threads, averaged over the last WINDOW_S, this process and its
    descendants (our runs, calibrations, the warm worker) left out; None without procfs.

    The first call starts this process's monitor, after a burst of `burst` samples 10 ms apart
    so that a first answer is not one instant's count."""
    global _monitor
    with _monitor_lock:
        if _monitor is None:
            if runnable_now() is None:
                return None
            _monitor = LoadSampler(_MONITOR_INTERVAL_S, descendants=True, window_s=WINDOW_S)
            for _ in range(max(0, burst - 1)):
                _monitor.sample()
                time.sleep(0.01)
            _monitor.start()
        return _monitor.others
