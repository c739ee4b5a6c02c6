"""The station's use cases: Qt-free code that combines the engine (``core``) and the records (``db``).

Recording an inspected can, the first start of a data folder, reading one inspection back, the PDF
report, building and evaluating models from a folder or the gallery, the statistics charts. The GUI
runs these in its workers; the command line calls the same functions. Never imports PyQt5.
"""
