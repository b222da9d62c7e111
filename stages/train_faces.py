"""DVC stages train_sr@<memory>, train_inpaint@<memory> and train_sr_warmup: face AIGN with one memory set as the
discriminator's memory (experiment `warmup`: the memory set and train settings of faces.sr.warmup).

usage: python -m stages.train_faces <sr|inpaint> <memory set|warmup> <celeba shards> <memory shards> <model dir>
                                    <metrics json> <dvclive dir> [--seed N] [--init <model dir>]
"""

from pipeline.errors import ParamsError
from pipeline.tasks.faces import PLUGINS
from stages.common import stage_main
from stages.training import train_main


@stage_main
def main(argv):
    if not argv or argv[0] not in PLUGINS:
        raise ParamsError(f"expected a face task first ({' or '.join(PLUGINS)}), found {argv[:1]}")
    train_main(PLUGINS[argv[0]], argv[1:], __spec__.name, __doc__)


if __name__ == "__main__":
    main()
