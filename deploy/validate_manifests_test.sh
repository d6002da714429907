#!/usr/bin/env bash
# Runs deploy/validate_manifests.py with the Python test tools' virtual environment
# (tools/setup.sh: kubernetes-validate) and kubectl's built-in kustomize. The deploy folder is
# copied out of the runfiles first: kustomize refuses files that resolve outside its root, and
# runfiles are symlinks. args: CORTADOD
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import kubernetes_validate" 2>/dev/null; then
  echo "validate_manifests_test: kubernetes-validate is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
kubectl="$(command -v kubectl || true)"
if [ -z "$kubectl" ]; then
  echo "validate_manifests_test: kubectl (1.21 or newer, for kubectl kustomize) is not on PATH" >&2
  exit 1
fi
here="$(dirname "$0")"
copy="${TEST_TMPDIR:-$(mktemp -d)}/deploy"
rm -rf "$copy"
mkdir -p "$copy"
cp -rL "$here/k8s" "$here/kserve" "$here/schemas" "$here/observability" "$here/Containerfile" "$copy/"
exec "$venv/bin/python" -u "$here/validate_manifests.py" "$copy" --kubectl "$kubectl" --cortadod "$1"
