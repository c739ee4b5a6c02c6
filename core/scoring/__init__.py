"""After the detector: score and heatmap scales, the two thresholds, boxes from maps, overlays."""
