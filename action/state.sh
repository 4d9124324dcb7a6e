#!/usr/bin/env bash
# Keeps the alert state and the status page's history where GitHub does not evict them: in a
# `heartbeat-state-<run_id>-<run_attempt>` artifact uploaded by every run. The Actions cache
# is only a fast path: it is evicted after 7 days unused, or within hours in a repository at
# its cache limit. Everything comes in through the environment:
#
#   HM_STATE_FILE        the alert state file ("" : none)
#   HM_STATUS_PAGE       the status page's directory ("" : none); its history.jsonl is kept
#   HM_CACHE_STATE_KEY   the cache key the state was restored from ("" : none restored)
#   HM_CACHE_STATUS_KEY  the same for the status page
#   HM_STAGE_DIR         stage: where the files to upload are gathered
#   GITHUB_TOKEN         restore: a token with actions: read on this repository
#   GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_WORKFLOW_REF
#                        set by GitHub Actions
#
# `state.sh restore` finds the newest heartbeat-state artifact of this workflow (its latest
# runs, newest first, then each run's artifacts), downloads it unless the cache already gave
# that run's files, and writes source= (artifact, cache or none) and previous-run= (the id of
# the workflow's newest earlier run, when it ran before) to GITHUB_OUTPUT. It never fails the
# job: whatever goes wrong is a warning, and the run goes on with what the cache gave.
# `state.sh stage` gathers state.json and history.jsonl in HM_STAGE_DIR for the upload and
# writes dir= and files= (how many) to GITHUB_OUTPUT.
set -euo pipefail

# How many of the workflow's latest runs are searched for an artifact: runs that stopped
# before the upload (a cancelled job) do not lose the state of the run before them.
RUNS_SEARCHED=10
# The largest artifact downloaded: the state file is at most 16 MiB, the history far less.
MAX_ARTIFACT_BYTES=$((64 * 1024 * 1024))

# A workflow command's message, escaped so that no text in it can end the command and start
# another: server text never reaches the log unescaped.
escaped() {
  local m="$*"
  m="${m//%/%25}"
  m="${m//$'\r'/%0D}"
  m="${m//$'\n'/%0A}"
  printf '%s' "$m"
}
warn() { echo "::warning title=heartbeat-monitor state::$(escaped "$*")"; }
say() { echo "heartbeat-monitor state: $(escaped "$*")"; }
output() { [ -z "${GITHUB_OUTPUT:-}" ] || printf '%s\n' "$@" >>"$GITHUB_OUTPUT"; }
is_id() { [[ $1 =~ ^[0-9]{1,20}$ ]]; }

# The run id at the end of a cache key (heartbeat-state-<workflow>-<run_id>), or "".
key_run() {
  local id="${1##*-}"
  if [ -n "$1" ] && is_id "$id"; then printf '%s' "$id"; fi
}

stage() {
  : "${HM_STAGE_DIR:?HM_STAGE_DIR is not set}"
  rm -rf "$HM_STAGE_DIR"
  mkdir -p "$HM_STAGE_DIR"
  local files=0
  # A dry run wrote no state: the state it restored goes up again, so that the newest
  # artifact always holds the newest state.
  if [ -n "${HM_STATE_FILE:-}" ] && [ -f "$HM_STATE_FILE" ]; then
    cp "$HM_STATE_FILE" "$HM_STAGE_DIR/state.json"
    files=$((files + 1))
  fi
  if [ -n "${HM_STATUS_PAGE:-}" ] && [ -f "$HM_STATUS_PAGE/history.jsonl" ]; then
    cp "$HM_STATUS_PAGE/history.jsonl" "$HM_STAGE_DIR/history.jsonl"
    files=$((files + 1))
  fi
  output "dir=$HM_STAGE_DIR" "files=$files"
}

# GET $1 into $2 with the token; prints the HTTP status (000 when nothing answered).
api_get() {
  curl --silent --proto '=http,https' --connect-timeout 10 --max-time 60 \
    --retry 2 --retry-connrefused \
    --header @"$work/auth" \
    --header 'Accept: application/vnd.github+json' \
    --header 'X-GitHub-Api-Version: 2022-11-28' \
    --output "$2" --write-out '%{http_code}' "$1" 2>/dev/null || true
}

# Copies the regular file $1 (never a link) to $2 through a temporary beside it.
put() {
  if [ ! -f "$1" ] || [ -L "$1" ]; then return 1; fi
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.restoring"
  mv -f "$2.restoring" "$2"
}

# Sets artifact_id, artifact_run and artifact_digest to the newest heartbeat-state artifact
# of the workflow's latest runs; fails (with a warning) when GitHub could not be asked.
find_artifact() {
  local runs_url="$api/repos/$GITHUB_REPOSITORY/actions/workflows/$workflow/runs?per_page=$RUNS_SEARCHED"
  local code run runs
  code=$(api_get "$runs_url" "$work/runs.json")
  if [ "$code" != 200 ]; then
    warn "could not list the runs of $workflow (HTTP $code from $api): the state comes from the cache only. The token needs actions: read."
    return 1
  fi
  # Only runs of this repository's own code: a pull request from a fork can run the workflow
  # and upload an artifact of that name, which must never become the alert state.
  runs=$(jq -r --arg repo "$GITHUB_REPOSITORY" '
    .workflow_runs[]? | select(.head_repository.full_name == $repo) | .id' "$work/runs.json" 2>/dev/null) || {
    warn "GitHub's list of the runs of $workflow is not JSON: the state comes from the cache only"
    return 1
  }
  for run in $runs; do
    is_id "$run" || continue
    if [ "$run" != "${GITHUB_RUN_ID:-}" ] && [ -z "$previous" ]; then previous="$run"; fi
  done
  # A re-run's earlier attempts ran before too.
  if [ -z "$previous" ] && [ "${GITHUB_RUN_ATTEMPT:-1}" != 1 ] && is_id "${GITHUB_RUN_ID:-}"; then
    previous="$GITHUB_RUN_ID"
  fi
  for run in $runs; do
    is_id "$run" || continue
    code=$(api_get "$api/repos/$GITHUB_REPOSITORY/actions/runs/$run/artifacts?per_page=100" "$work/artifacts.json")
    if [ "$code" != 200 ]; then
      warn "could not list the artifacts of run $run (HTTP $code from $api): the state comes from the cache only"
      return 1
    fi
    local found
    found=$(jq -r --arg prefix "heartbeat-state-$run-" '
      [.artifacts[]?
        | select(.expired == false and (.name | type) == "string")
        | select((.name | startswith($prefix)) and (.name | ltrimstr($prefix) | test("^[0-9]+$")))]
      | sort_by(.created_at) | last // empty
      | "\(.id) \(.digest // "")"' "$work/artifacts.json" 2>/dev/null) || found=""
    if [ -n "$found" ]; then
      artifact_id="${found%% *}"
      artifact_digest="${found#* }"
      artifact_run="$run"
      is_id "$artifact_id" || { artifact_id=""; continue; }
      return 0
    fi
  done
  return 0
}

# Downloads the artifact's zip into $work/state.zip: GitHub answers a 302 to its storage, which
# gets no token (the address is signed).
download() {
  local url="$api/repos/$GITHUB_REPOSITORY/actions/artifacts/$artifact_id/zip" reply code location
  reply=$(curl --silent --proto '=http,https' --connect-timeout 10 --max-time 60 --retry 2 \
    --header @"$work/auth" --header 'Accept: application/vnd.github+json' \
    --header 'X-GitHub-Api-Version: 2022-11-28' \
    --output "$work/state.zip" --write-out '%{http_code} %{redirect_url}' "$url" 2>/dev/null) || reply="000 "
  code="${reply%% *}"
  location="${reply#* }"
  case "$code" in
    200) ;;
    301 | 302 | 303 | 307 | 308)
      case "$location" in
        https://* | http://*) ;;
        *) warn "GitHub sent artifact $artifact_id to no usable address"; return 1 ;;
      esac
      # The signed address is never printed: it is as good as a token for a while.
      if ! curl --silent --fail --proto '=http,https' --connect-timeout 10 --max-time 300 \
        --retry 2 --max-filesize "$MAX_ARTIFACT_BYTES" \
        --output "$work/state.zip" "$location" 2>/dev/null; then
        warn "could not download artifact $artifact_id of run $artifact_run from GitHub's storage"
        return 1
      fi
      ;;
    *)
      warn "could not download artifact $artifact_id of run $artifact_run (HTTP $code from $api)"
      return 1
      ;;
  esac
  if [[ $artifact_digest =~ ^sha256:([0-9a-f]{64})$ ]]; then
    local want="${BASH_REMATCH[1]}" got
    if command -v sha256sum >/dev/null; then
      got=$(sha256sum "$work/state.zip" | awk '{ print $1 }')
    else
      got=$(shasum -a 256 "$work/state.zip" | awk '{ print $1 }')
    fi
    if [ "$got" != "$want" ]; then
      warn "artifact $artifact_id of run $artifact_run does not match its digest: not used"
      return 1
    fi
  fi
  mkdir -p "$work/unzipped"
  # Only the two files this action puts there; whatever else is in the archive stays in it.
  unzip -qq -o "$work/state.zip" state.json history.jsonl -d "$work/unzipped" >/dev/null 2>&1 || true
}

restore() {
  local state_cached="" status_cached="" need_state="" need_status=""
  if [ -n "${HM_STATE_FILE:-}" ] && [ -f "$HM_STATE_FILE" ] && [ -n "$(key_run "${HM_CACHE_STATE_KEY:-}")" ]; then
    state_cached=1
  fi
  if [ -n "${HM_STATUS_PAGE:-}" ] && [ -n "$(key_run "${HM_CACHE_STATUS_KEY:-}")" ]; then
    status_cached=1
  fi
  local source=none
  [ -z "$state_cached" ] || source=cache
  previous=""
  artifact_id="" artifact_run="" artifact_digest=""

  api="${GITHUB_API_URL:-https://api.github.com}"
  api="${api%/}"
  local ref="${GITHUB_WORKFLOW_REF:-}"
  ref="${ref%%@*}"
  workflow="${ref##*/.github/workflows/}"
  if [ -z "$ref" ] || [ "$workflow" = "$ref" ] || [[ ! $workflow =~ ^[A-Za-z0-9._-]+\.ya?ml$ ]]; then
    warn "GITHUB_WORKFLOW_REF names no workflow file: the state comes from the cache only"
  elif [ -z "${GITHUB_TOKEN:-}" ] || [ -z "${GITHUB_REPOSITORY:-}" ]; then
    warn "no GITHUB_TOKEN or GITHUB_REPOSITORY: the state comes from the cache only"
  elif ! command -v jq >/dev/null || ! command -v unzip >/dev/null; then
    warn "jq and unzip are needed to read the heartbeat-state artifacts: the state comes from the cache only"
  else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (umask 077 && printf 'Authorization: Bearer %s\n' "$GITHUB_TOKEN" >"$work/auth")
    local searched=""
    if find_artifact; then searched=1; fi
    if [ -n "$artifact_id" ]; then
      # The fast path: the cache already holds the files of the artifact's run.
      if [ -n "${HM_STATE_FILE:-}" ] &&
        { [ -z "$state_cached" ] || [ "$(key_run "${HM_CACHE_STATE_KEY:-}")" != "$artifact_run" ]; }; then
        need_state=1
      fi
      if [ -n "${HM_STATUS_PAGE:-}" ] &&
        { [ -z "$status_cached" ] || [ "$(key_run "${HM_CACHE_STATUS_KEY:-}")" != "$artifact_run" ]; }; then
        need_status=1
      fi
      if [ -z "$need_state$need_status" ]; then
        say "the cache holds the state of run $artifact_run, the newest saved: nothing to download"
      elif download; then
        if [ -n "$need_state" ]; then
          if put "$work/unzipped/state.json" "$HM_STATE_FILE"; then
            source=artifact
          else
            warn "artifact $artifact_id of run $artifact_run holds no state.json"
          fi
        fi
        if [ -n "$need_status" ]; then
          put "$work/unzipped/history.jsonl" "$HM_STATUS_PAGE/history.jsonl" || true
        fi
        say "restored from artifact $artifact_id of run $artifact_run"
      fi
    fi
    if [ -n "$searched" ] && [ "$source" = none ] && [ -n "${HM_STATE_FILE:-}" ] && [ -n "$previous" ]; then
      warn "no saved alert state was found (no heartbeat-state artifact in the last $RUNS_SEARCHED runs of $workflow, nothing in the cache) although run $previous ran before: every open problem is mailed as new"
    fi
  fi
  [ -n "${HM_STATE_FILE:-}" ] || source=none
  output "source=$source" "previous-run=$previous"
}

case "${1:-}" in
  restore) restore ;;
  stage) stage ;;
  *) echo "usage: state.sh restore|stage" >&2; exit 2 ;;
esac
