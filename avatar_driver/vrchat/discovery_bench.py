"""`bench`'s VRChat discovery figure: start-up to the first correct packet at VRChat.

Measured in a private network namespace (``unshare -n``, only ``lo``) so no mDNS leaves the
machine, against python-oscquery standing in for VRChat (an avatar loaded, 9001 taken by
another socket). "Correct" means a datagram carrying the avatar's own parameter
(``FT/v2/JawOpen``, which the preset as written never sends). Two clocks: from the output's
creation (discovery's own cost) and from launching ``avatar-driver run`` (what a user
waits, Python start-up included), the latter beside a reference measured in the same run:
the same launch with an explicit target and no discovery.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

__all__ = ["GOAL_S", "measure_discovery"]

GOAL_S = 2.0
SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"
MARK = b"/avatar/parameters/FT/v2/JawOpen"


def _namespace_prefix() -> list[str] | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        probe = subprocess.run([*prefix, "sh", "-c", SETUP], capture_output=True, timeout=20)
        if probe.returncode == 0:
            return prefix
    return None


def measure_discovery(*, output_runs: int = 3, process_runs: int = 2) -> dict[str, Any]:
    """Run the measurement in a namespace; {"error": why} where that is not possible."""
    prefix = _namespace_prefix()
    if prefix is None:
        return {"error": "not measured: unshare -n (a private network namespace) not permitted"}
    env = dict(os.environ)
    env.pop("AVATAR_DRIVER_VRCHAT_OSCQUERY", None)
    cmd = (
        f'{SETUP} && exec "$0" -m avatar_driver.vrchat.discovery_bench {output_runs} {process_runs}'
    )
    proc = subprocess.run(
        [*prefix, "sh", "-c", cmd, sys.executable],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"not measured: {tail[:200]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


class _Watch:
    """VRChat's OSC input: notes when the first datagram with the avatar's parameter lands."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.first: float | None = None
        self.mark = MARK
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if self.first is None and self.mark in data:
                self.first = time.perf_counter()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=1)
        self.sock.close()


def _standin(osc_port: int) -> Any:
    from pythonoscquery.osc_query_service import OSCQueryService
    from pythonoscquery.shared.osc_access import OSCAccess
    from pythonoscquery.shared.osc_address_space import OSCAddressSpace
    from pythonoscquery.shared.osc_path_node import OSCPathNode

    space = OSCAddressSpace()
    rw = OSCAccess.READWRITE_VALUE
    space.add_node(OSCPathNode("/avatar/change", access=rw, value="avtr_bench"))
    for name, value in (("FT/v2/JawOpen", 0.0), ("v2/EyeLidLeft", 0.0), ("v2/JawX1", False)):
        space.add_node(OSCPathNode(f"/avatar/parameters/{name}", access=rw, value=value))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        http_port = int(s.getsockname()[1])
    svc = OSCQueryService(space, "VRChat-Client-BENCH1", http_port, osc_port)
    svc.start()
    return svc


def _in_process(watch: _Watch) -> float | None:
    import numpy as np

    from ..frame import Frame
    from ..outputs.base import OutputOptions
    from ..outputs.vrchat import VRChatOutput
    from ..shapes import INDEX

    watch.first = None
    t0 = time.perf_counter()
    out = VRChatOutput.from_spec(None, OutputOptions())
    out._log = lambda text: None
    if out.discovery is not None:
        out.discovery._log = out._log
    try:
        k = 0
        while watch.first is None and time.perf_counter() - t0 < 10:
            k += 1
            w = np.zeros(52, dtype=np.float32)
            w[INDEX["jawOpen"]] = 0.3 + 0.01 * (k % 20)  # moving: every frame says something
            out.send(Frame(timestamp=k / 30, weights=w, face_present=True))
            time.sleep(1 / 30)
    finally:
        out.close()
    return None if watch.first is None else watch.first - t0


def _process(watch: _Watch, *, explicit: bool = False) -> float | None:
    """Launch to the first correct packet; `explicit`: the reference, sent straight to the
    port with no discovery (any datagram counts), which is the process start-up alone."""
    watch.first = None
    watch.mark = b"/avatar/parameters/" if explicit else MARK
    target = f"vrchat:127.0.0.1:{watch.port}" if explicit else "vrchat"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "avatar_driver", "run", "--source", "demo", "--output",
         target, "--max-frames", "150", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while watch.first is None and proc.poll() is None and time.perf_counter() - t0 < 20:
            time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return None if watch.first is None else watch.first - t0


def _summary(samples: list[float | None]) -> dict[str, Any]:
    got = [s for s in samples if s is not None]
    return {
        "runs": len(samples),
        "missed": len(samples) - len(got),
        "median_s": statistics.median(got) if got else None,
        "max_s": max(got) if got else None,
    }


def _child(output_runs: int, process_runs: int) -> None:
    names = [n for _, n in socket.if_nameindex()]
    if names != ["lo"]:
        raise SystemExit(f"refusing mDNS outside a private namespace (interfaces {names})")
    try:
        import pythonoscquery  # noqa: F401
    except ImportError:
        raise SystemExit("python-oscquery not installed (pip install -e '.[test]')") from None
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 9001))  # another OSC app holds VRChat's output port
    watch = _Watch()
    svc = _standin(watch.port)
    try:
        output = [_in_process(watch) for _ in range(output_runs)]
        process, reference = [], []
        for _ in range(process_runs):  # interleaved: both see the same machine load
            process.append(_process(watch))
            reference.append(_process(watch, explicit=True))
    finally:
        svc.stop()
        watch.close()
        blocker.close()
    print(json.dumps({"goal_s": GOAL_S, "from_output": _summary(output),
                      "from_launch": _summary(process),
                      "launch_reference": _summary(reference)}))  # fmt: skip


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
