"""The Human3.6M skeleton: the 32 joints of the motion-capture files and the 17 the pose task uses.

Joint order is the files' (and the 3d-pose-baseline release's); the root is the hip. Left and right are the
subject's own.
"""

NUM_JOINTS_32 = 32
# Parent of each of the 32 joints (-1 for the hip root); 16 and 24 are shoulder anchors at the thorax.
PARENTS_32 = (-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20, 19, 22, 12, 24, 25, 26,
              27, 28, 27, 30)
# The 17 joints of the pose task, as indices into the 32, their names and their parents (among the 17).
JOINTS_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
JOINT_NAMES_17 = ("hip", "r_hip", "r_knee", "r_foot", "l_hip", "l_knee", "l_foot", "spine", "thorax", "neck_nose",
                  "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist")
PARENTS_17 = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
LEFT_17 = frozenset(j for j, name in enumerate(JOINT_NAMES_17) if name.startswith("l_"))
