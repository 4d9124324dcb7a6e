//! `workflow_failures` end to end: the RCA's deploy workflow failing on every push.

use super::*;

const DEPLOY: &str = "deploy-heroku.yml";

const CONFIG: &str = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[workflow_failures]]
workflow = "deploy-heroku.yml"
branch = "main"
"#;

/// A runs answer of GitHub's shape: the fixture's run, once per conclusion, newest first,
/// a day apart back from 2026-05-22.
fn runs(conclusions: &[&str]) -> String {
    let page: Value = serde_json::from_str(&fixture("github/runs-latest-failure.json")).unwrap();
    let template = page["workflow_runs"][0].clone();
    let list: Vec<Value> = conclusions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut run = template.clone();
            let id = 9_200 - i as u64;
            let day = format!("2026-05-{:02}T02:00:09Z", 22 - i);
            run["id"] = id.into();
            run["conclusion"] = (*c).into();
            run["event"] = "push".into();
            run["html_url"] = format!("https://github.com/{REPO}/actions/runs/{id}").into();
            run["created_at"] = day.clone().into();
            run["updated_at"] = day.into();
            run
        })
        .collect();
    serde_json::json!({"total_count": list.len(), "workflow_runs": list}).to_string()
}

fn world(conclusions: &[&str]) -> FakeServer {
    FakeServer::start(vec![
        Route::get(&runs_path(DEPLOY))
            .query("status=completed")
            .reply(Reply::json(200, runs(conclusions))),
        postmark_ok(),
    ])
}

const ID: &str = "workflow_failures:raxx-app/TradeMasterAPI:deploy-heroku.yml@main";

#[test]
fn a_deploy_workflow_failing_on_every_push_is_critical_with_its_streak() {
    let mut conclusions = vec!["failure"; 12];
    conclusions.push("cancelled");
    conclusions.push("success");
    let server = world(&conclusions);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let m = run.message(ID);
    assert!(
        m.starts_with("deploy-heroku.yml failed 12 times in a row since 2026-05-11T02:00:09Z (12 days ago); 12 of the last 13 completed runs failed (92 %)"),
        "{m}"
    );
    assert!(
        m.contains("latest failure https://github.com/raxx-app/TradeMasterAPI/actions/runs/9200"),
        "{m}"
    );
    assert!(m.contains("last success 2026-05-09T02:00:09Z"), "{m}");
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] workflow FAILING: deploy-heroku"]
    );
    let requests = api_requests(&server);
    assert_eq!(requests.len(), 1, "one request");
    let query = requests[0].query();
    for (k, v) in [
        ("status", "completed"),
        ("branch", "main"),
        ("per_page", "20"),
    ] {
        assert!(
            query.iter().any(|(qk, qv)| qk == k && qv == v),
            "{k}={v} in {query:?}"
        );
    }
}

#[test]
fn a_few_failures_warn_and_a_recovery_is_ok() {
    let server = world(&["failure", "failure", "failure", "success"]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let server = world(&["success", "failure", "failure"]);
    let run = Monitor::new(&server).config(CONFIG).run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.message(ID),
        "deploy-heroku.yml's latest completed run succeeded; 2 of the last 3 completed runs failed (67 %)"
    );
}
