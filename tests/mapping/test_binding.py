"""The mapping binding: a real file edited while real outputs send to real UDP sockets.

The watcher thread compiles the edit (the sending thread only swaps), a broken edit keeps
the last good mapping with one line, and a run whose outputs use no mapping refuses one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.frame import Frame
from avatar_driver.mapping.binding import MappingBinding
from avatar_driver.outputs import OutputOptions, create_output
from avatar_driver.outputs.base import OutputBase
from avatar_driver.outputs.vrchat import VRChatOptions
from avatar_driver.shapes import ARKIT_NAMES
from tests.conftest import run_cli
from tests.outputs.test_vmc import osc_server

JAW = ARKIT_NAMES.index("jawOpen")


def _frame(k: int) -> Frame:
    w = np.zeros(52, np.float32)
    w[JAW] = 0.5
    return Frame(timestamp=k / 30, index=k, weights=w, face_present=True)


def _write(path: Path, name: str, source: str = "jawOpen") -> None:
    """Write a new version the way editors do: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        f'[mapping]\nrefresh_seconds = 0.1\n[[param]]\nname = "{name}"\nsource = "{source}"\n'
    )
    tmp.replace(path)


def _send_until(out: OutputBase, got: list, done: Callable[[], bool], k: list[int]) -> None:
    deadline = time.monotonic() + 5.0
    while not done():
        assert time.monotonic() < deadline, "the edit never reached the wire"
        out.send(_frame(k[0]))
        k[0] += 1
        time.sleep(1 / 60)


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every line the bindings log, with the name of the thread that logged it."""
    lines: list[tuple[str, str]] = []
    original = MappingBinding.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["log"] = lambda m: lines.append((threading.current_thread().name, m))
        original(self, *args, **kwargs)

    monkeypatch.setattr(MappingBinding, "__init__", init)
    yield lines


@pytest.fixture
def packer_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread each vrchat or vmc packer is built on, in order."""
    import avatar_driver.outputs.vmc as vmc
    import avatar_driver.outputs.vrchat as vrchat

    threads: list[str] = []
    for module, name in ((vrchat, "OscPacker"), (vmc, "VmcPacker")):
        real = getattr(module, name)

        class Recorded(real):  # type: ignore[valid-type, misc]
            def __init__(self, *args: object, **kwargs: object) -> None:
                threads.append(threading.current_thread().name)
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(module, name, Recorded)
    return threads


@pytest.mark.parametrize("kind", ["vrchat", "vmc", "blender"])
def test_an_edited_mapping_reaches_the_wire_from_the_watcher_thread(
    kind: str, tmp_path: Path, logs: list[tuple[str, str]], packer_threads: list[str]
) -> None:
    path = tmp_path / "live.toml"
    _write(path, "First")
    quiet = VRChatOptions(listen="off") if kind == "vrchat" else None
    with osc_server() as (port, got):
        out = create_output(
            f"{kind}:127.0.0.1:{port}", OutputOptions(mapping=str(path), settings=quiet)
        )
        k = [0]

        def names() -> set[str]:
            return {a.rsplit("/", 1)[-1] if kind == "vrchat" else str(args[0]) for a, args in got
                    if kind == "vrchat" or (a == "/VMC/Ext/Blend/Val")}  # fmt: skip

        try:
            _send_until(out, got, lambda: "First" in names(), k)
            _write(path, "Broken", source="jawOpne")  # a typo: keep sending "First"
            time.sleep(1.2)  # two watcher checks
            n_before = len(got)
            _send_until(out, got, lambda: len(got) > n_before + 5, k)
            assert "Broken" not in names()
            _write(path, "Second")
            _send_until(out, got, lambda: "Second" in names(), k)
            swapped = len(got)
            _send_until(out, got, lambda: len(got) > swapped + 5, k)
            time.sleep(0.3)
        finally:
            out.close()
    messages = [m for _, m in logs]
    bad = [m for m in messages if "keeping the last good one" in m]
    assert len(bad) == 1 and "\n" not in bad[0]
    assert "jawOpne" in bad[0] and "live.toml" in bad[0]
    assert sum("mapping reloaded" in m for m in messages) == 1
    # Compiling happened on the watcher thread, never on the thread that sends; so did
    # building the packer for the new names (the first one is built with the output).
    watcher = f"avatar-driver-{kind}-mapping"
    assert {t for t, _ in logs} == {watcher}
    sender = threading.current_thread().name
    assert packer_threads == [sender, watcher], packer_threads
    # After the swap only the new name goes out.
    assert all("First" not in (a + str(args)) for a, args in got[swapped:])


def test_a_mapping_prepare_refuses_keeps_the_last_good_pair(tmp_path: Path) -> None:
    """`prepare` (the output's packer) refusing a mapping is a bad reload like a bad file;
    `offer` prepares on its caller's thread and hands over like a reload."""
    from avatar_driver.errors import OutputError
    from avatar_driver.mapping import CompiledMapping, load_mapping

    def prepare(mapping: CompiledMapping) -> tuple[str, ...]:
        if "Refused" in mapping.names:
            raise OutputError("refused by the packer")
        return mapping.names

    path = tmp_path / "live.toml"
    _write(path, "First")
    lines: list[str] = []
    binding = MappingBinding(
        load_mapping(path), prepare, path=path, log=lines.append, interval=None
    )
    assert binding.prepared == ("First",)
    time.sleep(0.01)
    _write(path, "Refused")
    assert not binding.poll() and binding.take() is None
    assert binding.prepared == ("First",) and binding.current.names == ("First",)
    assert len(lines) == 1 and "keeping the last good one: refused by the packer" in lines[0]
    _write(path, "Second")
    assert binding.poll()
    assert binding.take() == ("Second",) and binding.current.names == ("Second",)
    assert binding.take() is None  # handed over once
    # A preset offered from another thread (the panel's switch) is prepared there.
    offered = load_mapping("vmc-perfect-sync")
    worker = threading.Thread(target=binding.offer, args=(offered,))
    worker.start()
    worker.join()
    assert binding.current.names == ("Second",)  # until the output's thread takes it
    assert binding.take() == offered.names and binding.current is offered
    refused = path.with_name("refused.toml")
    _write(refused, "Refused")
    with pytest.raises(OutputError, match="refused"):
        binding.offer(load_mapping(refused))
    assert binding.take() is None and binding.current is offered


def test_a_mapping_without_a_file_is_not_watched() -> None:
    from avatar_driver.mapping import load_mapping

    binding = MappingBinding(load_mapping("vmc-perfect-sync"), lambda m: m)
    assert binding._thread is None and not binding.poll() and binding.take() is None


@pytest.mark.parametrize("kind", ["livelink", "ifacialmocap", "csv:take.csv"])
def test_an_output_without_a_mapping_refuses_one(kind: str, tmp_path: Path) -> None:
    proc = run_cli(
        ["run", "--source", "demo", "--quiet", "--max-frames", "2", "--output",
         kind.replace("take.csv", str(tmp_path / "take.csv")), "--mapping", "vrchat-arkit"]
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--mapping vrchat-arkit: no output of this run uses a mapping" in proc.stderr
    assert "vrchat" in proc.stderr and "Traceback" not in proc.stderr


def test_a_mapping_per_output_kind(tmp_path: Path) -> None:
    from avatar_driver.errors import ConfigError
    from avatar_driver.runner import RunOptions, open_pipeline

    path = tmp_path / "vmc.toml"
    _write(path, "OnlyForVmc")
    outputs = ["vrchat:127.0.0.1:9", "vmc:127.0.0.1:9", "blender:127.0.0.1:9"]
    extra = {"vrchat": VRChatOptions(listen="off")}
    opts = RunOptions(source="demo", outputs=outputs, mapping=[f"vmc={path}"],
                      output_settings=extra, max_frames=1)  # fmt: skip
    with open_pipeline(opts) as pipe:
        vrchat, vmc, blender = pipe.outputs
        assert vmc.mapping.names == ("OnlyForVmc",)  # type: ignore[attr-defined]
        assert len(vrchat.mapping.names) > 50 and len(blender.mapping.names) == 52  # type: ignore[attr-defined]
        assert vmc.binding.path == path and blender.binding.path is None  # type: ignore[attr-defined]
    both = RunOptions(source="demo", outputs=outputs, mapping=["vrchat-arkit", f"vmc={path}"],
                      output_settings=extra, max_frames=1)  # fmt: skip
    with open_pipeline(both) as pipe:
        names = [o.mapping.names for o in pipe.outputs]  # type: ignore[attr-defined]
        assert names[1] == ("OnlyForVmc",) and names[0] == names[2]  # the default for the rest
    for mapping, message in [
        ([f"livelink={path}"], "livelink sends fixed names and takes no mapping"),
        ([f"vmc={path}"], "this run has no vmc output"),
        (["vrchat-arkit", "vmc-perfect-sync"], "a second mapping for every output"),
    ]:
        bad = RunOptions(source="demo", outputs=["vrchat:127.0.0.1:9"], mapping=mapping,
                         output_settings=extra)  # fmt: skip
        with pytest.raises(ConfigError, match=message), open_pipeline(bad):
            pass
