"""gui.camera: frames reach the GUI thread as QImage, the newest frame is kept as numpy, and a
missing or unplugged camera is reported as a message, with the thread ended."""
from __future__ import annotations

import numpy as np
import pytest
from PyQt5.QtGui import QImage

from core.errors import CameraUnavailable
from gui import workers
from gui.camera import CameraFeed, FakeSource, OpenCVSource, frame_to_qimage


def test_frame_to_qimage_owns_a_copy():
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[1, 2] = (10, 20, 30)
    img = frame_to_qimage(rgb)
    rgb[:] = 255  # the source buffer changes, as OpenCV's does
    assert (img.width(), img.height()) == (6, 4)
    c = img.pixelColor(2, 1)
    assert (c.red(), c.green(), c.blue()) == (10, 20, 30)


def test_feed_delivers_frames_and_keeps_the_latest(qtbot):
    frames = [np.full((48, 64, 3), v, np.uint8) for v in (10, 20, 30)]
    feed = CameraFeed(lambda: FakeSource(frames), fps=60)
    got: list[QImage] = []
    feed.frame.connect(got.append)
    feed.start()
    qtbot.waitUntil(lambda: len(got) >= 3, timeout=5000)
    assert got[0].width() == 64 and got[0].height() == 48
    latest = feed.latest_frame()
    assert latest is not None and latest.shape == (48, 64, 3)
    assert int(latest[0, 0, 0]) in (10, 20, 30)
    feed.stop()
    assert not feed.running and workers.live_threads() == []


def test_unplugged_camera_reports_a_message_and_ends_its_thread(qtbot):
    source = FakeSource()
    feed = CameraFeed(lambda: source, fps=60)
    frames: list = []
    feed.frame.connect(frames.append)
    feed.start()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=5000)
    with qtbot.waitSignal(feed.lost, timeout=5000) as lost:
        source.unplug()
    assert "unplugged" in lost.args[0]
    qtbot.waitUntil(lambda: not feed.running, timeout=5000)
    assert source.closed
    feed.stop()


def test_missing_camera_reports_a_message(qtbot):
    feed = CameraFeed(lambda: FakeSource(fail_open=True))
    with qtbot.waitSignal(feed.lost, timeout=5000) as lost:
        feed.start()
    assert "cannot be opened" in lost.args[0]
    feed.stop()


def test_opencv_source_without_a_device_raises_a_clear_error(tmp_path):
    source = OpenCVSource(str(tmp_path / "no-such-camera.avi"))
    with pytest.raises(CameraUnavailable, match="cannot be opened"):
        source.open()
    source.close()


def test_opencv_source_reads_a_video_file_as_rgb_and_detects_the_end(tmp_path):
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    # opencv-python-headless (a dependency) writes MJPG; a build that cannot is a broken install
    assert writer.isOpened(), f"OpenCV {cv2.__version__} cannot write an MJPG video"
    for _ in range(3):
        bgr = np.zeros((48, 64, 3), np.uint8)
        bgr[..., 2] = 250  # red in BGR
        writer.write(bgr)
    writer.release()
    source = OpenCVSource(str(path), max_failures=2)
    source.open()
    rgb = source.read()
    assert rgb is not None and rgb.shape == (48, 64, 3)
    assert rgb[..., 0].mean() > 200 and rgb[..., 2].mean() < 50  # converted to RGB
    with pytest.raises(CameraUnavailable, match="stopped sending"):
        for _ in range(10):  # end of the clip = a camera that stops sending
            source.read()
    source.close()
