"""The 17-joint skeleton is the 32-joint one with joints left out, and its sides follow the joints' names."""

from pipeline.skeleton import JOINT_NAMES_17, JOINTS_17, LEFT_17, PARENTS_17, PARENTS_32

THORAX_32 = 13
SHOULDER_ANCHORS_32 = (16, 24)  # the files place them at the thorax, which the 17-joint tree hangs the arms from


def _nearest_kept_ancestor(joint: int) -> int:
    parent = PARENTS_32[joint]
    if parent in SHOULDER_ANCHORS_32:
        return THORAX_32
    while parent >= 0 and parent not in JOINTS_17:
        parent = PARENTS_32[parent]
    return parent


def test_parents_of_the_17_joints_are_their_nearest_ancestors_among_the_32():
    assert len(JOINTS_17) == len(PARENTS_17) == len(JOINT_NAMES_17) == 17
    for index, joint in enumerate(JOINTS_17):
        ancestor = _nearest_kept_ancestor(joint)
        assert PARENTS_17[index] == (JOINTS_17.index(ancestor) if ancestor >= 0 else -1), JOINT_NAMES_17[index]


def test_left_joints_mirror_the_right_ones():
    right = {j for j, name in enumerate(JOINT_NAMES_17) if name.startswith("r_")}
    assert LEFT_17 == {4, 5, 6, 11, 12, 13}
    assert {JOINT_NAMES_17[j][2:] for j in LEFT_17} == {JOINT_NAMES_17[j][2:] for j in right}
