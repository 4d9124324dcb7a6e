#!/usr/bin/env bash
# Runs the installed monitor with the action's inputs, which arrive as environment variables
# (never spliced into this text), and exposes status, exit-code and result-file as outputs.
# The secrets the checks need are in the environment already: the caller's `env:`.
#
#   HM_BIN          the binary
#   HM_CONFIG       the configuration file ("" : heartbeat-monitor.toml when it exists)
#   HM_DRY_RUN      "true" prints the mails instead of sending them
#   HM_SLA_HOURS    overrides every heartbeat's SLA ("" : as configured)
#   HM_STATE_FILE   the alert state file ("" : no state, every problem mailed every run)
#   HM_RESULT_FILE  where the JSON result goes
#   HM_STATUS_PAGE  a directory for the status page ("" : none)
set -euo pipefail

args=(--output-file "$HM_RESULT_FILE")
if [ -n "${HM_CONFIG:-}" ]; then
  [ -f "$HM_CONFIG" ] || {
    echo "::error title=heartbeat-monitor::the config input names $HM_CONFIG, which is not a file in the workspace (did the workflow run actions/checkout first?)"
    exit 3
  }
  args+=(--config "$HM_CONFIG")
fi
case "${HM_DRY_RUN:-false}" in
  true) args+=(--dry-run) ;;
  false | "") ;;
  *) echo "::error title=heartbeat-monitor::dry-run must be true or false, not '$HM_DRY_RUN'"; exit 3 ;;
esac
if [ -n "${HM_SLA_HOURS:-}" ]; then args+=(--sla-hours "$HM_SLA_HOURS"); fi
if [ -n "${HM_STATUS_PAGE:-}" ]; then args+=(--status-page "$HM_STATUS_PAGE"); fi
if [ -n "${HM_STATE_FILE:-}" ]; then
  mkdir -p "$(dirname "$HM_STATE_FILE")"
  args+=(--state-file "$HM_STATE_FILE")
fi

# A result file left from an earlier step must not speak for this run.
rm -f "$HM_RESULT_FILE"
code=0
"$HM_BIN" "${args[@]}" || code=$?

# The run's status as the result file says it (its top-level "status"), else from the exit code.
status=""
if [ -f "$HM_RESULT_FILE" ]; then
  status=$(sed -n 's/^  "status": "\([a-z]*\)",$/\1/p' "$HM_RESULT_FILE" | head -n 1)
fi
if [ -z "$status" ]; then
  case "$code" in
    0) status=ok ;;
    1) status=warning ;;
    2) status=critical ;;
    *) status=unknown ;;
  esac
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "status=$status"
    echo "exit-code=$code"
    echo "result-file=$HM_RESULT_FILE"
  } >>"$GITHUB_OUTPUT"
fi
exit "$code"
