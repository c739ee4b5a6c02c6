"""Judging a model on labelled images: per-image and localisation metrics, speed."""
