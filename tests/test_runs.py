"""xraynet.runs is the one home of every run-directory file name."""

import ast
import subprocess
import sys
from pathlib import Path

import xraynet.runs as runs

ROOT = Path(__file__).resolve().parents[1]


def _names() -> dict[str, str]:
    return {k: v for k, v in vars(runs).items()
            if k.isupper() and isinstance(v, str) and (k.endswith("_FILE") or k.endswith("_DIR"))}


def test_no_other_module_spells_a_run_file_name():
    names = {v for v in _names().values() if "." in v}  # files (folder names are common words)
    found = []
    for path in [*ROOT.glob("xraynet/**/*.py"), *ROOT.glob("tuning/**/*.py")]:
        if path.name == "runs.py" and path.parent.name == "xraynet":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found, "run-directory names outside xraynet.runs:\n" + "\n".join(found)


def test_names_are_distinct_and_the_module_loads_no_keras():
    names = _names()
    files = [v for k, v in names.items() if k != "EXPLANATIONS_DIR"]
    assert len(set(files)) == len(files)
    assert runs.BEST_WEIGHTS.startswith(runs.CHECKPOINT_DIR + "/")
    assert runs.member_dir("r", 0) == Path("r") / runs.MEMBERS_DIR / "member1"
    assert runs.confusion_file("test") == "confusion_matrix_test.png"
    code = "import sys, xraynet.runs; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
