#!/usr/bin/python3
"""Exports a torchvision DenseNet state_dict to .safetensors with its labels and preprocessing
in the file's metadata, so that `densenet classify --model out.safetensors photo.jpg` needs no flags.

  /usr/bin/python3 scripts/export_safetensors.py --weights densenet121-a639ec97.pth --out densenet121.safetensors
  /usr/bin/python3 scripts/export_safetensors.py --weights chest_xray.pth --labels labels.txt --mode L \\
      --mean 0.5 --std 0.25 --out chest-xray.safetensors

--weights: a torch.save'd state_dict or training checkpoint ("state_dict"/"model" inside), as
torchvision's model zoo files (legacy "norm.1" keys are fine: densenet-wasm reads them too) or your
own fine-tuned model. Without --weights a model of --arch with torchvision's random init is written
(for tests). --labels: a text file with one class per line, a JSON array, or "imagenet" (the
ImageNet-1k names torchvision ships; the default for 1000 classes). Preprocessing defaults to
ImageNet's (resize 256, crop 224, ImageNet mean/std, RGB).
Needs only Debian's python3-torch and python3-torchvision.
"""
import argparse
import json
import struct

import numpy as np
import torch


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}


def save_safetensors(path, tensors, metadata):
    """The safetensors format: u64 header length, JSON header (8-byte aligned), raw little-endian data."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().cpu().contiguous().numpy()
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        dtype = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("int64"): "I64"}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for b in blobs:
            f.write(b)


def read_labels(spec, classes):
    if spec is None:
        spec = "imagenet" if classes == 1000 else None
    if spec is None:
        return None
    if spec == "imagenet":
        from torchvision.models._meta import _IMAGENET_CATEGORIES
        return list(_IMAGENET_CATEGORIES)
    text = open(spec, encoding="utf-8").read()
    labels = json.loads(text) if text.lstrip().startswith("[") else [line for line in text.splitlines() if line.strip()]
    if len(labels) != classes:
        raise SystemExit(f"{spec}: {len(labels)} labels for a model of {classes} classes")
    return labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", help="a torch.save'd state_dict or checkpoint (.pth/.pt)")
    ap.add_argument("--arch", default="densenet121", help="torchvision architecture for random init when --weights is absent")
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", help='"imagenet", a text file (one per line) or a JSON array')
    ap.add_argument("--resize", type=int, default=256)
    ap.add_argument("--crop", type=int, default=224)
    ap.add_argument("--mean", default=None, help="comma-separated, one per channel")
    ap.add_argument("--std", default=None)
    ap.add_argument("--mode", choices=["RGB", "L"], default="RGB")
    ap.add_argument("--description", default=None)
    args = ap.parse_args()
    if args.weights:
        state = load_state_dict(args.weights)
    else:
        import torchvision
        state = getattr(torchvision.models, args.arch)().state_dict()
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    classes = state["classifier.weight"].shape[0]
    imagenet = {"RGB": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), "L": ([0.449], [0.226])}[args.mode]
    mean = [float(x) for x in args.mean.split(",")] if args.mean else imagenet[0]
    std = [float(x) for x in args.std.split(",")] if args.std else imagenet[1]
    metadata = {"densenet.preprocess": json.dumps({"resize": args.resize, "crop": args.crop, "mean": mean, "std": std, "mode": args.mode})}
    labels = read_labels(args.labels, classes)
    if labels is not None:
        metadata["densenet.labels"] = json.dumps(labels)
    if args.description:
        metadata["densenet.description"] = args.description
    save_safetensors(args.out, state, metadata)
    print(f"wrote {args.out}: {len(state)} tensors, {classes} classes{'' if labels else ' (no labels)'}")


if __name__ == "__main__":
    main()
