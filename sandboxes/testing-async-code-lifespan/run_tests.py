# run_tests.py: runs the suite as `python3 -m pytest` would, in this process, and exits with its status
import sys

import pytest

# --tb=line: a failing test is reported in one line, where the error was raised and what it was
sys.exit(pytest.main(["-v", "--tb=line", "test_lifespan.py"]))
