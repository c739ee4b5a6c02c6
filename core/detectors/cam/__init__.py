"""The CAM classifier: a backbone, global pooling and a linear Good/Anomaly head; its map is the heatmap."""
