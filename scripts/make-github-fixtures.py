#!/usr/bin/env python3
"""Regenerates fixtures/github/*.json from the examples in GitHub's own OpenAPI description
(fixtures/github/openapi-subset.json), changing only the fields a scenario needs, so every
fixture keeps the full documented shape. The tests validate each one against the spec's
response schemas."""
import copy
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "github"
spec = json.loads((HERE / "openapi-subset.json").read_text())
examples = spec["components"]["examples"]
REPO = "raxx-app/TradeMasterAPI"


def retarget(value):
    """Points every URL of an example at our repository."""
    text = json.dumps(value).replace("octo-org/octo-repo", REPO).replace("octocat/Hello-World", REPO)
    return json.loads(text)


def run(run_id, name, status, conclusion, created, updated, event="schedule"):
    r = retarget(copy.deepcopy(examples["workflow-run-paginated"]["value"]["workflow_runs"][0]))
    r.update(
        id=run_id,
        name=name,
        display_title=name,
        status=status,
        conclusion=conclusion,
        event=event,
        head_branch="main",
        path=f".github/workflows/{name}.yml@main",
        created_at=created,
        updated_at=updated,
        run_started_at=created,
        url=f"https://api.github.com/repos/{REPO}/actions/runs/{run_id}",
        html_url=f"https://github.com/{REPO}/actions/runs/{run_id}",
    )
    return r


def runs(*items):
    return {"total_count": len(items), "workflow_runs": list(items)}


def workflow(name, state):
    w = retarget(copy.deepcopy(examples["workflow"]["value"]))
    w.update(
        name=name,
        path=f".github/workflows/{name}.yml",
        state=state,
        html_url=f"https://github.com/{REPO}/actions/workflows/{name}.yml",
    )
    return w


def repository(private, pushed_at):
    r = retarget(copy.deepcopy(examples["full-repository-default-response"]["value"]))
    r.update(
        name="TradeMasterAPI",
        full_name=REPO,
        private=private,
        visibility="private" if private else "public",
        pushed_at=pushed_at,
        html_url=f"https://github.com/{REPO}",
        language="Python",
    )
    # GitHub's own example lacks `language`, which its schema requires; ours is not a fork.
    for forked in ("parent", "source", "template_repository"):
        r.pop(forked, None)
    r["fork"] = False
    return r


def error(status, message, doc):
    return {"message": message, "documentation_url": doc, "status": str(status)}


FILES = {
    # 27.4 h before the tests' now (2026-05-23T06:30:00Z): inside a 48 h SLA.
    "runs-success-fresh.json": runs(run(9001, "billing-retention-cron", "completed", "success",
                                        "2026-05-22T03:00:02Z", "2026-05-22T03:04:41Z")),
    # 121.5 h before now: the five missed windows of 2026-05-18..23.
    "runs-success-stale.json": runs(run(8001, "trace-integrity-cron", "completed", "success",
                                        "2026-05-18T02:00:11Z", "2026-05-18T05:00:00Z")),
    "runs-latest-failure.json": runs(run(9107, "trace-integrity-cron", "completed", "failure",
                                         "2026-05-22T02:00:09Z", "2026-05-22T02:03:30Z")),
    "runs-latest-skipped.json": runs(run(9108, "trace-integrity-cron", "completed", "skipped",
                                         "2026-05-22T02:00:07Z", "2026-05-22T02:00:12Z")),
    "runs-empty.json": runs(),
    "workflow-active.json": workflow("trace-integrity-cron", "active"),
    "workflow-disabled-inactivity.json": workflow("trace-integrity-cron", "disabled_inactivity"),
    "workflow-disabled-manually.json": workflow("trace-integrity-cron", "disabled_manually"),
    "repo-private.json": repository(True, "2026-05-22T18:11:09Z"),
    # 53 days before now: GitHub disables public schedules at 60.
    "repo-public-quiet.json": repository(False, "2026-03-31T06:00:00Z"),
    "error-401.json": error(401, "Bad credentials", "https://docs.github.com/rest"),
    "error-403-rate-limit.json": error(
        403, "API rate limit exceeded for installation ID 4242.",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"),
    "error-403-secondary.json": error(
        403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"),
    "error-404.json": error(
        404, "Not Found",
        "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow"),
}

for name, value in FILES.items():
    (HERE / name).write_text(json.dumps(value, indent=2) + "\n")
print(f"wrote {len(FILES)} fixtures to {HERE}")
