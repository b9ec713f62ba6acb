"""`python -m tests.support.faults`: one fault-injection run (see `driver`)."""

import sys

from tests.support.faults.driver import main

sys.exit(main())
