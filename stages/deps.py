"""Keep every stage's code deps equal to the project files its command runs (its import closure).

usage: python -m stages.deps [--fix] [pipeline file ...]
Lists, per stage of the pipeline files (default: dvc.yaml, bench/dvc.yaml, seeds/dvc.yaml), the project files it
runs that its deps do not cover, and exits 1 if there are any. `--fix` rewrites each stage's code deps (those under
pipeline/ and stages/) as its sorted closure, data deps first, folder deps kept where they cover files.
"""

import argparse
import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

from pipeline.errors import UserError
from pipeline.provenance import PACKAGES, ROOT, import_closure
from stages.common import stage_main

PIPELINE_FILES = ("dvc.yaml", "bench/dvc.yaml", "seeds/dvc.yaml")


def _module(definition: dict, where: str) -> str:
    match = re.search(r"python -m (stages\.\w+)", str(definition.get("cmd", "")))
    if not match:
        raise UserError(f"{where}: expected a 'python -m stages.<module>' command")
    return match.group(1)


def _is_code(dep: str) -> bool:
    return dep.split("/")[0] in PACKAGES


def uncovered(deps: list[str], closure: list[Path]) -> list[str]:
    """The closure's files that no dep covers (a dep covers itself and, if a folder, everything below it)."""
    paths = [Path(d) for d in deps]
    return [str(f) for f in closure if not any(f == p or p in f.parents for p in paths)]


def fixed_deps(deps: list[str], closure: list[Path]) -> list[str]:
    """`deps` with the code part replaced by the closure: data deps first, then the sorted code deps (folder deps
    kept where they cover files)."""
    data = [d for d in deps if not _is_code(d)]
    folders = [d for d in deps if _is_code(d) and (ROOT / d).is_dir()]
    return data + sorted(set(folders) | set(uncovered(folders, closure)))


def _stage_definitions(document: dict):
    for name, stage in document.get("stages", {}).items():
        yield name, stage.get("do", stage)


@stage_main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fix", action="store_true", help="rewrite the code deps in place")
    parser.add_argument("files", nargs="*", default=[f for f in PIPELINE_FILES if (ROOT / f).is_file()])
    args = parser.parse_args(argv)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    missing = 0
    for file in args.files:
        path = ROOT / file
        document = yaml.load(path.read_text())
        for name, definition in _stage_definitions(document):
            if (path.parent / definition.get("wdir", ".")).resolve() != ROOT:
                raise UserError(f"{file}: stage {name}: expected paths relative to the repository root "
                                "(wdir: .. for a pipeline file in a folder)")
            closure = import_closure(_module(definition, f"{file}: stage {name}"), ROOT)
            deps = [str(d) for d in definition.get("deps", [])]
            if lacking := uncovered(deps, closure):
                missing += len(lacking)
                print(f"{file}: stage {name} runs files its deps miss: {', '.join(lacking)}")
            if args.fix:
                definition["deps"] = fixed_deps(deps, closure)
        if args.fix:
            with path.open("w") as stream:
                yaml.dump(document, stream)
    if missing and not args.fix:
        sys.exit(1)


if __name__ == "__main__":
    main()
