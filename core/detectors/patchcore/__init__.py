"""PatchCore: a memory bank of good patch features; the distance to the nearest is the anomaly map."""
