"""Tiny clips made with PyAV at test time: timestamps, audio, rotation, odd sizes, 10-bit."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def pattern(index: int, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8: a smooth gradient with a bright square that moves 2 px a frame, and a mark at the top left."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([40 + 120 * x / max(1, width - 1), 40 + 120 * y / max(1, height - 1), 90 + 0 * x], axis=2)
    left = (2 * index) % max(1, width - 8)
    frame[height // 3 : height // 3 + 8, left : left + 8] = (230, 200, 60)
    frame[:4, :4] = (250, 250, 250)
    return frame.astype(np.uint8)


def make_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    pts: list[int] | None = None,
    frames: int = 8,
    time_base: Fraction = Fraction(1, 1000),
    rate: Fraction = Fraction(25),
    rotation: int = 0,
    audio: bool = True,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    faststart: bool = False,
    subtitles: bool = False,
) -> list[np.ndarray]:
    """Writes a clip (frames `pattern(i)`, stored as given) and returns its uint8 RGB frames.

    `pts` in `time_base` units (default: spaced at `rate`); `rotation`: a display matrix asking
    players to rotate counter-clockwise by that many degrees; `audio`: a mono 16 kHz AAC sine
    covering the clip; `subtitles`: two SubRip cues (use a .mkv `path`).
    """
    if pts is None:
        pts = [round(i / (rate * time_base)) for i in range(frames)]
    options = {"movflags": "+faststart"} if faststart else {}
    container = av.open(str(path), "w", options=options)
    stream = container.add_stream(codec, rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    if rotation:
        stream.set_display_rotation(rotation)
    sound = container.add_stream("aac", rate=16000) if audio else None
    cues = text = None
    if subtitles:  # every stream must exist before the first packet is written
        srt = path.with_name(path.stem + "_cues.srt")
        srt.write_text("1\n00:00:00,000 --> 00:00:00,120\nHello\n\n2\n00:00:00,120 --> 00:00:00,240\nWorld\n")
        cues = av.open(str(srt))
        text = container.add_stream_from_template(cues.streams[0])
    images = []
    for index, stamp in enumerate(pts):
        image = pattern(index, height, width)
        images.append(image)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
        frame.pts, frame.time_base = stamp, time_base
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    if sound is not None:
        seconds = float((pts[-1] + round(1 / (rate * time_base))) * time_base)
        samples = int(seconds * 16000)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = tone[start : start + 1024]
            if len(chunk) < 1024:
                chunk = np.pad(chunk, (0, 1024 - len(chunk)))
            piece = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
            piece.sample_rate, piece.pts = 16000, start
            container.mux(sound.encode(piece))
        container.mux(sound.encode(None))
    if cues is not None:
        for packet in cues.demux(cues.streams[0]):
            if packet.size:
                packet.stream = text
                container.mux(packet)
    container.close()
    if cues is not None:
        cues.close()
        Path(cues.name).unlink()
    return images


def video_packets(path: Path, kind: str) -> list[tuple[int | None, bytes]]:
    """(pts, payload) of every packet of the first stream of `kind` ("audio", "video")."""
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        return [(p.pts, bytes(p)) for p in container.demux(stream) if p.size]


def frame_times(path: Path) -> list[float]:
    """Presentation time in seconds of every decoded video frame."""
    with av.open(str(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


def stream_summary(path: Path) -> dict[str, object]:
    """What ffprobe would say: streams (type, codec), frame count, rate, pix_fmt, duration, rotation."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        first = next(container.decode(video=0))
        return {
            "streams": [(s.type, s.codec_context.name) for s in container.streams],
            "frames": video.frames,
            "rate": video.average_rate,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (first.width, first.height),
            "rotation": first.rotation,
            "duration": container.duration / 1e6 if container.duration else None,
        }


def make_audio_only(path: Path, seconds: float = 0.5) -> Path:
    """Writes a file with one mono 16 kHz AAC stream and no video stream (an .mp4 / .m4a of speech, say)."""
    with av.open(str(path), "w") as container:
        sound = container.add_stream("aac", rate=16000)
        for start in range(0, int(seconds * 16000), 1024):
            piece = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            piece.sample_rate, piece.pts = 16000, start
            container.mux(sound.encode(piece))
        container.mux(sound.encode(None))
    return path
