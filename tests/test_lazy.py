import importlib
import sys

import pytest


def test_names_load_on_first_lookup_and_stay(tmp_path, monkeypatch):
    pkg = tmp_path / "lazypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from xraynet.lazy import lazy_exports\n"
        "_EXPORTS = {'VALUE': 'heavy'}\n"
        "__all__ = sorted(_EXPORTS)\n"
        "__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)\n")
    (pkg / "heavy.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("lazypkg")
    try:
        assert "lazypkg.heavy" not in sys.modules and "VALUE" in dir(module)
        assert module.VALUE == 42 and "lazypkg.heavy" in sys.modules
        assert vars(module)["VALUE"] == 42  # kept: later lookups skip __getattr__
        with pytest.raises(AttributeError, match="module 'lazypkg' has no attribute 'missing'"):
            module.missing
    finally:
        for name in ("lazypkg", "lazypkg.heavy"):
            sys.modules.pop(name, None)
