#!/usr/bin/env python3
"""Checks the .npy cases of a hostile corpus against numpy itself, the reference for what a
.npy reader should accept: every case the corpus expects to load ("same") must load in numpy
with the original's shape and bits, and every case it expects refused must be refused by
numpy too, or be one numpy reads but the library deliberately does not (listed below).
Usage: node scripts/make_hostile_corpus.mjs /tmp/corpus && /usr/bin/python3 scripts/check_npy_corpus.py /tmp/corpus"""
import json, sys, os
import numpy as np

# numpy reads these; the library refuses them on purpose: a shape entry of -1 (numpy infers
# it from the data's size when it reshapes; a header that does not state its shape is refused).
REFUSED_ON_PURPOSE = {"npy_shape_negative.npy"}

d = sys.argv[1]
manifest = json.load(open(os.path.join(d, "manifest.json")))
original = np.load(os.path.join(d, manifest["input"]))
bad = 0
for case in manifest["cases"]:
    if not case["name"].endswith(".npy"):
        continue
    try:
        a = np.load(os.path.join(d, case["name"]), allow_pickle=False, max_header_size=10**7)
        numpy = "same" if a.shape == original.shape and a.dtype == original.dtype and a.tobytes() == original.tobytes() else "different"
    except Exception as e:  # numpy refuses it
        numpy = "refuse"
    agrees = numpy == case["expect"] or (case["expect"] == "refuse" and case["name"] in REFUSED_ON_PURPOSE)
    bad += not agrees
    print(f"{case['name']:40} corpus expects {case['expect']:7} numpy: {numpy}{'' if agrees else '   <-- DISAGREES'}")
print(f"numpy {'agrees on every case' if not bad else f'disagrees on {bad} cases'}")
sys.exit(1 if bad else 0)
