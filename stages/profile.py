"""Print a params profile (profiles/<name>.yaml) as `dvc exp run -S` arguments.

usage: ./aign profile                  list the profiles
       ./aign profile <name>           print the profile as `-S key=value` arguments for `dvc exp run`:
                                       ./aign dvc exp run $(./aign profile paper-faces)

Values are printed as compact YAML flow (no spaces), so the shell's word splitting of `$(...)` keeps each one whole.
"""

import yaml

from pipeline.errors import ParamsError
from pipeline.profiles import available, load_profile, overrides, set_arguments
from stages.common import params_path, stage_main


@stage_main
def main(argv):
    if not argv:
        print("\n".join(available()))
        return
    path = params_path()
    try:
        params = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ParamsError(f"{path}: cannot read params ({err})") from None
    print(" ".join(set_arguments(overrides(load_profile(argv[0]), params))))


if __name__ == "__main__":
    main()
