"""The study scripts use the package through its public names only: every name a script imports
from xraynet or tuning is in its module's ``__all__``."""

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports():
    for path in sorted((ROOT / "scripts").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.split(".")[0] in ("xraynet", "tuning")):
                for alias in node.names:
                    yield path.relative_to(ROOT), node.module, alias.name


def test_scripts_import_only_names_in_all():
    found = list(_imports())
    assert len(found) > 30  # the guard sees the scripts' imports
    private = [f"{path}: from {module} import {name}" for path, module, name in found
               if name not in getattr(importlib.import_module(module), "__all__", ())]
    assert not private, "\n".join(private)
