# run_tests.py: runs the suite as `python3 -m pytest` would, in this process, and exits with its status
import sys

import pytest

sys.exit(pytest.main(["-v", "-s", "test_app.py"]))
