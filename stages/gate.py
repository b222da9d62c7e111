"""The CI metric gate: compare the workspace's metrics with those committed at a git revision.

usage: python -m stages.gate [--rev HEAD]
Prints `dvc metrics diff --md <rev>` and exits 1 when a metric gated by params.yaml `gate.rules` worsened beyond its
tolerance, when a metric of <rev> disappeared from a file the pipeline still writes, or when a claim of `gate.claims`
does not hold on the workspace's metrics (2 on bad params or when dvc fails).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from pipeline.errors import UserError
from pipeline.gate import GateParams, broken_claims, read_metric, regressions
from stages.common import load_params, stage_main


def _declared_outputs() -> set[str]:
    """Every file a stage of the workspace's pipeline files writes, relative to the repository root."""
    from dvc.repo import Repo

    with Repo(".") as repo:
        root = Path(repo.root_dir)
        return {str(Path(out.fs_path).relative_to(root)) for stage in repo.index.stages for out in stage.outs}


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
    gate = load_params("gate", GateParams)
    print(f"Metrics: {args.rev} -> workspace\n")
    print(_dvc("metrics", "diff", "--md", args.rev) or "(no metric changed)")
    diff = json.loads(_dvc("metrics", "diff", "--json", args.rev) or "{}")
    found = regressions(diff, gate.rules, _declared_outputs())
    found += broken_claims(gate.claims, lambda reference: read_metric(Path("."), reference))
    if found:
        print("Gate FAILED:")
        for line in found:
            print(f"  {line}")
        sys.exit(1)
    print(f"Gate passed: no gated metric worsened beyond its tolerance or disappeared ({len(gate.rules)} rules), "
          f"and every claim holds ({len(gate.claims)} claims).")


if __name__ == "__main__":
    main()
