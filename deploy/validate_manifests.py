"""Validates deploy/'s Kubernetes and KServe manifests offline, with no cluster.

usage: validate_manifests.py DEPLOY_DIR [--kubectl PATH] [--cortadod PATH]

1. Renders every kustomization (k8s/base, k8s/overlays/*, k8s/prometheus-adapter, kserve) with
   `kubectl kustomize`.
2. Checks each rendered resource against its schema in strict mode (unknown fields are errors, as
   with `kubectl apply --validate=strict`): built-in kinds with kubernetes-validate (the
   Kubernetes OpenAPI schemas it ships) for each of KUBERNETES_VERSIONS, KServe's kinds against
   the openAPIV3Schema of KServe's own CRDs (schemas/kserve, see its README.md).
   The compose file is checked against the Compose Specification's JSON schema (schemas/compose).
3. Checks what schemas cannot see: selectors match the pod labels, probes and Services name
   ports the container has, readiness is /v2/health/ready, the grace period covers preStop plus
   cortadod's drain (--exit-timeout-secs and the closing steps of server/main.cc), the image is
   set, and the HPA's metrics are ones the prometheus-adapter rules serve.
4. With --cortadod: every cortadod command line here (the Deployments' and the
   ServingRuntime's args, the compose file's command, the Containerfile's CMD) is parsed by
   cortadod itself (`cortadod ARGS --help` exits 0 only if every flag and value is valid).
5. Proves the checks can fail: broken copies of a rendered Deployment and ServingRuntime, and a
   misspelt flag, must be rejected.

Prints one line per resource and exits non-zero on the first kind of problem found.
"""
import argparse
import copy
import glob
import json
import os
import subprocess
import sys

import jsonschema
import kubernetes_validate
import yaml

# The oldest version with the preStop sleep action (beta and on by default in 1.30) and the
# newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]

# server/main.cc: after the drain (--exit-timeout-secs, default 30) the HTTP and gRPC endpoints
# get 2 s each to close, and a watchdog ends the process 5 s later at most.
DEFAULT_EXIT_TIMEOUT_SECS = 30
CLOSE_SECS = 2 + 2 + 5


class Problem(Exception):
    pass


def render(kubectl, root):
    out = subprocess.run([kubectl, "kustomize", root], check=True, capture_output=True, text=True)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def kserve_schemas(deploy_dir):
    schemas = {}
    for path in glob.glob(os.path.join(deploy_dir, "schemas", "kserve", "*.json")):
        with open(path) as f:
            s = json.load(f)
        schemas[("%s/%s" % (s["group"], s["version"]), s["kind"])] = strict(s["openAPIV3Schema"])
    return schemas


def strict(schema):
    """The CRD schema with unknown fields rejected where the API server would prune them."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node
                    and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return schema


def validate_schema(doc, crds):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in crds:
        try:
            jsonschema.Draft7Validator(crds[key]).validate(doc)
        except jsonschema.ValidationError as e:
            path = ".".join(str(p) for p in e.absolute_path)
            raise Problem("%s/%s: KServe schema: %s at %s" % (key[1], name(doc), e.message, path))
        return "KServe CRD %s" % key[0]
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
            raise Problem("%s/%s: Kubernetes %s: %s" % (key[1], name(doc), version, e))
    return "Kubernetes " + ", ".join(KUBERNETES_VERSIONS)


def name(doc):
    return doc.get("metadata", {}).get("name", "?")


def flag(args, flag_name, default):
    for a in args:
        if a.startswith("--%s=" % flag_name):
            return a.split("=", 1)[1]
    return default


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_container(c, where):
    """cortadod's container: image set, probes on ports it has, readiness on the v2 endpoint."""
    if c.get("image") in (None, "", "cortadod"):
        raise Problem("%s: the image is not set (kustomize images:)" % where)
    args = c.get("args", [])
    http_port = int(flag(args, "http-port", 8000))
    port_names = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = c.get(probe_name)
        if probe is None:
            continue
        port = probe["httpGet"]["port"]
        port = port_names.get(port) if isinstance(port, str) else port
        if port != http_port:
            raise Problem("%s: %s probes port %r, cortadod's HTTP port is %d"
                          % (where, probe_name, probe["httpGet"]["port"], http_port))
    if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/v2/health/ready":
        raise Problem("%s: the readiness probe must be GET /v2/health/ready" % where)
    if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/v2/health/live":
        raise Problem("%s: the liveness probe must be GET /v2/health/live" % where)
    return args


def check_deployment(d):
    where = "Deployment/%s" % name(d)
    selector = d["spec"]["selector"]["matchLabels"]
    pod = d["spec"]["template"]
    if not selects(selector, pod["metadata"].get("labels", {})):
        raise Problem("%s: the selector does not match the pod labels" % where)
    [c] = [c for c in pod["spec"]["containers"] if c["name"] == "cortadod"]
    args = check_container(c, where)
    if flag(args, "model-repository", "") != "/models":
        raise Problem("%s: --model-repository must be /models" % where)
    if not any(m["mountPath"] == "/models" for m in c.get("volumeMounts", [])):
        raise Problem("%s: nothing is mounted at /models" % where)
    if "startupProbe" not in c:
        raise Problem("%s: no startup probe" % where)
    exit_timeout = int(flag(args, "exit-timeout-secs", DEFAULT_EXIT_TIMEOUT_SECS))
    pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    needed = pre_stop + exit_timeout + CLOSE_SECS
    if grace < needed:
        raise Problem("%s: terminationGracePeriodSeconds %d < preStop %d + --exit-timeout-secs %d"
                      " + %d closing = %d" % (where, grace, pre_stop, exit_timeout, CLOSE_SECS,
                                              needed))
    for res in ("requests", "limits"):
        if not {"cpu", "memory"} <= set(c.get("resources", {}).get(res, {})):
            raise Problem("%s: resources.%s needs cpu and memory" % (where, res))
    return "grace %ds >= preStop %ds + drain %ds + closing %ds" % (
        grace, pre_stop, exit_timeout, CLOSE_SECS)


def check_relations(docs, adapter_metrics):
    """Services, budgets and autoscalers point at the Deployment's pods and ports."""
    deployments = {name(d): d for d in docs if d["kind"] == "Deployment"}
    pods = [d["spec"]["template"] for d in deployments.values()]
    for d in docs:
        where = "%s/%s" % (d["kind"], name(d))
        if d["kind"] == "Service":
            pod = next((p for p in pods if selects(d["spec"]["selector"], p["metadata"]["labels"])),
                       None)
            if pod is None:
                raise Problem("%s: selects no pod" % where)
            ports = {p.get("name") for c in pod["spec"]["containers"] for p in c.get("ports", [])}
            for p in d["spec"]["ports"]:
                if p["targetPort"] not in ports:
                    raise Problem("%s: targetPort %s is no container port"
                                  % (where, p["targetPort"]))
        elif d["kind"] == "PodDisruptionBudget":
            if not any(selects(d["spec"]["selector"]["matchLabels"], p["metadata"]["labels"])
                       for p in pods):
                raise Problem("%s: selects no pod" % where)
        elif d["kind"] == "HorizontalPodAutoscaler":
            if d["spec"]["scaleTargetRef"]["name"] not in deployments:
                raise Problem("%s: scales a Deployment that is not here" % where)
            for m in d["spec"]["metrics"]:
                metric = m.get("pods", {}).get("metric", {}).get("name")
                if m["type"] == "Pods" and metric not in adapter_metrics:
                    raise Problem("%s: pods metric %s is not served by the prometheus-adapter "
                                  "rules (%s)"
                                  % (where, metric, ", ".join(sorted(adapter_metrics))))


def check_serving_runtime(d):
    where = "ServingRuntime/%s" % name(d)
    formats = {f["name"] for f in d["spec"]["supportedModelFormats"]}
    if not {"onnx", "caffe2"} <= formats:
        raise Problem("%s: must support onnx and caffe2 (has %s)" % (where, sorted(formats)))
    if "v2" not in d["spec"].get("protocolVersions", []):
        raise Problem("%s: must speak protocol v2" % where)
    [c] = d["spec"]["containers"]
    args = check_container(c, where)
    if flag(args, "model-repository", "") != "/mnt/models":
        raise Problem("%s: KServe puts the model at /mnt/models" % where)


def check_flags(cortadod, args, where):
    r = subprocess.run([cortadod] + list(args) + ["--help"], capture_output=True, text=True)
    if r.returncode != 0:
        raise Problem("%s: cortadod rejects its arguments: %s" % (where, r.stderr.strip()))


def command_lines(deploy_dir, rendered):
    """(where, args) of every cortadod command line in deploy/."""
    for root, docs in sorted(rendered.items()):
        for d in docs:
            if d["kind"] in ("Deployment", "ServingRuntime"):
                spec = d["spec"]["template"]["spec"] if d["kind"] == "Deployment" else d["spec"]
                for c in spec["containers"]:
                    yield "%s %s/%s" % (root, d["kind"], name(d)), c.get("args", [])
    with open(os.path.join(deploy_dir, "observability", "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    yield "observability/compose.yaml", compose["services"]["cortadod"]["command"]
    with open(os.path.join(deploy_dir, "Containerfile")) as f:
        cmd = [l for l in f if l.startswith("CMD ")]
    yield "Containerfile CMD", json.loads(cmd[-1][4:])


def check_compose(deploy_dir, compose, schema):
    """observability/compose.yaml against the Compose Specification's schema; its own files exist;
    cortadod gets the time its drain needs."""
    try:
        jsonschema.Draft7Validator(schema).validate(compose)
    except jsonschema.ValidationError as e:
        path = ".".join(str(p) for p in e.absolute_path)
        raise Problem("compose.yaml: %s at %s" % (e.message, path))
    here = os.path.join(deploy_dir, "observability")
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not os.path.exists(os.path.join(here, source)):
                raise Problem("compose.yaml: volume source %s does not exist" % source)
    cortadod = compose["services"]["cortadod"]
    grace = int(cortadod["stop_grace_period"].rstrip("s"))
    exit_timeout = int(flag(cortadod["command"], "exit-timeout-secs", DEFAULT_EXIT_TIMEOUT_SECS))
    if grace < exit_timeout + CLOSE_SECS:
        raise Problem("compose.yaml: stop_grace_period %ds < --exit-timeout-secs %d + %d closing"
                      % (grace, exit_timeout, CLOSE_SECS))
    return "stop_grace_period %ds >= drain %ds + closing %ds" % (grace, exit_timeout, CLOSE_SECS)


def check_inference_service(d):
    """What KServe's admission webhook adds to the schema (inference_service_validation.go)."""
    where = "InferenceService/%s" % name(d)
    predictor = d["spec"]["predictor"]
    mode = d["metadata"].get("annotations", {}).get("serving.kserve.io/deploymentMode")
    metric = predictor.get("scaleMetric", "cpu")
    if mode == "RawDeployment" and metric not in ("cpu", "memory"):
        raise Problem("%s: a RawDeployment scales on cpu or memory, not %s" % (where, metric))
    if mode == "RawDeployment" and metric == "cpu" and not 1 <= predictor.get("scaleTarget",
                                                                                80) <= 100:
        raise Problem("%s: the cpu scaleTarget is a percentage" % where)
    if predictor["model"].get("runtime") not in (None, "cortado"):
        raise Problem("%s: runs on %s, not cortado" % (where, predictor["model"]["runtime"]))


def adapter_rule_names(deploy_dir):
    with open(os.path.join(deploy_dir, "k8s", "prometheus-adapter", "rules.yaml")) as f:
        rules = yaml.safe_load(f)["rules"]
    return {r["name"]["as"] for r in rules}


def check_all(docs, crds, adapter_metrics, report):
    for d in docs:
        checked = validate_schema(d, crds)
        extra = ""
        if d["kind"] == "Deployment":
            extra = "; " + check_deployment(d)
        elif d["kind"] == "ServingRuntime":
            check_serving_runtime(d)
        elif d["kind"] == "InferenceService":
            check_inference_service(d)
        report("  ok %s/%s (%s%s)" % (d["kind"], name(d), checked, extra))
    check_relations(docs, adapter_metrics)


def must_fail(what, docs, crds, adapter_metrics):
    try:
        check_all(docs, crds, adapter_metrics, lambda _: None)
    except Problem as e:
        print("  ok rejected %s: %s" % (what, str(e).splitlines()[0][:160]))
        return
    raise Problem("a broken manifest passed: %s" % what)


def self_test(rendered, crds, adapter_metrics):
    """Broken copies of good manifests must be rejected, or the checks above prove nothing."""
    prod = rendered["k8s/overlays/production"]
    kserve = rendered["kserve"]

    def broken(docs, kind, edit):
        docs = copy.deepcopy(docs)
        edit(next(d for d in docs if d["kind"] == kind))
        return docs

    def unknown_field(d):
        d["spec"]["template"]["spec"]["terminationGracePeriod"] = 50

    def short_grace(d):
        d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 30

    def wrong_probe(d):
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] = "/"

    def hpa_metric(d):
        d["spec"]["metrics"][0]["pods"]["metric"]["name"] = "cortado_made_up"

    def runtime_field(d):
        d["spec"]["supportedModelFormats"][0]["autoselect"] = True

    def runtime_type(d):
        d["spec"]["protocolVersions"] = "v2"

    def isvc_concurrency(d):
        d["spec"]["predictor"]["scaleMetric"] = "concurrency"

    must_fail("a RawDeployment scaled on concurrency",
              broken(kserve, "InferenceService", isvc_concurrency), crds, adapter_metrics)
    must_fail("an unknown Deployment field", broken(prod, "Deployment", unknown_field), crds,
              adapter_metrics)
    must_fail("a grace period shorter than the drain", broken(prod, "Deployment", short_grace),
              crds, adapter_metrics)
    must_fail("readiness on /", broken(prod, "Deployment", wrong_probe), crds, adapter_metrics)
    must_fail("an HPA metric the adapter does not serve",
              broken(prod, "HorizontalPodAutoscaler", hpa_metric), crds, adapter_metrics)
    must_fail("an unknown ServingRuntime field", broken(kserve, "ServingRuntime", runtime_field),
              crds, adapter_metrics)
    must_fail("a ServingRuntime field of the wrong type",
              broken(kserve, "ServingRuntime", runtime_type), crds, adapter_metrics)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("deploy_dir")
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--cortadod")
    opts = parser.parse_args()
    crds = kserve_schemas(opts.deploy_dir)
    if len(crds) != 2:
        raise SystemExit("expected the ServingRuntime and InferenceService schemas in "
                         "schemas/kserve")
    adapter_metrics = adapter_rule_names(opts.deploy_dir)
    roots = sorted(["k8s/base", "k8s/prometheus-adapter", "kserve"] + [
        os.path.relpath(p, opts.deploy_dir)
        for p in glob.glob(os.path.join(opts.deploy_dir, "k8s", "overlays", "*"))])
    rendered, count = {}, 0
    try:
        for root in roots:
            docs = render(opts.kubectl, os.path.join(opts.deploy_dir, root))
            print("%s: %d resources" % (root, len(docs)))
            check_all(docs, crds, adapter_metrics, print)
            rendered[root] = docs
            count += len(docs)
        if opts.cortadod:
            lines = list(command_lines(opts.deploy_dir, rendered))
            for where, args in lines:
                check_flags(opts.cortadod, args, where)
            print("cortadod accepts all %d command lines (%s)" % (
                len(lines), ", ".join(sorted({w.split(" ")[0] for w, _ in lines}))))
        with open(os.path.join(opts.deploy_dir, "observability", "compose.yaml")) as f:
            compose = yaml.safe_load(f)
        with open(os.path.join(opts.deploy_dir, "schemas", "compose", "compose-spec.json")) as f:
            compose_schema = json.load(f)
        print("observability/compose.yaml: ok (Compose Specification schema; %s)"
              % check_compose(opts.deploy_dir, compose, compose_schema))
        print("self-test:")
        self_test(rendered, crds, adapter_metrics)
        broken = copy.deepcopy(compose)
        broken["services"]["cortadod"]["stop_grace_perod"] = "40s"
        try:
            check_compose(opts.deploy_dir, broken, compose_schema)
            raise Problem("a misspelt compose key passed")
        except Problem as e:
            if "stop_grace_perod" not in str(e):
                raise
            print("  ok rejected a misspelt compose key: %s" % e)
        if opts.cortadod:
            try:
                check_flags(opts.cortadod, ["--exit-timeout-sec=30"], "a misspelt flag")
                raise Problem("cortadod accepted a misspelt flag")
            except Problem as e:
                if "misspelt flag:" not in str(e):
                    raise
                print("  ok rejected %s" % e)
    except Problem as e:
        print("FAIL: %s" % e)
        return 1
    print("PASS: %d resources in %d kustomizations valid (Kubernetes %s, KServe CRDs)"
          % (count, len(roots), " and ".join(KUBERNETES_VERSIONS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
