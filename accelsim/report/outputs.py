"""Outputs: check before any work that they can be written, then write them as a set.

`check_output_folder` / `check_output_file` look without touching anything: every existing part of the
path must be a folder, the nearest existing one writable, every new name short enough for the file
system, and nothing of the wrong kind may sit where an output goes. `write_set` hands out an empty
temporary folder next to the outputs (inside the output folder if it exists, else beside it); what is
written there replaces its namesakes only when the whole block succeeded, by renames on one file
system. A failure leaves the previous results as they were and no partial set; entries of the folder
that are not part of the set are left alone.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from accelsim.errors import OutputError

STAGING_SUFFIX = ".part"
"""Name ending of a temporary folder `write_set` writes into (removed when the block ends)."""

_STAGED_NAME_CHARS = 40
"""At most this much of an output's name goes into its temporary folder's name (which stays short)."""

_NAME_MAX = 255
_PATH_MAX = 4096
"""Fallbacks where the file system does not say (os.pathconf)."""


def check_output_folder(
    path: str | Path, *, files: Iterable[str] = (), folders: Iterable[str] = (), what: str = "output folder"
) -> Path:
    """`path` if a folder can be written there holding `files` and `folders`; else OutputError.

    The folder may exist (it must be a writable folder) or be creatable (its nearest existing parent
    must be a writable folder). Nothing is created. `what` names the argument in the message
    (e.g. "--out").
    """
    path = Path(path)
    files, folders = list(files), list(folders)
    _check(path, path, [*files, *folders], what)
    for name, want in [*((f, "file") for f in files), *((f, "folder") for f in folders)]:
        found = _kind(path / name)
        if found not in ("missing", want):
            raise OutputError(f"{what} {path}: {path / name} is a {found} where the {want} {name} goes")
    return path


def check_output_file(
    path: str | Path, *, suffixes: Iterable[str] | None = None, what: str = "output file"
) -> Path:
    """`path` if a file can be written there (one of `suffixes`, when given); else OutputError.

    Nothing is created; see `check_output_folder`.
    """
    path = Path(path)
    allowed = list(dict.fromkeys(s.lower() for s in suffixes)) if suffixes is not None else None
    if _kind(path) == "folder":
        example = f" such as {path / ('plot' + allowed[0])}" if allowed else ""
        raise OutputError(f"{what} {path}: is a folder; give a file name{example}")
    if allowed is not None and path.suffix.lower() not in allowed:
        raise OutputError(
            f"{what} {path}: unknown file type {path.suffix or '(no extension)'}; "
            f"allowed: {', '.join(allowed)}"
        )
    _check(path, path.parent, [path.name], what)
    return path


@contextmanager
def write_set(folder: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder; on success its entries replace their namesakes in `folder`.

    `folder` is created if need be (then the temporary folder is renamed to it, one step). If the
    block raises, nothing in `folder` changes. An OSError while writing or moving is an OutputError
    naming `folder`.
    """
    folder = Path(folder)
    try:
        new = not folder.is_dir()
        home = folder.parent if new else folder
        if new:
            home.mkdir(parents=True, exist_ok=True)
        staging = home / f".{folder.name[:_STAGED_NAME_CHARS]}.{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging = staging.with_name(staging.name + STAGING_SUFFIX)
        staging.mkdir()
    except OSError as e:
        raise OutputError(f"cannot write {folder}: {_reason(e)}") from None
    try:
        yield staging
        _commit(staging, folder, new)
    except OSError as e:
        raise OutputError(f"cannot write {folder}: {_reason(e)}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def made_folder(folder: str | Path) -> Iterator[Path]:
    """Create `folder` (and missing parents) for the block; if the block fails, the folders it created
    are removed again as long as they are empty, so a failed start leaves nothing behind."""
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write {folder}: {_reason(e)}") from None
    try:
        yield folder
    except BaseException:
        for p in missing:  # deepest first
            try:
                p.rmdir()
            except OSError:  # not empty (something was written), or gone: leave it
                break
        raise


def remove_staging(folder: str | Path) -> int:
    """Delete temporary `.part` files and folders a killed writer left in `folder`; call only while no
    writer is active there (a sweep holds its lock). Returns how many were removed."""
    folder = Path(folder)
    stale = list(folder.glob(f"*{STAGING_SUFFIX}")) if folder.is_dir() else []
    for p in stale:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return len(stale)


def _commit(staging: Path, folder: Path, new: bool) -> None:
    """Move the staged entries into `folder`: one rename for a new folder, else one per entry."""
    if new:
        try:
            os.rename(staging, folder)
            return
        except OSError:
            if not folder.is_dir():  # not a folder made meanwhile by someone else: a real failure
                raise
    for entry in sorted(staging.iterdir()):
        target = folder / entry.name
        if entry.is_dir() and os.path.lexists(target):  # a folder is swapped: old aside, new in
            os.rename(target, staging / f".old-{uuid.uuid4().hex[:8]}")
        os.replace(entry, target)


def _check(path: Path, folder: Path, names: list[str], what: str) -> None:
    """Every existing part of `folder` is a folder, the nearest existing one is writable, and the new
    parts of `folder` and `names` fit the file system's name and path lengths."""
    existing = folder
    while _kind(existing) == "missing":
        existing = existing.parent
    if _kind(existing) == "link":
        raise OutputError(f"{what} {path}: {existing} is a broken link")
    if _kind(existing) != "folder":
        raise OutputError(f"{what} {path}: {existing} is a file, not a folder")
    name_max = _conf(existing, "PC_NAME_MAX", _NAME_MAX)
    for name in [*folder.parts[len(existing.parts) :], *names]:
        if len(os.fsencode(name)) > name_max:
            raise OutputError(
                f"{what} {path}: the name {_short(name)} is {len(os.fsencode(name))} bytes long; "
                f"this file system allows {name_max}"
            )
    longest = max((len(os.fsencode(n)) for n in names), default=0) + _STAGED_NAME_CHARS + 32
    path_max = _conf(existing, "PC_PATH_MAX", _PATH_MAX)
    if len(os.fsencode(str(folder.absolute()))) + longest > path_max:
        raise OutputError(f"{what} {path}: the path is too long for this file system ({path_max} bytes)")
    try:  # permissions alone do not tell (root, read-only mounts, /proc): make and remove a folder
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError(13, "permission denied")
        probe = existing / f".accelsim-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}{STAGING_SUFFIX}"
        probe.mkdir()
        probe.rmdir()
    except OSError as e:
        raise OutputError(
            f"{what} {path}: cannot write in {existing.absolute()} ({_reason(e, False)})"
        ) from None


def _kind(path: Path) -> str:
    """'folder', 'file' (anything else that exists), 'link' (a broken one) or 'missing'."""
    try:
        return (
            "folder"
            if path.is_dir()
            else "file"
            if path.exists()
            else "link"
            if path.is_symlink()
            else "missing"
        )
    except OSError:  # a name too long, a loop of links: nothing usable exists there
        return "missing"


def _conf(path: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(path, name))
    except (OSError, ValueError, AttributeError):  # not on this platform or file system
        return default


def _short(name: str) -> str:
    return repr(name) if len(name) <= 40 else repr(name[:37] + "...")


def _reason(e: OSError, with_file: bool = True) -> str:
    where = f" ({e.filename})" if e.filename and with_file else ""
    return f"{(e.strerror or str(e)).lower()}{where}"
