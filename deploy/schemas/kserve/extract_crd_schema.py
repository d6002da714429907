"""Writes the openAPIV3Schema of one version of a CustomResourceDefinition as compact JSON.

usage: extract_crd_schema.py CRD.yaml VERSION OUT.json
Used once to copy KServe's CRD schemas here (see README.md for the source commit); the manifest
validator (deploy/validate_manifests.py) reads the JSON files, so no cluster is needed.
"""
import json
import sys

import yaml

crd_path, version, out_path = sys.argv[1:]
with open(crd_path) as f:
    crd = yaml.safe_load(f)
[entry] = [v for v in crd["spec"]["versions"] if v["name"] == version]
schema = {
    "group": crd["spec"]["group"],
    "kind": crd["spec"]["names"]["kind"],
    "version": version,
    "openAPIV3Schema": entry["schema"]["openAPIV3Schema"],
}
with open(out_path, "w") as f:
    json.dump(schema, f, sort_keys=True, separators=(",", ":"))
    f.write("\n")
