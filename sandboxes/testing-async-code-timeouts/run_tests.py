# run_tests.py: runs the suite as `python3 -m pytest` would, in this process, and exits with its status
import sys

import pytest

# --durations=0: list how long every test took, however short
sys.exit(pytest.main(["-v", "--durations=0", "test_rates.py"]))
