"""Camera sources with the real SDKs: pypylon's emulator (settings read back from the device,
frames equal to the real photos it plays, triggers, removal and reconnection) and OpenCV on a
video file."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from core.errors import CameraUnavailable
from line.cameras import CameraSettings, OpenCVSource, PylonSource, TriggerMode
from line.config import CameraSpec
from line.errors import CameraFrameFailed, LineConfigInvalid
from line.rig import CameraRig


def rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture
def photos(tmp_path):
    from tests.line.conftest import make_photos
    return make_photos(tmp_path / "photos")


def test_emulator_plays_the_photos_pixel_for_pixel_in_name_order(photos):
    source = PylonSource("0815-0001", CameraSettings(roi=(0, 0, 640, 640)),
                         emulator_images=str(photos[0].parent))
    source.open()
    try:
        frames = [source.capture() for _ in range(3)]
    finally:
        source.close()
    for frame, path in zip(frames, photos):
        assert frame.dtype == np.uint8 and frame.shape == (640, 640, 3)
        assert np.array_equal(frame, rgb(path))


def test_settings_reach_the_device(photos):
    settings = CameraSettings(exposure_us=2500, gain_db=6, pixel_format="mono",
                              roi=(64, 32, 320, 240), trigger=TriggerMode.SOFTWARE)
    source = PylonSource("0815-0002", settings)
    source.open()
    try:
        cam = source.camera
        assert cam.ExposureTime.GetValue() == pytest.approx(2500)
        assert cam.Gain.GetValue() == pytest.approx(6, abs=0.01)
        assert cam.PixelFormat.GetValue() == "Mono8"
        assert (cam.OffsetX.GetValue(), cam.OffsetY.GetValue(), cam.Width.GetValue(),
                cam.Height.GetValue()) == (64, 32, 320, 240)
        assert (cam.TriggerMode.GetValue(), cam.TriggerSource.GetValue()) == ("On", "Software")
        frame = source.capture()
        assert frame.shape == (240, 320, 3)
        assert np.array_equal(frame[..., 0], frame[..., 1])     # mono: grey in every channel
    finally:
        source.close()


def test_free_run_and_hardware_trigger_modes(photos):
    free = PylonSource("0815-0002", CameraSettings(trigger=TriggerMode.FREE_RUN))
    free.open()
    try:
        assert free.camera.TriggerMode.GetValue() == "Off"
        assert free.capture().ndim == 3
    finally:
        free.close()
    line = PylonSource("0815-0002", CameraSettings(trigger=TriggerMode.HARDWARE,
                                                   trigger_line="Line2", frame_timeout_ms=200))
    line.open()
    try:
        assert (line.camera.TriggerSource.GetValue(), line.camera.TriggerActivation.GetValue()) \
            == ("Line2", "RisingEdge")
        with pytest.raises(CameraFrameFailed, match="wiring of its trigger input Line2"):
            line.capture()     # no pulse on the line: a clear failure, not a hang
    finally:
        line.close()


@pytest.mark.parametrize("settings, field", [
    (CameraSettings(roi=(0, 0, 5000, 100)), "roi width"),
    (CameraSettings(exposure_us=1e9), "exposure_us"),
    (CameraSettings(trigger=TriggerMode.HARDWARE, trigger_line="Line9"), "trigger"),
])
def test_settings_the_camera_cannot_take_are_refused_by_name(settings, field):
    source = PylonSource("0815-0003", settings)
    with pytest.raises(LineConfigInvalid) as err:
        source.open()
    assert err.value.field == field
    assert source.camera is None          # nothing left open


def test_missing_camera_and_images_for_a_real_camera():
    with pytest.raises(CameraUnavailable, match="cannot be opened"):
        PylonSource("9999-0000").open()
    with pytest.raises(LineConfigInvalid, match="not a folder"):
        PylonSource("0815-0003", emulator_images="/no/such/folder").open()


def test_the_rig_reconnects_a_removed_camera_and_says_so(photos):
    from pypylon import genicam

    back: list[str] = []
    spec = CameraSpec("cam", "pylon", CameraSettings(), serial="0815-0001",
                      emulator_images=str(photos[0].parent))
    rig = CameraRig({"cam": spec}, on_back=back.append, retry_s=0.1)
    try:
        assert set(rig.capture_step((("cam", "Lid"),))) == {"Lid"}
        try:
            rig.source("cam").camera.FirePnPCallback.Execute()   # the emulator's removal
        except genicam.GenericException:
            pass
        with pytest.raises(CameraUnavailable, match="disconnected"):
            rig.capture_step((("cam", "Bottom"),))
        assert "cam" in rig.lost or back == ["cam"]
        end = time.monotonic() + 20
        while not back and time.monotonic() < end:
            time.sleep(0.05)
        assert back == ["cam"] and rig.lost == {}
        frames = rig.capture_step((("cam", "Bottom"),))
        assert np.array_equal(frames["Bottom"], rgb(photos[0]))   # reopened: the folder anew
    finally:
        rig.close()


def test_opencv_source_reads_a_file_with_roi_and_mono(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert writer.isOpened(), "this OpenCV build cannot write MJPG"
    for v in (50, 100, 150):
        bgr = np.zeros((48, 64, 3), np.uint8)
        bgr[..., 2] = v
        writer.write(bgr)
    writer.release()
    source = OpenCVSource(str(path), settings=CameraSettings(
        pixel_format="mono", roi=(8, 4, 32, 16), trigger=TriggerMode.FREE_RUN), max_failures=2)
    source.open()
    try:
        frame = source.capture()
        assert frame.shape == (16, 32, 3) and np.array_equal(frame[..., 0], frame[..., 2])
        assert abs(int(frame[0, 0, 0]) - round(50 * 0.299)) <= 3   # red 50 as grey
        source.capture()
        source.capture()
        with pytest.raises(CameraUnavailable):
            source.capture()                     # the end of the clip
    finally:
        source.close()
    with pytest.raises(LineConfigInvalid, match="no trigger line"):
        OpenCVSource("0", settings=CameraSettings(trigger=TriggerMode.HARDWARE))


class _MjpegStream:
    """A real HTTP MJPEG stream on loopback (multipart/x-mixed-replace, as IP cameras send)."""

    def __init__(self) -> None:
        stream = self
        self.running = True

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while stream.running:
                        ok, jpg = cv2.imencode(".jpg", np.full((48, 64, 3), 40 + i % 100, np.uint8))
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(jpg)).encode() + b"\r\n\r\n" + jpg.tobytes()
                                         + b"\r\n")
                        i += 1
                        time.sleep(0.02)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.running = False
        self.server.shutdown()
        self.server.server_close()


def test_opencv_source_reads_an_http_mjpeg_stream_and_notices_when_it_stops():
    stream = _MjpegStream()
    source = OpenCVSource(stream.url, max_failures=3)
    try:
        source.open()
        frame = source.capture()
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
        stream.stop()
        with pytest.raises(CameraUnavailable, match="stopped sending pictures"):
            for _ in range(200):
                source.capture()
    finally:
        stream.stop()
        source.close()
