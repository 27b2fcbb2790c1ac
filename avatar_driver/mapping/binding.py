"""One output's mapping, reloaded off the pipeline thread when its file changes.

Every output that uses a mapping holds a `MappingBinding`. With a watched file, a small
daemon thread looks at the file's size and modification time every `interval` seconds and
compiles a changed file there, then runs the output's `prepare` on it (the output's packer
for the new names, say), so the pipeline thread never reads TOML, compiles or builds a
packer. The mapping and what was prepared from it are handed over together (`take()`); a
bad file, or one `prepare` refuses, is reported in one line and the last good pair stays
in use. The pipeline thread's cost per frame is one attribute read.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from ..errors import AvatarDriverError
from .compiled import CompiledMapping
from .loader import load_mapping, resolve_spec

__all__ = ["RELOAD_CHECK_S", "MappingBinding", "load_bound"]

#: How often a watched mapping file is looked at (seconds).
RELOAD_CHECK_S = 0.5

Signature = tuple[int, int]
P = TypeVar("P")


def _stderr(who: str) -> Callable[[str], None]:
    def log(message: str) -> None:
        print(f"avatar-driver: {who}: {message}", file=sys.stderr, flush=True)

    return log


class MappingBinding(Generic[P]):
    """The mapping an output sends with now, what it prepared from it, and the watched file.

    prepare(mapping): what the output sends with, built from a mapping (its packer, say);
        run here for the first mapping, on the watcher thread for every reload. It may
        raise an `AvatarDriverError` to refuse a mapping (the last good pair stays).
    current, prepared: the pair in use, swapped only by `take()` on the output's thread.
    take(): the newly prepared value once (now `prepared`), else None; once per frame.
    offer(mapping): hand a mapping over like a reload, prepared on the calling thread.
    poll(): check the file now, on the calling thread (tests, and the watcher's body).
    close(): stop watching (idempotent).
    """

    def __init__(
        self,
        mapping: CompiledMapping,
        prepare: Callable[[CompiledMapping], P],
        *,
        path: str | Path | None = None,
        who: str = "mapping",
        log: Callable[[str], None] | None = None,
        interval: float | None = RELOAD_CHECK_S,
    ) -> None:
        self.current = mapping
        self.prepared: P = prepare(mapping)
        self._prepare = prepare
        self.path = Path(path) if path is not None else None
        self.who = who
        self._log = log or _stderr(who)
        self._fresh: tuple[CompiledMapping, P] | None = None
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

    def take(self) -> P | None:
        """What was prepared from a mapping reloaded since the last call, or None; the
        pair becomes `current` and `prepared`."""
        if self._fresh is None:  # the per-frame cost: one attribute read
            return None
        with self._lock:
            fresh, self._fresh = self._fresh, None
        if fresh is None:
            return None
        self.current, self.prepared = fresh
        return fresh[1]

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
            prepared = self._prepare(mapping)  # the output's packer too, off its thread
        except AvatarDriverError as e:
            self._bad_sig = sig
            reason = " ".join(str(e).split())  # one line, whatever the error holds
            self._log(f"mapping not reloaded, keeping the last good one: {reason}")
            return False
        self._sig, self._bad_sig = sig, None
        self._hand_over(mapping, prepared)
        self._log(f"mapping reloaded from {self.path}")
        return True

    def offer(self, mapping: CompiledMapping) -> None:
        """Use `mapping` from the next `take()` on (a preset switch from the control panel),
        prepared here on the caller's thread; an `AvatarDriverError` from `prepare` is
        raised to the caller and nothing changes. A later edit of the file replaces it."""
        self._hand_over(mapping, self._prepare(mapping))

    def _hand_over(self, mapping: CompiledMapping, prepared: P) -> None:
        with self._lock:
            self._fresh = (mapping, prepared)

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


def load_bound(spec: str | None, default: str) -> tuple[CompiledMapping, Path | None]:
    """The mapping an output's `from_spec` starts with, and the file to watch: what
    ``--mapping`` names (a file or a preset's file), else the output's default preset."""
    if spec is None:
        return load_mapping(default), None
    path = resolve_spec(spec)
    return load_mapping(path), path
