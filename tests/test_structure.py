"""Package structure: xraynet never imports tuning (tuning builds on xraynet and adds its
commands through an entry point), and every module imports on its own."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import xraynet

ROOT = Path(xraynet.__file__).parent


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_xraynet_never_imports_tuning_or_study_code():
    offenders = {str(p.relative_to(ROOT.parent)): sorted(n for n in imported_names(p)
                                                        if n.split(".")[0] in ("tuning", "xraynet_bench"))
                 for p in ROOT.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_module_imports_on_its_own():
    modules = ["xraynet"] + [m.name for m in pkgutil.walk_packages([str(ROOT)], "xraynet.")]
    modules += ["tuning"] + [m.name for m in pkgutil.walk_packages(
        [str(ROOT.parent / "tuning")], "tuning.")]
    code = ("import importlib, sys\n"
            "failed = []\n"
            f"for name in {modules!r}:\n"
            "    for loaded in [m for m in sys.modules if m.split('.')[0] in ('xraynet', 'tuning')]:\n"
            "        del sys.modules[loaded]\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except Exception as exc:\n"
            "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
            "print(failed)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert len(modules) > 40


def test_one_suffix_rule_for_config_and_settings_classes():
    """``*Config``: a section of a run's ``config.json``, declared in xraynet/config.py (the
    mechanism they are declared with is xraynet/config_schema.py); ``*Settings``: any other group
    of settings (a command's, the server's, a search's, decoding's, a cluster's)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    misplaced = []
    for path in [*root.glob("xraynet/**/*.py"), *root.glob("tuning/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Config"):
                if path.relative_to(root).as_posix() != "xraynet/config.py":
                    misplaced.append(f"{path.relative_to(root)}: {node.name}")
    assert not misplaced, misplaced
    assert not (root / "xraynet" / "settings.py").exists()


def test_one_training_loop():
    """``model.fit`` is called in one place, xraynet/loop.py's fit_model (the trainer's fit, the
    search's trials and the head's warm-up all go through it)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    calls = []
    for path in [*root.glob("xraynet/**/*.py"), *root.glob("tuning/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "fit" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("model", "head", "net", "keras_model")):
                calls.append(path.relative_to(root).as_posix())
    assert calls == ["xraynet/loop.py"]
