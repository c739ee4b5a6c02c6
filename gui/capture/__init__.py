"""The capture-and-inspect panel (operators). See ``panel.py``."""
from gui.capture.panel import CapturePanel

__all__ = ["CapturePanel"]
