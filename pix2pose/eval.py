"""Evaluation entry (model-zoo layout): same arguments as src/tools/5_evaluation_bop_basic.py."""

import os
import runpy
import sys

if __name__ == "__main__":
    tool = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "src", "tools", "5_evaluation_bop_basic.py"
    )
    sys.argv[0] = tool
    runpy.run_path(tool, run_name="__main__")
