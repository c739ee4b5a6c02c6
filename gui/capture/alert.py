"""The REJECT alert: the banner flashes and a short sound plays, so an operator who looks away
from the screen still notices. It can be switched off (``enabled``).

Sound: ``resources/sounds/reject.wav`` through Qt Multimedia's ``QSoundEffect``. Where Qt
Multimedia cannot load (its PulseAudio glue, package libpulse-mainloop-glib0, is missing) the
system bell (``QApplication.beep``) sounds instead; the flash never depends on the sound.

Threading rule: GUI thread only.
"""
from __future__ import annotations

import logging
from importlib import resources

from PyQt5.QtCore import QObject, QTimer, QUrl
from PyQt5.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

FLASHES = 3              # on-off cycles
FLASH_MS = 160
SOUND = "reject.wav"


def sound_path() -> str:
    return str(resources.files("resources").joinpath("sounds", SOUND))


class RejectAlert(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = True
        self.fired = 0                    # how many alerts were given (tests, the log)
        self.sound_kind = ""              # "effect" | "bell", once the first alert chose
        self._effect = None
        self._target: QWidget | None = None
        self._steps = 0
        self._timer = QTimer(self, interval=FLASH_MS)
        self._timer.timeout.connect(self._step)

    @property
    def flashing(self) -> bool:
        return self._timer.isActive()

    def fire(self, target: QWidget) -> None:
        """Flash ``target`` (it gets the dynamic property ``flash``) and sound, if enabled."""
        if not self.enabled:
            return
        self.fired += 1
        self._target, self._steps = target, 2 * FLASHES
        self._set_flash(True)
        self._timer.start()
        self._play()

    def stop(self) -> None:
        self._timer.stop()
        self._set_flash(False)

    def _step(self) -> None:
        self._steps -= 1
        self._set_flash(self._steps % 2 == 1)
        if self._steps <= 0:
            self.stop()

    def _set_flash(self, on: bool) -> None:
        target = self._target
        if target is None:
            return
        target.setProperty("flash", on)
        target.style().unpolish(target)
        target.style().polish(target)

    def _play(self) -> None:
        if self._effect is None and self.sound_kind != "bell":
            try:
                from PyQt5.QtMultimedia import QSoundEffect
            except ImportError as exc:       # the sound system's glue is not installed
                log.info("no Qt Multimedia (%s): the REJECT alert uses the system bell", exc)
                self.sound_kind = "bell"
            else:
                self._effect = QSoundEffect(self)
                self._effect.setSource(QUrl.fromLocalFile(sound_path()))
                self._effect.setVolume(0.8)
                self.sound_kind = "effect"
        if self._effect is not None:
            self._effect.play()
        else:
            QApplication.beep()
