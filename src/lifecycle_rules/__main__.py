"""`python -m lifecycle_rules`: the command line."""

import sys

from lifecycle_rules.io.cli import main

sys.exit(main())
