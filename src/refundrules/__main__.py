"""``python -m refundrules`` runs the command line."""

import sys

from refundrules._cli import main

sys.exit(main())
