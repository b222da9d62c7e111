"""Which project files a module runs: its import closure within the project, and a digest of them.

DVC reruns a stage when one of its declared deps changes, and a resumed training must refuse a checkpoint written by
other code; both need the set of files a stage's code is made of. It is computed statically: every `import` and
`from ... import` of a project package anywhere in a module (functions included), the `__init__.py` of every package
on the way, and the data files that sit next to a module and are named in it as a string literal (e.g. a JSON table
the module opens through `Path(__file__).with_name(...)`).
"""

import ast
import hashlib
from pathlib import Path

PACKAGES = ("pipeline", "stages")  # the project's top-level packages
ROOT = Path(__file__).resolve().parents[1]


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The file of a dotted project module (`pipeline.render.pose` -> pipeline/render/pose.py), None if none."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_inits(module: str, root: Path) -> list[Path]:
    """The `__init__.py` files Python runs before `module`: one per enclosing package."""
    parts = module.split(".")
    return [f for i in range(1, len(parts)) if (f := module_file(".".join(parts[:i]), root))]


def _imported_modules(path: Path, module: str) -> set[str]:
    """Dotted names of every project module `path` imports (candidates: `from a import b` may name a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            names.add(origin)
            names.update(f"{origin}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] in PACKAGES}


def _data_files(path: Path) -> set[Path]:
    """Files next to `path` that it names as a string literal."""
    siblings = {p.name: p for p in path.parent.iterdir() if p.is_file() and p.suffix != ".py"}
    tree = ast.parse(path.read_text(), filename=str(path))
    return {siblings[node.value] for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in siblings}


def import_closure(module: str, root: Path = ROOT) -> list[Path]:
    """Every project file that importing `module` runs or reads, relative to `root`, sorted."""
    root = root.resolve()
    seen: set[Path] = set()
    pending = [module]
    visited_modules: set[str] = set()
    while pending:
        name = pending.pop()
        if name in visited_modules:
            continue
        visited_modules.add(name)
        path = module_file(name, root)
        if path is None:
            continue  # an attribute imported with `from package import name`, not a module
        for file in (path, *_package_inits(name, root)):
            if file not in seen:
                seen.add(file)
                pending.extend(_imported_modules(file, _module_name(file, root)))
        seen |= _data_files(path)
    return sorted(p.relative_to(root) for p in seen)


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def code_digest(module: str, root: Path = ROOT) -> str:
    """sha256 over the paths and contents of `module`'s import closure: changes when any file of its code does."""
    digest = hashlib.sha256()
    for relative in import_closure(module, root):
        digest.update(str(relative).encode() + b"\0" + (root / relative).read_bytes() + b"\0")
    return digest.hexdigest()
