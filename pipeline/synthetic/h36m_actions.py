"""Motion of the 15 Human3.6M actions for the synthetic stand-in.

A take is a sequence of key poses, each held for a second or two and blended smoothly into the next. A key pose joins
a lower-body state (standing, walking, sitting on a chair or on the floor, lying, kneeling, crouching, bending,
lunging) with an upper-body state (gestures, pointing, a hand at the ear or the mouth, arms crossed, on the hips, over
the head, ...), each drawn from the action's repertoire with random angles. Every joint also wanders a few degrees
all the time. Walking moves the body through the capture area at a human pace, facing where it goes.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.synthetic.h36m_skeleton import DOFS, INDEX

FPS = 50
AREA = np.array([1400.0, 1600.0])  # half extents (x, y) of the capture area the root stays in, mm
# How much each joint wanders around its key pose: standard deviation (degrees) per DOF name suffix.
_WANDER = {"pitch": 1.0, "roll": 1.0, "waist": 6.0, "chest": 5.0, "neck": 12.0, "hip": 6.0, "knee": 8.0,
           "ankle": 6.0, "clav": 6.0, "sh": 15.0, "elbow": 18.0, "seat": 0.0}
WANDER = np.array([_WANDER[n[2:].split("_")[0] if n[:2] in ("l_", "r_") else n.split("_")[0]] for n in DOFS])

Pose = dict[str, float]
Sampler = Callable[[np.random.Generator], Pose]


def _arm(side: str, raise_, az, twist, elbow) -> Pose:
    return {f"{side}_sh_raise": raise_, f"{side}_sh_az": az, f"{side}_sh_twist": twist, f"{side}_elbow": elbow}


def _leg(side: str, raise_, az, twist, knee, ankle=0.0) -> Pose:
    return {f"{side}_hip_raise": raise_, f"{side}_hip_az": az, f"{side}_hip_twist": twist, f"{side}_knee": knee,
            f"{side}_ankle": ankle}


def _sides(rng) -> tuple[str, str]:
    """The active and the other side, at random."""
    return ("l", "r") if rng.random() < 0.5 else ("r", "l")


def _relaxed_arm(rng, side) -> Pose:
    return _arm(side, rng.uniform(3, 18), rng.uniform(40, 100), rng.uniform(-15, 25), rng.uniform(5, 35))


# ------------------------------------------------------------------------------------------------ upper body

def _relaxed(rng) -> Pose:
    return _relaxed_arm(rng, "l") | _relaxed_arm(rng, "r") | {"neck_bend": rng.uniform(-10, 20)}


def _gesture(rng) -> Pose:
    one, other = _sides(rng)
    pose = _arm(one, rng.uniform(20, 85), rng.uniform(-25, 90), rng.uniform(-30, 60), rng.uniform(30, 115))
    if rng.random() < 0.5:
        return pose | _arm(other, rng.uniform(15, 70), rng.uniform(-20, 90), rng.uniform(-30, 60), rng.uniform(30, 110))
    return pose | _relaxed_arm(rng, other)


def _point(rng) -> Pose:
    one, other = _sides(rng)
    return (_arm(one, rng.uniform(65, 115), rng.uniform(-15, 85), rng.uniform(-20, 30), rng.uniform(0, 25))
            | _relaxed_arm(rng, other) | {"neck_twist": rng.uniform(-40, 40)})


def _ear(rng) -> Pose:
    one, other = _sides(rng)
    return (_arm(one, rng.uniform(25, 55), rng.uniform(40, 85), rng.uniform(55, 90), rng.uniform(135, 150))
            | _relaxed_arm(rng, other) | {"neck_side": rng.uniform(-15, 15)})


def _mouth(rng) -> Pose:
    one, other = _sides(rng)
    return (_arm(one, rng.uniform(15, 45), rng.uniform(-10, 35), rng.uniform(0, 35), rng.uniform(120, 148))
            | _relaxed_arm(rng, other))


def _crossed(rng) -> Pose:
    return (_arm("l", rng.uniform(20, 45), rng.uniform(-40, -15), rng.uniform(65, 90), rng.uniform(95, 125))
            | _arm("r", rng.uniform(20, 45), rng.uniform(-40, -15), rng.uniform(65, 90), rng.uniform(95, 125)))


def _on_hips(rng) -> Pose:
    return (_arm("l", rng.uniform(25, 45), rng.uniform(90, 120), rng.uniform(-65, -30), rng.uniform(90, 125))
            | _arm("r", rng.uniform(25, 45), rng.uniform(90, 120), rng.uniform(-65, -30), rng.uniform(90, 125)))


def _arms_up(rng) -> Pose:
    pose = _arm("l", rng.uniform(130, 178), rng.uniform(30, 105), rng.uniform(-20, 40), rng.uniform(0, 45))
    pose |= _arm("r", rng.uniform(130, 178), rng.uniform(30, 105), rng.uniform(-20, 40), rng.uniform(0, 45))
    if rng.random() < 0.4:  # one arm only
        pose |= _relaxed_arm(rng, _sides(rng)[0])
    return pose | {"neck_bend": rng.uniform(-35, 5)}


def _camera(rng) -> Pose:
    """Both hands in front of the face, holding a camera."""
    return (_arm("l", rng.uniform(45, 80), rng.uniform(-10, 30), rng.uniform(0, 40), rng.uniform(105, 140))
            | _arm("r", rng.uniform(45, 80), rng.uniform(-10, 30), rng.uniform(0, 40), rng.uniform(105, 140)))


def _reach(rng) -> Pose:
    """Reaching forwards: a handshake, a leash, a shelf."""
    one, other = _sides(rng)
    return (_arm(one, rng.uniform(30, 100), rng.uniform(-20, 50), rng.uniform(-20, 30), rng.uniform(0, 50))
            | _relaxed_arm(rng, other))


def _behind_back(rng) -> Pose:
    return (_arm("l", rng.uniform(-45, -20), rng.uniform(60, 110), rng.uniform(20, 60), rng.uniform(60, 100))
            | _arm("r", rng.uniform(-45, -20), rng.uniform(60, 110), rng.uniform(20, 60), rng.uniform(60, 100)))


def _partner(rng) -> Pose:
    """An arm around a walking partner's shoulders or hooked in their arm."""
    one, other = _sides(rng)
    return (_arm(one, rng.uniform(40, 100), rng.uniform(75, 115), rng.uniform(-20, 40), rng.uniform(30, 90))
            | _relaxed_arm(rng, other))


def _support(rng) -> Pose:
    """Hands on the floor behind the body (sitting on the floor)."""
    return (_arm("l", rng.uniform(-50, -25), rng.uniform(50, 100), rng.uniform(-10, 20), rng.uniform(0, 20))
            | _arm("r", rng.uniform(-50, -25), rng.uniform(50, 100), rng.uniform(-10, 20), rng.uniform(0, 20)))


def _on_knees(rng) -> Pose:
    """Forearms resting on the thighs (sitting, leaning forwards)."""
    return (_arm("l", rng.uniform(15, 45), rng.uniform(-10, 30), rng.uniform(-10, 30), rng.uniform(40, 90))
            | _arm("r", rng.uniform(15, 45), rng.uniform(-10, 30), rng.uniform(-10, 30), rng.uniform(40, 90)))


def _lying_arms(rng) -> Pose:
    if rng.random() < 0.4:  # above the head
        return (_arm("l", rng.uniform(140, 180), rng.uniform(40, 100), 0, rng.uniform(0, 60))
                | _arm("r", rng.uniform(140, 180), rng.uniform(40, 100), 0, rng.uniform(0, 60)))
    return (_arm("l", rng.uniform(0, 60), rng.uniform(60, 100), 0, rng.uniform(0, 90))
            | _arm("r", rng.uniform(0, 60), rng.uniform(60, 100), 0, rng.uniform(0, 90)))


UPPER: dict[str, Sampler] = {
    "relaxed": _relaxed, "gesture": _gesture, "point": _point, "ear": _ear, "mouth": _mouth, "crossed": _crossed,
    "on_hips": _on_hips, "arms_up": _arms_up, "camera": _camera, "reach": _reach, "behind_back": _behind_back,
    "partner": _partner, "support": _support, "on_knees": _on_knees, "lying": _lying_arms,
}


# ------------------------------------------------------------------------------------------------ lower body

def _stand(rng) -> Pose:
    one, other = _sides(rng)
    shift = rng.uniform(0, 25)  # weight on one leg, the other knee relaxed
    return (_leg(one, rng.uniform(-5, 8), rng.uniform(0, 12), rng.uniform(-10, 15), rng.uniform(0, 8))
            | _leg(other, rng.uniform(-5, 15), rng.uniform(0, 15), rng.uniform(-10, 20), shift)
            | {"waist_bend": rng.uniform(-8, 12), "waist_side": rng.uniform(-6, 6),
               "waist_twist": rng.uniform(-15, 15)})


def _walk(rng) -> Pose:  # the gait itself is added by `gait`
    return {"waist_bend": rng.uniform(0, 10)}


def _walk_bent(rng) -> Pose:  # walking a dog: bent forwards
    return {"waist_bend": rng.uniform(12, 35)}


def _bow(rng) -> Pose:
    return _stand(rng) | {"waist_bend": rng.uniform(25, 60), "neck_bend": rng.uniform(0, 30)}


def _bend(rng) -> Pose:
    knees = rng.uniform(0, 35)
    return (_leg("l", rng.uniform(-5, 15), rng.uniform(5, 25), 0, knees)
            | _leg("r", rng.uniform(-5, 15), rng.uniform(5, 25), 0, knees + rng.uniform(-10, 10))
            | {"waist_bend": rng.uniform(45, 92), "waist_twist": rng.uniform(-20, 20),
               "neck_bend": rng.uniform(-30, 10)})


def _crouch(rng) -> Pose:
    knee = rng.uniform(105, 148)
    return (_leg("l", rng.uniform(85, 125), rng.uniform(10, 40), rng.uniform(0, 30), knee, rng.uniform(15, 40))
            | _leg("r", rng.uniform(85, 125), rng.uniform(10, 40), rng.uniform(0, 30), knee + rng.uniform(-15, 5),
                   rng.uniform(15, 40))
            | {"waist_bend": rng.uniform(10, 45)})


def _kneel(rng) -> Pose:
    one, other = _sides(rng)
    if rng.random() < 0.4:  # on both knees
        return (_leg(one, rng.uniform(-5, 20), rng.uniform(0, 15), 0, rng.uniform(95, 135), rng.uniform(-30, -10))
                | _leg(other, rng.uniform(-5, 20), rng.uniform(0, 15), 0, rng.uniform(95, 135), rng.uniform(-30, -10))
                | {"waist_bend": rng.uniform(-10, 40)})
    return (_leg(one, rng.uniform(-10, 15), rng.uniform(0, 15), 0, rng.uniform(90, 125), rng.uniform(-30, 0))
            | _leg(other, rng.uniform(75, 105), rng.uniform(0, 20), 0, rng.uniform(80, 105))
            | {"waist_bend": rng.uniform(0, 35)})


def _lunge(rng) -> Pose:
    one, other = _sides(rng)
    return (_leg(one, rng.uniform(45, 90), rng.uniform(0, 30), 0, rng.uniform(45, 100))
            | _leg(other, rng.uniform(-25, -5), rng.uniform(0, 20), 0, rng.uniform(0, 30))
            | {"waist_bend": rng.uniform(-10, 25), "waist_twist": rng.uniform(-25, 25)})


def _one_leg(rng) -> Pose:
    one, other = _sides(rng)
    return (_leg(one, rng.uniform(40, 95), rng.uniform(-10, 40), 0, rng.uniform(50, 120))
            | _leg(other, rng.uniform(-5, 5), 0, 0, rng.uniform(0, 15)) | {"waist_side": rng.uniform(-10, 10)})


def _chair(rng) -> Pose:
    one, other = _sides(rng)
    pose = {"seat": rng.uniform(400, 480), "waist_bend": rng.uniform(-20, 40), "waist_twist": rng.uniform(-20, 20)}
    pose |= _leg(one, rng.uniform(70, 100), rng.uniform(0, 30), rng.uniform(-10, 20), rng.uniform(60, 120))
    if rng.random() < 0.3:  # legs crossed
        return pose | _leg(other, rng.uniform(95, 115), rng.uniform(-30, -15), rng.uniform(0, 25), rng.uniform(65, 95))
    return pose | _leg(other, rng.uniform(70, 100), rng.uniform(0, 30), rng.uniform(-10, 20), rng.uniform(40, 120))


def _floor(rng) -> Pose:
    """Sitting on the floor: cross-legged, legs stretched out or knees drawn up, often leaning back."""
    pose = {"pitch": -rng.uniform(0, 30) if rng.random() < 0.6 else 0.0, "waist_bend": rng.uniform(-10, 35)}
    kind = rng.integers(3)
    for side in "lr":
        if kind == 0:
            pose |= _leg(side, rng.uniform(60, 95), rng.uniform(35, 60), rng.uniform(25, 45), rng.uniform(120, 148))
        elif kind == 1:
            pose |= _leg(side, rng.uniform(75, 100), rng.uniform(0, 25), rng.uniform(-10, 20), rng.uniform(0, 40))
        else:
            pose |= _leg(side, rng.uniform(95, 125), rng.uniform(0, 30), 0, rng.uniform(100, 145))
    return pose


def _lie(rng) -> Pose:
    """Lying on the back (mostly), the front or a side; knees straight or drawn up."""
    knees = rng.uniform(0, 100) if rng.random() < 0.5 else 0.0
    pose = _leg("l", knees * 0.6, rng.uniform(0, 20), 0, knees) | _leg("r", knees * 0.6, rng.uniform(0, 20), 0, knees)
    turn = rng.random()
    if turn < 0.65:
        return pose | {"pitch": -rng.uniform(80, 95), "neck_bend": rng.uniform(0, 40)}
    if turn < 0.8:
        return pose | {"pitch": rng.uniform(80, 95), "neck_bend": rng.uniform(-40, 0)}
    return pose | {"pitch": -rng.uniform(70, 90), "roll": rng.choice([-1, 1]) * rng.uniform(60, 90)}


LOWER: dict[str, Sampler] = {
    "stand": _stand, "walk": _walk, "walk_bent": _walk_bent, "bow": _bow, "bend": _bend, "crouch": _crouch,
    "kneel": _kneel, "lunge": _lunge, "one_leg": _one_leg, "chair": _chair, "floor": _floor, "lie": _lie,
}
WALKING = {"walk": 1.2, "walk_bent": 0.9}  # lower states that move the body, with their speed in m/s
# Upper-body states a lower-body state imposes (the action's own repertoire is used otherwise).
IMPOSED = {"lie": {"lying": 1.0}, "floor": {"support": 0.5, "relaxed": 0.3, "gesture": 0.2}}


@dataclass(frozen=True)
class Action:
    lower: dict[str, float]  # lower-body states and their weights
    upper: dict[str, float]  # upper-body states and their weights
    hold: tuple[float, float] = (1.0, 2.5)  # seconds each key pose lasts, blend included


ACTIONS: dict[str, Action] = {
    "Directions": Action({"stand": 4, "walk": 2, "bow": 1}, {"point": 4, "gesture": 3, "relaxed": 2, "on_hips": 1}),
    "Discussion": Action({"stand": 5, "walk": 2, "bow": 1},
                         {"gesture": 5, "crossed": 2, "relaxed": 2, "on_hips": 1, "behind_back": 1}),
    "Eating": Action({"chair": 6, "stand": 1}, {"mouth": 5, "relaxed": 2, "on_knees": 2, "reach": 1}),
    "Greeting": Action({"stand": 4, "walk": 2, "bow": 2},
                       {"arms_up": 3, "reach": 3, "gesture": 2, "relaxed": 1}, hold=(0.8, 2.0)),
    "Phoning": Action({"stand": 4, "walk": 2, "chair": 2}, {"ear": 6, "relaxed": 1, "gesture": 1}),
    "Photo": Action({"crouch": 3, "stand": 3, "kneel": 2, "bend": 1, "lunge": 1},
                    {"camera": 6, "relaxed": 1, "point": 1, "reach": 1}),
    "Posing": Action({"stand": 3, "lunge": 3, "one_leg": 2, "kneel": 1, "crouch": 1, "bend": 1},
                     {"arms_up": 4, "on_hips": 2, "gesture": 2, "point": 2, "behind_back": 1}, hold=(1.2, 3.0)),
    "Purchases": Action({"stand": 3, "walk": 2, "bend": 3, "crouch": 2},
                        {"reach": 4, "relaxed": 2, "gesture": 2, "crossed": 1}),
    "Sitting": Action({"chair": 10, "stand": 1},
                      {"relaxed": 3, "on_knees": 3, "gesture": 2, "crossed": 2, "arms_up": 1, "mouth": 1},
                      hold=(1.5, 3.5)),
    "SittingDown": Action({"floor": 5, "lie": 3, "kneel": 2, "stand": 1, "crouch": 1},
                          {"relaxed": 3, "gesture": 2, "support": 2, "arms_up": 1}, hold=(1.2, 3.0)),
    "Smoking": Action({"stand": 5, "chair": 3, "walk": 1}, {"mouth": 5, "crossed": 2, "relaxed": 2, "ear": 1}),
    "Waiting": Action({"stand": 6, "chair": 2, "walk": 1, "bend": 1},
                      {"crossed": 3, "relaxed": 3, "on_hips": 2, "behind_back": 2, "arms_up": 1, "gesture": 1},
                      hold=(1.5, 3.5)),
    "WalkDog": Action({"walk_bent": 6, "bend": 1, "stand": 1}, {"reach": 6, "relaxed": 2}),
    "Walking": Action({"walk": 10}, {"relaxed": 8, "behind_back": 1, "gesture": 1}, hold=(2.0, 4.0)),
    "WalkTogether": Action({"walk": 10}, {"partner": 5, "relaxed": 4, "gesture": 1}, hold=(2.0, 4.0)),
}


def _pick(rng, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], np.float64)
    return names[rng.choice(len(names), p=p / p.sum())]


def _vector(pose: Pose) -> np.ndarray:
    out = np.zeros(len(DOFS))
    for name, value in pose.items():
        out[INDEX[name]] = value
    return out


def gait(phase: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Joint angles (N, D) a walking cycle adds to a pose; `amount` (N,) in [0, 1] scales them (0: standing)."""
    out = np.zeros((len(phase), len(DOFS)))
    for side, shift in (("l", 0.0), ("r", np.pi)):
        s = np.sin(phase + shift)
        out[:, INDEX[f"{side}_hip_raise"]] = 5 + 20 * s
        out[:, INDEX[f"{side}_knee"]] = 5 + 55 * np.clip(np.sin(phase + shift + 1.1), 0, None) ** 2
        out[:, INDEX[f"{side}_ankle"]] = 10 * np.sin(phase + shift - 0.6)
        out[:, INDEX[f"{side}_sh_raise"]] = -16 * s  # arms swing against the legs
        out[:, INDEX[f"{side}_elbow"]] = 12 * np.clip(-s, 0, None)
    out[:, INDEX["chest_twist"]] = 6 * np.sin(phase)
    out[:, INDEX["waist_twist"]] = -4 * np.sin(phase)
    return out * amount[:, None]


def _wander(rng, frames: int, time_constant: float = 0.6) -> np.ndarray:
    """Smooth random deviations (frames, D) with the per-DOF standard deviations of `WANDER` (an AR(1) process)."""
    a = np.exp(-1.0 / (FPS * time_constant))
    noise = rng.normal(size=(frames, len(DOFS))) * np.sqrt(1 - a * a)
    out = np.empty_like(noise)
    out[0] = rng.normal(size=len(DOFS))
    for i in range(1, frames):
        out[i] = a * out[i - 1] + noise[i]
    return out * WANDER


def take_motion(action: str, frames: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose vectors (N, D), root positions on the floor plane (N, 2) mm and headings (N,) radians for one take."""
    spec = ACTIONS[action]
    t = np.arange(frames) / FPS
    # Key poses: start times, pose vectors, walking speeds and headings to hold while standing still.
    starts, durations, poses, speeds = [], [], [], []
    time = -rng.uniform(0, spec.hold[1])  # the take starts somewhere inside its first key pose
    while time < t[-1] + 1e-9 or not starts:
        lower = _pick(rng, spec.lower)
        upper = _pick(rng, IMPOSED.get(lower, spec.upper))
        starts.append(time)
        durations.append(rng.uniform(*spec.hold))
        poses.append(_vector(UPPER[upper](rng) | LOWER[lower](rng)))
        speeds.append(WALKING.get(lower, 0.0) * rng.uniform(0.85, 1.15))
        time += durations[-1]
    starts, durations = np.array(starts), np.array(durations)
    # Blend weights: each key pose fades in over the first 40% of its time (smoothstep), the previous one out.
    index = np.searchsorted(starts, t, side="right") - 1
    fade = np.clip((t - starts[index]) / (0.4 * durations[index]), 0, 1)
    fade = fade * fade * (3 - 2 * fade)
    previous = np.maximum(index - 1, 0)
    pose_table, speed_table = np.stack(poses), np.array(speeds)
    dofs = (1 - fade)[:, None] * pose_table[previous] + fade[:, None] * pose_table[index]
    speed = (1 - fade) * speed_table[previous] + fade * speed_table[index]  # m/s
    # Walking: cadence about 0.9 strides per second at 1.2 m/s; the body heads for random goals in the area.
    phase = 2 * np.pi * np.cumsum(0.75 * speed / FPS) + rng.uniform(0, 2 * np.pi)
    dofs = dofs + gait(phase, np.clip(speed / 1.2, 0, 1)) + _wander(rng, frames)
    xy, yaw = _trajectory(rng, speed, starts, t)
    return dofs, xy, yaw


def _trajectory(rng, speed: np.ndarray, starts: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root positions (N, 2) mm and headings (N,): walk towards random goals, turn slowly while standing."""
    frames = len(t)
    position = rng.uniform(-0.7, 0.7, 2) * AREA
    heading = rng.uniform(-np.pi, np.pi)  # yaw: the body faces (-sin yaw, cos yaw)
    goal = rng.uniform(-1, 1, 2) * AREA
    turn_goal = heading
    xy, yaw = np.zeros((frames, 2)), np.zeros(frames)
    key = 0
    for i in range(frames):
        while key < len(starts) and t[i] >= starts[key]:
            turn_goal = heading + rng.normal(0, np.radians(50))  # a new key pose may face elsewhere
            key += 1
        walking = speed[i] / 1.2
        if walking > 0.05:
            if np.linalg.norm(goal - position) < 500 or np.any(np.abs(position) > AREA):
                goal = rng.uniform(-1, 1, 2) * AREA
            offset = goal - position
            turn_goal = np.arctan2(-offset[0], offset[1])
        step = np.angle(np.exp(1j * (turn_goal - heading)))  # shortest way round
        heading += np.clip(step, -np.radians(150) / FPS, np.radians(150) / FPS)
        position = position + speed[i] * 1000 / FPS * np.array([-np.sin(heading), np.cos(heading)])
        xy[i], yaw[i] = position, heading
    return xy, yaw
