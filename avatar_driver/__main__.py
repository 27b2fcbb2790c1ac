"""`python -m avatar_driver` is the `avatar-driver` command."""

import sys

from .cli import main

sys.exit(main())
