"""A directory of simulated protection priors shared by the processes of one machine (web workers, restarts).

Why: a prior costs ~1 s of CPU with an ensemble (engine.protection.prior) and each web worker used to build its own
on its first Start with those settings; a server restart built them all again. Here the first process to need a
prior builds it while holding a file lock on its key and writes it as a plain .npy file (numpy, never pickled);
a process that asks for the same key meanwhile waits for that lock and then reads the file. Keys are digests of
the prior's settings, of the forecaster's own identity (an ONNX model's bytes and card) and of the engine's source
code, so a new model or a changed engine never reads an old prior. The oldest files are removed beyond
`max_files`.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["PriorStore", "engine_source_digest"]


@lru_cache(maxsize=1)
def engine_source_digest() -> str:
    """sha1 of every .py file of the engine package (names and contents): a changed engine is a new key space."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class PriorStore:
    """`get_or_build(key, build)`: the array stored under `key` (a tuple of plain values), built once per machine.
    A directory that cannot be written (full, read-only) costs the sharing, never the result."""

    def __init__(self, directory, max_files: int = 128) -> None:
        self.directory = Path(directory)
        self.max_files = int(max_files)
        self.directory.mkdir(parents=True, exist_ok=True)

    def name_of(self, key: tuple) -> str:
        return hashlib.sha1(repr((engine_source_digest(), key)).encode()).hexdigest()

    def get_or_build(self, key: tuple, build) -> np.ndarray:
        name = self.name_of(key)
        path = self.directory / f"{name}.npy"
        found = self._read(path)
        if found is not None:
            return found
        try:
            with self._locked(name):
                found = self._read(path)  # another process built it while this one waited
                if found is not None:
                    return found
                value = np.asarray(build())
                self._write(path, value)
            self._trim()
        except OSError:  # a full or read-only disk: the prior is still built, only not shared
            return np.asarray(build())
        return value

    @contextmanager
    def _locked(self, name: str):
        with open(self.directory / f"{name}.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _read(path: Path) -> np.ndarray | None:
        try:
            value = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):  # absent, or cut short by a crash: build it again
            return None
        value.setflags(write=False)
        return value

    def _write(self, path: Path, value: np.ndarray) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, value, allow_pickle=False)
            os.replace(tmp, path)  # readers see the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _trim(self) -> None:
        files = sorted(self.directory.glob("*.npy"), key=_mtime)
        for old in files[:max(0, len(files) - self.max_files)]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.npy"))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed by another process meanwhile
        return 0.0
