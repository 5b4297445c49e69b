import subprocess
import sys

from xraynet.default_backend import PREFERENCE, choose_default_backend


def _backend_in_fresh_process(env_backend):
    env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": "/tmp"}
    if env_backend:
        env["KERAS_BACKEND"] = env_backend
    code = "import xraynet, keras; print(keras.backend.backend())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_tensorflow_is_the_default_and_keras_backend_wins():
    assert PREFERENCE[0] == "tensorflow"
    assert _backend_in_fresh_process(None) == "tensorflow"
    assert _backend_in_fresh_process("jax") == "jax"


def test_choose_keeps_an_explicit_choice(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert choose_default_backend() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    assert choose_default_backend() in PREFERENCE
