"""Writing output files safely: checked paths, atomic replacement, modes and symlinks kept."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["a_path", "write_atomically"]


def a_path(path: object, where: str) -> Path:
    """Return ``path`` (a ``str`` or ``os.PathLike``) as a ``Path``; ``TypeError`` otherwise.

    ``where`` names the function and argument for the message (``"Stepper.save_html: path"``).
    """
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"{where} must be a str or os.PathLike file name, got {path!r:.60}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text:
        raise ValueError(f"{where} must name a file, got {text!r:.60}")
    if "\0" in text:
        raise ValueError(f"{where} cannot contain a NUL character, got {text!r:.60}")
    return Path(text).expanduser()


def write_atomically(target: Path, data: bytes, where: str) -> Path:
    """Write ``data`` to ``target`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk and renamed over
    the target, so an error or Ctrl-C at any point leaves the old file (or none) and no
    temporary file. A symlink is followed: the file it points to is replaced and the link
    stays. An existing file keeps its permission bits; a new one gets ``0o666`` less the
    umask, applied by the operating system (the process umask is never read or changed).
    Errors are ``OSError``s whose message starts with ``where`` and names the path.
    """
    shown = str(target)
    real = Path(os.path.realpath(target))  # through symlinks, even a dangling one
    if real.is_dir():
        raise IsADirectoryError(f"{where}: {shown!r} is a directory, not a file")
    folder = real.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{where}: cannot write {shown!r}: folder {str(folder)!r} does not exist"
        )
    try:
        mode: int | None = real.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise type(err)(f"{where}: cannot write {shown!r}: {err.strerror or err}") from err
    tmp = folder / f".{real.name}.{secrets.token_hex(6)}.tmp"
    created = False
    try:
        # O_EXCL: never follow or reuse anything already at the temporary name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        created = True
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException as err:
        if created:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(err, OSError):
            raise type(err)(f"{where}: cannot write {shown!r}: {err.strerror or err}") from err
        raise
    return target
