"""Rules and constants that the engine (``core``) and the records (``db``) must agree on.

``core`` and ``db`` never import each other, so what both need to say the same thing lives here:
a leaf package with no imports from the station's other packages and no third-party imports.
"""
