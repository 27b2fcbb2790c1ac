"""The add-on's bpy-free core with plain pytest: decoding (against independent encoders),
hostile input, name matching, recording maths, CSV takes, the receiver on a real socket."""

from __future__ import annotations

import contextlib
import math
import socket
import struct
import time
from typing import Any

import pytest
from adcore import arkit, livelink, names, osc, receiver, recording, takes, vmc
from helpers import ARKIT_NAMES, free_port, livelink_packet, vmc_frame, write_take_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _msg(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


# -- names shared with avatar_driver (the extension keeps its own copy) ---------------------
def test_arkit_names_match_avatar_driver():
    shapes = pytest.importorskip("avatar_driver.shapes")
    assert arkit.ARKIT_NAMES == shapes.ARKIT_NAMES
    assert arkit.POSE_NAMES == shapes.POSE_NAMES
    assert list(arkit.ARKIT_NAMES) == ARKIT_NAMES


# -- OSC ------------------------------------------------------------------------------------
def test_osc_decodes_python_osc_messages_of_every_type():
    data = _msg("/a/b", 1, 2.5, "héllo", b"\x01\x02\x03", True, False, None)
    [(addr, args)] = osc.decode_packet(data)
    assert addr == "/a/b"
    assert args == (1, 2.5, "héllo", b"\x01\x02\x03", True, False, None)


def test_osc_flattens_nested_bundles_in_order():
    data = vmc_frame({"jawOpen": 0.25, "eyeBlinkLeft": 1.0}, t=3.5, nested=True)
    msgs = osc.decode_packet(data)
    assert [m[0] for m in msgs] == [
        "/VMC/Ext/Blend/Val", "/VMC/Ext/Blend/Val", "/VMC/Ext/Blend/Apply",
        "/VMC/Ext/Bone/Pos", "/VMC/Ext/T", "/VMC/Ext/OK",
    ]  # fmt: skip
    assert msgs[0][1] == ("jawOpen", 0.25)


@pytest.mark.parametrize(
    "data",
    [
        b"", b"abc", b"/ab", b"/abc\x00\x00\x00\x00,f\x00\x00",  # float missing
        b"noslash\x00,\x00\x00\x00", b"/a\x00\x00,q\x00\x00",  # unknown tag
        b"/a\x00\x00,i\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",  # stray bytes
        b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x01\x00",  # element larger than packet
        b"/a\x00\x00,b\x00\x00\x7f\xff\xff\xff",  # huge blob
        b"/\xff\xfe\x00,\x00\x00\x00",  # not UTF-8
    ],
)  # fmt: skip
def test_osc_rejects_malformed(data):
    with pytest.raises(osc.OscError):
        osc.decode_packet(data)


def test_osc_bundle_depth_is_capped():
    inner = _msg("/x", 1)
    for _ in range(osc.MAX_DEPTH + 1):
        inner = b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", len(inner)) + inner
    with pytest.raises(osc.OscError, match="nested"):
        osc.decode_packet(inner)


@FAST
@given(st.binary(max_size=2048))
def test_osc_random_bytes_only_raise_osc_error(data):
    with contextlib.suppress(osc.OscError):
        osc.decode_packet(data)


@FAST
@given(st.data())
def test_osc_mutated_frames_only_raise_osc_error(data):
    frame = bytearray(vmc_frame({"jawOpen": 0.5, "mouthSmileLeft": 0.1}, t=1.0, nested=True))
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(frame)))
    with contextlib.suppress(osc.OscError):
        osc.decode_packet(bytes(frame[:cut]))


# -- VMC --------------------------------------------------------------------------------------
def test_vmc_apply_commits_and_t_stamps_the_frame():
    a = vmc.VmcAssembler()
    out = a.feed(osc.decode_packet(vmc_frame({"jawOpen": 0.5}, t=12.0)), arrival=100.0)
    assert len(out) == 1 and out[0].values == {"jawOpen": 0.5}
    assert out[0].time == 12.0 and out[0].stream_clock
    # A later frame without T rides on the stream clock by arrival time.
    out = a.feed(osc.decode_packet(vmc_frame({"jawOpen": 0.6})), arrival=100.5)
    assert out[0].time == pytest.approx(12.5) and out[0].stream_clock


def test_vmc_without_t_uses_arrival_and_vals_wait_for_apply():
    a = vmc.VmcAssembler()
    assert a.feed([("/VMC/Ext/Blend/Val", ("A", 0.3))], arrival=5.0) == []
    out = a.feed([("/VMC/Ext/Blend/Apply", ())], arrival=5.1)
    assert out[0].values == {"A": 0.3} and out[0].time == 5.1 and not out[0].stream_clock


def test_vmc_wrong_types_are_counted_and_values_clamped():
    a = vmc.VmcAssembler()
    msgs = [
        ("/VMC/Ext/Blend/Val", (3, 0.5)),
        ("/VMC/Ext/Blend/Val", ("x", "high")),
        ("/VMC/Ext/Blend/Val", ("x", True)),
        ("/VMC/Ext/Blend/Val", ("x", math.inf)),
        ("/VMC/Ext/T", ("now",)),
        ("/VMC/Ext/Bone/Pos", ("Head", 1.0)),
        ("/VMC/Ext/Blend/Val", ("big", 7.0)),
        ("/VMC/Ext/Blend/Val", ("neg", -2)),
        ("/VMC/Ext/Blend/Apply", ()),
    ]
    out = a.feed(msgs, arrival=1.0)
    assert a.bad_messages == 6
    assert out[0].values == {"big": 1.0, "neg": 0.0}


# -- Live Link --------------------------------------------------------------------------------
def test_livelink_decodes_independent_encoding():
    vals = [i / 100 for i in range(61)]
    p = livelink.decode_packet(livelink_packet(vals, frame=123, subframe=0.5, fps=60))
    assert p.frame == 123 and p.fps_num == 60 and p.fps_den == 1
    assert p.time == pytest.approx(123.5 / 60)
    assert p.device_id == "01234567-89AB-CDEF-0123-456789ABCDEF" and p.subject == "iPhone"
    assert p.shapes["EyeBlinkLeft"] == 0.0 and p.shapes["TongueOut"] == pytest.approx(0.51)
    assert p.head == pytest.approx((0.52, 0.53, 0.54))


def test_livelink_reads_lengths_not_fixed_offsets():
    vals = [0.5] * 61
    long_subject = livelink_packet(vals, device="d", subject="a-much-longer-subject-name")
    assert livelink.decode_packet(long_subject).subject == "a-much-longer-subject-name"


def test_livelink_encode_round_trip_matches_helper():
    vals = [0.25] * 61
    assert livelink.encode_packet(vals, frame=7, device_id="d", subject="s") == livelink_packet(
        vals, frame=7, device="d", subject="s"
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b[:-1],  # truncated value
        lambda b: b + b"\x00\x00\x00\x00",  # extra bytes
        lambda b: b"\x05" + b[1:],  # wrong version
        lambda b: b[:1] + struct.pack(">i", 10_000) + b[5:],  # absurd id length
        lambda b: b[:1] + struct.pack(">i", -1) + b[5:],
        lambda b: b"",
    ],
)
def test_livelink_rejects_malformed(mutate):
    with pytest.raises(livelink.LiveLinkError):
        livelink.decode_packet(mutate(livelink_packet([0.1] * 61)))


def test_livelink_rejects_non_finite_and_zero_fps():
    with pytest.raises(livelink.LiveLinkError):
        livelink.decode_packet(livelink_packet([math.nan] + [0.0] * 60))
    with pytest.raises(livelink.LiveLinkError):
        livelink.decode_packet(livelink_packet([0.0] * 61, fps=0))


@FAST
@given(st.binary(max_size=600))
def test_livelink_random_bytes_only_raise_livelink_error(data):
    with contextlib.suppress(livelink.LiveLinkError):
        livelink.decode_packet(b"\x06" + data)


# -- names --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("eyeBlinkLeft", "eyeblinkleft"),
        ("EyeBlinkLeft", "eyeblinkleft"),
        ("BS_eyeBlink_L", "eyeblinkleft"),
        ("blendShape.eyeBlinkLeft", "eyeblinkleft"),
        ("blendShape1.eyeBlink.R", "eyeblinkright"),
        ("Blink_L", "blinkleft"),
        ("mouthLeft", "mouthleft"),
        ("jawOpen", "jawopen"),
        ("curl", "curl"),  # a trailing l without separator is not a side
    ],
)
def test_normalise(spelling, expected):
    assert names.normalise(spelling) == expected


def test_match_stages_and_basis_is_never_driven():
    keys = ["Basis", "eyeBlinkLeft", "MOUTHSMILELEFT", "BS_jawOpen", "Blink_L", "basis"]
    r = names.match_names(
        ["eyeBlinkLeft", "mouthSmileLeft", "JawOpen", "A", "Basis", "Blink_L", "X"],
        keys,
        {"A": "Blink_L", "X": "missing"},
    )
    how = {k: (m.key, m.how) for k, m in r.matches.items()}
    assert how["eyeBlinkLeft"] == ("eyeBlinkLeft", "exact")
    assert how["mouthSmileLeft"] == ("MOUTHSMILELEFT", "case")
    assert how["JawOpen"] == ("BS_jawOpen", "normalised")
    assert how["A"] == ("Blink_L", "override")
    assert how["Basis"] == ("basis", "case")  # the reference key (index 0) is skipped
    assert r.unmatched == ["X"] and r.bad_overrides == ["X"]


def test_exact_beats_case_beats_normalised():
    keys = ["Basis", "mouthSmile_L", "mouthsmileleft", "mouthSmileLeft"]
    m = names.NameMatcher(keys)
    assert m.lookup("mouthSmileLeft").index == 3
    assert m.lookup("MouthSmileLeft").index == 2  # case-insensitive hit before normalised
    assert m.lookup("BS_MouthSmile_L").index == 1  # first key with that normalised form


def test_every_arkit_spelling_matches():
    keys = ["Basis"] + [f"BS_{n[0].upper()}{n[1:]}" for n in ARKIT_NAMES]
    r = names.match_names(ARKIT_NAMES, keys)
    assert len(r.matches) == 52 and not r.unmatched


# -- recording ----------------------------------------------------------------------------------
def test_resample_interpolates_and_holds_ends():
    v = recording.resample([0.0, 1.0], [0.0, 1.0], -0.5, 4.0, 8)
    assert v == pytest.approx([0, 0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0])


def test_reduce_constant_keeps_ends_of_runs_and_bounds_drift():
    f, v = recording.reduce_constant([1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 1, 1])
    assert (f, v) == ([1, 4, 5, 6], [0, 0, 1, 1])
    drift = [i * 4e-7 for i in range(20)]
    f2, v2 = recording.reduce_constant(list(range(20)), drift)
    rebuilt = recording.resample(f2, v2, 0, 1, 20)
    assert max(abs(a - b) for a, b in zip(rebuilt, drift, strict=True)) <= 1e-6


def test_recorder_uses_stream_time_not_arrival_bunching():
    r = recording.Recorder(fps=24, start_frame=10)
    for k in range(31):  # 30 fps stream, 1 s
        r.add(100.0 + k / 30, {"smile": k / 30})
    kf = r.keyframes(reduce=False)["smile"]
    frames, vals = kf[0::2], kf[1::2]
    assert frames[0] == 10 and frames[-1] == 34 and len(frames) == 25
    assert vals == pytest.approx([f / 24 for f in range(25)], abs=1e-9)


def test_recorder_rebases_on_clock_reset_and_gap():
    r = recording.Recorder(fps=10)
    r.add(50.0, {"a": 0.0})
    r.add(50.1, {"a": 1.0})
    r.add(0.0, {"a": 0.0})  # the sender restarted: continue one frame later
    r.add(0.1, {"a": 1.0})
    r.add(30.0, {"a": 0.5})  # a long gap: also continue one frame later
    assert r.duration == pytest.approx(0.4)
    assert r.n_frames() == 5


def test_recorder_channel_that_starts_late_spans_the_take():
    r = recording.Recorder(fps=10, start_frame=0)
    r.add(0.0, {"a": 0.0})
    r.add(0.5, {"a": 1.0, "b": 0.3})
    b = r.keyframes()["b"]
    assert b[0] == 0 and b[-2] == 5 and set(b[1::2]) == {0.3}


# -- takes --------------------------------------------------------------------------------------
def test_parse_take_infers_fps_and_times(tmp_path):
    rows = [[k / 100] * 61 for k in range(100)]
    p = tmp_path / "t.csv"
    write_take_csv(p, rows, fps=60, start=(23, 59, 59, 30))  # crosses midnight too
    take = takes.parse_take(p)
    assert take.fps_inferred and take.timecode_fps == 60
    assert take.times[1] == pytest.approx(1 / 60) and take.duration == pytest.approx(99 / 60)
    assert take.columns["JawOpen"][10] == pytest.approx(0.1)
    assert take.names[:2] == ["EyeBlinkLeft", "EyeLookDownLeft"] and len(take.names) == 61


def test_parse_take_snaps_skipped_frames_and_defaults(tmp_path):
    p = tmp_path / "t.csv"
    write_take_csv(p, [[0.0] * 61] * 40, fps=30, start=(0, 0, 0, 0))
    # Every other row removed: frames 0,2,..,28 then wrap; 29+1 snaps to 30.
    lines = p.read_text().splitlines()
    p.write_text("\n".join([lines[0], *lines[1::2]]) + "\n")
    assert takes.parse_take(p).timecode_fps == 30
    write_take_csv(p, [[0.0] * 61] * 10, fps=30, start=(0, 0, 0, 0))  # never wraps
    t = takes.parse_take(p)
    assert t.timecode_fps == takes.DEFAULT_TIMECODE_FPS and t.times[1] == pytest.approx(1 / 60)
    assert takes.parse_take(p, timecode_fps=30).times[1] == pytest.approx(1 / 30)


def test_parse_timecode():
    assert takes.parse_timecode("17:49:11:28.166") == (17, 49, 11, pytest.approx(28.166))
    with pytest.raises(ValueError):
        takes.parse_timecode("17:49:11")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "line 1"),
        ("a,b,c\n", "line 1"),
        ("Timecode,BlendShapeCount,JawOpen\n", "no data"),
        ("Timecode,BlendShapeCount,JawOpen\n00:00:00:00.000,1\n", "line 2"),
        ("Timecode,BlendShapeCount,JawOpen\n00:00:00:00.000,1,x\n", "line 2"),
        ("Timecode,BlendShapeCount,JawOpen\nbad,1,0.5\n", "line 2"),
        ("Timecode,BlendShapeCount,JawOpen\n00:00:00:00.000,1,nan\n", "non-finite"),
    ],
)
def test_parse_take_errors_name_the_line(text, match):
    with pytest.raises(takes.TakeError, match=match):
        takes.parse_take(text if "\n" in text else "\n")


# -- receiver on a real socket --------------------------------------------------------------------
def test_receiver_drains_a_real_socket_and_counts():
    port = free_port()
    with receiver.Receiver("VMC", port=port) as rx:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for k in range(5):
            s.sendto(vmc_frame({"jawOpen": k / 4}, t=float(k)), ("127.0.0.1", port))
        s.sendto(b"garbage!", ("127.0.0.1", port))
        s.sendto(b"/x\x00\x00" * 5000, ("127.0.0.1", port))
        time.sleep(0.05)
        samples = rx.drain()
        assert [smp.values["jawOpen"] for smp in samples] == [0, 0.25, 0.5, 0.75, 1.0]
        assert rx.latest["jawOpen"] == 1.0
        assert rx.stats.packets == 7 and rx.stats.malformed == 1 and rx.stats.oversized == 1
        assert rx.rate() == 7 and rx.receiving() and rx.drain() == []
    assert not rx.is_open


def test_receiver_port_in_use_is_a_readable_error():
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    try:
        with pytest.raises(receiver.ReceiverError, match="already in use"):
            receiver.Receiver("VMC", port=blocker.getsockname()[1]).open()
    finally:
        blocker.close()


def test_receiver_bounds_distinct_names():
    rx = receiver.Receiver("VMC")
    for k in range(receiver.MAX_NAMES + 50):
        rx.feed(vmc_frame({f"n{k}": 0.5}), arrival=float(k))
    assert len(rx.latest) == receiver.MAX_NAMES and rx.stats.names_dropped == 50


@FAST
@given(st.lists(st.binary(max_size=300), max_size=20), st.sampled_from(receiver.PROTOCOLS))
def test_receiver_feed_never_raises(datagrams, proto):
    rx = receiver.Receiver(proto)
    for d in datagrams:
        rx.feed(d, arrival=0.0)
    assert rx.stats.packets == len(datagrams)


def test_parse_take_reads_avatar_driver_csv_writer(tmp_path):
    """Takes written by avatar-driver's own CSV codec parse to the same times and values."""
    np = pytest.importorskip("numpy")
    csv_take = pytest.importorskip("avatar_driver.codecs.csv_take")
    rng = np.random.default_rng(0)
    values = rng.random((75, 61)).astype(np.float32)
    lines = [csv_take.format_header()]
    lines += [csv_take.format_row(3.0 + k / 50, 50, values[k]) for k in range(75)]
    p = tmp_path / "ad.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    take = takes.parse_take(p)
    assert take.timecode_fps == 50 and take.fps_inferred
    # 1e-4 s: the writer floors float seconds, so some frames read back as FF.999.
    assert take.times == pytest.approx([k / 50 for k in range(75)], abs=1e-4)
    assert take.columns["MouthSmileLeft"] == pytest.approx(values[:, 23].tolist(), abs=1e-6)
