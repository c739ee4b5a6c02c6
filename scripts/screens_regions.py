"""The inspection-region screens that ``scripts/screenshots.py`` renders (issue 8):

* 22-regions-editor: Products → Regions…, a real can photo as the sample, Automatic: the
  locator's outline is what would be judged;
* 23-regions-fixed: the same editor, a side set to a fixed ellipse drawn on the sample;
* 24-capture-regions: an operator's can judged inside the located cans (dashed outlines), one
  side a blank frame: no can found, the can goes to review and the banner says why.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scripts.screens import over, wait, window_for


def shoot_regions(app, shots, settings, station, demo, inference, images: Path, size, work: Path,
                  **_: Any) -> None:
    good = sorted((images / "good").glob("*.jpg"))
    if shots.want("22") or shots.want("23"):
        window = window_for(app, settings, station, inference, demo.admin, size)
        panel = window.show_panel("products")
        wait(app, settle=0.5)
        panel.select_where(lambda p: p.id == demo.product_ids[0])
        dialog = panel.edit_regions()
        wait(app)
        task = dialog.load_sample(str(good[3]))
        wait(app, lambda: task.done and dialog.canvas.outline is not None, timeout=30, settle=0.5)
        shots.save(over(window.grab(), dialog), "22-regions-editor")
        dialog.sides.setCurrentRow(1)
        wait(app, lambda: dialog.canvas.outline is not None, timeout=30)
        dialog.modes.button(1).click()                      # fixed: starts on the located can
        dialog.shape.setCurrentIndex(dialog.shape.findData("ellipse"))
        wait(app, settle=0.5)
        shots.save(over(window.grab(), dialog), "23-regions-fixed")
        dialog.reject()
        window.close()
    if shots.want("24"):
        window = window_for(app, settings, station, inference, demo.operators[0], size)
        capture = window.show_panel("capture")
        blank = work / "no-can.png"          # the camera saw the empty fixture
        cv2.imwrite(str(blank), np.full((480, 640, 3), (96, 104, 110), np.uint8))
        capture.import_files([str(p) for p in good[10:16]] + [str(blank)])
        wait(app, lambda: not capture.busy, settle=0.5)
        capture.inspect()
        wait(app, lambda: not capture.busy, timeout=120, settle=0.2)
        capture.alert.stop()
        wait(app, settle=0.5)
        shots.save(window.grab(), "24-capture-regions")
        window.close()
