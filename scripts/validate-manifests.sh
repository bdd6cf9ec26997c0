#!/usr/bin/env bash
# Validates the deployment manifests under deploy/ offline; exits non-zero on any failure and
# prints one line per file.
#
#   scripts/validate-manifests.sh
#
# - Kubernetes: renders deploy/kubernetes/base and every overlay with a small built-in
#   kustomize (only the features deploy/ uses: resources, images, strategic-merge patches;
#   anything else is an error, never silently ignored), then validates every object with
#   kubernetes-validate in strict mode (unknown fields are errors) against each Kubernetes
#   version in PODPLANE_K8S_VERSIONS, and checks what a schema cannot: references between
#   objects, pod hardening, probes, shutdown timing, and that every environment variable is one
#   the `podplane` binary reads (services/podplane/src/cli.rs and cli/). When a kubectl with kustomize
#   v5 is on PATH, the overlays are also rendered by it and must come out identical.
# - ECS: each *task-definition.json against botocore's bundled ECS model (RegisterTaskDefinition
#   input), each *-service.json against CreateService, plus enums, Fargate CPU/memory pairs and
#   cross-file references.
# - IAM: each policy document parses and has the grammar's required parts.
#
# Needs python3 only: the tools go into a venv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/podplane/validate-venv (from PyPI, pinned, once).
# PODPLANE_VALIDATE_KUBECTL=off skips the kubectl comparison.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/podplane/validate-venv"

# Every package in the venv, pinned (the direct ones first). Change a pin and the venv is
# rebuilt on the next run.
pins="kubernetes-validate==1.37.0
botocore==1.44.5
PyYAML==6.0.3
attrs==26.1.0
importlib_resources==7.1.0
jmespath==1.1.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
packaging==26.4
python-dateutil==2.9.0.post0
referencing==0.37.0
rpds-py==2026.9.1
six==1.17.0
typing_extensions==4.16.0
urllib3==2.8.0"

stamp="$(printf '%s\n%s\n' "$pins" "$(python3 -c 'import sys; print(sys.version)')" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.podplane-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "validate-manifests: installing the validators into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian splits venv support out of python3.
        rm -rf "$venv"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get install -y -qq python3-venv >/dev/null ||
                { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
            python3 -m venv "$venv"
        else
            echo "validate-manifests: python3 -m venv failed; install python3-venv" >&2
            exit 1
        fi
    fi
    printf '%s\n' "$pins" >"$venv/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$venv/requirements.txt"
    printf '%s\n' "$stamp" >"$venv/.podplane-stamp"
fi

exec "$venv/bin/python" - "$root" <<'PY'
import copy
import difflib
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import botocore.session
import kubernetes_validate.utils as kv_utils
import yaml
from botocore.validate import ParamValidator

ROOT = sys.argv[1]
DEPLOY = os.path.join(ROOT, "deploy")
K8S_VERSIONS = os.environ.get("PODPLANE_K8S_VERSIONS", "1.30.0 1.33.0").split()
results = []  # one bool per file reported: passed?


def rel(path):
    return os.path.relpath(path, ROOT)


def report(path, problems, detail):
    ok = not problems
    results.append(ok)
    # "ok - " / "not ok - ": scripts/test.sh counts these lines in its closing summary.
    print(f"{'ok' if ok else 'not ok'} - {rel(path)}: {detail if ok else problems[0]}")
    for p in problems[1:]:
        print(f"       {p}")


class RenderError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The environment variables the binary reads: every clap `env = "…"` plus the log filter.

def podplane_env_names():
    src = os.path.join(ROOT, "services/podplane/src")
    names = set()
    # The log filter is read where the subscriber is built (libs/telemetry/src/logs.rs).
    sources = glob.glob(os.path.join(src, "**", "*.rs"), recursive=True) + glob.glob(
        os.path.join(ROOT, "libs/telemetry/src/*.rs"))
    for path in sources:
        text = open(path, encoding="utf-8").read()
        names.update(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))
        names.update(re.findall(r'from_env\(\s*"([A-Z0-9_]+)"\s*\)', text))
    if "PODPLANE_BASE_URL" not in names:
        raise SystemExit(f"could not read the environment variables from {rel(src)}/cli.rs")
    return names


ENV_NAMES = podplane_env_names()


# Read by libraries rather than by clap: the AWS SDK's provider chain, OpenTelemetry, Rust.
LIBRARY_ENV_PREFIXES = ("AWS_", "OTEL_", "RUST_")


def unknown_env(names):
    return sorted(n for n in names
                  if n not in ENV_NAMES and not n.startswith(LIBRARY_ENV_PREFIXES))


# ---------------------------------------------------------------------------------------------
# A minimal kustomize: resources (files and directories), images, patches (strategic merge,
# one object per patch, matched by apiVersion, kind, name and namespace). Order as kustomize:
# resources, then patches, then images; an overlay transforms the base's rendered output.

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "images", "patches"}

# Strategic-merge keys of the associative lists a patch may merge into (Kubernetes'
# x-kubernetes-patch-merge-key; keyed by field name, unambiguous for the kinds in deploy/).
# Lists Kubernetes merges by a key this renderer does not implement are refused; every other
# list is atomic in Kubernetes and a patch replaces it whole.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}
UNIMPLEMENTED_MERGES = {"ports", "topologySpreadConstraints", "finalizers", "ownerReferences",
                        "hostAliases", "ephemeralContainers", "resourceClaims", "volumeDevices",
                        "resizePolicy", "schedulingGates", "conditions"}


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def obj_id(o):
    m = o.get("metadata") or {}
    return (o.get("apiVersion"), o.get("kind"), m.get("namespace"), m.get("name"))


def smp(base, patch, field=None):
    """Kubernetes strategic merge of `patch` into `base` (both already copies)."""
    if isinstance(patch, dict):
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        if directive is not None:
            raise RenderError(f"unsupported patch directive $patch: {directive}")
        if any(k.startswith("$") for k in patch):
            raise RenderError(f"unsupported patch directive in {sorted(patch)}")
        if not isinstance(base, dict):
            return copy.deepcopy(patch)
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = smp(out[k], v, k)
            else:
                out[k] = smp(None, v, k)
        return out
    if isinstance(patch, list):
        key = MERGE_KEYS.get(field)
        if field in UNIMPLEMENTED_MERGES and isinstance(base, list):
            raise RenderError(f"merging a patch into the list {field} is not implemented")
        if key is None or not isinstance(base, list):
            return [smp(None, v) if isinstance(v, (dict, list)) else v for v in patch]
        out = [copy.deepcopy(x) for x in base]
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                raise RenderError(f"item of {field} without its merge key {key}: {item!r}")
            idx = [i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item[key]]
            if item.get("$patch") == "delete":
                out = [x for i, x in enumerate(out) if i not in idx]
            elif idx:
                out[idx[0]] = smp(out[idx[0]], item)
            else:
                out.append(smp(None, item))
        return out
    return patch


def split_image(image):
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1:]
    return image, tag, digest


def set_images(node, images):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("containers", "initContainers") and isinstance(v, list):
                for c in v:
                    if isinstance(c, dict) and isinstance(c.get("image"), str):
                        c["image"] = transform_image(c["image"], images)
            set_images(v, images)
    elif isinstance(node, list):
        for v in node:
            set_images(v, images)


def transform_image(image, images):
    for spec in images:
        name, tag, digest = split_image(image)
        if name != spec["name"]:
            continue
        unknown = set(spec) - {"name", "newName", "newTag", "digest"}
        if unknown:
            raise RenderError(f"unsupported images fields {sorted(unknown)}")
        name = spec.get("newName", name)
        if "newTag" in spec:
            tag, digest = str(spec["newTag"]), None
        if "digest" in spec:
            tag, digest = None, spec["digest"]
        image = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return image


def render(directory, stack=()):
    """Returns [(object, source file)] for the kustomization in `directory`."""
    directory = os.path.realpath(directory)
    if directory in stack:
        raise RenderError(f"kustomization cycle through {rel(directory)}")
    kfile = None
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if os.path.isfile(os.path.join(directory, name)):
            kfile = os.path.join(directory, name)
            break
    if kfile is None:
        raise RenderError(f"no kustomization in {rel(directory)}")
    k = yaml.safe_load(open(kfile, encoding="utf-8")) or {}
    unsupported = set(k) - SUPPORTED_KEYS
    if unsupported:
        raise RenderError(f"{rel(kfile)}: fields this renderer does not implement: {sorted(unsupported)}")
    if k.get("kind", "Kustomization") != "Kustomization":
        raise RenderError(f"{rel(kfile)}: kind must be Kustomization")

    objects = []
    for entry in k.get("resources") or []:
        path = os.path.join(directory, entry)
        if os.path.isdir(path):
            objects.extend(render(path, stack + (directory,)))
        elif os.path.isfile(path):
            for doc in load_yaml_docs(path):
                if not isinstance(doc, dict) or "kind" not in doc:
                    raise RenderError(f"{rel(path)}: a document that is not a Kubernetes object")
                objects.append((doc, path))
        else:
            raise RenderError(f"{rel(kfile)}: resource {entry} not found (remote bases unsupported)")
    seen = {}
    for o, src in objects:
        if obj_id(o) in seen:
            raise RenderError(f"{rel(src)}: {obj_id(o)} already defined in {rel(seen[obj_id(o)])}")
        seen[obj_id(o)] = src

    for entry in k.get("patches") or []:
        extra = set(entry) - {"path", "patch"}
        if extra:
            raise RenderError(f"{rel(kfile)}: patch fields this renderer does not implement: {sorted(extra)}")
        if "path" in entry:
            ppath = os.path.join(directory, entry["path"])
            docs = load_yaml_docs(ppath)
            where = rel(ppath)
        else:
            docs = [d for d in yaml.safe_load_all(entry["patch"]) if d is not None]
            where = f"{rel(kfile)} (inline patch)"
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise RenderError(f"{where}: exactly one strategic-merge patch object expected "
                              "(JSON 6902 patches are not implemented)")
        p = docs[0]
        pm = p.get("metadata") or {}
        matches = [i for i, (o, _) in enumerate(objects)
                   if o.get("apiVersion") == p.get("apiVersion") and o.get("kind") == p.get("kind")
                   and o["metadata"].get("name") == pm.get("name")
                   and ("namespace" not in pm or o["metadata"].get("namespace") == pm["namespace"])]
        if len(matches) != 1:
            raise RenderError(f"{where}: patch matches {len(matches)} objects, not one "
                              f"({p.get('kind')}/{pm.get('name')})")
        i = matches[0]
        objects[i] = (smp(copy.deepcopy(objects[i][0]), p), objects[i][1])

    images = k.get("images") or []
    for spec in images:
        if "name" not in spec:
            raise RenderError(f"{rel(kfile)}: an images entry without name")
    for o, _ in objects:
        set_images(o, images)
    return objects


def canonical(node, field=None):
    """Order-insensitive form of the associative lists: kustomize orders merged items in its
    own way, which Kubernetes does not read (items are identified by their key)."""
    if isinstance(node, dict):
        return {k: canonical(v, k) for k, v in node.items()}
    if isinstance(node, list):
        items = [canonical(v) for v in node]
        if field in MERGE_KEYS:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return items
    return node


def normalized(objs):
    return {obj_id(o): canonical(json.loads(json.dumps(o, sort_keys=True))) for o in objs}


def kubectl_render(directory):
    """The same directory rendered by a real kustomize (kubectl >= 1.27 ships kustomize v5), or
    None when no such kubectl is on PATH."""
    if os.environ.get("PODPLANE_VALIDATE_KUBECTL", "auto") == "off" or not shutil.which("kubectl"):
        return None
    try:
        v = subprocess.run(["kubectl", "version", "--client", "-o", "json"], capture_output=True,
                           text=True, timeout=30)
        kv = json.loads(v.stdout).get("kustomizeVersion", "")
    except Exception:
        return None
    if not kv.startswith("v5"):
        return None
    out = subprocess.run(["kubectl", "kustomize", directory], capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise RenderError(f"kubectl kustomize {rel(directory)} failed: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None], kv


# ---------------------------------------------------------------------------------------------
# Kubernetes checks beyond the schema.

def schema_problems(o):
    problems = []
    for version in K8S_VERSIONS:
        try:
            kv_utils.validate(o, version, strict=True)
        except kv_utils.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            problems.append(f"{o['kind']}/{o['metadata'].get('name')}: Kubernetes {e.version} "
                            f"(strict): {path}: {e.message}")
        except (kv_utils.SchemaNotFoundError, kv_utils.InvalidSchemaError,
                kv_utils.VersionNotSupportedError) as e:
            problems.append(f"{o['kind']}/{o['metadata'].get('name')}: {e.message}")
    return problems


def pod_spec(o):
    spec = o.get("spec") or {}
    if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return spec.get("template", {}).get("spec", {})
    if o["kind"] == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    return None


def semantic_problems(objs, overlay):
    """What holds for the rendered set as a whole: references resolve, pods are hardened."""
    problems = []
    by = {}
    for o in objs:
        by.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    cms, secrets = by.get("ConfigMap", {}), by.get("Secret", {})
    namespaces = set(by.get("Namespace", {}))
    for o in objs:
        name = f"{o['kind']}/{o['metadata']['name']}"
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") not in namespaces:
            problems.append(f"{name}: not in a namespace these manifests create ({sorted(namespaces)})")
        ps = pod_spec(o)
        if ps is None:
            continue
        sa = ps.get("serviceAccountName")
        if sa and sa not in by.get("ServiceAccount", {}):
            problems.append(f"{name}: service account {sa} is not defined")
        psc = ps.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True:
            problems.append(f"{name}: pod securityContext.runAsNonRoot must be true")
        if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: pod seccompProfile must be RuntimeDefault")
        if o["kind"] == "Deployment" and (ps.get("terminationGracePeriodSeconds") or 30) < 35:
            problems.append(f"{name}: terminationGracePeriodSeconds below 35 (the server drains 30 s)")
        if o["kind"] == "Deployment" and "replicas" in o["spec"] and any(
                h["spec"]["scaleTargetRef"]["name"] == o["metadata"]["name"]
                for h in by.get("HorizontalPodAutoscaler", {}).values()):
            problems.append(f"{name}: has spec.replicas although an HPA scales it")
        volumes = {v["name"] for v in ps.get("volumes") or []}
        for c in ps.get("containers", []) + ps.get("initContainers", []):
            cname = f"{name} container {c['name']}"
            image = c.get("image", "")
            if overlay and "/" not in split_image(image)[0]:
                problems.append(f"{cname}: image {image} names no registry")
            if not split_image(image)[1] and not split_image(image)[2]:
                problems.append(f"{cname}: image {image} has neither tag nor digest")
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{cname}: allowPrivilegeEscalation must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{cname}: readOnlyRootFilesystem must be true")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{cname}: capabilities must drop ALL")
            if not (c.get("resources") or {}).get("requests"):
                problems.append(f"{cname}: no resource requests")
            if o["kind"] == "Deployment":
                for probe, path in (("readinessProbe", "/health/ready"),
                                    ("livenessProbe", "/health/live"), ("startupProbe", None)):
                    p = c.get(probe)
                    if not p:
                        problems.append(f"{cname}: no {probe}")
                    elif path and (p.get("httpGet") or {}).get("path") != path:
                        problems.append(f"{cname}: {probe} must GET {path}")
                ports = {p.get("name") for p in c.get("ports") or []}
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    port = ((c.get(probe) or {}).get("httpGet") or {}).get("port")
                    if isinstance(port, str) and port not in ports:
                        problems.append(f"{cname}: {probe} names port {port}, which it lacks")
            for m in c.get("volumeMounts") or []:
                if m["name"] not in volumes:
                    problems.append(f"{cname}: mounts undefined volume {m['name']}")
            env_names = set()
            for ef in c.get("envFrom") or []:
                ref = ef.get("configMapRef") or ef.get("secretRef") or {}
                pool = cms if "configMapRef" in ef else secrets
                src = pool.get(ref.get("name"))
                if src is None:
                    problems.append(f"{cname}: envFrom names missing {ref.get('name')}")
                else:
                    env_names.update((src.get("data") or {}).keys())
                    env_names.update((src.get("stringData") or {}).keys())
            for e in c.get("env") or []:
                env_names.add(e["name"])
                vf = e.get("valueFrom") or {}
                for kind, pool in (("secretKeyRef", secrets), ("configMapKeyRef", cms)):
                    ref = vf.get(kind)
                    if not ref:
                        continue
                    src = pool.get(ref["name"])
                    keys = set((src or {}).get("data") or {}) | set((src or {}).get("stringData") or {})
                    if src is None or ref["key"] not in keys:
                        problems.append(f"{cname}: {e['name']} refers to missing {ref['name']}/{ref['key']}")
            for n in unknown_env(env_names):
                problems.append(f"{cname}: environment variable {n} is not read by podplane "
                                f"(services/podplane/src/cli.rs)")
    # Services, the Ingress, HPAs and PDBs point at things that exist.
    pod_labels = [(pod_spec_owner, (pod_spec_owner.get("spec", {}).get("template", {})
                                    .get("metadata", {}).get("labels") or {}))
                  for pod_spec_owner in by.get("Deployment", {}).values()]

    def selects(selector):
        return [d for d, labels in pod_labels
                if selector and all(labels.get(k) == v for k, v in selector.items())]

    for s in by.get("Service", {}).values():
        if not selects(s["spec"].get("selector")):
            problems.append(f"Service/{s['metadata']['name']}: selects no Deployment's pods")
        for port in s["spec"].get("ports", []):
            tp = port.get("targetPort")
            for d in selects(s["spec"].get("selector")):
                names = {p.get("name") for c in d["spec"]["template"]["spec"]["containers"]
                         for p in c.get("ports") or []}
                if isinstance(tp, str) and tp not in names:
                    problems.append(f"Service/{s['metadata']['name']}: targetPort {tp} not on "
                                    f"Deployment/{d['metadata']['name']}")
    for pdb in by.get("PodDisruptionBudget", {}).values():
        if not selects(pdb["spec"]["selector"].get("matchLabels")):
            problems.append(f"PodDisruptionBudget/{pdb['metadata']['name']}: selects no pods")
    for h in by.get("HorizontalPodAutoscaler", {}).values():
        ref = h["spec"]["scaleTargetRef"]
        if ref["name"] not in by.get(ref["kind"], {}):
            problems.append(f"HorizontalPodAutoscaler/{h['metadata']['name']}: no {ref['kind']}/{ref['name']}")
        if h["spec"].get("minReplicas", 1) < 2:
            problems.append(f"HorizontalPodAutoscaler/{h['metadata']['name']}: minReplicas below 2")
    for ing in by.get("Ingress", {}).values():
        ann = ing["metadata"].get("annotations") or {}
        for rule in ing["spec"].get("rules", []):
            for p in rule.get("http", {}).get("paths", []):
                svc = p["backend"]["service"]
                port = svc.get("port", {})
                if port.get("name") == "use-annotation":
                    action = ann.get(f"alb.ingress.kubernetes.io/actions.{svc['name']}")
                    try:
                        json.loads(action)
                    except (TypeError, ValueError):
                        problems.append(f"Ingress/{ing['metadata']['name']}: {p['path']} needs a valid "
                                        f"actions.{svc['name']} annotation")
                    continue
                target = by.get("Service", {}).get(svc["name"])
                if target is None:
                    problems.append(f"Ingress/{ing['metadata']['name']}: {p['path']} -> missing Service/{svc['name']}")
                elif "name" in port and port["name"] not in {x.get("name") for x in target["spec"]["ports"]}:
                    problems.append(f"Ingress/{ing['metadata']['name']}: Service/{svc['name']} has no port {port['name']}")
        for key in ("alb.ingress.kubernetes.io/listen-ports",):
            try:
                json.loads(ann.get(key, "[]"))
            except ValueError:
                problems.append(f"Ingress/{ing['metadata']['name']}: {key} is not JSON")
        if overlay and "alb.ingress.kubernetes.io/certificate-arn" not in ann:
            problems.append(f"Ingress/{ing['metadata']['name']}: no certificate-arn")
    return problems


def check_kustomization(directory, overlay):
    kfile = os.path.join(directory, "kustomization.yaml")
    try:
        rendered = render(directory)
    except (RenderError, yaml.YAMLError, OSError) as e:
        report(kfile, [f"render: {e}"], "")
        return
    objs = [o for o, _ in rendered]
    problems = []
    if not overlay:
        # The base: one line per resource file, then the set as a whole.
        by_file = {}
        for o, src in rendered:
            by_file.setdefault(src, []).append(o)
        for src, items in by_file.items():
            ps = [p for o in items for p in schema_problems(o)]
            report(src, ps, f"{len(items)} object(s) valid against Kubernetes "
                            f"{', '.join(K8S_VERSIONS)} (strict)")
    else:
        problems += [p for o in objs for p in schema_problems(o)]
        patches = [os.path.join(directory, e["path"])
                   for e in (yaml.safe_load(open(kfile)) or {}).get("patches") or [] if "path" in e]
        for p in patches:
            report(p, [], "applied by the overlay (rendered result validated below)")
    problems += semantic_problems(objs, overlay)
    real = None
    try:
        real = kubectl_render(directory)
    except RenderError as e:
        problems.append(str(e))
    note = "no kubectl with kustomize v5 to compare with: built-in renderer only"
    if real is not None:
        theirs, kversion = real
        mine, other = normalized(objs), normalized(theirs)
        if mine != other:
            for key in sorted(set(mine) | set(other), key=str):
                if mine.get(key) != other.get(key):
                    diff = difflib.unified_diff(
                        yaml.safe_dump(other.get(key), sort_keys=True).splitlines(),
                        yaml.safe_dump(mine.get(key), sort_keys=True).splitlines(),
                        "kubectl kustomize", "built-in", n=1, lineterm="")
                    problems.append(f"built-in render differs from kubectl kustomize ({kversion}) "
                                    f"for {key}:\n         " + "\n         ".join(list(diff)[:30]))
        else:
            note = f"identical to kubectl kustomize ({kversion})"
    report(kfile, problems, f"rendered {len(objs)} objects; cross-references, hardening and "
                            f"env names checked; {note}")


# ---------------------------------------------------------------------------------------------
# ECS, against botocore's own service model (bundled with the package: no network).

ECS = botocore.session.get_session().get_service_model("ecs")

# Fargate task sizes: CPU units -> allowed memory (MiB).
FARGATE = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}


def enum_problems(value, shape, path="$"):
    """ParamValidator checks types and required members; enum values it leaves alone."""
    out = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for k, v in value.items():
            if k in shape.members:
                out += enum_problems(v, shape.members[k], f"{path}.{k}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, v in enumerate(value):
            out += enum_problems(v, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for k, v in value.items():
            out += enum_problems(v, shape.value, f"{path}.{k}")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        out.append(f"{path}: {value!r} is not one of {shape.enum}")
    return out


def model_problems(params, operation):
    shape = ECS.operation_model(operation).input_shape
    report_ = ParamValidator().validate(params, shape)
    problems = [l.strip() for l in report_.generate_report().splitlines() if l.strip()] \
        if report_.has_errors() else []
    return problems + enum_problems(params, shape)


def check_task_definition(path, td):
    problems = model_problems(td, "RegisterTaskDefinition")
    if problems:
        return problems
    if "FARGATE" in td.get("requiresCompatibilities", []):
        if td.get("networkMode") != "awsvpc":
            problems.append("Fargate needs networkMode awsvpc")
        cpu, mem = int(td.get("cpu", 0)), int(td.get("memory", 0))
        if mem not in FARGATE.get(cpu, []):
            problems.append(f"cpu {cpu} / memory {mem} is not a Fargate task size")
    if "executionRoleArn" not in td:
        problems.append("no executionRoleArn (needed for ECR, awslogs and secrets)")
    for c in td["containerDefinitions"]:
        name = f"container {c['name']}"
        if (c.get("logConfiguration") or {}).get("logDriver") != "awslogs":
            problems.append(f"{name}: log driver is not awslogs")
        names = [e["name"] for e in c.get("environment", [])] + [s["name"] for s in c.get("secrets", [])]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"{name}: variables set twice: {dupes}")
        for n in unknown_env(names):
            problems.append(f"{name}: environment variable {n} is not read by podplane")
        for s in c.get("secrets", []):
            if not re.match(r"^arn:aws[a-z-]*:(secretsmanager|ssm):", s["valueFrom"]):
                problems.append(f"{name}: secret {s['name']} is not a Secrets Manager or SSM ARN")
        server = bool(c.get("portMappings"))
        if server:
            if not c.get("healthCheck"):
                problems.append(f"{name}: no healthCheck")
            if not 35 <= c.get("stopTimeout", 30) <= 120:
                problems.append(f"{name}: stopTimeout must be 35..120 s (the server drains 30 s)")
            if not td.get("taskRoleArn"):
                problems.append("no taskRoleArn")
        if c.get("readonlyRootFilesystem") is not True:
            problems.append(f"{name}: readonlyRootFilesystem must be true")
        if not c.get("user") or c["user"].split(":")[0] in ("0", "root"):
            problems.append(f"{name}: must run as a non-root user")
        volumes = {v["name"] for v in td.get("volumes", [])}
        for m in c.get("mountPoints", []):
            if m["sourceVolume"] not in volumes:
                problems.append(f"{name}: mounts undefined volume {m['sourceVolume']}")
    return problems


def check_service(path, svc, task_defs):
    problems = model_problems(svc, "CreateService")
    if problems:
        return problems
    td = task_defs.get(svc.get("taskDefinition", "").split(":")[0])
    if td is None:
        return [f"taskDefinition {svc.get('taskDefinition')} matches no *-task-definition.json family"]
    containers = {c["name"]: c for c in td["containerDefinitions"]}
    for lb in svc.get("loadBalancers", []):
        c = containers.get(lb.get("containerName"))
        if c is None or lb.get("containerPort") not in [p["containerPort"] for p in c.get("portMappings", [])]:
            problems.append(f"load balancer target {lb.get('containerName')}:{lb.get('containerPort')} "
                            f"is no port of the task definition")
    port_names = {p.get("name") for c in containers.values() for p in c.get("portMappings", [])}
    for s in (svc.get("serviceConnectConfiguration") or {}).get("services", []):
        if s["portName"] not in port_names:
            problems.append(f"Service Connect port {s['portName']} is no named port of the task")
    dc = svc.get("deploymentConfiguration") or {}
    if not (dc.get("deploymentCircuitBreaker") or {}).get("enable"):
        problems.append("deployment circuit breaker not enabled")
    if svc.get("launchType") == "FARGATE" and \
            (svc.get("networkConfiguration") or {}).get("awsvpcConfiguration") is None:
        problems.append("Fargate needs networkConfiguration.awsvpcConfiguration")
    return problems


def check_ecs():
    files = sorted(glob.glob(os.path.join(DEPLOY, "ecs", "*.json")))
    task_defs, loaded = {}, {}
    for path in files:
        try:
            loaded[path] = json.load(open(path, encoding="utf-8"))
        except ValueError as e:
            report(path, [f"not JSON: {e}"], "")
    for path, doc in loaded.items():
        if path.endswith("task-definition.json") and isinstance(doc, dict):
            task_defs[doc.get("family")] = doc
    for path, doc in loaded.items():
        if path.endswith("task-definition.json"):
            report(path, check_task_definition(path, doc),
                   "valid RegisterTaskDefinition input (botocore ecs model, "
                   f"{ECS.api_version}); Fargate size, roles, logs, env names checked")
        elif path.endswith("-service.json"):
            report(path, check_service(path, doc, task_defs),
                   "valid CreateService input (botocore ecs model); references checked")
        else:
            report(path, ["unknown kind of ECS file (expected *task-definition.json or *-service.json)"], "")


# ---------------------------------------------------------------------------------------------
# IAM policy documents.

def check_policy(path):
    try:
        doc = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        return [f"not JSON: {e}"]
    problems = []
    if doc.get("Version") != "2012-10-17":
        problems.append('Version must be "2012-10-17"')
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return problems + ["no Statement"]
    sids = []
    for i, s in enumerate(statements):
        where = f"Statement[{i}]" + (f" ({s['Sid']})" if "Sid" in s else "")
        unknown = set(s) - {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                            "Resource", "NotResource", "Condition"}
        if unknown:
            problems.append(f"{where}: unknown elements {sorted(unknown)}")
        if "Sid" in s:
            sids.append(s["Sid"])
            if not re.fullmatch(r"[A-Za-z0-9]+", s["Sid"]):
                problems.append(f"{where}: Sid must be alphanumeric")
        if s.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{where}: Effect must be Allow or Deny")
        if ("Action" in s) == ("NotAction" in s):
            problems.append(f"{where}: exactly one of Action and NotAction")
        if ("Resource" in s) == ("NotResource" in s):
            problems.append(f"{where}: exactly one of Resource and NotResource")
        actions = s.get("Action", s.get("NotAction", []))
        for a in [actions] if isinstance(actions, str) else actions:
            if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", a) or a.endswith(":*"):
                problems.append(f"{where}: action {a!r} is malformed or a service-wide wildcard")
        resources = s.get("Resource", s.get("NotResource", []))
        for r in [resources] if isinstance(resources, str) else resources:
            if r != "*" and not r.startswith("arn:aws"):
                problems.append(f"{where}: resource {r!r} is not an ARN")
    if len(sids) != len(set(sids)):
        problems.append("duplicate Sid")
    return problems


# ---------------------------------------------------------------------------------------------

check_kustomization(os.path.join(DEPLOY, "kubernetes", "base"), overlay=False)
for overlay in sorted(glob.glob(os.path.join(DEPLOY, "kubernetes", "overlays", "*"))):
    if os.path.isdir(overlay):
        check_kustomization(overlay, overlay=True)
check_ecs()
for path in sorted(glob.glob(os.path.join(DEPLOY, "iam", "*.json"))):
    report(path, check_policy(path), "policy document well-formed")

failed = results.count(False)
print(f"validate-manifests: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
