"""Registers the engine's command-line jobs (train, evaluate, inspect, bench, ...) with main.py.

Each module in ``core.commands`` has ``register(subparsers)``, which adds one sub-command and
sets ``run=func`` with ``func(args, settings) -> int``. New jobs need no edit here.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil

import core.commands


def register(subparsers: argparse._SubParsersAction) -> None:
    for info in sorted(pkgutil.iter_modules(core.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"core.commands.{info.name}")
        module.register(subparsers)
