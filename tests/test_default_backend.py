"""The library never chooses a backend; entry points do, before Keras loads, and respect the
user's KERAS_BACKEND and keras.json."""

import json
import subprocess
import sys

from xraynet.default_backend import PREFERENCE, choose_default_backend, configured_backend


def _fresh_process(code: str, *, env_backend=None, home="/tmp/xraynet-empty-home"):
    env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": home,
           "KERAS_HOME": f"{home}/.keras", "PYTHONPATH": ":".join(sys.path)}
    if env_backend:
        env["KERAS_BACKEND"] = env_backend
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_importing_xraynet_changes_no_environment_variable_and_loads_no_keras():
    code = ("import os, sys; before = dict(os.environ); import xraynet, xraynet.config; "
            "print(dict(os.environ) == before, 'keras' in sys.modules)")
    assert _fresh_process(code) == "True False"


def test_the_cli_parser_and_its_plugin_commands_load_no_keras():
    """`xraynet --help` (every command's flags, tune and serve included) answers without Keras."""
    code = ("import sys; from xraynet.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('keras', 'keras_tuner', 'tensorflow', 'jax') if m in sys.modules))")
    assert _fresh_process(code) == "[]"


def test_using_xraynet_changes_no_environment_variable():
    code = ("import os; before = dict(os.environ); from xraynet import XRayClassifier; "
            "import keras; print({k for k in set(os.environ) ^ set(before)}, keras.backend.backend())")
    changed, backend = _fresh_process(code, env_backend="jax").split("} ")
    assert "KERAS_BACKEND" not in changed and backend == "jax"


def test_the_cli_defaults_to_tensorflow_and_keras_backend_wins():
    assert PREFERENCE[0] == "tensorflow"
    code = ("from xraynet.default_backend import choose_default_backend; "
            "choose_default_backend(); import keras; print(keras.backend.backend())")
    assert _fresh_process(code) == "tensorflow"
    assert _fresh_process(code, env_backend="jax") == "jax"


def test_keras_json_is_respected(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert configured_backend() is None
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    assert choose_default_backend() == "jax"
    import os

    assert "KERAS_BACKEND" not in os.environ  # keras reads keras.json itself


def test_choose_keeps_an_explicit_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert choose_default_backend() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    assert choose_default_backend() in PREFERENCE
