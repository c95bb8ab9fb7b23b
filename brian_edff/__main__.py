"""``python -m brian_edff``: see :mod:`brian_edff.cli`."""

import sys

from .cli import main

sys.exit(main())
