"""``python -m xraynet_bench.worker SECTION JSON_KWARGS``: run one section, print its result.

The backend is the process's ``KERAS_BACKEND``; the result is printed as one line after
``BENCH_RESULT `` so that the orchestrator can read it from the output.
"""

from __future__ import annotations

import json
import os
import sys

from .timing import print_result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    section, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from xraynet.backend import backend_name
    from xraynet.cli.arguments import setup_process
    from . import sections

    setup_process(quiet=True)
    result = getattr(sections, section)(**kwargs)
    result["backend"] = backend_name()
    print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
