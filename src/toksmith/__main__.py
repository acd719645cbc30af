import sys

from toksmith.cli import main

sys.exit(main())
