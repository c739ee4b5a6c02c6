"""Inspection regions: finding the can in a photo and judging only that part of it.

- ``core.regions.locator``: ``locate_can(image) -> CanLocation`` (no training), with its parts
  ``morph`` (array helpers), ``pieces`` (shaping the chosen piece) and ``refine`` (snapping the
  outline to the can's silhouette);
- ``core.regions.apply``: ``prepare_side`` (the network's view of a side, used by training,
  calibration, evaluation and inspection alike) and ``heatmap_in_image`` (its answer mapped back);
- ``core.regions.settings``: ``RegionSettings``, how a model sees a side (``model.json``'s
  ``preprocessing``), pure Python.

numpy/OpenCV only, no torch: the GUI may import it to draw and edit regions. Nothing is
re-exported here, so that reading a model's description does not load OpenCV.
"""
