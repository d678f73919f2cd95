"""``python -m flowc_step``: runs one step (see :func:`flowc_step.main.main`)."""

import sys

from flowc_step.main import main

sys.exit(main(sys.argv[1:]))
