"""Importing photos into the capture panel: files, a folder, files dropped on a side. The files
are read in a worker (``gui.capture.loading``) and placed in order from the next empty side.

Threading rule: GUI thread only (reading happens in a ``gui.workers`` task).
"""
from __future__ import annotations

from collections.abc import Sequence

from PyQt5.QtWidgets import QFileDialog

from core.images.formats import file_dialog_filter
from gui.capture.loading import LoadedImages, images_in_folder, read_images
from gui.errors import error_text
from gui.workers import TaskHandle, start_task


class ImportMixin:
    """Mixed into ``CapturePanel``."""

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import photos", "", file_dialog_filter())
        if paths:
            self.import_files(paths)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of photos")
        if folder:
            self.import_folder(folder)

    def import_folder(self, folder: str) -> None:
        try:
            paths = images_in_folder(folder)
        except Exception as exc:  # noqa: BLE001 - shown to the person
            self._say(error_text(exc, self._ctx.log_path, "listing a folder"), error=True)
            return
        if not paths:
            self._say(f"No photos (JPEG, PNG, BMP, TIFF) in {folder}.")
            return
        self.import_files([str(p) for p in paths])

    def import_files(self, paths: Sequence[str], first_index: int | None = None) -> TaskHandle | None:
        """Read ``paths`` in a worker, then fill slots in order (from ``first_index`` if dropped)."""
        if self.busy or not self.slots:
            return None
        self._say(f"Reading {len(paths)} file(s)…")
        handle = start_task(self, read_images, list(paths), self.grid.display_fit(),
                            on_success=lambda loaded: self._place(loaded, first_index),
                            on_error=self._on_task_error("reading photos"),
                            on_finished=self._task_done, name="import photos")
        self._tasks.append(handle)
        self._update_buttons()
        return handle

    def _place(self, loaded: LoadedImages, first_index: int | None) -> None:
        if not self._start_new_can_if_done():
            return
        messages = list(loaded.errors)
        left = self.grid.place(loaded.images, first_index)
        if left:
            messages.append(f"{left} file(s) not used: every side already has a photo.")
        self._show_capture_state()
        # one line per problem: two file errors on one line read as one garbled sentence
        self._say("\n".join(messages) if messages else f"{len(loaded.images)} photo(s) imported.",
                  error=bool(messages))
