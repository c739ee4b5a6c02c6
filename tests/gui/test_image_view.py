"""gui.widgets.image_view: the heatmap is drawn over the photo on the fixed scale, the toggle and
the opacity slider change what is painted, boxes are drawn, big photos are shown shrunk."""
from __future__ import annotations

import numpy as np
from PyQt5.QtGui import QImage

from core.results import Box
from gui.widgets.image_view import MAX_DISPLAY_SIDE, ImageView, OverlayControls


def _rgb_at(view: ImageView, fx: float, fy: float) -> tuple[int, int, int]:
    """Colour painted at a fraction of the photo's displayed area."""
    img = view.grab().toImage()
    rect = view.image_rect()
    c = img.pixelColor(int(rect.left() + fx * rect.width()), int(rect.top() + fy * rect.height()))
    return c.red(), c.green(), c.blue()


def _view(qtbot) -> ImageView:
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(200, 200)
    return view


def test_overlay_toggle_and_opacity_change_the_painted_pixels(qtbot):
    view = _view(qtbot)
    controls = OverlayControls(views=[view])
    qtbot.addWidget(controls)
    photo = np.full((100, 100, 3), 128, np.uint8)
    heat = np.zeros((100, 100), np.float32)
    heat[:, 50:] = 1.5  # right half far above the threshold: drawn red, left half 0: blue
    view.set_result(photo, heat, [])
    assert view.has_heatmap()

    r, g, b = _rgb_at(view, 0.75, 0.5)
    assert r > b + 40, (r, g, b)          # hot = red over grey
    r, g, b = _rgb_at(view, 0.25, 0.5)
    assert b > r + 40, (r, g, b)          # cold = blue over grey

    controls.toggle.setChecked(False)
    assert not view.overlay_visible
    assert _rgb_at(view, 0.75, 0.5) == (128, 128, 128)  # the plain photo
    assert not controls.slider.isEnabled()

    controls.toggle.setChecked(True)
    controls.slider.setValue(100)
    assert view.opacity == 1.0
    r, g, b = _rgb_at(view, 0.75, 0.5)
    assert (r, g, b) == (128, 0, 0)       # fully opaque: jet's top colour, dark red
    controls.slider.setValue(0)
    assert _rgb_at(view, 0.75, 0.5) == (128, 128, 128)


def test_boxes_are_drawn_where_the_defect_is(qtbot):
    view = _view(qtbot)
    photo = np.full((100, 100, 3), 200, np.uint8)
    view.set_result(photo, None, [Box(60, 60, 90, 90, 0.83)])
    assert [b.score for b in view.boxes] == [0.83]
    # the box's left edge (x=60) is painted red; far from it the photo is untouched
    r, g, b = _rgb_at(view, 0.60, 0.80)
    assert r > 180 and g < 120, (r, g, b)
    assert _rgb_at(view, 0.2, 0.2) == (200, 200, 200)


def test_big_photos_are_shrunk_for_display_and_boxes_follow(qtbot):
    view = _view(qtbot)
    big = np.zeros((MAX_DISPLAY_SIDE * 2, MAX_DISPLAY_SIDE, 3), np.uint8)
    heat = np.zeros(big.shape[:2], np.float32)
    view.set_result(big, heat, [Box(0, MAX_DISPLAY_SIDE, MAX_DISPLAY_SIDE, 2 * MAX_DISPLAY_SIDE, 0.9)])
    assert view._photo.height() == MAX_DISPLAY_SIDE
    # the box covers the lower half of the photo, whatever the display size
    r, _, _ = _rgb_at(view, 0.0, 0.75)
    assert r > 150


def test_qimage_frames_and_placeholder(qtbot):
    view = _view(qtbot)
    view.placeholder = "Camera off"
    assert not view.has_image()
    view.grab()  # paints the placeholder without an image
    frame = QImage(40, 30, QImage.Format_RGB888)
    frame.fill(0x00FF00)
    view.set_image(frame)
    assert view.has_image() and not view.has_heatmap()
    assert _rgb_at(view, 0.5, 0.5) == (0, 255, 0)


def test_heat_is_drawn_inside_the_judged_region_only(qtbot):
    from gui.widgets.image_view import prepare_result

    view = _view(qtbot)
    photo = np.full((400, 400, 3), 128, np.uint8)
    heat = np.full((400, 400), 1.0, np.float32)                  # hot everywhere
    square = [(100, 100), (299, 100), (299, 299), (100, 299)]    # the judged region
    view.set_prepared(prepare_result(photo, heat, (), (200, 200), square), square)
    assert view.outline == tuple(square)
    r, g, b = _rgb_at(view, 0.5, 0.5)
    assert r > b + 40                                            # heat inside
    assert _rgb_at(view, 0.1, 0.1) == (128, 128, 128)            # the backdrop as it is
