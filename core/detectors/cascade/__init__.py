"""The fast cascade (after DefectNet): a cheap gate on every side, the heavy detector only on the sides
the gate does not clearly pass. A cascade model folder names two other model folders."""
