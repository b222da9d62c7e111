"""DVC stage pose_basis: PCA shape basis of the memory's 3D poses (canonical frame, see pipeline.pose_basis).

usage: python -m stages.pose_basis <h36m shards> <basis .npz> <metrics json>
"""

from dataclasses import dataclass

import numpy as np

from pipeline.atomic import atomic_outputs, write_json
from pipeline.errors import ParamsError
from pipeline.pose_basis import BasisAccumulator
from pipeline.shards import iterate_split
from stages.common import load_params, parse_paths, stage_main


@dataclass
class BasisParams:
    components: int = 24

    def check(self, where: str) -> None:
        if self.components < 1:
            raise ParamsError(f"param {where}.components: found {self.components}, expected a positive integer")


@stage_main
def main(argv):
    args = parse_paths(argv, __doc__, "shards", "basis", "metrics")
    cfg = load_params("pose.basis", BasisParams)

    accumulator, chunk = BasisAccumulator(), []
    for sample in iterate_split(args.shards, "memory"):
        chunk.append(sample["pose3d.npy"])
        if len(chunk) == 4096:
            accumulator.update(np.stack(chunk))
            chunk = []
    if chunk:
        accumulator.update(np.stack(chunk))
    try:
        basis = accumulator.fit(cfg.components)
    except ValueError as err:
        raise ParamsError(f"param pose.basis.components: {err}") from None
    with atomic_outputs(args.basis, args.metrics) as (basis_path, metrics):
        basis.save(basis_path)
        write_json(metrics, {"components": basis.size, "memory_poses": accumulator.n,
                             "explained_variance": round(float(basis.explained_variance_ratio.sum()), 6)})
    print(f"pose_basis: {basis.size} components explain {basis.explained_variance_ratio.sum():.4%} of the variance "
          f"of {accumulator.n} memory poses")


if __name__ == "__main__":
    main()
