//! `deploy_drift` end to end: production 14 commits behind main for nine days, the
//! 2026-04-30 state, never deployed, mailed once, and a Fir app whose commit comes from its
//! OCI image.

use super::heroku::{FIR_APP, FIR_IMAGE, fir_releases, heroku};
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
        // An app that never ran code has no dynos to ask about: spares.
        Route::get("/apps/raxx-api-prod/dynos")
            .reply(Reply::json(200, fixture("heroku/dynos-none.json")))
            .optional(),
        Route::get("/apps/raxx-api-prod/formation")
            .reply(Reply::json(200, fixture("heroku/formation-empty.json")))
            .optional(),
        Route::get("/apps/raxx-api-prod")
            .reply(Reply::json(200, fixture("heroku/app-raxx-api-prod.json")))
            .optional(),
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

const FIR_SHA: &str = "5b7e2d4c1a9f8e3b6d0c2a4f7e9b1d3c5a7f9e2b";

fn fir_config() -> String {
    format!(
        "[github]\nrepo = \"{REPO}\"\n[[deploy]]\nheroku_app = \"{FIR_APP}\"\nbranch = \"main\"\n"
    )
}

/// Heroku and GitHub for the Fir app: 30 releases, the oldest ten expired; its OCI image;
/// the comparison of the image's commit with main.
fn fir_world(releases: Reply, compare: &str) -> FakeServer {
    FakeServer::start(vec![
        Route::get(&format!("/apps/{FIR_APP}/releases")).reply(releases),
        // Not asked for an expired release; the other tests read the image's commit.
        Route::get(&format!("/apps/{FIR_APP}/oci-images/{FIR_IMAGE}"))
            .reply(heroku(Reply::json(
                200,
                fixture("heroku/oci-image-5b7e2d4.json"),
            )))
            .optional(),
        Route::get(&format!("/repos/{REPO}/compare/{FIR_SHA}...main"))
            .reply(Reply::json(200, fixture(compare)))
            .optional(),
        postmark_ok(),
    ])
}

#[test]
fn a_fir_app_up_to_date_with_main_is_ok_from_its_oci_images_commit() {
    let server = fir_world(fir_releases(30, 10), "github/compare-fir-identical.json");
    let run = Monitor::new(&server).config(&fir_config()).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.message(&format!("deploy_drift:{FIR_APP}")),
        "raxx-stream-prod runs 5b7e2d4 (released 2026-05-20), up to date with main"
    );
    let asked: Vec<String> = api_requests(&server)
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        asked,
        [
            format!("/apps/{FIR_APP}/releases"),
            format!("/apps/{FIR_APP}/oci-images/{FIR_IMAGE}"),
            format!("/repos/{REPO}/compare/{FIR_SHA}...main"),
        ],
        "release, OCI image, compare"
    );
    assert!(mails(&server).is_empty());
}

#[test]
fn a_fir_app_behind_main_for_four_days_warns() {
    let server = fir_world(fir_releases(30, 10), "github/compare-fir-3-ahead.json");
    let run = Monitor::new(&server)
        .now("2026-05-25T12:00:00Z")
        .config(&fir_config())
        .run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let drift = run.check(&format!("deploy_drift:{FIR_APP}"));
    assert_eq!(drift["status"], "warning");
    assert_eq!(
        drift["message"],
        "raxx-stream-prod runs 5b7e2d4 (released 2026-05-20), 3 commits behind main; the oldest undeployed commit is 4.1 days old (warning at 3 days, critical at 7 days)"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] deploy DRIFT: raxx-stream-prod"]
    );
}

#[test]
fn an_expired_current_release_is_unknown_never_never_deployed() {
    // Every release expired, the current one too: its artifacts are gone, so its commit
    // cannot be read; but code was deployed, and neither check says otherwise.
    let server = fir_world(fir_releases(30, 30), "github/compare-fir-identical.json");
    let config = format!(
        "{}\n[[heroku_app]]\nname = \"{FIR_APP}\"\nmin_web_dynos = 0\n",
        fir_config()
    );
    let run = Monitor::new(&server)
        .now("2026-07-01T06:30:00Z")
        .config(&config)
        .run();
    let drift = run.check(&format!("deploy_drift:{FIR_APP}"));
    assert_eq!(drift["status"], "unknown", "{drift:#}");
    assert_eq!(
        drift["message"],
        "could not tell what raxx-stream-prod runs: its current release v30 is expired (Heroku destroyed its artifacts), so the commit it runs cannot be read"
    );
    assert_eq!(run.check(&format!("heroku_slug:{FIR_APP}"))["status"], "ok");
    assert!(
        !run.stdout.contains("never deployed") && !run.stdout.contains("no code has ever"),
        "{}",
        run.stdout
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
    assert_eq!(
        server.hits(&format!("/apps/{FIR_APP}/oci-images/{FIR_IMAGE}")),
        0,
        "an expired release has no artifact left to ask for"
    );
}
