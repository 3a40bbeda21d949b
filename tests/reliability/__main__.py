"""``python -m tests.reliability``: the whole long suite (see tests.reliability.suite)."""

import sys

from tests.reliability.suite import main

sys.exit(main())
