"""The page in a real headless Chromium, on a demo run and on a real clip.

What goes on the wire is received on a real UDP socket by python-osc, independently of
our encoder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from avatar_driver.shapes import ARKIT_NAMES, pascal

from ..conftest import ROOT, run_cli
from .conftest import PanelRun, wait_for

SMILE = "/avatar/parameters/MouthSmileLeft"
ARKIT_ADDRESSES = {f"/avatar/parameters/{pascal(n)}" for n in ARKIT_NAMES}


class Receiver:
    """A VRChat stand-in: every OSC message with its arrival time."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, str, Any]] = []
        d = Dispatcher()
        d.set_default_handler(self._on)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _on(self, address: str, *args: Any) -> None:
        self.messages.append((time.monotonic(), address, args[0] if args else None))

    def values(self, address: str, since: float = 0.0) -> list[float]:
        return [v for t, a, v in list(self.messages) if a == address and t >= since]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _open(browser: Any, run: PanelRun) -> Any:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(run.url)
    page.wait_for_selector("#shapes .row")
    page.errors = errors
    return page


def _addresses(receiver: Receiver, since: float) -> set[str]:
    return {a for t, a, _ in list(receiver.messages) if t >= since}


def _bars(page: Any) -> list[float]:
    return page.eval_on_selector_all(
        "#shapes .row .value", "els => els.map(e => Number(e.textContent))"
    )


def test_demo_run_bars_move_outputs_listed_and_pause_reaches_the_wire(
    browser: Any, receiver: Receiver
) -> None:
    target = f"vrchat:127.0.0.1:{receiver.port}"
    run = PanelRun(["--source", "demo", "--output", target, "--output", "none",
                    "--vrchat-listen", "off"])  # fmt: skip
    try:
        page = _open(browser, run)
        assert len(_bars(page)) == 52
        names = page.eval_on_selector_all(
            "#shapes .row .name", "els => els.map(e => e.textContent)"
        )
        assert names[0] == "eyeBlinkLeft" and names[-1] == "tongueOut"
        # the demo has no solver: nothing to recenter or recalibrate
        assert page.is_disabled("#recenter") and page.is_disabled("#recalibrate")
        first = wait_for(lambda: (b := _bars(page)) and any(b) and b)
        time.sleep(0.5)
        assert _bars(page) != first, "the bars did not move"
        rows = page.eval_on_selector_all(
            "#outputs tbody tr", "els => els.map(e => e.dataset.output)"
        )
        assert rows == [target, "none"]
        sends = page.text_content("#outputs tbody tr:first-child td:nth-child(4)")
        assert "params" in sends and "no avatar yet" in sends
        # >= 20 updates a second, counted by the page itself
        ups = wait_for(lambda: int(page.get_attribute("body", "data-ups") or 0) >= 20, 5)
        assert ups, f"updates/s: {page.get_attribute('body', 'data-ups')}"

        page.click("#pause")
        wait_for(lambda: page.text_content("#pause") == "Resume", 5)
        time.sleep(0.3)
        paused_at = time.monotonic()
        time.sleep(0.8)
        assert [m for m in list(receiver.messages) if m[0] >= paused_at] == []
        assert "(paused)" in page.text_content("#outputs tbody tr:first-child td:first-child")
        page.click("#pause")
        resumed = time.monotonic()
        assert wait_for(lambda: [m for m in list(receiver.messages) if m[0] >= resumed], 5)
        assert page.errors == []
        page.close()
    finally:
        run.stop()


@pytest.fixture(scope="module")
def clip_run(long_clip: Path, model: Path) -> Iterator[tuple[PanelRun, Receiver]]:
    receiver = Receiver()
    run = PanelRun(["--source", str(long_clip), "--output", f"vrchat:127.0.0.1:{receiver.port}",
                    "--mapping", "vrchat-arkit",
                    "--vrchat-listen", "off"], model=model)  # fmt: skip
    yield run, receiver
    run.stop()
    receiver.close()


def test_clip_shows_camera_landmarks_pose_and_plot(
    browser: Any, clip_run: Any, tmp_path: Path
) -> None:
    run, _ = clip_run
    page = _open(browser, run)
    assert wait_for(lambda: page.text_content("#face") == "yes", 20)
    # the camera canvas took the JPEG's size (640x360 at 320 wide), shows the picture, and
    # the landmarks drawn into it: many bright green dots inside the face box
    size = wait_for(lambda: page.evaluate("[camera.width, camera.height]") == [320, 180], 10)
    assert size, page.evaluate("[camera.width, camera.height]")
    stats = page.evaluate(
        "(() => { const d = camera.getContext('2d').getImageData(0, 0, 320, 180).data;"
        " let s = 0, green = 0, orange = 0; for (let i = 0; i < d.length; i += 4) {"
        " s += d[i] + d[i+1] + d[i+2];"
        " if (d[i+1] > 180 && d[i] < 170 && d[i+2] < 170) green++;"
        " if (d[i] > 220 && d[i+1] > 140 && d[i+1] < 210 && d[i+2] < 110) orange++; }"
        " return [s / (d.length / 4) / 3, green, orange]; })()"
    )
    brightness, green, orange = stats
    assert brightness > 30 and green > 150 and orange > 100, stats
    yaw = page.text_content("#pose tr:nth-child(2) td:nth-child(2)")
    assert yaw.endswith("°")
    movement = page.text_content("#movement")
    assert "mouth" in movement and "head" in movement
    assert wait_for(lambda: page.evaluate("plotData.t.length") > 30, 10)
    assert page.evaluate("plotData.raw.length") == page.evaluate("plotData.filtered.length") == 4
    lengths = page.evaluate(  # mouthSmileLeft's raw and filtered samples, and their times
        "[plotData.raw[2].length, plotData.filtered[2].length, plotData.t.length]"
    )
    assert lengths[0] == lengths[1] == lengths[2], lengths
    time.sleep(4.0)  # a smile or two on the bars and the plot, for the screenshot
    # AVATAR_DRIVER_SCREENSHOTS=1 refreshes the README's picture; otherwise a temp file,
    # so a test run leaves the tree clean
    keep = os.environ.get("AVATAR_DRIVER_SCREENSHOTS") == "1"
    out = ROOT / "docs" / "img" / "panel.png" if keep else tmp_path / "panel.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 50_000
    assert page.errors == []
    page.close()


def test_clip_gain_slider_reaches_the_wire(browser: Any, clip_run: Any) -> None:
    run, receiver = clip_run
    page = _open(browser, run)
    # the clip smiles every 2.4 s: a smile shows on the wire at gain 1
    assert wait_for(lambda: max(receiver.values(SMILE) or [0]) > 0.3, 20)
    page.eval_on_selector(
        "input[data-gain=mouth]",
        "s => { s.value = 0; s.dispatchEvent(new Event('input')); }",
    )
    assert wait_for(lambda: "gain mouth = 0" in page.text_content("#message"), 5)
    settled = time.monotonic() + 1.0  # the dynamics ease out
    time.sleep(4.0)  # more than one smile of the clip
    after = receiver.values(SMILE, settled)
    assert after and max(after) < 0.02, after
    jaw = receiver.values("/avatar/parameters/JawOpen", settled)
    page.eval_on_selector(
        "input[data-gain=mouth]", "s => { s.value = 1; s.dispatchEvent(new Event('input')); }"
    )
    assert wait_for(lambda: max(receiver.values(SMILE, time.monotonic() - 1) or [0]) > 0.3, 10)
    assert jaw is not None
    page.close()


def test_clip_calibration_writes_a_profile_run_accepts(
    browser: Any, clip_run: Any, tmp_path: Path, model: Path, media: Path
) -> None:
    run, _ = clip_run
    page = _open(browser, run)
    profile = tmp_path / "me.toml"
    page.select_option("#cal-mode", "relaxed")
    page.fill("#cal-path", str(profile))
    page.click("#cal-start")
    done = wait_for(lambda: "profile written" in page.text_content("#cal-log"), 20)
    assert done, page.text_content("#cal-log")
    assert profile.is_file()
    clip = str(media / "single_face.mp4")
    r = run_cli(["run", "--source", clip, "--output", "none", "--calibration", str(profile),
                 "--fast", "--max-frames", "10"], model=model)  # fmt: skip
    assert r.returncode == 0, r.stderr
    page.close()


def test_clip_dynamics_saved_to_a_config_run_accepts(
    browser: Any, clip_run: Any, tmp_path: Path, model: Path, media: Path
) -> None:
    run, _ = clip_run
    page = _open(browser, run)
    page.select_option("#dynamics", "one-euro")
    wait_for(lambda: page.text_content("#smooth-head") == "min_cutoff", 5)
    page.eval_on_selector(
        "input[data-smoothing=eyes]",
        "s => { s.value = Math.log10(0.5); s.dispatchEvent(new Event('input')); }",
    )
    assert wait_for(lambda: "min_cutoff eyes = 0.5" in page.text_content("#message"), 5)
    page.click("#save-dynamics")
    msg = wait_for(lambda: "saved" in (t := page.text_content("#message")) and t, 5)
    assert msg
    config = ROOT / "avatar-driver.toml"  # no --config: written where the run started
    try:
        text = config.read_text()
        assert 'name = "one-euro"' in text and "min_cutoff = 0.5" in text, text
        clip = str(media / "single_face.mp4")
        r = run_cli(["run", "--source", clip, "--output", "none", "--config", str(config),
                     "--fast", "--max-frames", "10"], model=model)  # fmt: skip
        assert r.returncode == 0, r.stderr
    finally:
        config.unlink(missing_ok=True)
    page.close()


def test_preset_switch_reaches_the_wire_and_saves_where_run_reads_it(
    browser: Any, receiver: Receiver, tmp_path: Path
) -> None:
    """The outputs row's preset menu: the wire changes to the preset's names (python-osc),
    "Save mappings" writes `[output.vrchat] mapping`, and a new run with that config file
    sends the preset's names without any --mapping."""
    config = tmp_path / "me.toml"
    config.write_text('[dynamics]\nname = "cortical"\n')
    target = f"vrchat:127.0.0.1:{receiver.port}"
    run = PanelRun(["--source", "demo", "--output", target, "--vrchat-listen", "off",
                    "--config", str(config)])  # fmt: skip
    unified = "/avatar/parameters/v2/JawOpen"
    try:
        page = _open(browser, run)
        assert wait_for(lambda: receiver.values(unified), 10)
        assert not receiver.values(SMILE)  # the default mapping has no ARKit names
        page.select_option("#outputs tbody tr:first-child select", "vrchat-arkit")
        assert wait_for(lambda: "mapping vrchat-arkit" in page.text_content("#message"), 5)
        switched = time.monotonic()
        assert wait_for(lambda: receiver.values(SMILE, switched), 10)
        time.sleep(0.3)
        settled = time.monotonic()
        time.sleep(1.0)
        sent = _addresses(receiver, settled)  # only what changed is sent: some ARKit names
        assert sent & ARKIT_ADDRESSES and not any("/v2/" in a for a in sent), sent
        page.click("#save-mapping")
        msg = wait_for(lambda: "mapping saved" in (t := page.text_content("#message")) and t, 5)
        assert msg, page.text_content("#message")
        text = config.read_text()
        assert "[output.vrchat]" in text and 'mapping = "vrchat-arkit"' in text, text
        assert 'name = "cortical"' in text  # the rest of the file kept
        assert page.errors == []
        page.close()
    finally:
        run.stop()
    again = time.monotonic()
    r = run_cli(["run", "--source", "demo", "--output", target, "--vrchat-listen", "off",
                 "--config", str(config), "--max-frames", "20", "--quiet"])  # fmt: skip
    assert r.returncode == 0, r.stderr
    sent = _addresses(receiver, again)
    assert "/avatar/parameters/JawOpen" in sent and not any("/v2/" in a for a in sent), sent
    assert sent & ARKIT_ADDRESSES


def test_vrchat_row_names_the_avatar_and_its_driven_parameters(
    browser: Any, receiver: Receiver, tmp_path: Path
) -> None:
    """After VRChat's /avatar/change, the row says which avatar and how many parameters,
    the same count the output itself logs."""
    import json
    import re
    import socket

    from pythonosc.osc_message_builder import OscMessageBuilder

    from ..conftest import free_udp_port

    p = "/avatar/parameters/"
    params = [
        {"name": "v2/JawOpen", "input": {"address": p + "v2/JawOpen", "type": "Float"}},
        {"name": "v2/MouthClosed", "input": {"address": p + "v2/MouthClosed", "type": "Float"}},
        {"name": "EyeTrackingActive",
         "input": {"address": p + "EyeTrackingActive", "type": "Bool"}},
        {"name": "VelocityX", "output": {"address": p + "VelocityX", "type": "Float"}},
    ]  # fmt: skip
    folder = tmp_path / "usr_test" / "Avatars"
    folder.mkdir(parents=True)
    avatar = "avtr_panel_test"
    (folder / f"{avatar}.json").write_text(
        json.dumps({"id": avatar, "name": "Panel Test", "parameters": params})
    )
    listen = free_udp_port()
    run = PanelRun(["--source", "demo", "--output", f"vrchat:127.0.0.1:{receiver.port}",
                    "--vrchat-listen", f"127.0.0.1:{listen}",
                    "--vrchat-osc-folder", str(tmp_path)])  # fmt: skip
    try:
        page = _open(browser, run)
        cell = "#outputs tbody tr:first-child td:nth-child(4)"
        assert wait_for(lambda: "no avatar yet" in page.text_content(cell), 10)
        b = OscMessageBuilder("/avatar/change")
        b.add_arg(avatar)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b.build().dgram, ("127.0.0.1", listen))
        assert wait_for(lambda: "avatar Panel Test" in page.text_content(cell), 10)
        logged = wait_for(lambda: [ln for ln in run.lines if "avatar Panel Test:" in ln], 5)
        n = re.search(r"(\d+) OSC parameters", logged[0])
        assert n and page.text_content(cell) == f"{n.group(1)} params, avatar Panel Test"
        page.close()
    finally:
        run.stop()


HEAD_ROLL = "/avatar/parameters/v2/Head/Roll"


def test_clip_recenter_takes_the_tilted_head_as_straight(
    browser: Any, tilted_clip: Path, model: Path, receiver: Receiver
) -> None:
    """On the clip turned 15 degrees the head is rolled throughout; after Recenter the
    head roll on the wire (python-osc, default VRChat mapping) is back near zero."""
    run = PanelRun(["--source", str(tilted_clip), "--output",
                    f"vrchat:127.0.0.1:{receiver.port}", "--vrchat-listen", "off"],
                   model=model)  # fmt: skip
    try:
        page = _open(browser, run)
        assert wait_for(lambda: page.text_content("#face") == "yes", 20)
        start = time.monotonic() + 1.0  # the head's dynamics settle on the tilt
        time.sleep(3.0)
        before = receiver.values(HEAD_ROLL, start)
        page.click("#recenter")
        assert wait_for(lambda: "recentered" in page.text_content("#message"), 5)
        settled = time.monotonic() + 1.5  # the dynamics ease to the new zero
        time.sleep(4.0)
        after = receiver.values(HEAD_ROLL, settled)
        shown = page.text_content("#pose tr:nth-child(2) td:nth-child(4)")  # head roll
        assert before and after, (before, after)
        roll_before = sum(before) / len(before) * 90  # the mapping's out_range: 1 = 90 deg
        roll_after = sum(after) / len(after) * 90
        print(
            f"head roll on the wire: {roll_before:+.1f} deg -> {roll_after:+.1f} deg, page {shown}"
        )
        assert abs(roll_before) > 8.0, before
        assert abs(roll_after) < 3.0, after
        assert abs(float(shown.rstrip("°"))) < 3.0, shown
        assert page.errors == []
        page.close()
    finally:
        run.stop()


def test_headset_and_covered_mouth_are_shown(browser: Any, hand_clip: Path, model: Path) -> None:
    """A hand over the mouth and `--headset on`: the page says headset mode and names the
    mouth as covered, from the frames' `upper_face` and `regions`."""
    run = PanelRun(["--source", str(hand_clip), "--output", "none", "--headset", "on"],
                   model=model)  # fmt: skip
    try:
        page = _open(browser, run)
        assert wait_for(lambda: page.text_content("#face") == "yes", 20)
        state = "#tracking-state"
        assert wait_for(lambda: page.get_attribute(state, "data-headset") == "true", 10)
        covered = wait_for(lambda: page.get_attribute(state, "data-covered"), 10)
        assert covered and "mouth" in covered.split(","), covered
        text = page.text_content(state)
        assert "headset mode" in text and "covered: " in text and "mouth" in text, text
        mouth = page.eval_on_selector_all(
            "#regions .meter.covered .name", "els => els.map(e => e.textContent)"
        )
        assert "mouth" in mouth, mouth
        assert page.errors == []
        page.close()
    finally:
        run.stop()


def test_clip_recalibrate_restarts_the_auto_calibration(
    browser: Any, long_clip: Path, model: Path
) -> None:
    """--auto-calibrate warms up for 5 s of face, then adapts; Recalibrate starts it over."""
    run = PanelRun(["--source", str(long_clip), "--output", "none", "--auto-calibrate"],
                   model=model)  # fmt: skip
    try:
        page = _open(browser, run)
        state = "#auto-state"
        assert wait_for(lambda: page.text_content(state) == "auto-calibration warming up", 20)
        assert wait_for(lambda: page.text_content(state) == "auto-calibration adapting", 20)
        assert not page.is_disabled("#recalibrate")
        page.click("#recalibrate")
        assert wait_for(lambda: "restarted" in page.text_content("#message"), 5)
        warm = wait_for(lambda: page.text_content(state) == "auto-calibration warming up", 5)
        assert warm, page.text_content(state)
        assert page.errors == []
        page.close()
    finally:
        run.stop()
