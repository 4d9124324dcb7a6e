#!/usr/bin/env python3
"""Cuts operations heartbeat-monitor calls out of GitHub's own REST description
(api.github.com.json from npm @octokit/openapi, MIT), with every component they reference,
into fixtures/apis/github-SUBSET.subset.openapi.json, and a .prism. variant whose responses
also answer GitHub's media type application/vnd.github+json (Prism negotiates on Accept).
SUBSET is `issues` (the issues channel's calls; the default) or `git` (the workflow files'
tree and blobs).

usage: scripts/subset-github-openapi.py [SUBSET] PATH/TO/api.github.com.json"""
import copy
import json
import pathlib
import sys

SUBSETS = {
    "issues": [
        ("/user", "get"),
        ("/repos/{owner}/{repo}/issues", "get"),
        ("/repos/{owner}/{repo}/issues", "post"),
        ("/repos/{owner}/{repo}/issues/{issue_number}", "patch"),
        ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post"),
    ],
    "git": [
        ("/repos/{owner}/{repo}/git/trees/{tree_sha}", "get"),
        ("/repos/{owner}/{repo}/git/blobs/{file_sha}", "get"),
    ],
}
NAME = sys.argv[1] if len(sys.argv) > 2 else "issues"
OPERATIONS = SUBSETS[NAME]
OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "apis"


def refs(value, found):
    """Every '#/components/...' reference under value, into found, transitively."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/") and ref not in found:
            found.add(ref)
            _, _, kind, name = ref.split("/", 3)
            refs(full["components"][kind][name], found)
        for v in value.values():
            refs(v, found)
    elif isinstance(value, list):
        for v in value:
            refs(v, found)


full = json.loads(pathlib.Path(sys.argv[-1]).read_text())
paths = {}
for path, method in OPERATIONS:
    paths.setdefault(path, {})[method] = full["paths"][path][method]
found = set()
refs(paths, found)
components = {}
for ref in sorted(found):
    _, _, kind, name = ref.split("/", 3)
    components.setdefault(kind, {})[name] = full["components"][kind][name]
subset = {
    "openapi": full["openapi"],
    "info": {**full["info"], "title": full["info"]["title"] + f" ({NAME} subset)"},
    "servers": full.get("servers", []),
    "paths": paths,
    "components": components,
}
(OUT / f"github-{NAME}.subset.openapi.json").write_text(json.dumps(subset, indent=1) + "\n")

prism = copy.deepcopy(subset)
for kind in ("responses",):
    for response in prism["components"].get(kind, {}).values():
        content = response.get("content", {})
        if "application/json" in content:
            content["application/vnd.github+json"] = content["application/json"]
for item in prism["paths"].values():
    for op in item.values():
        for response in op.get("responses", {}).values():
            content = response.get("content", {})
            if "application/json" in content:
                content["application/vnd.github+json"] = content["application/json"]
(OUT / f"github-{NAME}.subset.prism.openapi.json").write_text(json.dumps(prism, indent=1) + "\n")
print(f"{len(OPERATIONS)} operations, {len(found)} components")
