"""`python -m antrian.cli`: the same as the `antrian` command."""

import sys

from antrian.cli.main import main

sys.exit(main())
