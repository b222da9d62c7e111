"""DVC stage train_sfm@<variant>: depth and camera motion from Virtual KITTI pairs with the shared AIGN loop.

usage: python -m stages.train_sfm <variant> <vkitti shards> <model dir> <metrics json> <dvclive dir> [--seed N]
"""

from pipeline.tasks.sfm import PLUGIN
from stages.common import stage_main
from stages.training import train_main


@stage_main
def main(argv):
    train_main(PLUGIN, argv, __spec__.name, __doc__)


if __name__ == "__main__":
    main()
