"""Plain HTTP against a real run's panel: the refusals, the loopback bind, the stream."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from avatar_driver.errors import ConfigError
from avatar_driver.panel.server import DEFAULT_PORT, parse_address

from ..conftest import ROOT, cli_env, run_cli
from .conftest import PanelRun


@pytest.fixture(scope="module")
def demo() -> Iterator[PanelRun]:
    run = PanelRun(["--source", "demo", "--output", "none"])
    yield run
    run.stop()


def _get(run: PanelRun, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(run.hostport, timeout=10)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read() if r.status != 200 or "events" not in path else r.read(4000)
    conn.close()
    return r.status, body


def test_the_printed_address_with_its_token_serves_the_page(demo: PanelRun) -> None:
    status, body = _get(demo, f"/?token={demo.token}")
    assert status == 200
    assert b"panel.js?token=" + demo.token.encode() in body
    status, info = _get(demo, "/api/info", {"X-Panel-Token": demo.token})
    assert status == 200
    # a gain slider per shape group and one for the head pose (solver.calibration.check_gain)
    assert json.loads(info)["gain_groups"][-1] == "head"


@pytest.mark.parametrize("path", ["/", "/panel.js", "/api/info", "/events"])
def test_no_token_or_a_wrong_one_is_refused(demo: PanelRun, path: str) -> None:
    assert _get(demo, path)[0] == 403
    assert _get(demo, f"{path}?token=x{demo.token}")[0] == 403
    assert _get(demo, path, {"X-Panel-Token": demo.token[:-1]})[0] == 403


def test_a_foreign_host_is_refused_even_with_the_token(demo: PanelRun) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 still says Host: evil.example."""
    port = demo.hostport.rsplit(":", 1)[1]
    status, body = _get(demo, f"/?token={demo.token}", {"Host": f"evil.example:{port}"})
    assert (status, body) == (403, b"forbidden: unknown Host\n")
    assert _get(demo, f"/?token={demo.token}", {"Host": "127.0.0.1:1"})[0] == 403
    assert _get(demo, f"/?token={demo.token}", {"Host": f"localhost:{port}"})[0] == 200


def test_a_foreign_origin_is_refused(demo: PanelRun) -> None:
    conn = http.client.HTTPConnection(demo.hostport, timeout=10)
    body = json.dumps({"action": "pause", "paused": True})
    conn.request("POST", "/api/control", body=body, headers={
        "Content-Type": "application/json", "X-Panel-Token": demo.token,
        "Origin": "http://evil.example",
    })  # fmt: skip
    r = conn.getresponse()
    assert (r.status, r.read()) == (403, b"forbidden: foreign Origin\n")
    conn.close()
    conn = http.client.HTTPConnection(demo.hostport, timeout=10)
    conn.request("GET", f"/events?token={demo.token}", headers={"Origin": "null"})
    assert conn.getresponse().status == 403
    conn.close()


def test_a_control_from_the_page_origin_is_taken(demo: PanelRun) -> None:
    conn = http.client.HTTPConnection(demo.hostport, timeout=10)
    body = json.dumps({"action": "dynamics", "name": "one-euro"})
    conn.request("POST", "/api/control", body=body, headers={
        "Content-Type": "application/json", "X-Panel-Token": demo.token,
        "Origin": demo.base,
    })  # fmt: skip
    r = conn.getresponse()
    reply = json.loads(r.read())
    assert r.status == 200 and reply["settings"]["dynamics"] == "one-euro"
    conn.request(
        "POST",
        "/api/control",
        body=json.dumps({"action": "dynamics", "name": "x"}),
        headers={"Content-Type": "application/json", "X-Panel-Token": demo.token},
    )
    r = conn.getresponse()
    assert r.status == 400 and "unknown dynamics 'x'" in json.loads(r.read())["message"]
    conn.close()


@pytest.mark.parametrize(
    ("action", "why"),
    [("recenter", "recenter needs the tracking solver"),
     ("recalibrate", "recalibrate restarts the auto-calibration: run --auto-calibrate")],
)  # fmt: skip
def test_recenter_and_recalibrate_say_why_they_cannot(
    demo: PanelRun, action: str, why: str
) -> None:
    """The demo has no solver (and no --auto-calibrate): refused with the reason."""
    conn = http.client.HTTPConnection(demo.hostport, timeout=10)
    conn.request(
        "POST",
        "/api/control",
        body=json.dumps({"action": action}),
        headers={"Content-Type": "application/json", "X-Panel-Token": demo.token},
    )
    r = conn.getresponse()
    reply = json.loads(r.read())
    conn.close()
    assert r.status == 400 and why in reply["message"], reply


def _listening(port: int) -> list[str]:
    """Local addresses of listening TCP sockets on `port`, from the kernel's own table."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                found.append(addr)
    return found


def test_the_panel_listens_on_loopback_only(demo: PanelRun) -> None:
    port = int(demo.hostport.rsplit(":", 1)[1])
    assert demo.hostport.startswith("127.0.0.1:")
    assert _listening(port) == ["0100007F"]  # 127.0.0.1, little-endian hex


def test_the_stream_carries_the_live_state(demo: PanelRun) -> None:
    status, body = _get(demo, f"/events?token={demo.token}&plot=jawOpen")
    assert status == 200
    whole = body.decode().split("\n\n")[:-1]  # the last one may be cut
    events = [json.loads(e[6:]) for e in whole if e.startswith("data: ")]
    assert events[0]["outputs"][0]["kind"] == "none"  # the first event is a full one
    rows = [e["rows"] for e in events if "rows" in e]
    assert rows, "no channel rows in the stream"
    v = np.frombuffer(base64.b64decode(rows[-1]["v"]), "<f4").reshape(-1, 2, 61)
    t = np.frombuffer(base64.b64decode(rows[-1]["t"]), "<f8")
    assert len(t) == len(v) >= 1
    weights = v[:, 1, :52]  # filtered weights: what the outputs got
    assert weights.min() >= 0.0 and weights.max() <= 1.0 and weights.max() > 0.0


def test_panel_addresses_parse() -> None:
    assert parse_address(None) == ("127.0.0.1", None)
    assert parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_address("9000") == ("127.0.0.1", 9000)
    with pytest.raises(ConfigError, match="bad port 'x'"):
        parse_address("127.0.0.1:x")


def test_a_taken_default_port_gives_a_free_one_printed_under_quiet() -> None:
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", DEFAULT_PORT))
        holder.listen()
    except OSError:
        pass  # taken already, by someone else: the same situation
    try:
        r = run_cli(["run", "--source", "demo", "--output", "none", "--quiet", "--panel",
                     "--max-frames", "30"])  # fmt: skip
    finally:
        holder.close()
    assert r.returncode == 0, r.stderr
    m = re.search(r"panel at http://127\.0\.0\.1:(\d+)/\?token=[\w-]{20,}", r.stderr)
    assert m and int(m.group(1)) != DEFAULT_PORT, r.stderr
    assert r.stderr.count("\n") == 1  # --quiet: the address and nothing else


def test_panel_command_opens_the_browser_on_the_address(tmp_path: Path) -> None:
    """`BROWSER` is webbrowser's own way to name the browser; ours records what it got."""
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = {**cli_env(), "BROWSER": str(browser)}
    r = subprocess.run(
        [sys.executable, "-m", "avatar_driver", "panel", "--source", "demo", "--output", "none",
         "--panel", "127.0.0.1:0", "--max-frames", "45", "--quiet"],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    url = re.search(r"panel at (\S+)", r.stderr)
    assert url and opened.read_text().strip() == url.group(1)


def test_panel_command_without_a_browser_just_prints(tmp_path: Path) -> None:
    env = {**cli_env(), "BROWSER": str(tmp_path / "missing-browser")}
    r = subprocess.run(
        [sys.executable, "-m", "avatar_driver", "panel", "--source", "demo", "--output", "none",
         "--panel", "127.0.0.1:0", "--max-frames", "30", "--quiet"],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "panel at http://127.0.0.1:" in r.stderr
