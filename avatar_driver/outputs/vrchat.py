"""VRChat over OSC: avatar parameters to 127.0.0.1:9000 by default.

Each frame the mapping (Unified Expressions v2 unless ``--mapping`` names another) turns
channels into parameter values; only values that changed beyond the mapping's threshold
are packed (with a full refresh every few seconds) into bundles under 4096 bytes by a
precompiled packer and sent in one burst.

Avatar awareness. With no target, VRChat is found by OSCQuery (`vrchat.oscquery`): the
output sends at once to 127.0.0.1:9000, then to the OSC port VRChat advertises, and the
avatar's id and typed parameters come from VRChat's ``/avatar`` node, at start-up and on
every ``/avatar/change`` (which VRChat sends to the free port we advertise, so 9001 can stay
with another app). Without VRChat (or with an explicit target or ``--vrchat-listen``) a
listener on VRChat's output port (127.0.0.1:9001) hears ``/avatar/change`` and the avatar's
OSC config JSON is read. Either way only the parameters the avatar declares are sent, each
as declared (see `vrchat.avatar`); without a usable avatar the mapping is sent as written,
after a warning naming the file or the URL.

Hot-path rules: `send` does one cheap clock read, one look for a mapping reloaded by the
binding's watcher thread (`mapping.binding`), the mapping's array operations, and the
packer. A reloaded mapping or a new avatar gets its wire mapping, packer and change state
(`_Wiring`) built on the thread that noticed it (the binding's watcher, the listener or
OSCQuery discovery), and `send` only swaps the whole wiring in; only when both changed
at the same moment is one rebuilt here. The frame's channels are written straight into
the mapping's work vector (`CompiledMapping.apply_frame`), and an empty change set costs
the packer nothing, so no extra pass over the mask is made here.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import field_validator

from ..codecs.osc import OscPacker
from ..errors import AvatarDriverError, OutputError
from ..frame import Frame
from ..mapping import CompiledMapping, MappingState, load_mapping
from ..mapping.binding import MappingBinding, load_bound
from ..vrchat.avatar import (
    AvatarConfig,
    AvatarConfigError,
    default_osc_folders,
    find_avatar_config,
    read_avatar_config,
    wires_for_avatar,
    wires_without_avatar,
)
from .base import OutputOptions, OutputSettings, parse_host_port, register_output, settings_for
from .udp import UdpOutput, UdpSender

__all__ = ["DEFAULT_HOST", "DEFAULT_LISTEN", "DEFAULT_MAPPING", "DEFAULT_PORT", "VRChatOutput"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
DEFAULT_LISTEN = "127.0.0.1:9001"
DEFAULT_MAPPING = "vrchat-unified-v2"
OSCQUERY_CHOICES = ("auto", "on", "off")
#: The default of --vrchat-oscquery (the test suite sets it off outside its network namespace).
OSCQUERY_ENV = "AVATAR_DRIVER_VRCHAT_OSCQUERY"


def _stderr(message: str) -> None:
    print(f"avatar-driver: vrchat: {message}", file=sys.stderr, flush=True)


class VRChatOptions(OutputSettings):
    """`--vrchat-*` / `[output.vrchat]`: where to hear VRChat, its OSC folder, OSCQuery."""

    #: ``HOST:PORT`` to hear /avatar/change on, or ``off``; None: 127.0.0.1:9001, and
    #: with no target VRChat is found by OSCQuery instead.
    listen: str | None = None
    #: VRChat's OSC folder with the avatar configs (None: the Windows or Proton one).
    osc_folder: Path | None = None
    #: ``on``/``off``/``auto`` (None: $AVATAR_DRIVER_VRCHAT_OSCQUERY, else auto).
    oscquery: str | None = None

    @field_validator("listen", mode="before")
    @classmethod
    def _listen(cls, v: Any) -> str | None:
        if v is None:
            return None
        text = str(v).strip()
        if text.lower() in ("off", "none", "no"):
            return "off"
        try:
            h, p = parse_host_port(text, host="127.0.0.1", port=9001, kind="vrchat")
        except OutputError:
            raise ValueError(f"expected HOST:PORT or off, got {v!r}") from None
        return f"[{h}]:{p}" if ":" in h else f"{h}:{p}"

    @field_validator("osc_folder", mode="before")
    @classmethod
    def _folder(cls, v: Any) -> Path | None:
        if v is None or isinstance(v, Path):
            return v
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"expected a folder, got {v!r}")
        return Path(v).expanduser()

    @field_validator("oscquery", mode="before")
    @classmethod
    def _oscquery(cls, v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, bool):  # TOML's oscquery = true
            return "on" if v else "off"
        if str(v).lower() not in OSCQUERY_CHOICES:
            raise ValueError(f"expected on, off or auto, got {v!r}")
        return str(v).lower()

    def listen_address(self) -> tuple[str, int] | None:
        """Where to listen for /avatar/change; None when turned off."""
        if self.listen == "off":
            return None
        return parse_host_port(self.listen or DEFAULT_LISTEN, host="", port=9001, kind="vrchat")


@dataclass(frozen=True, slots=True)
class _Wiring:
    """What `send` uses, for one mapping and one avatar: the wire mapping (restricted to
    the avatar's parameters), its packer and its change state. Built off the sending
    thread (a mapping reload, an avatar change) and swapped in whole."""

    base: CompiledMapping
    avatar: AvatarConfig | None
    wire: CompiledMapping
    packer: OscPacker
    state: MappingState


def _wiring(base: CompiledMapping, avatar: AvatarConfig | None) -> _Wiring:
    if avatar is None:
        wire = base.with_wires(wires_without_avatar(base))
    else:
        wire = base.with_wires(wires_for_avatar(base, avatar.params))
    packer = OscPacker(wire.addresses, wire.types)
    return _Wiring(base, avatar, wire, packer, wire.new_state())


@register_output("vrchat", "VRChat OSC avatar parameters (default 127.0.0.1:9000)")
class VRChatOutput(UdpOutput):
    kind = "vrchat"
    uses_mapping = True
    default_port = DEFAULT_PORT
    Options = VRChatOptions
    flag_prefix = "vrchat"

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        mapping: CompiledMapping | None = None,
        mapping_path: str | Path | None = None,
        listen: tuple[str, int] | None = None,
        osc_folders: list[Path] | None = None,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = _stderr,
        discover: bool = False,
        follow_target: bool = True,
    ) -> None:
        super().__init__(host=host, port=port)
        self._clock = clock
        self._log = log
        self.base = mapping or load_mapping(DEFAULT_MAPPING)
        self.osc_folders = osc_folders if osc_folders is not None else default_osc_folders()
        self.avatar: AvatarConfig | None = None
        self._lock = threading.Lock()
        self._pending: tuple[int, _Wiring | None] = (0, None)
        self._applied = 0
        self.binding = MappingBinding(
            self.base, self._prepare, path=mapping_path, who=self.kind, log=log
        )
        self._use(self.binding.prepared)
        self.listener = None
        self.discovery = None
        self._target_pending: tuple[int, str, int] = (0, host, port)
        self._target_applied = 0
        if discover:
            from ..vrchat.oscquery import Discovery

            self.discovery = Discovery(
                on_target=self.on_discovered_target,
                on_avatar=self.on_discovered_avatar,
                on_json_change=self.on_avatar_change,
                log=self._log,
                fallback=(host, port),
                fallback_listen=listen,
                osc_folders=self.osc_folders,
                follow_target=follow_target,
            )
        elif listen is not None:
            from ..vrchat.listener import AvatarChangeListener

            try:
                self.listener = AvatarChangeListener(listen[0], listen[1], self.on_avatar_change)
            except OSError as e:
                self._log(
                    f"cannot listen for avatar changes on {listen[0]}:{listen[1]} ({e.strerror});"
                    " sending the mapping as written"
                )

    @classmethod
    def from_spec(cls, target: str | None, options: OutputOptions) -> VRChatOutput:
        host, port = cls.address(target)
        settings = settings_for(options, VRChatOptions)
        mapping, path = load_bound(options.mapping, DEFAULT_MAPPING)
        oscquery = settings.oscquery or os.environ.get(OSCQUERY_ENV, "").lower() or "auto"
        if oscquery not in OSCQUERY_CHOICES:
            raise OutputError(f"vrchat: {OSCQUERY_ENV}={oscquery!r}: expected on or off")
        # No target and no listen address: find VRChat by OSCQuery (else the fixed ports).
        discover = oscquery == "on" or (
            oscquery == "auto" and target is None and settings.listen is None
        )
        folder = settings.osc_folder
        return cls(
            host=host,
            port=port,
            mapping=mapping,
            mapping_path=path,
            listen=settings.listen_address(),
            osc_folders=[folder] if folder is not None else None,
            discover=discover,
            follow_target=target is None,
        )

    # -- mapping and avatar ------------------------------------------------------------

    @property
    def mapping(self) -> CompiledMapping:
        """The mapping as sent right now (restricted to the avatar when one is known)."""
        return self._wire

    def _prepare(self, base: CompiledMapping) -> _Wiring:
        """The binding's `prepare`: a reloaded mapping's wiring for the avatar known now
        (built on the watcher thread)."""
        return _wiring(base, self.avatar)

    def _use(self, wiring: _Wiring) -> None:
        """Swap a prepared wiring in (on the sending thread: assignments only)."""
        self.base, self.avatar = wiring.base, wiring.avatar
        self._wire, self._packer, self._state = wiring.wire, wiring.packer, wiring.state

    def _avatar_ready(self, config: AvatarConfig | None) -> None:
        """From the listener or discovery thread: the wiring for the new avatar, built
        there; `send` swaps it in."""
        wiring = _wiring(self.base, config)
        with self._lock:
            self._pending = (self._pending[0] + 1, wiring)

    def on_avatar_change(self, avatar_id: str) -> None:
        """From the listener thread: read the avatar's config; `send` swaps it in."""
        config: AvatarConfig | None = None
        try:
            path = find_avatar_config(self.osc_folders, avatar_id)
            if path is None:
                self._log(f"no OSC config for avatar {avatar_id}; sending the mapping as written")
            else:
                config = read_avatar_config(path, expected_id=avatar_id)
        except AvatarConfigError as e:
            self._log(f"{e}; sending the mapping as written")
        self._avatar_ready(config)

    def on_discovered_target(self, host: str, port: int) -> None:
        """From the discovery thread: VRChat's OSC input (or the fallback); `send` swaps."""
        with self._lock:
            self._target_pending = (self._target_pending[0] + 1, host, port)

    def on_discovered_avatar(self, config: AvatarConfig) -> None:
        """From the discovery thread: the avatar read from VRChat's /avatar node."""
        self._avatar_ready(config)

    def _take_target(self) -> None:
        gen, host, port = self._target_pending
        self._target_applied = gen
        if f"{host}:{port}" == self.target:
            return
        try:
            sender = UdpSender(host, port, self.stats, kind=self.kind)
        except OutputError as e:
            self.stats.failed(e)
            return
        self._udp, old = sender, self._udp
        old.close()
        self.target = f"{host}:{port}"
        self._state.force_refresh()  # the new receiver gets everything at once

    def describe(self) -> str:
        text = super().describe()
        return text + " (finding VRChat by OSCQuery)" if self.discovery is not None else text

    def _take_avatar(self) -> None:
        with self._lock:
            gen, wiring = self._pending
        self._applied = gen
        if wiring is None:  # pragma: no cover - a generation always comes with a wiring
            return
        if wiring.base is not self.base:  # a mapping swapped in since it was built (rare)
            wiring = _wiring(self.base, wiring.avatar)
        self._use(wiring)
        config = wiring.avatar
        if config is not None:
            n = len({w.src for w in self._wire.wires})
            where = config.path.name if config.path.suffix == ".json" else f"OSCQuery {config.path}"
            self._log(
                f"avatar {config.name or config.id}: {n} of {len(self.base.entries)} mapping "
                f"parameters, {len(self._wire)} OSC parameters ({where})"
            )

    # -- frames --------------------------------------------------------------------------

    def values(self, frame: Frame) -> np.ndarray:
        """Wire values for a frame (channels() sets faceVisible from the face flag)."""
        return self._wire.apply_frame(frame, self._state)

    def encode(self, frame: Frame, now: float | None = None) -> list[bytes]:
        """The datagrams for one frame: changed values only, all on a refresh."""
        values = self.values(frame)
        include = self._state.select(values, self._clock() if now is None else now)
        return self._packer.pack(values, include)  # [] when nothing changed

    def send(self, frame: Frame) -> None:
        now = self._clock()
        if self._target_pending[0] != self._target_applied:
            self._take_target()
        if self._pending[0] != self._applied:
            self._take_avatar()
        fresh = self.binding.take()
        if fresh is not None:  # wire, packer and state were built on the watcher thread
            if fresh.avatar is not self.avatar:  # the avatar changed meanwhile (rare)
                fresh = _wiring(fresh.base, self.avatar)
            self._use(fresh)
        try:
            datagrams = self.encode(frame, now)
        except AvatarDriverError as e:  # pragma: no cover - defensive
            self.stats.failed(e)
            return
        self.transmit(datagrams)

    def finish(self, frame: Frame) -> None:
        self._state.force_refresh()  # the neutral face goes out whole
        self.send(frame)

    def _close(self) -> None:
        if self.discovery is not None:
            self.discovery.close()
        self.binding.close()
        if self.listener is not None:
            self.listener.close()
        super()._close()
