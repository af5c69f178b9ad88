import os
import sys

# The mock estimators in tests/planted.py are imported by name, also by
# joblib's worker processes.
sys.path.insert(0, os.path.dirname(__file__))
