"""``python -m backprop_lab``: see :mod:`backprop_lab.cli`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
