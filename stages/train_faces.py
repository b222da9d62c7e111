"""DVC stages train_sr@<memory>, train_inpaint@<memory>, train_sr_warmup and train_inpaint_warmup: face AIGN with
one memory set as the discriminator's memory (experiment `warmup`: the memory set, train settings and, inpainting, the
hole of faces.<task>.warmup).

usage: python -m stages.train_faces <sr|inpaint> <memory set|warmup> <celeba shards> <memory shards> <model dir>
                                    <metrics json> <dvclive dir> [--seed N] [--init <model dir> | --warmup <model dir>]

--warmup names the task's warm-up model: the run starts from it if it is one the warm-up covers (every
super-resolution run; the inpainting runs of the warm-up's hole), from scratch otherwise.
"""

from pipeline.errors import ParamsError
from pipeline.tasks.faces import PLUGINS
from stages.common import load_params, stage_main
from stages.training import train_main


def resolve_warmup(plugin, argv: list[str]) -> list[str]:
    """`argv` (the item first) with `--warmup DIR` made `--init DIR` where the run starts from the warm-up, dropped
    where it does not."""
    if "--warmup" not in argv:
        return argv
    at = argv.index("--warmup")
    if at + 1 >= len(argv) or argv[at + 1].startswith("-") or "--init" in argv:
        raise ParamsError("--warmup: expected a model folder after it, and no --init beside it")
    rest = argv[:at] + argv[at + 2:]
    settings, _ = plugin.settings(load_params, rest[0])
    return rest + ["--init", argv[at + 1]] if plugin.starts_from_warmup(settings, rest[0]) else rest


@stage_main
def main(argv):
    if not argv or argv[0] not in PLUGINS:
        raise ParamsError(f"expected a face task first ({' or '.join(PLUGINS)}), found {argv[:1]}")
    plugin = PLUGINS[argv[0]]
    train_main(plugin, resolve_warmup(plugin, argv[1:]), __spec__.name, __doc__)


if __name__ == "__main__":
    main()
