"""Where did the NaN come from? Rerun a failing computation with hooks on every submodule and name the first module
whose output (in forward order) or whose output's gradient (in backward order) is not finite."""

from collections.abc import Callable

import torch


def _finite(value) -> bool:
    if isinstance(value, torch.Tensor):
        return not value.is_floating_point() or bool(torch.isfinite(value).all())
    if isinstance(value, tuple | list):
        return all(_finite(v) for v in value)
    return True


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for v in value for t in _tensors(v)]
    return []


def locate_non_finite(modules: dict[str, torch.nn.Module], loss_fn: Callable[[], torch.Tensor]) -> str:
    """Rerun `loss_fn` (forward and backward) with hooks on `modules` ({name: module}); describe, in words, the first
    place a non-finite value appears. Parameters' gradients are left as they were before the call."""
    forward_bad: list[str] = []
    backward_bad: list[str] = []
    handles = []
    saved = {p: p.grad for m in modules.values() for p in m.parameters()}

    def watch(name: str):
        def hook(module, inputs, output):
            if not forward_bad and not _finite(output):
                forward_bad.append(f"the output of {name} ({type(module).__name__})")
            for tensor in _tensors(output):
                if tensor.requires_grad:
                    tensor.register_hook(lambda grad: backward_bad.append(
                        f"the gradient at the output of {name} ({type(module).__name__})")
                        if not backward_bad and not _finite(grad) else None)
        return hook

    for prefix, root in modules.items():
        for sub, module in root.named_modules():
            handles.append(module.register_forward_hook(watch(f"{prefix}.{sub}" if sub else prefix)))
    try:
        loss = loss_fn()
        if forward_bad:
            return f"first non-finite value: {forward_bad[0]}"
        if not _finite(loss):
            return "every module output is finite: the non-finite value arose in the task's code after the models " \
                   "(renderer or loss)"
        for p in saved:
            p.grad = None
        loss.backward()
        if backward_bad:
            return f"first non-finite value: {backward_bad[0]}, i.e. the backward pass of what follows that " \
                   "module (the renderer or loss) produced it"
        for name, root in modules.items():
            for param_name, param in root.named_parameters():
                if param.grad is not None and not _finite(param.grad):
                    return f"first non-finite value: the gradient of {name}.{param_name}"
        return "the rerun of this step stayed finite (the failure depends on state this rerun does not repeat)"
    finally:
        for handle in handles:
            handle.remove()
        for p, grad in saved.items():
            p.grad = grad
