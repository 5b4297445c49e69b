"""``python -m xraynet.cli``: the ``xraynet`` command."""

if __name__ == "__main__":
    from . import main

    raise SystemExit(main())
