"""Synthetic CelebA: procedural aligned faces whose pixels follow their attribute rows.

Attributes are sampled with CelebA-like frequencies and correlations (beards and baldness only on men, lipstick
mostly on women, gray hair mostly on the old), then drawn: hair colour and length, skin tone, nose size, smile and
open mouth, glasses, beard, moustache, hat, bangs, makeup, cheeks, eyebrows, earrings, necktie, necklace, blur. Pose,
lighting, skin and background vary per face, so restoring a face is not trivial. The landmark positions follow the
aligned 178x218 CelebA crops (eyes near y = 111, x = 70 and 108; mouth near y = 152).
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.datasets.celeba import ATTR_FILE, ATTRIBUTES, IMAGE_DIR, PARTITION_FILE
from pipeline.synthetic import write_marker

WIDTH, HEIGHT = 178, 218
A = {name: i for i, name in enumerate(ATTRIBUTES)}


@dataclass
class SynthCeleba:
    """params.yaml synthetic.celeba: how many faces, and the share of the val and test partitions."""

    seed: int
    count: int = 6000
    val_fraction: float = 0.1
    test_fraction: float = 0.1

    def units(self) -> int:
        return self.count

# Base frequency of each attribute (CelebA-like; rare ones raised so that small sets still contain them).
_FREQUENCY = {
    "5_o_Clock_Shadow": 0.11, "Arched_Eyebrows": 0.27, "Attractive": 0.51, "Bags_Under_Eyes": 0.2,
    "Bangs": 0.15, "Big_Lips": 0.24, "Big_Nose": 0.25, "Blurry": 0.05, "Bushy_Eyebrows": 0.14, "Chubby": 0.08,
    "Double_Chin": 0.05, "Eyeglasses": 0.12, "High_Cheekbones": 0.45, "Male": 0.42, "Narrow_Eyes": 0.12,
    "Oval_Face": 0.28, "Pale_Skin": 0.1, "Pointy_Nose": 0.28, "Receding_Hairline": 0.08, "Rosy_Cheeks": 0.08,
    "Smiling": 0.48, "Straight_Hair": 0.21, "Wavy_Hair": 0.32, "Wearing_Earrings": 0.19, "Wearing_Hat": 0.06,
    "Wearing_Necklace": 0.12, "Wearing_Necktie": 0.08, "Young": 0.77,
}


def sample_attributes(rng: np.random.Generator) -> np.ndarray:
    """One row of 40 values in {-1, 1} with the dependencies real faces have."""
    on = {name: rng.random() < p for name, p in _FREQUENCY.items()}
    male, young = on["Male"], on["Young"]
    on["Bald"] = male and rng.random() < (0.03 if young else 0.3)
    hair = rng.choice(["black", "brown", "blond", "gray", "other"],
                      p=[0.32, 0.28, 0.2, 0.03, 0.17] if young else [0.2, 0.2, 0.1, 0.4, 0.1])
    on.update(Black_Hair=hair == "black", Brown_Hair=hair == "brown", Blond_Hair=hair == "blond",
              Gray_Hair=hair == "gray")
    beard = male and rng.random() < 0.35
    on["No_Beard"] = not beard
    on["Goatee"] = beard and rng.random() < 0.4
    on["Mustache"] = male and rng.random() < (0.5 if beard else 0.08)
    on["Sideburns"] = beard and rng.random() < 0.5
    on["5_o_Clock_Shadow"] &= male and not beard
    on["Wearing_Lipstick"] = (not male) and rng.random() < 0.8
    on["Heavy_Makeup"] = (not male) and rng.random() < 0.6
    on["Wearing_Earrings"] &= not male or rng.random() < 0.1
    on["Wearing_Necktie"] &= male
    on["Mouth_Slightly_Open"] = rng.random() < (0.7 if on["Smiling"] else 0.25)
    on["Receding_Hairline"] &= not on["Bald"]
    on["Bangs"] &= not on["Bald"] and not on["Wearing_Hat"]
    on["Straight_Hair"] &= not on["Wavy_Hair"]
    row = np.array([1 if on.get(name, False) else -1 for name in ATTRIBUTES], np.int8)
    return row


def _has(row, name):
    return row[A[name]] == 1


def _colour(rng, lo, hi):
    return tuple(float(v) for v in rng.uniform(lo, hi))


def _hair_colour(row, rng):
    if _has(row, "Black_Hair"):
        return _colour(rng, [10, 10, 12], [35, 32, 35])
    if _has(row, "Blond_Hair"):
        return _colour(rng, [90, 185, 215], [140, 220, 250])
    if _has(row, "Brown_Hair"):
        return _colour(rng, [25, 50, 85], [50, 80, 120])
    if _has(row, "Gray_Hair"):
        g = rng.uniform(150, 205)
        return (g, g, g + 5)
    return _colour(rng, [20, 40, 110], [60, 80, 170])  # auburn / red


WRINKLE_PERIOD = 140 / 64 * 4  # pixels: 4 pixels of the default 64x64 crop, the period 4x4 pooling cancels
WRINKLE_DEPTH = 0.3  # furrows darken and ridges lighten the skin by this share


def _wrinkle(img: np.ndarray, phase: float, centre, half_size, horizontal: bool) -> None:
    """Skin folds: a zero-mean ridge-and-furrow shading of the skin inside a soft ellipse. Their period is the
    super-resolution renderer's pooling width, so the low-resolution face keeps no trace of them: the detail a
    memory of old faces must supply."""
    (x, y), (hx, hy) = centre, half_size
    x0, x1 = max(int(x - hx - 3), 0), min(int(x + hx + 4), WIDTH)
    y0, y1 = max(int(y - hy - 3), 0), min(int(y + hy + 4), HEIGHT)
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    inside = np.clip(1.5 - np.sqrt(((gx - x) / hx) ** 2 + ((gy - y) / hy) ** 2) * 1.5, 0, 1)
    along = gy if horizontal else gx
    shade = np.sin(2 * np.pi * along / WRINKLE_PERIOD + phase)
    img[y0:y1, x0:x1] *= (1 + WRINKLE_DEPTH * inside * shade)[..., None]


def draw_face(row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(218, 178, 3) uint8 BGR face drawn from its attribute row."""
    img = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    top, bottom = np.array(_colour(rng, [40, 40, 40], [230, 230, 230])), np.array(_colour(rng, [20, 20, 20],
                                                                                           [200, 200, 200]))
    img[:] = (top + (bottom - top) * np.linspace(0, 1, HEIGHT)[:, None, None]).astype(np.float32)
    for _ in range(4):  # soft background blobs
        cv2.circle(img, (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))), int(rng.integers(10, 50)),
                   _colour(rng, [0, 0, 0], [255, 255, 255]), -1, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 6)

    male, young = _has(row, "Male"), _has(row, "Young")
    yaw = rng.uniform(-1, 1)  # turns the face: features shift sideways
    cx, cy = 89 + 4 * yaw, 125 + rng.normal(0, 2)
    # Skin tones lie on a line from dark brown to light beige (BGR), with a little hue jitter.
    tone = rng.uniform(0.92, 1.0) if _has(row, "Pale_Skin") else rng.uniform(0.0, 0.8)
    skin = np.array([45, 70, 110]) + tone * np.array([170, 160, 135]) + rng.normal(0, 6, 3)
    hair = _hair_colour(row, rng)
    face_w = 41 + (7 if _has(row, "Chubby") else 0) + (2 if male else 0) - (3 if _has(row, "Oval_Face") else 0)
    face_h = 55 + (3 if _has(row, "Oval_Face") else 0)

    # Hair behind the head: long for most women, short for most men; none when bald.
    if not _has(row, "Bald"):
        long_hair = (not male and rng.random() < 0.85) or (male and rng.random() < 0.1)
        if long_hair:
            cv2.ellipse(img, (int(cx), int(cy + 20)), (face_w + 16, face_h + 40), 0, 180, 360, hair, -1, cv2.LINE_AA)
            cv2.rectangle(img, (int(cx - face_w - 16), int(cy + 18)), (int(cx + face_w + 16), HEIGHT), hair, -1)
        else:
            cv2.ellipse(img, (int(cx), int(cy - 8)), (face_w + 7, face_h + 8), 0, 180, 360, hair, -1, cv2.LINE_AA)
    # Neck, shoulders and clothes.
    clothes = _colour(rng, [20, 20, 20], [220, 220, 220])
    cv2.rectangle(img, (int(cx - 17), int(cy + 40)), (int(cx + 17), int(cy + 80)), tuple(skin * 0.85), -1)
    cv2.ellipse(img, (int(cx), HEIGHT + 10), (80, 38), 0, 180, 360, clothes, -1, cv2.LINE_AA)
    if _has(row, "Wearing_Necktie"):
        tie = np.array([[cx - 6, HEIGHT - 30], [cx + 6, HEIGHT - 30], [cx + 9, HEIGHT], [cx - 9, HEIGHT]], np.int32)
        cv2.fillPoly(img, [tie], _colour(rng, [20, 20, 120], [90, 90, 220]), cv2.LINE_AA)
    if _has(row, "Wearing_Necklace"):
        cv2.ellipse(img, (int(cx), int(cy + 72)), (20, 10), 0, 0, 180, (200, 215, 230), 2, cv2.LINE_AA)

    # Face: ellipse, squarer jaw for men, double chin.
    cv2.ellipse(img, (int(cx), int(cy)), (face_w, face_h), 0, 0, 360, tuple(skin), -1, cv2.LINE_AA)
    if male:
        jaw = np.array([[cx - face_w + 3, cy + 10], [cx + face_w - 3, cy + 10], [cx + face_w - 14, cy + face_h - 4],
                        [cx - face_w + 14, cy + face_h - 4]], np.int32)
        cv2.fillPoly(img, [jaw], tuple(skin), cv2.LINE_AA)
    if _has(row, "Double_Chin"):
        cv2.ellipse(img, (int(cx), int(cy + face_h - 2)), (20, 7), 0, 0, 180, tuple(skin * 0.85), 2, cv2.LINE_AA)
    # Ears and earrings.
    for side in (-1, 1):
        ear = (int(cx + side * (face_w + 1)), int(cy - 2))
        cv2.ellipse(img, ear, (6, 12), 0, 0, 360, tuple(skin * 0.92), -1, cv2.LINE_AA)
        if _has(row, "Wearing_Earrings"):
            cv2.circle(img, (ear[0], ear[1] + 14), 3, (60, 200, 230), -1, cv2.LINE_AA)
    phases = iter(rng.uniform(0, 2 * np.pi, 6))  # drawn for every face: the rest of the face stays the same
    if not young:
        _wrinkle(img, next(phases), (cx, cy - 36), (28, 11), horizontal=True)  # forehead furrows
        _wrinkle(img, next(phases), (cx, cy + 6), (15, 5), horizontal=True)  # under the eyes, over the nose
        for side in (-1, 1):  # crow's feet and cheek folds
            _wrinkle(img, next(phases), (cx + side * (face_w - 7), cy - 6), (5, 15), horizontal=False)
            _wrinkle(img, next(phases), (cx + side * 22, cy + 22), (5, 11), horizontal=False)
    # Beard, stubble, goatee, sideburns (darker hair colour on the lower face).
    beard_colour = tuple(np.array(hair) * 0.8)
    if not _has(row, "No_Beard"):
        cv2.ellipse(img, (int(cx), int(cy + 22)), (face_w - 2, face_h - 20), 0, 0, 180, beard_colour, -1,
                    cv2.LINE_AA)
    if _has(row, "5_o_Clock_Shadow"):
        stubble = tuple(skin * 0.72)
        cv2.ellipse(img, (int(cx), int(cy + 22)), (face_w - 4, face_h - 22), 0, 0, 180, stubble, -1, cv2.LINE_AA)
    if _has(row, "Goatee"):
        cv2.ellipse(img, (int(cx + 2 * yaw), int(cy + 45)), (10, 9), 0, 0, 360, beard_colour, -1, cv2.LINE_AA)
    if _has(row, "Sideburns"):
        for side in (-1, 1):
            cv2.rectangle(img, (int(cx + side * (face_w - 6)) - 3, int(cy - 15)),
                          (int(cx + side * (face_w - 6)) + 3, int(cy + 12)), beard_colour, -1)

    # Hairline, bangs, hat.
    if _has(row, "Bald"):
        cv2.ellipse(img, (int(cx), int(cy - 12)), (face_w, face_h), 0, 180, 360, tuple(skin * 1.05), -1,
                    cv2.LINE_AA)
    else:
        hairline = cy - face_h + (22 if _has(row, "Receding_Hairline") else 14)
        cv2.ellipse(img, (int(cx), int(hairline)), (face_w + 2, 18), 0, 180, 360, hair, -1, cv2.LINE_AA)
        if _has(row, "Bangs"):
            cv2.rectangle(img, (int(cx - face_w + 6), int(hairline - 4)), (int(cx + face_w - 6), int(cy - 22)),
                          hair, -1)
        if _has(row, "Wavy_Hair"):
            for k in range(-3, 4):
                cv2.ellipse(img, (int(cx + 12 * k), int(hairline - 8)), (6, 4), 0, 0, 180,
                            tuple(np.array(hair) * 0.7), 1, cv2.LINE_AA)
    if _has(row, "Wearing_Hat"):
        hat = _colour(rng, [20, 20, 20], [200, 200, 200])
        cv2.ellipse(img, (int(cx), int(cy - face_h + 18)), (face_w + 22, 9), 0, 0, 360, hat, -1, cv2.LINE_AA)
        cv2.rectangle(img, (int(cx - face_w + 2), int(cy - face_h - 22)), (int(cx + face_w - 2),
                                                                            int(cy - face_h + 16)), hat, -1)

    # Eyes, eyebrows, bags, makeup.
    eye_y = cy - 14
    eye_h = 3 if _has(row, "Narrow_Eyes") else 5
    iris = _colour(rng, [20, 30, 30], [140, 120, 90])
    for side in (-1, 1):
        ex = cx + side * 19 + 3 * yaw
        if _has(row, "Heavy_Makeup"):
            cv2.ellipse(img, (int(ex), int(eye_y - 3)), (11, 6), 0, 180, 360, (110, 60, 90), -1, cv2.LINE_AA)
        cv2.ellipse(img, (int(ex), int(eye_y)), (9, eye_h), 0, 0, 360, (235, 235, 235), -1, cv2.LINE_AA)
        cv2.circle(img, (int(ex + 2 * yaw), int(eye_y)), min(eye_h, 4), iris, -1, cv2.LINE_AA)
        cv2.circle(img, (int(ex + 2 * yaw), int(eye_y)), 1, (10, 10, 10), -1, cv2.LINE_AA)
        if _has(row, "Bags_Under_Eyes"):
            cv2.ellipse(img, (int(ex), int(eye_y + 6)), (8, 3), 0, 0, 180, tuple(skin * 0.7), 1, cv2.LINE_AA)
        brow = 4 if _has(row, "Bushy_Eyebrows") else (3 if male else 2)
        arch = 4 if _has(row, "Arched_Eyebrows") else 1
        cv2.ellipse(img, (int(ex), int(eye_y - 9 + arch)), (11, arch + 1), 0, 180, 360,
                    tuple(np.array(hair) * 0.6), brow, cv2.LINE_AA)
    if _has(row, "Eyeglasses"):
        frame = _colour(rng, [5, 5, 5], [60, 60, 60])
        for side in (-1, 1):
            cv2.circle(img, (int(cx + side * 19 + 3 * yaw), int(eye_y)), 13, frame, 2, cv2.LINE_AA)
        cv2.line(img, (int(cx - 6 + 3 * yaw), int(eye_y)), (int(cx + 6 + 3 * yaw), int(eye_y)), frame, 2,
                 cv2.LINE_AA)
        for side in (-1, 1):
            cv2.line(img, (int(cx + side * 32 + 3 * yaw), int(eye_y)), (int(cx + side * (face_w + 1)), int(eye_y - 2)),
                     frame, 2, cv2.LINE_AA)
    if _has(row, "Rosy_Cheeks") or _has(row, "High_Cheekbones"):
        blush = (110, 110, 225) if _has(row, "Rosy_Cheeks") else tuple(skin * 1.08)
        for side in (-1, 1):
            cv2.ellipse(img, (int(cx + side * 24 + 3 * yaw), int(cy + 8)), (8, 5), 0, 0, 360, blush, -1,
                        cv2.LINE_AA)

    # Nose: a shaded wedge and nostrils; big noses are wider and longer, pointy ones narrow to a tip.
    big = _has(row, "Big_Nose")
    nose_w, nose_len = (13, 27) if big else (7, 20)
    tip_y = cy + 2 + (3 if big else 0)
    nx = cx + 6 * yaw
    tip = 2 if _has(row, "Pointy_Nose") else nose_w
    wedge = np.array([[nx - 2, tip_y - nose_len], [nx + 2, tip_y - nose_len], [nx + tip, tip_y],
                      [nx - tip, tip_y]], np.int32)
    cv2.fillPoly(img, [wedge], tuple(skin * 0.82), cv2.LINE_AA)
    cv2.ellipse(img, (int(nx), int(tip_y)), (nose_w, 5 if big else 3), 0, 0, 360, tuple(skin * 0.78), -1,
                cv2.LINE_AA)
    for side in (-1, 1):
        cv2.circle(img, (int(nx + side * nose_w * 0.5), int(tip_y + 1)), 2, tuple(skin * 0.45), -1, cv2.LINE_AA)

    # Moustache and mouth: smiles curve up and widen, open mouths show teeth, lipstick reddens the lips.
    mx, my = cx + 5 * yaw, cy + 27
    if _has(row, "Mustache"):
        cv2.ellipse(img, (int(mx), int(my - 5)), (14, 4), 0, 180, 360, beard_colour, -1, cv2.LINE_AA)
    lips = (70, 50, 200) if _has(row, "Wearing_Lipstick") else tuple(skin * np.array([0.7, 0.7, 0.95]))
    lip_w = 6 if _has(row, "Big_Lips") else 2
    if _has(row, "Smiling"):
        width = 19
        if _has(row, "Mouth_Slightly_Open"):
            cv2.ellipse(img, (int(mx), int(my)), (width, 9), 0, 0, 180, (40, 30, 60), -1, cv2.LINE_AA)
            cv2.ellipse(img, (int(mx), int(my)), (width - 3, 4), 0, 0, 180, (240, 240, 240), -1, cv2.LINE_AA)
        cv2.ellipse(img, (int(mx), int(my)), (width, 9), 0, 0, 180, lips, lip_w, cv2.LINE_AA)
        cv2.line(img, (int(mx - width), int(my)), (int(mx + width), int(my)), lips, max(lip_w - 1, 1), cv2.LINE_AA)
    else:
        width = 13
        if _has(row, "Mouth_Slightly_Open"):
            cv2.ellipse(img, (int(mx), int(my)), (width - 4, 4), 0, 0, 360, (40, 30, 60), -1, cv2.LINE_AA)
        cv2.ellipse(img, (int(mx), int(my)), (width, lip_w + 1), 0, 0, 360, lips, lip_w, cv2.LINE_AA)

    # Pose roll and scale, lighting from one side, sensor noise and optional blur.
    roll, scale = rng.normal(0, 3), rng.uniform(0.95, 1.05)
    warp = cv2.getRotationMatrix2D((cx, cy), roll, scale)
    img = cv2.warpAffine(img, warp, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT)
    direction = rng.uniform(-1, 1)
    gain = 1 + 0.3 * direction * np.linspace(-1, 1, WIDTH)[None, :, None] + rng.uniform(-0.15, 0.15)
    img = img * gain + rng.normal(0, 3, img.shape)
    if _has(row, "Blurry"):
        img = cv2.GaussianBlur(img, (0, 0), 2.5)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_celeba(root: Path, *, seed: int, count: int, val_fraction: float = 0.1, test_fraction: float = 0.1,
                 jpeg_quality: int = 90, progress=None) -> None:
    """Write `count` faces in the CelebA layout with attribute and partition files (train, then val, then test)."""
    root = Path(root)
    (root / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    n_test = int(round(count * test_fraction))
    n_val = int(round(count * val_fraction))
    n_train = count - n_val - n_test
    rng = np.random.default_rng(seed)
    with open(root / ATTR_FILE, "w") as attrs, open(root / PARTITION_FILE, "w") as parts:
        attrs.write(f"{count}\n" + " ".join(ATTRIBUTES) + "\n")
        for index in range(1, count + 1):
            file = f"{index:06d}.jpg"
            row = sample_attributes(rng)
            face = draw_face(row, rng)
            cv2.imwrite(str(root / IMAGE_DIR / file), face, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
            # The real file pads values to aligned columns: one or more spaces between fields.
            attrs.write(file + " " + " ".join(f"{v:2d}" for v in row) + "\n")
            partition = 0 if index <= n_train else (1 if index <= n_train + n_val else 2)
            parts.write(f"{file} {partition}\n")
            if progress is not None:
                progress.step()
    write_marker(root, "celeba", seed, count=count)
