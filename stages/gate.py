"""The CI metric gate: compare the workspace's metrics with those committed at a git revision.

usage: python -m stages.gate [--rev HEAD]
Prints `dvc metrics diff --md <rev>` and exits 1 when a metric gated by params.yaml `gate.rules` worsened beyond its
tolerance (2 on bad params or when dvc fails).
"""

import argparse
import json
import subprocess
import sys

from pipeline.errors import UserError
from pipeline.gate import GateParams, regressions
from stages.common import load_params, stage_main


def _dvc(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"dvc {' '.join(args)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rev", default="HEAD", help="git revision to compare the workspace with")
    args = parser.parse_args(argv)
    rules = load_params("gate", GateParams).rules
    print(f"Metrics: {args.rev} -> workspace\n")
    print(_dvc("metrics", "diff", "--md", args.rev) or "(no metric changed)")
    found = regressions(json.loads(_dvc("metrics", "diff", "--json", args.rev) or "{}"), rules)
    if found:
        print("Gate FAILED, regressions beyond tolerance:")
        for line in found:
            print(f"  {line}")
        sys.exit(1)
    print(f"Gate passed: no gated metric worsened beyond its tolerance ({len(rules)} rules).")


if __name__ == "__main__":
    main()
