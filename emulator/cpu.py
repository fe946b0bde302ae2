"""Lambda's CPU share for each execution environment: memory / 1,769 MB of one core, by a cgroup quota.

Lambda gives a function CPU in proportion to its memory (1,769 MB is one vCPU; 128 MB about 7% of
one). Each environment's process goes into a cgroup of its own with a CFS quota of that share per
100 ms period: cgroup v1's ``cpu`` controller (``cpu.cfs_quota_us``) or cgroup v2's ``cpu.max``,
whichever this machine mounts with the CPU controller and lets us write (root). Where neither can be
had, :func:`cpu_controller` says why and environments run unthrottled.

Lambda documents no quota for the init phase and some measurements see a faster init than invoke,
so by default an environment is unthrottled until its init ends (its first ``/next``), and throttled
from then on; ``throttle_init`` holds the init to the share too. On Lambda one environment's init
takes nothing from another's share; here they share the machine's cores, so an unthrottled init
weighs a sixteenth of an environment held to its share (:data:`INIT_WEIGHT`): it takes what those
leave, and a round's 59 inits cannot starve the environments already serving it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

ONE_VCPU_MB = 1769
PERIOD_US = 100_000
GROUP = "lambdawarmer-emulator"
WEIGHT = 20
"""The emulator's environments together weigh as much as this many processes of the machine's own:
on a busy machine (the test run beside other jobs) each still gets its memory's share (its quota),
as Lambda reserves it, where among many processes of equal weight it would get less. The quotas
still hold each to its share; an unthrottled init phase may take more, not the whole machine."""
INIT_WEIGHT = 1 / 16
"""What an unthrottled init weighs beside an environment held to its share: beside 50 inits, an
environment that wants its share gets up to a quarter of the cores (1 against 50 sixteenths), far
more than its 7% of one at 128 MB."""
_emulators = itertools.count(1)


def cpu_share(memory_mb: int) -> float:
    """The cores a function of ``memory_mb`` gets: 1 at 1,769 MB, in proportion below and above."""
    return memory_mb / ONE_VCPU_MB


class CpuGroup:
    """One environment's cgroup: put a process in it by writing its pid to :attr:`procs`."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version
        self.procs = path / "cgroup.procs"

    def limit(self, share: float | None) -> None:
        """Hold the group to ``share`` cores, its due (None: no limit, and the weight of an init,
        which takes what the others leave: :data:`INIT_WEIGHT`)."""
        weight = 1.0 if share is not None else INIT_WEIGHT
        if self.version == 1:
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            quota = -1 if share is None else max(1000, round(PERIOD_US * share))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
            (self.path / "cpu.shares").write_text(str(round(1024 * weight)))  # a process weighs 1024
        else:
            quota_text = "max" if share is None else str(max(1000, round(PERIOD_US * share)))
            (self.path / "cpu.max").write_text(f"{quota_text} {PERIOD_US}")
            (self.path / "cpu.weight").write_text(str(max(1, round(100 * weight))))  # a process: 100

    def remove(self) -> None:
        """Remove the group (once its processes have ended)."""
        with contextlib.suppress(OSError):
            self.path.rmdir()


class CpuController:
    """This emulator's environment groups: side by side with every other emulator's in ``base``,
    each named after ``owner``, so that an environment weighs the same whichever emulator holds it
    (under a folder per emulator, a tree of 60 environments had weighed as one test's single one)."""

    def __init__(self, base: Path, owner: str, version: int) -> None:
        self.base = base
        self.owner = owner
        self.version = version
        self._made = 0

    def group(self, name: str) -> CpuGroup:
        """A new, unlimited group for one environment."""
        self._made += 1
        path = self.base / f"{self.owner}-{name}-{self._made}"
        path.mkdir()
        group = CpuGroup(path, self.version)
        group.limit(None)
        return group

    def close(self) -> None:
        """Remove what is left of this emulator's groups (each environment removed its own)."""
        for group in self.base.glob(f"{self.owner}-*"):
            with contextlib.suppress(OSError):
                group.rmdir()


def _mounts() -> list[tuple[str, Path, str]]:
    """(filesystem type, mount point, super options) of every mount, from /proc/self/mountinfo."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            before, _, after = line.partition(" - ")
            fields, tail = before.split(), after.split()
            if len(fields) >= 5 and len(tail) >= 3:
                found.append((tail[0], Path(fields[4]), tail[2]))
    return found


def cpu_controller(
    mounts: list[tuple[str, Path, str]] | None = None, owner: str | None = None
) -> CpuController | str:
    """A controller for this emulator's environments, or why there is none on this machine.

    ``mounts`` (as :func:`_mounts` gives them) and ``owner`` (what its groups' names start with) are
    for tests; by default the machine's, and this process's id with a count of its emulators.
    """
    owner = owner or f"{os.getpid()}-{next(_emulators)}"
    reasons = []
    for fs_type, point, options in _mounts() if mounts is None else mounts:
        if fs_type == "cgroup" and "cpu" in options.split(","):
            version, root = 1, point
        elif fs_type == "cgroup2" and "cpu" in _read(point / "cgroup.controllers").split():
            version, root = 2, point
        else:
            continue
        try:
            base = root / GROUP
            base.mkdir(exist_ok=True)
            _sweep(base)
            if version == 1:
                (base / "cpu.shares").write_text(str(1024 * WEIGHT))  # a process weighs 1024
            else:
                (base / "cpu.weight").write_text(str(100 * WEIGHT))  # a process weighs 100
            if version == 2:
                # The CPU controller must be on for the groups below ours (v2 enables it per level).
                (root / "cgroup.subtree_control").write_text("+cpu")
                (base / "cgroup.subtree_control").write_text("+cpu")
            return CpuController(base, owner, version)
        except OSError as error:
            reasons.append(f"cgroup v{version} at {point}: {error.strerror or error}")
    if not reasons:
        return "no cgroup with the CPU controller is mounted"
    return "; ".join(reasons)


def _sweep(base: Path) -> None:
    """Remove the groups that emulators of processes no longer running left behind (a kill); a
    folder of groups too, as emulators before 1.7.0 made one per emulator."""
    for folder in base.iterdir():
        pid = folder.name.partition("-")[0]
        if folder.is_dir() and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            for group in folder.iterdir():
                if group.is_dir():
                    with contextlib.suppress(OSError):
                        group.rmdir()
            with contextlib.suppress(OSError):
                folder.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
