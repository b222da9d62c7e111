"""DVC stage train_classifier: the attribute classifier of the face evaluation, with its accuracy on the test
partition.

usage: python -m stages.train_classifier <celeba shards> <model dir> <metrics json>

Trained on the labelled full-resolution faces of the `inputs` split (train partition), one ensemble member per seed
(`faces.classifier.members`); the test accuracy is reported per attribute (the members' mean, and the worst member)
beside the majority-class baseline, so a user sees how far the attribute rates can be trusted.
"""


import torch

from pipeline.atomic import atomic_outputs, write_json
from pipeline.attributes import ClassifierSettings, attribute_columns, save_classifier, train_classifier
from pipeline.batches import BatchStream, one_pass
from pipeline.shards import read_manifest, split_urls
from pipeline.tasks.faces import collate_faces
from stages.common import load_params, parse_paths, report_throughput, stage_main


@stage_main
def main(argv):
    args = parse_paths(argv, __doc__, "shards", "model", "metrics")
    cfg = load_params("faces.classifier", ClassifierSettings)
    manifest = read_manifest(args.shards)
    columns = attribute_columns(manifest["attributes"], cfg.attributes, "faces.classifier.attributes")
    urls = split_urls(args.shards, "inputs")
    model, speed = train_classifier(lambda seed: BatchStream(urls, cfg.batch_size, collate_faces, shuffle=2000,
                                                             seed=seed), columns, manifest["size"], cfg)

    correct, positives, count = torch.zeros(cfg.members, len(columns)), torch.zeros(len(columns)), 0
    with torch.no_grad():
        for batch in one_pass(split_urls(args.shards, "test"), 256, collate_faces):
            truth = batch["attributes"][:, columns] == 1
            correct += ((model(batch["image"]) > 0) == truth).sum(1)
            positives += truth.sum(0)
            count += len(truth)
    accuracy = correct / count  # (members, attributes)
    majority = torch.maximum(positives, count - positives).div(count)

    def per_attribute(values: torch.Tensor) -> dict:
        return {a: round(v, 4) for a, v in zip(cfg.attributes, values.tolist(), strict=True)}

    result = {"test_faces": count, "members": cfg.members, "train_samples_per_s": round(speed, 1),
              "accuracy": per_attribute(accuracy.mean(0)),
              "worst_member_accuracy": per_attribute(accuracy.min(0).values),
              "majority_baseline": per_attribute(majority)}
    result["mean_accuracy"] = round(accuracy.mean().item(), 4)
    with atomic_outputs(args.model, args.metrics) as (model_dir, metrics):
        save_classifier(model_dir, model, {"attributes": cfg.attributes, "columns": columns,
                                           "size": manifest["size"], "width": cfg.width})
        write_json(metrics, result)
    samples = cfg.steps * cfg.batch_size * cfg.members
    report_throughput("train_classifier", samples, samples / speed)
    print(f"train_classifier: {cfg.members} members, mean test accuracy "
          + ", ".join(f"{a} {v:.3f}" for a, v in result["accuracy"].items()))


if __name__ == "__main__":
    main()
