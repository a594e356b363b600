import os
import sys

from autograder.cli import main

code = main()
# Everything the command wrote is closed or flushed here (results are replaced
# atomically, zygotes and workers are stopped by their owners). Tearing down the
# interpreter would only free what torch and its compiler stack imported: 1 to 2 s of
# every command on a 2-core machine, which a student waiting on `check` would notice.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0 if code is None else code)
