"""Face memory sets (params celeba.memory_sets): named attribute filters over the memory pool, and the pairs of them
whose comparison shows what a memory does to the outputs."""


def memory_pairs(names: list[str], memory_sets: dict[str, dict[str, int]]) -> list[tuple[str, str]]:
    """(with, without) for every two of the named memory sets that filter one attribute with opposite signs (young
    {Young: 1} and old {Young: -1}): the comparisons that show what a memory does to the outputs."""
    found = []
    for name in names:
        wanted = memory_sets.get(name, {})
        if len(wanted) != 1 or next(iter(wanted.values())) != 1:
            continue
        opposite = {a: -1 for a in wanted}
        found += [(name, other) for other in names if memory_sets.get(other) == opposite]
    return found
