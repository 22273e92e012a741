import sys

from babelwire.cli import main

sys.exit(main())
