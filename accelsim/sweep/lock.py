"""One sweep per folder at a time: a lock file that names its holder (process id, host, start time).

`DIR/sweep.lock` is created exclusively (O_EXCL), so of two sweeps started on one folder exactly one
gets it; the other is refused with the holder's identity. A lock whose process is gone (same host,
no such process, or a process with that id that started later) is stale: it is taken over, and the
taking over is reported. A lock from another host cannot be checked and is never taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from accelsim.errors import AccelsimError

LOCK_NAME = "sweep.lock"
"""The lock file in a sweep folder."""


class SweepLockedError(AccelsimError):
    """Another sweep (alive, or on another host) holds the folder's lock."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a sweep folder: process id, host, start time, and the process's own start stamp."""

    pid: int
    host: str
    started: str
    """Local time the sweep started, ISO 8601."""
    process_start: str | None = None
    """The kernel's start time of the process (Linux), to tell a reused process id from the holder."""
    token: str = ""

    def describe(self) -> str:
        """'process 123 on host h, started 2024-05-01T10:00:00'."""
        return f"process {self.pid} on host {self.host}, started {self.started}"


def current_holder() -> LockHolder:
    """This process as a lock holder."""
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    pid = os.getpid()
    return LockHolder(pid, socket.gethostname(), started, _process_start(pid), uuid.uuid4().hex)


def read_lock(path: Path) -> LockHolder | None:
    """The holder written in the lock file `path`; None if the file is gone or unreadable."""
    try:
        data: Any = json.loads(path.read_text())
        return LockHolder(
            int(data["pid"]),
            str(data["host"]),
            str(data["started"]),
            data.get("process_start"),
            str(data.get("token", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_alive(holder: LockHolder) -> bool:
    """False only when the holder certainly ended: same host, and no such process or a newer one."""
    if holder.host != socket.gethostname():
        return True  # another machine's process cannot be checked
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    start = _process_start(holder.pid)
    return holder.process_start is None or start is None or start == holder.process_start


@contextlib.contextmanager
def sweep_lock(folder: Path, notify: Callable[[str], None] | None = None) -> Iterator[LockHolder]:
    """Hold `folder`/sweep.lock for the block; SweepLockedError if a live sweep holds it.

    A stale lock is taken over and `notify` is told whose it was. The folder must exist.
    """
    path = Path(folder) / LOCK_NAME
    me = current_holder()
    for _attempt in range(3):
        if _create(path, me):
            break
        holder = read_lock(path)
        if holder is not None and is_alive(holder):
            raise SweepLockedError(
                f"{folder}: another sweep is running on this folder ({holder.describe()}; lock file "
                f"{path}). Wait for it to finish, or use another --out; if that process is gone, "
                "delete the lock file"
            )
        if holder is None and _young(path):  # being written by a sweep starting right now
            time.sleep(0.2)
            continue
        aside = path.with_name(f"{LOCK_NAME}.{me.token[:8]}.stale")
        try:  # one renamer wins; a loser finds the new lock on its next attempt
            os.rename(path, aside)
        except FileNotFoundError:
            continue
        aside.unlink(missing_ok=True)
        if notify is not None:
            whose = holder.describe() if holder is not None else "unreadable lock file"
            notify(f"took over the stale lock of a sweep that is no longer running ({whose})")
    else:
        raise SweepLockedError(f"{folder}: could not take the lock {path}; another sweep keeps taking it")
    try:
        yield me
    finally:
        if (held := read_lock(path)) is not None and held.token == me.token:
            path.unlink(missing_ok=True)


def _create(path: Path, me: LockHolder) -> bool:
    """Write the lock file if none exists (atomically: O_EXCL); False if one does."""
    record = {
        "pid": me.pid,
        "host": me.host,
        "started": me.started,
        "process_start": me.process_start,
        "token": me.token,
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(record, indent=1) + "\n")
    return True


def _young(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime < 2.0
    except OSError:
        return False


def _process_start(pid: int) -> str | None:
    """The start time of process `pid` in clock ticks since boot (Linux /proc), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 else None
