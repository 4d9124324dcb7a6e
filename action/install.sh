#!/usr/bin/env bash
# Installs a released heartbeat-monitor binary for this runner: downloads the release archive
# for the runner's OS and architecture, checks its SHA-256 against the release's SHA256SUMS,
# and unpacks it. Everything comes in through the environment, never spliced into this text:
#
#   HM_VERSION       a release tag (v1.2.3 or v1.2.3-rc.1), "latest", "source" (build the
#                    action's own checkout with cargo), or "" for the action's own version
#                    (its Cargo.toml); anything else is refused before anything is written
#   HM_ACTION_PATH   the action's checkout (GITHUB_ACTION_PATH)
#   HM_REPOSITORY    OWNER/NAME of the releases (the action's own repository)
#   HM_INSTALL_DIR   where the binary goes (created)
#   RUNNER_OS        Linux or macOS (set by GitHub Actions)
#   RUNNER_ARCH      X64 or ARM64 (set by GitHub Actions)
#   HM_SERVER_URL    optional: where releases are served (default: GITHUB_SERVER_URL, else
#                    https://github.com); the tests point it at a loopback server
#
# `install.sh resolve` only decides the tag and target (tag=, target= in GITHUB_OUTPUT), so
# that the action can look in its cache first; `install.sh` installs and writes version=,
# dir= and path= to GITHUB_OUTPUT when that is set.
set -euo pipefail

fail() {
  # One annotation a person can act on, then out. Escaped as workflow commands want it, so
  # that no text in it can end the annotation and start a command of its own.
  local message="$*"
  message="${message//%/%25}"
  message="${message//$'\r'/%0D}"
  message="${message//$'\n'/%0A}"
  echo "::error title=heartbeat-monitor install::$message" >&2
  exit 1
}

# A release tag: v, then MAJOR.MINOR.PATCH without leading zeros, then an optional SemVer
# pre-release (-rc.1). Nothing else: no build metadata, no /, no .., no space, no newline.
is_tag() {
  local n='(0|[1-9][0-9]*)' id='[0-9A-Za-z-]+'
  [[ $1 =~ ^v$n\.$n\.$n(-$id(\.$id)*)?$ ]]
}

# A value as an error shows it: quoted, on one line, at most 80 characters.
shown() {
  local v="${1:0:80}"
  if [[ $v =~ ^[A-Za-z0-9._/+%:@-]*$ ]]; then
    printf "'%s'" "$v"
  else
    printf '%q' "$v"
  fi
}

not_a_tag="is not a release tag (v1.2.3 or v1.2.3-rc.1)"

HM_VERSION="${HM_VERSION:-}"
if [ -z "$HM_VERSION" ]; then
  # The action's own version, so that OWNER/heartbeat-monitor@v1 runs the binary of that code.
  manifest="${HM_ACTION_PATH:-.}/Cargo.toml"
  [ -f "$manifest" ] || fail "no version input and no $manifest to read the action's version from"
  own=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$manifest" | head -n 1)
  [ -n "$own" ] || fail "$manifest has no version line"
  HM_VERSION="v$own"
fi
case "$HM_VERSION" in
  latest | source) ;;
  *) is_tag "$HM_VERSION" || fail "version $(shown "$HM_VERSION") $not_a_tag, latest or source" ;;
esac
: "${HM_REPOSITORY:?HM_REPOSITORY is not set (OWNER/NAME of the releases)}"
server="${HM_SERVER_URL:-${GITHUB_SERVER_URL:-https://github.com}}"
server="${server%/}"

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) fail "no release binary for ${RUNNER_OS:-an unknown OS} on ${RUNNER_ARCH:-an unknown architecture}: releases are built for Linux and macOS on X64 and ARM64" ;;
esac

if [ "$HM_VERSION" = source ]; then
  # Built from the action's checkout: for forks and for trying an unreleased commit.
  if [ "${1:-}" = resolve ]; then
    [ -z "${GITHUB_OUTPUT:-}" ] || printf 'tag=source\ntarget=%s\n' "$target" >>"$GITHUB_OUTPUT"
    exit 0
  fi
  : "${HM_INSTALL_DIR:?HM_INSTALL_DIR is not set}"
  command -v cargo >/dev/null || fail "version: source needs a Rust toolchain on the runner"
  cargo build --release --locked --quiet --manifest-path "${HM_ACTION_PATH:-.}/Cargo.toml" \
    --target-dir "${HM_ACTION_PATH:-.}/target"
  mkdir -p "$HM_INSTALL_DIR"
  install -m 0755 "${HM_ACTION_PATH:-.}/target/release/heartbeat-monitor" "$HM_INSTALL_DIR/"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'version=source\ndir=%s\npath=%s\n' "$HM_INSTALL_DIR" "$HM_INSTALL_DIR/heartbeat-monitor" >>"$GITHUB_OUTPUT"
  fi
  exit 0
fi

case "$HM_REPOSITORY" in
  */*) ;;
  *) fail "HM_REPOSITORY must be OWNER/NAME, not '$HM_REPOSITORY'" ;;
esac

curl_get() {
  curl --fail --silent --show-error --location --retry 3 --retry-connrefused \
    --connect-timeout 10 --max-time 120 "$@"
}

tag="$HM_VERSION"
if [ "$tag" = latest ]; then
  # GitHub answers /releases/latest with a redirect to /releases/tag/<tag>: no API call, no token.
  effective=$(curl --silent --show-error --output /dev/null --write-out '%{redirect_url}' \
    --connect-timeout 10 --max-time 30 "$server/$HM_REPOSITORY/releases/latest") ||
    fail "could not ask $server which release of $HM_REPOSITORY is the latest"
  tag="${effective##*/releases/tag/}"
  if [ -z "$effective" ] || [ "$tag" = "$effective" ]; then
    fail "$HM_REPOSITORY has no release yet at $server (set the action's version input to a tag)"
  fi
fi
is_tag "$tag" ||
  fail "the latest release of $HM_REPOSITORY at $server is tagged $(shown "$tag"), which $not_a_tag"
if [ "${1:-}" = resolve ]; then
  echo "heartbeat-monitor $tag for $target"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'tag=%s\ntarget=%s\n' "$tag" "$target" >>"$GITHUB_OUTPUT"
  fi
  exit 0
fi
: "${HM_INSTALL_DIR:?HM_INSTALL_DIR is not set}"
version="${tag#v}"
archive="heartbeat-monitor-$version-$target.tar.gz"
base="$server/$HM_REPOSITORY/releases/download/$tag"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl_get --output "$work/$archive" "$base/$archive" ||
  fail "could not download $base/$archive"
curl_get --output "$work/SHA256SUMS" "$base/SHA256SUMS" ||
  fail "could not download $base/SHA256SUMS"

# The line "<hash>  <archive>" for this archive, exactly.
expected=$(awk -v name="$archive" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS")
[ -n "$expected" ] || fail "SHA256SUMS of $tag lists no $archive"
if command -v sha256sum >/dev/null; then
  actual=$(sha256sum "$work/$archive" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$work/$archive" | awk '{ print $1 }')
fi
[ "$actual" = "$expected" ] ||
  fail "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual. Not installed."

mkdir -p "$HM_INSTALL_DIR"
tar -xzf "$work/$archive" -C "$work"
[ -f "$work/heartbeat-monitor" ] || fail "$archive holds no heartbeat-monitor binary"
install -m 0755 "$work/heartbeat-monitor" "$HM_INSTALL_DIR/heartbeat-monitor"
"$HM_INSTALL_DIR/heartbeat-monitor" --version >/dev/null ||
  fail "the installed binary does not run on this runner ($target)"

echo "installed heartbeat-monitor $version ($target) in $HM_INSTALL_DIR"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "version=$version"
    echo "dir=$HM_INSTALL_DIR"
    echo "path=$HM_INSTALL_DIR/heartbeat-monitor"
  } >>"$GITHUB_OUTPUT"
fi
