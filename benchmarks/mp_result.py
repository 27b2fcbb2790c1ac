"""What reading MediaPipe's C result with numpy saves, against the task's Python objects.

    python benchmarks/mp_result.py [--rounds 6] [--media DIR] [--model PATH]

Two VIDEO-mode `FaceTracker`s play each clip in turn (A B, B A, ...): one reads the result
struct (`tracking.mp_result.ResultReader`, the default), one the task's public result
(`FaceLandmarkerResult` objects, then arrays). CPU seconds of the process per frame (the
task's own threads included); the ratio is taken pair by pair and its median quoted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from tracked_clips import add_media_and_model

from avatar_driver.frame import Frame
from avatar_driver.sources import VideoSource
from avatar_driver.tracking.landmarker import FaceTracker

CLIPS = ("single_face.mp4", "face_noface.mov")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_and_model(parser)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    for name in CLIPS:
        with VideoSource(Path(args.media) / name) as src:
            clip = list(src)
        reader = FaceTracker(args.model, mode="video")
        public = FaceTracker(args.model, mode="video")
        public._reader = None  # the task's own Python result
        ms: dict[str, list[float]] = {"reader": [], "public": []}
        offset = 0.0
        for r in range(args.rounds):
            order = [("reader", reader), ("public", public)]
            for key, tracker in order if r % 2 == 0 else order[::-1]:
                start = time.process_time()
                for f in clip:
                    tracker(Frame(timestamp=offset + f.timestamp, index=f.index, image=f.image))
                ms[key].append((time.process_time() - start) / len(clip) * 1000)
            offset += clip[-1].timestamp + 1.0
        reader.close()
        public.close()
        ratio = statistics.median(a / b for a, b in zip(ms["reader"], ms["public"], strict=True))
        saved = statistics.median(ms["public"]) - statistics.median(ms["reader"])
        print(
            f"{name}: {len(clip)} frames, CPU ms/frame reader {statistics.median(ms['reader']):.2f}"
            f" / public {statistics.median(ms['public']):.2f}; ratio {ratio:.3f},"
            f" saved {saved:.2f} ms a frame"
        )


if __name__ == "__main__":
    main()
