"""The face tasks in the shared loop, the attribute classifier, and the train / evaluate stages on tiny shards."""

import dataclasses
import hashlib
import json
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import assert_no_outputs, load_repo_params, run_stage_error

from pipeline.aign import TrainConfig, seed_everything, train
from pipeline.attributes import AttributeRates
from pipeline.batches import BatchStream
from pipeline.config import parse
from pipeline.errors import ParamsError
from pipeline.models.faces import FaceDiscriminator, SuperResolutionGenerator, _subpixel_conv
from pipeline.render.faces import average_pool
from pipeline.shards import split_urls
from pipeline.tasks.faces import PLUGINS, FaceModel, Inpainting, SuperResolution, collate_faces
from stages.evaluate_faces import main as evaluate_faces
from stages.prepare_celeba import main as prepare_celeba
from stages.report import main as report
from stages.train_classifier import main as train_classifier
from stages.train_faces import main as train_faces
from stages.training import warm_start

TINY_TRAIN = {"steps": 2, "batch_size": 4, "checkpoint_every": 1, "log_every": 1, "shuffle": 10}
TINY_MODEL = {"width": 8, "blocks": 1, "disc_width": 4}


@pytest.fixture(scope="module")
def faces(celeba_root, tmp_path_factory):
    """Tiny face shards (32x32) with two memory sets, and params for the face stages."""
    work = tmp_path_factory.mktemp("faces")
    params = load_repo_params()
    params["celeba"] |= {"root": str(celeba_root), "size": 32}
    params["faces"]["classifier"] |= {"steps": 3, "batch_size": 8, "width": 4, "members": 2}
    for task in ("sr", "inpaint"):
        params["faces"][task]["model"] = TINY_MODEL
        params["faces"][task]["train"] |= TINY_TRAIN
    params["faces"]["sr"]["warmup"] = {"memory_set": "big_nose", "train": {"steps": 1, "w_adv": 0.5}}
    params["faces"]["inpaint"]["warmup"] = {"memory_set": "big_nose", "mask": "nose", "train": {"steps": 1},
                                            "memory_train": {"steps": 3}}
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    os.environ["AIGN_PARAMS"] = str(work / "params.yaml")
    try:
        prepare_celeba(["main", str(work / "shards"), str(work / "main.json")])
        for name in ("big_nose", "small_nose"):
            prepare_celeba(["memory", name, str(work / name), str(work / f"{name}.json")])
    finally:
        del os.environ["AIGN_PARAMS"]
    return work


def _settings(task):
    cfg = TrainConfig(steps=2, batch_size=4)
    if task == "sr":
        return SuperResolution(factor=4, model=FaceModel(**TINY_MODEL), train=cfg)
    return Inpainting(mask="mouth", regions={"mouth": [58, 136, 62, 34]}, model=FaceModel(**TINY_MODEL), train=cfg)


@pytest.mark.parametrize("task", ["sr", "inpaint"])
@pytest.mark.parametrize("variant, losses", [
    ("supervised", {"loss_sup"}), ("recon_only", {"loss_rec"}), ("aign", {"loss_rec", "loss_adv", "loss_d", "grad_d"})])
def test_each_task_trains(faces, tmp_path, task, variant, losses):
    seed_everything(0)
    settings = _settings(task)
    face_task = PLUGINS[task].make_task(settings, 32, (19, 39, 140, 140))
    generator, discriminator = face_task.build()
    inputs = BatchStream(split_urls(faces / "shards", "inputs"), 4, collate_faces, shuffle=10)
    memory = BatchStream(split_urls(faces / "big_nose", "memory"), 4, collate_faces, shuffle=10, seed=1)
    before = [p.detach().clone() for p in generator.parameters()]
    summary = train(face_task, generator, discriminator, inputs, memory, settings.train, variant,
                    checkpoint=tmp_path / "ck.pt", fingerprint="f")
    assert set(summary["final"]) == losses | {"loss_g", "grad_g"}
    assert all(np.isfinite(v) for v in summary["final"].values())
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))


def test_super_resolution_starts_from_bicubic_and_reconstruction_sees_the_pooled_face():
    generator = SuperResolutionGenerator(factor=4, width=8, blocks=1)
    low = torch.rand(2, 3, 8, 8)
    expected = F.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)
    torch.testing.assert_close(generator(low), expected)
    task = PLUGINS["sr"].make_task(_settings("sr"), 32, None)
    batch = {"image": torch.rand(2, 3, 32, 32)}
    perfect = {"face": batch["image"]}
    assert task.reconstruction_loss(perfect, batch).item() == 0
    shifted = {"face": batch["image"] + 0.1}
    assert task.reconstruction_loss(shifted, batch).item() == pytest.approx(0.01, rel=1e-4)


def test_sub_pixel_upsampling_starts_as_nearest_neighbour_and_can_draw_finer_than_its_input():
    up = _subpixel_conv(6, 3)
    conv = up[0]
    low = torch.rand(2, 6, 5, 5)
    one_filter = F.conv2d(low, conv.weight[::4], conv.bias[::4], padding=1)
    torch.testing.assert_close(up(low), F.interpolate(one_filter, scale_factor=2, mode="nearest"))
    with torch.no_grad():  # the four filters of an output channel are free: here they draw a checkerboard
        conv.weight.zero_()
        conv.bias.copy_(torch.tensor([1.0, -1.0, -1.0, 1.0]).repeat(3))
    drawn = up(torch.zeros(1, 6, 2, 2))[0, 0]
    assert drawn.tolist() == [[1.0, -1.0] * 2, [-1.0, 1.0] * 2] * 2


def test_super_resolution_discriminator_can_judge_only_the_detail_the_renderer_destroys():
    task = PLUGINS["sr"].make_task(dataclasses.replace(_settings("sr"), disc_input="detail"), 32, None)
    faces = torch.rand(2, 3, 32, 32)
    smooth = F.interpolate(average_pool(faces, 4), scale_factor=4, mode="nearest")
    torch.testing.assert_close(task.fake({"face": smooth}, {}), torch.full_like(faces, 0.5))  # nothing to judge
    torch.testing.assert_close(task.real({"image": faces + smooth}), task.real({"image": faces}))
    with pytest.raises(ParamsError, match=r"param faces.sr.disc_input: found 'pixels', expected one of face, "
                                          r"detail, face_and_detail"):
        parse(SuperResolution, {"disc_input": "pixels"}, "faces.sr")


def test_super_resolution_outputs_are_back_projected_onto_their_input():
    settings = dataclasses.replace(_settings("sr"), back_projection=3)
    task = PLUGINS["sr"].make_task(settings, 32, None)
    generator, _ = task.build()
    torch.nn.init.normal_(generator.tail.weight, std=0.5)  # a generator far from the bicubic answer
    batch = {"image": torch.rand(2, 3, 32, 32)}
    raw = generator(task.observe(batch))
    face = task.predict(generator, batch)["face"]
    miss, raw_miss = (task.reconstruction_loss({"face": f}, batch) for f in (face, raw))
    assert miss < 0.05 * raw_miss
    assert face.requires_grad  # the correction is differentiable: D's gradient reaches the generator
    with pytest.raises(ParamsError, match=r"param faces.sr.back_projection: found -1, expected an integer >= 0"):
        parse(SuperResolution, {"back_projection": -1}, "faces.sr")


def test_the_face_view_discriminator_knows_where_a_feature_lies():
    """Patches averaged barely tell ridges on the forehead from the same ridges lower down (they differ only at the
    borders' padding); one judgement of the whole face does. Relative to the ridges' own effect, over five inits."""
    blank = torch.full((1, 3, 64, 64), 0.5)
    high, low = blank.clone(), blank.clone()
    high[..., 20:24, 24:40] = torch.tensor([0.2, 0.8, 0.2, 0.8])[:, None]
    low[..., 36:40, 24:40] = torch.tensor([0.2, 0.8, 0.2, 0.8])[:, None]  # 16 pixels lower: two strides of 8
    for seed in range(5):
        moved = {}
        for view in ("patches", "face"):
            torch.manual_seed(seed)
            discriminator = FaceDiscriminator(8, 3, 64 if view == "face" else None)
            with torch.no_grad():
                moved[view] = ((discriminator(high) - discriminator(low)).abs()
                               / (discriminator(high) - discriminator(blank)).abs()).item()
        assert moved["patches"] < moved["face"], (seed, moved)
    with pytest.raises(ParamsError, match=r"param faces.sr.disc_view: found 'pixels', expected patches or face"):
        parse(SuperResolution, {"disc_view": "pixels"}, "faces.sr")


def test_each_inpainting_memory_gets_the_hole_its_attribute_lives_in():
    settings = parse(Inpainting, {"mask": "mouth", "regions": {"mouth": [58, 136, 62, 34], "nose": [70, 96, 38, 44]},
                                  "memory_masks": {"big_nose": "nose"}}, "faces.inpaint")
    assert settings.for_memory("big_nose").mask == "nose" and settings.for_memory("big_lips").mask == "mouth"
    with pytest.raises(ParamsError, match=r"param faces.inpaint.memory_masks.big_nose: found 'nsoe', expected random "
                                          r"or one of the regions: mouth"):
        parse(Inpainting, {"regions": {"mouth": [58, 136, 62, 34]}, "memory_masks": {"big_nose": "nsoe"}},
              "faces.inpaint")


def test_a_hole_can_have_its_own_discriminator_margin():
    regions = {"mouth": [58, 136, 62, 34], "nose": [70, 96, 38, 44]}
    settings = parse(Inpainting, {"mask": "mouth", "regions": regions, "memory_masks": {"big_nose": "nose"},
                                  "disc_margin": 8, "disc_margins": {"mouth": 2}}, "faces.inpaint")
    assert settings.for_memory("big_lips").margin() == (2, "disc_margins.mouth")
    assert settings.for_memory("big_nose").margin() == (8, "disc_margin")
    windows = {item: PLUGINS["inpaint"].make_task(settings.for_memory(item), 64, (19, 39, 140, 140)).window
               for item in ("big_lips", "big_nose")}
    assert windows == {"big_lips": (30 + 4, 16 + 4), "big_nose": (18 + 16, 21 + 16)}  # the holes are 30x16, 18x21
    with pytest.raises(ParamsError, match=r"param faces.inpaint.disc_margins.mouht: found 'mouht', expected random "
                                          r"or one of the regions: mouth, nose"):
        parse(Inpainting, {"regions": regions, "disc_margins": {"mouht": 2}}, "faces.inpaint")
    with pytest.raises(ParamsError, match=r"param faces.inpaint.disc_margins.mouth: found -1, expected a margin >= 0"):
        PLUGINS["inpaint"].make_task(dataclasses.replace(settings, disc_margins={"mouth": -1}), 64, (19, 39, 140, 140))


def test_inpainting_pastes_the_hole_into_the_known_face():
    task = PLUGINS["inpaint"].make_task(_settings("inpaint"), 32, (19, 39, 140, 140))
    batch = {"image": torch.rand(2, 3, 32, 32), "keys": ["a", "b"]}

    def constant(known, mask):
        return torch.full_like(known, 0.5)

    pred = task.predict(constant, batch)
    hole = pred["mask"].expand_as(batch["image"]) == 1
    assert hole.any() and not hole.all()
    assert torch.equal(pred["face"][~hole], batch["image"][~hole])
    assert (pred["face"][hole] == 0.5).all()
    # The reconstruction loss looks at the known pixels only: a generator right there scores 0 whatever it fills in.
    right_outside = {**pred, "raw": torch.where(hole, torch.rand_like(pred["raw"]), batch["image"])}
    assert task.reconstruction_loss(right_outside, batch).item() == pytest.approx(0, abs=1e-12)


def test_inpainting_discriminator_judges_the_window_around_the_hole():
    settings = _settings("inpaint")
    task = PLUGINS["inpaint"].make_task(settings, 32, (19, 39, 140, 140))
    x0, y0, x1, y1 = task.masks.box
    batch = {"image": torch.rand(2, 3, 32, 32), "keys": ["a", "b"]}
    pred = task.predict(lambda known, mask: torch.zeros_like(known), batch)
    fake, real = task.fake(pred, batch), task.real(batch)
    width, height = task.window
    assert fake.shape == real.shape == (2, 3, height, width)
    assert (width, height) == (min(x1 - x0 + 16, 32), min(y1 - y0 + 16, 32))
    x, y = task.masks.windows(["a"], width, height)[0]
    assert torch.equal(real[0], batch["image"][0, :, y:y + height, x:x + width])
    hole = pred["mask"][0, 0, y:y + height, x:x + width] == 1
    assert hole.sum() == (x1 - x0) * (y1 - y0) and (fake[0][:, hole] == 0).all()  # the whole hole is in view
    whole = PLUGINS["inpaint"].make_task(dataclasses.replace(settings, disc_margin=None), 32, (19, 39, 140, 140))
    assert torch.equal(whole.real(batch), batch["image"])
    with pytest.raises(ParamsError, match=r"param faces.inpaint.disc_margin: found 0, expected a margin >= 0 giving a "
                                          r"discriminator window of at least 16x16"):
        PLUGINS["inpaint"].make_task(dataclasses.replace(settings, disc_margin=0), 32, (19, 39, 140, 140))


def test_the_window_view_discriminator_judges_the_inpainting_window_once():
    """A rectangular window (the mouth's is wider than high) gets one judgement from a linear head that knows where in
    the window each feature lies; without a margin the window is the whole face."""
    settings = dataclasses.replace(_settings("inpaint"), disc_view="window")
    batch = {"image": torch.rand(3, 3, 64, 64), "keys": ["a", "b", "c"]}
    for margin, scale in ((8, 1), (None, 1), (8, 2)):
        task = PLUGINS["inpaint"].make_task(dataclasses.replace(settings, disc_margin=margin, disc_scale=scale), 64,
                                            (19, 39, 140, 140))
        _, discriminator = task.build()
        judged = task.real(batch)
        width, height = task.window or (64, 64)
        assert judged.shape[2:] == (height // scale, width // scale)
        assert (height != width) == (margin is not None)  # the mouth's window is wider than high
        assert discriminator(judged).shape == (3,)
        assert isinstance(discriminator.net[-1], torch.nn.Linear)
    pooled = PLUGINS["inpaint"].make_task(dataclasses.replace(settings, disc_scale=2), 64, (19, 39, 140, 140))
    x, y = pooled.masks.windows(["a"], *pooled.window)[0]
    torch.testing.assert_close(pooled.real(batch)[0, :, 0, 0], batch["image"][0, :, y:y + 2, x:x + 2].mean(dim=(1, 2)))
    with pytest.raises(ParamsError, match=r"param faces.inpaint.disc_scale: found 4, expected a factor that leaves the "
                                          r"46x32 discriminator window at least 16x16 pixels"):
        PLUGINS["inpaint"].make_task(dataclasses.replace(settings, disc_scale=4), 64, (19, 39, 140, 140))
    with pytest.raises(ParamsError, match=r"param faces.inpaint.disc_view: found 'face', expected patches or window"):
        parse(Inpainting, {"disc_view": "face"}, "faces.inpaint")
    with pytest.raises(ParamsError, match=r"param faces.inpaint.disc_scale: found 0, expected a positive integer"):
        parse(Inpainting, {"disc_scale": 0}, "faces.inpaint")


def test_attribute_rates_follow_the_filter():
    rates = AttributeRates(["Big_Nose", "Male"])
    rates.update(torch.tensor([[[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-2.0, -3.0]]]))  # one member, four faces
    assert rates.rate({"Big_Nose": 1}) == 0.5
    assert rates.rate({"Big_Nose": 1, "Male": -1}) == 0.25
    assert rates.rate({}) == 1.0
    assert rates.spread({"Big_Nose": 1}) == 0.0


def test_attribute_rates_average_the_members_and_report_their_spread():
    rates = AttributeRates(["Big_Nose"])
    rates.update(torch.tensor([[[1.0], [1.0]], [[1.0], [-1.0]], [[-1.0], [-1.0]]]))  # three members, two faces
    rates.update(torch.tensor([[[1.0], [1.0]], [[-1.0], [-1.0]], [[-1.0], [-1.0]]]))  # two more faces
    assert rates.rate({"Big_Nose": 1}) == pytest.approx((1.0 + 0.25 + 0.0) / 3, abs=1e-4)
    assert rates.spread({"Big_Nose": 1}) == pytest.approx(np.std([1.0, 0.25, 0.0], ddof=1), abs=1e-4)


def test_classifier_ensemble_members_differ_and_survive_a_save(tmp_path):
    from pipeline.attributes import AttributeEnsemble, load_classifier, save_classifier
    from pipeline.models.faces import AttributeClassifier

    members = []
    for seed in range(3):
        torch.manual_seed(seed)
        members.append(AttributeClassifier(16, 2, 4))
    ensemble = AttributeEnsemble(members).eval()
    image = torch.rand(5, 3, 16, 16)
    logits = ensemble(image)
    assert logits.shape == (3, 5, 2) and not torch.equal(logits[0], logits[1])
    save_classifier(tmp_path / "classifier", ensemble, {"attributes": ["Young", "Male"], "columns": [0, 1],
                                                        "size": 16, "width": 4})
    loaded, attributes = load_classifier(tmp_path / "classifier")
    assert attributes == ["Young", "Male"] and len(loaded.members) == 3
    torch.testing.assert_close(loaded(image), logits)


def test_classifier_train_evaluate_stages(faces, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGN_PARAMS", str(faces / "params.yaml"))
    train_classifier([str(faces / "shards"), "classifier", "classifier.json"])
    result = json.loads((tmp_path / "classifier.json").read_text())
    assert set(result["accuracy"]) == {"Young", "Big_Nose", "Big_Lips"} and result["members"] == 2
    assert result["test_faces"] == 8 and all(0 <= v <= 1 for v in result["accuracy"].values())
    assert all(result["worst_member_accuracy"][a] <= result["accuracy"][a] for a in result["accuracy"])
    for task in ("sr", "inpaint"):
        train_faces([task, "big_nose", str(faces / "shards"), str(faces / "big_nose"), f"{task}-model",
                     f"{task}-train.json", f"{task}-live"])
        evaluate_faces([task, "big_nose", str(faces / "shards"), "classifier", f"{task}-model", f"{task}-live",
                        f"{task}.json", f"{task}-plots", f"{task}-samples.npz"])
        metrics = json.loads((tmp_path / f"{task}.json").read_text())
        assert metrics["experiment"] == f"{task}-big_nose" and metrics["samples"] == 8
        assert metrics["region"] == ("hole" if task == "inpaint" else "face")
        assert np.isfinite(metrics["psnr"]) and -1 <= metrics["ssim"] <= 1
        output = metrics["attribute_rate"]["output"]
        assert output["big_nose"] + output["small_nose"] == pytest.approx(1.0)  # opposite filters
        spread = metrics["attribute_rate_spread"]
        assert set(spread) == set(metrics["attribute_rate"]) and all(v >= 0 for v in spread["output"].values())
        assert ("bicubic" in metrics["attribute_rate"]) == ("bicubic" in metrics) == (task == "sr")
        assert metrics["detail_ratio"] >= 0
        assert metrics.get("hole") == ("nose" if task == "inpaint" else None)  # faces.inpaint.memory_masks
        samples = np.load(tmp_path / f"{task}-samples.npz")
        assert samples["output"].shape == (8, 32, 32, 3) and samples["output"].dtype == np.uint8
        assert (tmp_path / f"{task}-plots" / "faces.png").stat().st_size > 1000


def test_train_faces_refuses_a_mismatched_memory(faces, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGN_PARAMS", str(faces / "params.yaml"))
    argv = ["sr", "big_nose", str(faces / "shards"), str(faces / "small_nose"), "model", "train.json", "live"]
    line = run_stage_error(train_faces, argv, capsys)
    assert "manifest.json: holds memory set 'small_nose', expected 'big_nose'" in line
    assert_no_outputs("model", "train.json", "live")


def test_train_faces_warm_starts_from_a_run_with_another_memory(faces, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGN_PARAMS", str(faces / "params.yaml"))
    shards = str(faces / "shards")
    train_faces(["sr", "big_nose", shards, str(faces / "big_nose"), "warm", "warm.json", "warm-live"])
    train_faces(["sr", "small_nose", shards, str(faces / "small_nose"), "model", "train.json", "live",
                 "--init", "warm"])
    init = json.loads((tmp_path / "model" / "model.json").read_text())["init"]
    assert init["model"] == "warm" and init["memory_set"] == "big_nose"
    assert init["generator_sha256"] == hashlib.sha256((tmp_path / "warm" / "generator.pt").read_bytes()).hexdigest()

    task, trained, info = PLUGINS["sr"].load_trained(tmp_path / "warm")
    fresh, _ = task.build()
    warm_start(fresh, tmp_path / "warm", {k: v for k, v in info.items() if k not in ("variant", "log_every")})
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(fresh.state_dict()[name], value)

    train_faces(["inpaint", "big_nose", shards, str(faces / "big_nose"), "inpaint", "i.json", "i-live"])
    train_faces(["inpaint", "small_nose", shards, str(faces / "small_nose"), "inpaint2", "i2.json", "i2-live",
                 "--init", "inpaint"])  # settings with tuples (the hole's regions) match their model.json
    assert json.loads((tmp_path / "inpaint2" / "model.json").read_text())["init"]["memory_set"] == "big_nose"
    argv = ["sr", "small_nose", shards, str(faces / "small_nose"), "model2", "t2.json", "live2"]
    line = run_stage_error(train_faces, [*argv, "--init", "inpaint"], capsys)
    assert "inpaint/model.json: trained with task 'inpaint', this run has 'sr': retrain the warm start" in line
    line = run_stage_error(train_faces, [*argv, "--init", "nowhere"], capsys)
    assert "nowhere: not a trained model folder (expected model.json and generator.pt)" in line
    assert_no_outputs("model2", "t2.json", "live2")


def test_train_faces_warmup_remembers_its_memory_set_with_its_own_train_settings(faces, monkeypatch, tmp_path,
                                                                                 capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGN_PARAMS", str(faces / "params.yaml"))
    shards = str(faces / "shards")
    train_faces(["sr", "warmup", shards, str(faces / "big_nose"), "warm", "warm.json", "warm-live"])
    assert json.loads((tmp_path / "warm" / "model.json").read_text())["memory_set"] == "big_nose"
    summary = json.loads((tmp_path / "warm.json").read_text())
    assert summary["experiment"] == "sr-warmup" and summary["steps"] == 1  # faces.sr.train has 2
    settings, cfg = PLUGINS["sr"].settings(lambda section, cls: parse(cls, {"warmup": {"train": {"w_adv": 0.5}}},
                                                                      section), "warmup")
    assert (cfg.w_adv, cfg.steps) == (0.5, TrainConfig().steps)  # the overrides over faces.sr.train

    train_faces(["inpaint", "warmup", shards, str(faces / "big_nose"), "iwarm", "iwarm.json", "iwarm-live"])
    info = json.loads((tmp_path / "iwarm" / "model.json").read_text())
    assert info["memory_set"] == "big_nose" and info["settings"]["mask"] == "nose"  # faces.inpaint.warmup.mask
    assert json.loads((tmp_path / "iwarm.json").read_text())["steps"] == 1

    line = run_stage_error(train_faces, ["sr", "warmup", shards, str(faces / "small_nose"), "m", "t.json", "l"],
                           capsys)
    assert "manifest.json: holds memory set 'small_nose', expected 'big_nose'" in line
    assert_no_outputs("m", "t.json", "l")


def test_train_faces_starts_the_runs_the_warmup_covers_from_it(faces, monkeypatch, tmp_path, capsys):
    """--warmup: every super-resolution run starts from the warm-up, an inpainting run only if its hole is the
    warm-up's (faces.inpaint.warmup.mask), and then trains with faces.inpaint.warmup.memory_train."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGN_PARAMS", str(faces / "params.yaml"))
    shards = str(faces / "shards")

    def init_of(model):
        return json.loads((tmp_path / model / "model.json").read_text()).get("init")

    for task in ("sr", "inpaint"):
        train_faces([task, "warmup", shards, str(faces / "big_nose"), f"{task}-w", "w.json", "w-live"])
        train_faces([task, "small_nose", shards, str(faces / "small_nose"), f"{task}-m", "m.json", "m-live",
                     "--warmup", f"{task}-w"])
        assert init_of(f"{task}-m")["model"] == f"{task}-w"  # the nose runs have the warm-up's hole
        assert json.loads((tmp_path / "m.json").read_text())["steps"] == (3 if task == "inpaint" else 2)

    params = yaml.safe_load((faces / "params.yaml").read_text())
    params["faces"]["inpaint"]["warmup"]["mask"] = "mouth"
    (tmp_path / "mouth.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("AIGN_PARAMS", str(tmp_path / "mouth.yaml"))
    argv = ["inpaint", "small_nose", shards, str(faces / "small_nose"), "cold", "c.json", "c-live"]
    train_faces([*argv, "--warmup", "nowhere"])  # a nose run and a mouth warm-up: from scratch, the folder unread
    assert init_of("cold") is None and json.loads((tmp_path / "c.json").read_text())["steps"] == 2

    line = run_stage_error(train_faces, [*argv[:4], "x", "x.json", "x-live", "--warmup"], capsys)
    assert "--warmup: expected a model folder after it, and no --init beside it" in line
    line = run_stage_error(train_faces, [*argv[:4], "x", "x.json", "x-live", "--warmup", "a", "--init", "b"], capsys)
    assert "--warmup: expected a model folder after it, and no --init beside it" in line
    assert_no_outputs("x", "x.json", "x-live")


def test_warmup_settings_are_checked():
    with pytest.raises(ParamsError, match=r"param faces.sr.warmup.train.stepz: unknown key"):
        parse(SuperResolution, {"warmup": {"train": {"stepz": 10}}}, "faces.sr")
    with pytest.raises(ParamsError, match=r"param faces.sr.warmup.train.steps: found 'many', expected an integer"):
        parse(SuperResolution, {"warmup": {"train": {"steps": "many"}}}, "faces.sr")
    with pytest.raises(ParamsError, match=r"param faces.sr.warmup.mask: unknown key"):
        parse(SuperResolution, {"warmup": {"mask": "mouth"}}, "faces.sr")  # super-resolution has no hole
    regions = {"regions": {"mouth": [58, 136, 62, 34]}}
    with pytest.raises(ParamsError, match=r"param faces.inpaint.warmup.mask: found 'chin', expected random or one of "
                                          r"the regions: mouth"):
        parse(Inpainting, {**regions, "warmup": {"mask": "chin"}}, "faces.inpaint")
    with pytest.raises(ParamsError, match=r"param faces.inpaint.warmup.train.lr_g: found 'fast', expected a number"):
        parse(Inpainting, {**regions, "warmup": {"train": {"lr_g": "fast"}}}, "faces.inpaint")
    with pytest.raises(ParamsError, match=r"param faces.inpaint.warmup.memory_train.stepz: unknown key"):
        parse(Inpainting, {**regions, "warmup": {"memory_train": {"stepz": 5}}}, "faces.inpaint")


def test_report_names_a_missing_face_experiment(stage_dir, tmp_path, capsys):
    stage_dir()
    (tmp_path / "eval").mkdir()
    argv = ["eval", "egomotion", "samples", "c.json", "s.json", "s.md", "s.png", "sfm.png", "sr.png", "inpaint.png"]
    line = run_stage_error(report, argv, capsys)
    assert "eval/sr-young.json: missing, expected the metrics of experiment sr-young (params experiments lists" in line
    assert_no_outputs("s.json", "s.md", "s.png", "sfm.png", "sr.png", "inpaint.png")
