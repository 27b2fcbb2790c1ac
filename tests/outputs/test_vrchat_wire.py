"""The vrchat stream of a real clip, read by two independent OSC receivers at once.

python-osc and liblo's `oscdump` each get their own vrchat output of the same run; with a
mapping that refreshes every frame, each must see one float message per ARKit shape per
frame, with the clip's smile in it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from avatar_driver.shapes import ARKIT_NAMES, pascal
from tests.conftest import ROOT, cli_env, free_udp_port


def _every_frame_mapping(tmp_path: Path) -> Path:
    """The vrchat-arkit preset, refreshing (sending everything) on every frame."""
    text = (ROOT / "mappings" / "vrchat-arkit.toml").read_text()
    text = text.replace('default_type = "float"', 'default_type = "float"\nrefresh_seconds = 1e-9')
    path = tmp_path / "every-frame.toml"
    path.write_text(text)
    return path


def test_python_osc_and_oscdump_see_every_shape_every_frame(
    model: Path, media: Path, oscdump: str, tmp_path: Path
) -> None:
    mapping = _every_frame_mapping(tmp_path)
    p_osc, p_dump = free_udp_port(), free_udp_port()
    got: list[tuple[str, tuple]] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda addr, *args: got.append((addr, args)))
    server = BlockingOSCUDPServer(("127.0.0.1", p_osc), dispatcher)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    # oscdump writes to a file: a pipe nobody reads until the end would fill, block it,
    # and make it miss datagrams.
    dump_file = (tmp_path / "oscdump.txt").open("w")
    dump = subprocess.Popen([oscdump, "-L", str(p_dump)], stdout=dump_file)
    try:
        time.sleep(0.3)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "avatar_driver",
                "run",
                "--source",
                str(media / "single_face.mp4"),
                "--mapping",
                str(mapping),
                "--quiet",
                "--vrchat-listen",
                "off",
                "--output",
                f"vrchat:127.0.0.1:{p_osc}",
                "--output",
                f"vrchat:127.0.0.1:{p_dump}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=cli_env(model),
            cwd=ROOT,
        )  # fmt: skip  (played at the clip's own rate, like a camera)
        assert proc.returncode == 0, proc.stderr
        time.sleep(0.5)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        dump.terminate()
        dump.wait(timeout=5)
        dump_file.close()
    dumped = (tmp_path / "oscdump.txt").read_text()
    frames = 72 + 1  # every clip frame, then the neutral frame on stop
    names = {f"/avatar/parameters/{pascal(n)}" for n in ARKIT_NAMES}

    counts = Counter(addr for addr, _ in got)
    assert set(counts) == names
    assert set(counts.values()) == {frames}
    assert all(len(args) == 1 and isinstance(args[0], float) for _, args in got)

    # oscdump: "<timetag> <address> <types> <values>" per message.
    lines = [ln.split() for ln in dumped.splitlines() if re.match(r"^\S+ /", ln)]
    dump_counts = Counter(parts[1] for parts in lines)
    assert set(dump_counts) == names and set(dump_counts.values()) == {frames}
    assert {parts[2] for parts in lines} == {"f"}
    smile = [float(p[3]) for p in lines if p[1] == "/avatar/parameters/MouthSmileLeft"]
    assert max(smile[50:72]) > max(smile[:10]) + 0.4  # the smile arrives over the wire
    assert smile[-1] == 0.0  # and the stop sends the neutral face
