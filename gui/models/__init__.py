"""The Models panel (admins). See ``panel.py``."""
from gui.models.panel import ModelsPanel

__all__ = ["ModelsPanel"]
