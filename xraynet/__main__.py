"""``python -m xraynet``: the same as the ``xraynet`` command."""

from .cli import main

raise SystemExit(main())
