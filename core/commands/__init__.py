"""One module per command-line job; each exposes ``register(subparsers)``. Keep imports of torch
inside the job function so that ``main.py --help`` and the GUI start fast."""
