"""Peak memory of prepare_celeba on N and 10N synthetic faces: streaming means it must not grow with N.

usage: ./aign python -m benchmarks.prepare_memory [--n 500] [--out metrics/bench_prepare_memory.json]
Each run is a fresh process; its peak resident set size is read with getrusage when it ends.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from pipeline.synthetic.celeba import write_celeba

CHILD = """
import resource, sys
from stages.prepare_celeba import main
main(["main", sys.argv[1], sys.argv[2]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(root: Path, work: Path) -> float:
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["celeba"]["root"] = str(root)
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    env_cwd = Path.cwd()
    result = subprocess.run([sys.executable, "-c", CHILD, str(work / "shards"), str(work / "metrics.json")],
                            cwd=env_cwd, env={"AIGN_PARAMS": str(work / "params.yaml"), "PATH": ""},
                            capture_output=True, text=True, check=True)
    return int(result.stdout.strip().splitlines()[-1]) / 1024  # KiB -> MiB


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (args.n, 10 * args.n):
            root, work = Path(tmp) / f"celeba{count}", Path(tmp) / f"work{count}"
            work.mkdir()
            write_celeba(root, seed=0, count=count)
            results[count] = peak_rss_mb(root, work)
            print(f"prepare_celeba on {count:6d} faces: peak RSS {results[count]:7.1f} MiB")
    growth = results[10 * args.n] / results[args.n] - 1
    print(f"growth from {args.n} to {10 * args.n} faces: {100 * growth:+.1f}% (target: below 20%)")
    if args.out:
        args.out.write_text(json.dumps({"faces": list(results), "peak_rss_mib": list(results.values()),
                                        "growth": round(growth, 4)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
