"""Every task plug-in of the pipeline, by name: each module of `pipeline.tasks` that defines `PLUGIN` (one task) or
`PLUGINS` (several, by name) registers them, so a new task needs no edit here. The bench stage and the tests iterate
over the registry; a stage that runs one task imports that task's module alone, so its DVC deps hold no other task's
code."""

import importlib
import pkgutil

import pipeline.tasks
from pipeline.tasks.plugin import TaskPlugin


def _discover() -> dict[str, TaskPlugin]:
    found: dict[str, TaskPlugin] = {}
    for module_info in sorted(pkgutil.iter_modules(pipeline.tasks.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pipeline.tasks.{module_info.name}")
        plugins = getattr(module, "PLUGINS", {}) or ({module.PLUGIN.name: module.PLUGIN} if hasattr(module, "PLUGIN")
                                                     else {})
        for name, plugin in plugins.items():
            if name in found:
                raise ValueError(f"pipeline/tasks/{module_info.name}.py: task {name!r} is registered twice")
            found[name] = plugin
    return found


TASKS: dict[str, TaskPlugin] = _discover()
