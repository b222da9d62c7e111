"""DVC stage train_pose@<variant>: train the pose generator (and discriminator) with the shared AIGN loop.

usage: python -m stages.train_pose <variant> <h36m shards> <basis .npz> <model dir> <metrics json> <dvclive dir>
       [--seed N]

Checkpoints go to data/checkpoints/pose-<variant>/ every pose.train.checkpoint_every steps; an interrupted run
started again with the same code, params and data resumes there and ends with the same weights.
"""

from pipeline.tasks.pose import PLUGIN
from stages.common import stage_main
from stages.training import train_main


@stage_main
def main(argv):
    train_main(PLUGIN, argv, __spec__.name, __doc__)


if __name__ == "__main__":
    main()
