#!/usr/bin/python3
"""Writes data/imagenet-classes.json: the 1000 ImageNet-1k class names in index order, as
torchvision ships them (torchvision.models._meta._IMAGENET_CATEGORIES, Debian python3-torchvision)."""
import json
import os

from torchvision.models._meta import _IMAGENET_CATEGORIES as names

assert len(names) == 1000
out = os.path.join(os.path.dirname(__file__), "..", "data", "imagenet-classes.json")
with open(out, "w") as f:
    f.write(json.dumps(names, indent=0) + "\n")
