//! `deploy_drift` end to end: production 14 commits behind main for nine days, and the
//! 2026-04-30 state, never deployed, mailed once.

use super::*;

const SHA: &str = "3f2a1c9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a";
const DRIFT: &str = r#"
[github]
repo = "raxx-app/TradeMasterAPI"
[[deploy]]
heroku_app = "raxx-api-prod"
branch = "main"
"#;
const ID: &str = "deploy_drift:raxx-api-prod";

fn compare_path() -> String {
    format!("/repos/{REPO}/compare/{SHA}...main")
}

#[test]
fn production_behind_main_for_nine_days_is_critical_in_three_requests() {
    let server = FakeServer::start(vec![
        Route::get("/apps/raxx-api-prod/releases").reply(Reply::json(
            200,
            fixture("heroku/releases-newest-deployed.json"),
        )),
        Route::get("/apps/raxx-api-prod/slugs/c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d0042")
            .reply(Reply::json(200, fixture("heroku/slug-3f2a1c9.json"))),
        Route::get(&compare_path())
            .reply(Reply::json(200, fixture("github/compare-14-ahead.json"))),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .now("2026-05-19T16:30:00Z")
        .config(DRIFT)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.message(ID),
        "raxx-api-prod runs 3f2a1c9 (released 2026-05-22), 14 commits behind main; the oldest undeployed commit is 9.2 days old (warning at 3 days, critical at 7 days)"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] deploy DRIFT: raxx-api-prod"]
    );
    assert_eq!(api_requests(&server).len(), 3, "release, slug, compare");
}

#[test]
fn never_deployed_is_one_mail_when_the_slug_check_watches_the_app_too() {
    let server = FakeServer::start(vec![
        Route::get("/apps/raxx-api-prod/releases").reply(Reply::json(
            200,
            fixture("heroku/releases-newest-no-slug.json"),
        )),
        Route::get("/apps/raxx-api-prod/dynos")
            .reply(Reply::json(200, fixture("heroku/dynos-none.json"))),
        Route::get("/apps/raxx-api-prod/formation")
            .reply(Reply::json(200, fixture("heroku/formation-empty.json"))),
        Route::get("/apps/raxx-api-prod")
            .reply(Reply::json(200, fixture("heroku/app-raxx-api-prod.json"))),
        postmark_ok(),
    ]);
    let config = format!("{DRIFT}\n[[heroku_app]]\nname = \"raxx-api-prod\"\nmin_web_dynos = 0\n");
    let run = Monitor::new(&server)
        .now("2026-04-30T16:30:00Z")
        .config(&config)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let drift = run.check(ID);
    assert_eq!(drift["status"], "critical");
    assert_eq!(drift["silenced"], true, "{drift:#}");
    assert!(
        drift["message"]
            .as_str()
            .unwrap()
            .contains("was never deployed")
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] heroku NO SLUG: raxx-api-prod"]
    );
}
