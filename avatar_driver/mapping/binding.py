"""One output's mapping, reloaded off the pipeline thread when its file changes.

Every output that uses a mapping holds a `MappingBinding`. With a watched file, a small
daemon thread looks at the file's size and modification time every `interval` seconds and
compiles a changed file there, so the pipeline thread never reads or compiles TOML. A
good result is handed over whole (`take()`); a bad one is reported in one line and the
last good mapping stays in use. The pipeline thread's cost per frame is one attribute
read.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import MappingError
from .compiled import CompiledMapping
from .loader import load_mapping, resolve_spec

__all__ = ["RELOAD_CHECK_S", "MappingBinding", "bind_mapping"]

#: How often a watched mapping file is looked at (seconds).
RELOAD_CHECK_S = 0.5

Signature = tuple[int, int]


def _stderr(who: str) -> Callable[[str], None]:
    def log(message: str) -> None:
        print(f"avatar-driver: {who}: {message}", file=sys.stderr, flush=True)

    return log


class MappingBinding:
    """The mapping an output sends with now, and its watched file (if any).

    current: the mapping in use, swapped only by `take()` on the output's own thread.
    take(): the newly reloaded mapping once, else None; call it once per frame.
    poll(): check the file now, on the calling thread (tests, and the watcher's body).
    close(): stop watching (idempotent).
    """

    def __init__(
        self,
        mapping: CompiledMapping,
        *,
        path: str | Path | None = None,
        who: str = "mapping",
        log: Callable[[str], None] | None = None,
        interval: float | None = RELOAD_CHECK_S,
    ) -> None:
        self.current = mapping
        self.path = Path(path) if path is not None else None
        self.who = who
        self._log = log or _stderr(who)
        self._fresh: CompiledMapping | None = None
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._sig = self._signature()
        self._bad_sig: Signature | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.path is not None and interval:
            self._thread = threading.Thread(
                target=self._watch, args=(interval,), name=f"avatar-driver-{who}-mapping",
                daemon=True,
            )  # fmt: skip
            self._thread.start()

    def take(self) -> CompiledMapping | None:
        """A mapping reloaded since the last call (now `current`), or None."""
        if self._fresh is None:  # the per-frame cost: one attribute read
            return None
        with self._lock:
            fresh, self._fresh = self._fresh, None
        if fresh is not None:
            self.current = fresh
        return fresh

    def poll(self) -> bool:
        """Look at the file now; True if a new good mapping is waiting for `take()`."""
        with self._poll_lock:  # the watcher and a caller never compile the same edit twice
            return self._poll()

    def _poll(self) -> bool:
        sig = self._signature()
        if sig is None or sig == self._sig or sig == self._bad_sig:
            return False
        assert self.path is not None
        try:
            mapping = load_mapping(self.path)
        except MappingError as e:
            self._bad_sig = sig
            reason = " ".join(str(e).split())  # one line, whatever the error holds
            self._log(f"mapping not reloaded, keeping the last good one: {reason}")
            return False
        self._sig, self._bad_sig = sig, None
        with self._lock:
            self._fresh = mapping
        self._log(f"mapping reloaded from {self.path}")
        return True

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def _signature(self) -> Signature | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None  # being replaced (editors write a new file, then rename): next time
        return (st.st_mtime_ns, st.st_size)

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.poll()
            except Exception as e:  # a bug here must not end reloading for the run
                self._log(f"mapping reload failed ({type(e).__name__}: {e})")


def bind_mapping(
    spec: str | None,
    default: str | CompiledMapping,
    *,
    who: str,
    log: Callable[[str], None] | None = None,
) -> MappingBinding:
    """The binding an output's `from_spec` makes: ``--mapping`` (a file, watched; or a
    preset) if given, else the output's own default."""
    if spec is None:
        mapping = default if isinstance(default, CompiledMapping) else load_mapping(default)
        return MappingBinding(mapping, who=who, log=log)
    path = resolve_spec(spec)
    return MappingBinding(load_mapping(path), path=path, who=who, log=log)
