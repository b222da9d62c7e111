"""DVC stages train_sfm_warmup and train_sfm@<variant>: depth and camera motion from Virtual KITTI pairs with the
shared AIGN loop.

usage: python -m stages.train_sfm <variant|warmup> <vkitti shards> <model dir> <metrics json> <dvclive dir> [--seed N]
                                  [--init <model dir>]

Experiment `warmup` is the photometric warm-up: a recon_only run with the settings of sfm.warmup.train over
sfm.train, which the variants' stages continue (`--init`).
"""

from pipeline.tasks.sfm import PLUGIN
from stages.common import stage_main
from stages.training import train_main


@stage_main
def main(argv):
    train_main(PLUGIN, argv, __spec__.name, __doc__)


if __name__ == "__main__":
    main()
