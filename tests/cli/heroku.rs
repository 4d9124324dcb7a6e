//! Heroku slug and dyno checks against a loopback server that answers like the Platform API:
//! it insists on the version-3 Accept header and the key, and honours `Range` as Heroku does
//! (206 with `Next-Range` when more exist, ascending order when no `Range` is given).

use super::*;

const APP: &str = "raxx-api-prod";
/// The afternoon the production app was found with no code, eight days after it was created.
const RCA_NOW: &str = "2026-04-30T16:30:00Z";

fn config() -> String {
    format!("[[heroku_app]]\nname = \"{APP}\"\nmin_web_dynos = 1\ndown_grace_minutes = 5\n")
}

/// Wraps `inner` in Heroku's own checks of the Accept header and the key.
pub(super) fn heroku(inner: Reply) -> Reply {
    Reply::With(std::sync::Arc::new(move |rec: &Recorded| {
        if rec.header("accept") != Some("application/vnd.heroku+json; version=3") {
            return Reply::json(
                406,
                r#"{"id":"not_acceptable","message":"Please specify a version along with Heroku's API MIME type."}"#,
            );
        }
        if rec.header("authorization") != Some(format!("Bearer {HEROKU_KEY}").as_str()) {
            return Reply::json(401, fixture("heroku/error-401.json"));
        }
        inner.clone()
    }))
}

/// An app with `total` releases, of which only versions from `slug_from` on carry a slug.
fn releases(total: u64, slug_from: u64) -> Reply {
    let template: Vec<Value> =
        serde_json::from_str(&fixture("heroku/releases-newest-no-slug.json")).unwrap();
    let make = move |v: u64| {
        let mut r = template[0].clone();
        r["version"] = v.into();
        r["current"] = (v == total).into();
        if v >= slug_from {
            r["slug"] =
                serde_json::json!({"id": format!("c7b5b1e0-5a49-4f8a-9f0b-2a1c8f3d{v:04}")});
            r["description"] = format!("Deploy {v:07x}").into();
        } else {
            r["description"] = format!("Set FLAG_{v} config vars").into();
        }
        r
    };
    heroku(Reply::With(std::sync::Arc::new(move |rec: &Recorded| {
        let range = rec.header("range").unwrap_or("");
        let (items, next): (Vec<Value>, Option<String>) =
            if range.contains("order=desc") && range.contains("max=1") {
                (
                    vec![make(total)],
                    (total > 1).then(|| format!("version ..{}; max=1, order=desc", total - 1)),
                )
            } else {
                // No Range: the first page, oldest first, 200 items.
                let end = total.min(200);
                (
                    (1..=end).map(&make).collect(),
                    (total > end).then(|| format!("version ]{end}..; max=200")),
                )
            };
        let status = if next.is_some() { 206 } else { 200 };
        let reply = Reply::json(status, serde_json::to_string(&items).unwrap())
            .header("RateLimit-Remaining", "4487");
        match next {
            Some(n) => reply.header("Next-Range", &n),
            None => reply,
        }
    })))
}

fn routes(releases: Reply, dynos: &str, extra: Vec<Route>) -> Vec<Route> {
    let mut r = vec![
        Route::get(&format!("/apps/{APP}/releases")).reply(releases),
        Route::get(&format!("/apps/{APP}/dynos")).reply(heroku(Reply::json(200, fixture(dynos)))),
        postmark_ok(),
    ];
    r.extend(extra);
    r
}

fn formation(file: &str) -> Route {
    Route::get(&format!("/apps/{APP}/formation")).reply(heroku(Reply::json(200, fixture(file))))
}

fn app() -> Route {
    Route::get(&format!("/apps/{APP}")).reply(heroku(Reply::json(
        200,
        fixture("heroku/app-raxx-api-prod.json"),
    )))
}

#[test]
fn a_healthy_app_costs_two_requests() {
    let server = FakeServer::start(routes(releases(42, 1), "heroku/dynos-web-up.json", vec![]));
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The release template was created 2026-04-30T02:21:00Z; now is 2026-05-23T06:30:00Z.
    assert_eq!(
        run.check("heroku_slug:raxx-api-prod")["message"],
        "latest release v42 'Deploy 000002a' runs deployed code (23 days ago)"
    );
    assert_eq!(
        run.check("heroku_dynos:raxx-api-prod")["message"],
        "1 of 1 web dynos up"
    );
    assert_eq!(server.requests().len(), 2);
    let rel = server
        .requests()
        .into_iter()
        .find(|r| r.path().ends_with("/releases"))
        .unwrap();
    assert_eq!(rel.header("range"), Some("version ..; max=1, order=desc"));
    assert!(mails(&server).is_empty());
}

#[test]
fn the_production_app_that_never_had_code() {
    let server = FakeServer::start(routes(
        heroku(
            Reply::json(206, fixture("heroku/releases-newest-no-slug.json"))
                .header("Next-Range", "version ..6; max=1, order=desc"),
        ),
        "heroku/dynos-none.json",
        vec![formation("heroku/formation-empty.json"), app()],
    ));
    let run = Monitor::new(&server).now(RCA_NOW).config(&config()).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let slug = run.check("heroku_slug:raxx-api-prod");
    assert_eq!(slug["status"], "critical");
    assert_eq!(
        slug["message"],
        "no code has ever been deployed: latest release v7 'Set STATUS_WORKER_URL config vars' has no slug (14 h ago)"
    );
    let dynos = run.check("heroku_dynos:raxx-api-prod");
    assert_eq!(dynos["status"], "critical");
    assert_eq!(
        dynos["message"],
        "0 of 1 web dynos up for 8 days (no web process at all: nothing deployed since the app was created at 2026-04-22T06:53:00Z)"
    );
    assert_eq!(
        subjects(&server),
        [
            "[heartbeat-monitor] heroku NO SLUG: raxx-api-prod",
            "[heartbeat-monitor] heroku DYNOS DOWN: raxx-api-prod"
        ]
    );
    let body = mails(&server)[0]["TextBody"].as_str().unwrap().to_string();
    assert!(
        body.contains("heroku releases --app raxx-api-prod"),
        "{body}"
    );
}

#[test]
fn the_newest_release_is_asked_for_not_the_first_page() {
    // 300 releases, only the newest has a slug: reading the first (ascending) page would
    // wrongly find none.
    let server = FakeServer::start(routes(
        releases(300, 300),
        "heroku/dynos-web-up.json",
        vec![],
    ));
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let slug = run.check("heroku_slug:raxx-api-prod");
    assert_eq!(slug["details"]["version"], 300);
    assert_eq!(slug["status"], "ok");
}

#[test]
fn a_failed_newest_release_warns() {
    let server = FakeServer::start(routes(
        heroku(Reply::json(
            200,
            fixture("heroku/releases-newest-failed.json"),
        )),
        "heroku/dynos-web-up.json",
        vec![],
    ));
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 1);
    let slug = run.check("heroku_slug:raxx-api-prod");
    assert_eq!(
        slug["message"],
        "newest release v43 'Deploy 9e8d7c6' failed 80 min ago; the previous release keeps running"
    );
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] heroku RELEASE FAILED: raxx-api-prod"]
    );
}

#[test]
fn a_crashed_web_dyno_beside_an_up_worker_inside_then_past_the_grace() {
    let server = FakeServer::start(routes(
        releases(42, 1),
        "heroku/dynos-web-crashed-3min.json",
        vec![],
    ));
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = run.check("heroku_dynos:raxx-api-prod");
    assert_eq!(d["status"], "warning");
    assert_eq!(
        d["message"],
        "0 of 1 web dynos up for 3 min (web.1 crashed at 2026-05-23T06:27:00Z)"
    );
    // The crashed dyno dates the outage: no formation or app request was needed.
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path() != "/email/batch")
            .count(),
        2
    );

    let server = FakeServer::start(routes(
        releases(42, 1),
        "heroku/dynos-web-crashed-3h.json",
        vec![],
    ));
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 2);
    let d = run.check("heroku_dynos:raxx-api-prod");
    assert_eq!(
        d["message"],
        "0 of 1 web dynos up for 3 h (web.1 crashed at 2026-05-23T03:30:00Z)"
    );
    assert_eq!(d["details"]["down_since"], "2026-05-23T03:30:00Z");
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] heroku DYNOS DOWN: raxx-api-prod"]
    );
}

#[test]
fn scaled_to_zero_is_dated_by_the_formation() {
    let server = FakeServer::start(routes(
        releases(42, 1),
        "heroku/dynos-none.json",
        vec![formation("heroku/formation-web-scaled-to-0.json")],
    ));
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.check("heroku_dynos:raxx-api-prod")["message"],
        "0 of 1 web dynos up for 5 h (web scaled to 0 at 2026-05-23T01:30:00Z)"
    );
}

#[test]
fn an_unknown_app_is_unknown_with_herokus_words() {
    let server = FakeServer::start(vec![
        Route::get(&format!("/apps/{APP}/releases")).reply(heroku(Reply::json(
            404,
            fixture("heroku/error-404-app.json"),
        ))),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 3);
    for id in ["heroku_slug:raxx-api-prod", "heroku_dynos:raxx-api-prod"] {
        let c = run.check(id);
        assert_eq!(c["status"], "unknown");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("Couldn't find that app."),
            "{c}"
        );
    }
    assert_eq!(
        subjects(&server),
        ["[heartbeat-monitor] cron heartbeat MONITOR FAILED"]
    );
}

#[test]
fn a_bad_key_is_unknown_and_names_the_variable() {
    let server = FakeServer::start(routes(releases(42, 1), "heroku/dynos-web-up.json", vec![]));
    let run = Monitor::new(&server)
        .env("HEROKU_API_KEY", "HRKU-wrong-key-SECRET")
        .config(&config())
        .run();
    assert_eq!(run.code, 3);
    let msg = run.message("heroku_slug:raxx-api-prod");
    assert!(msg.contains("Heroku rejected the credential (HTTP 401: Invalid credentials provided.): check HEROKU_API_KEY"), "{msg}");
}

#[test]
fn heroku_app_flag_adds_an_app_and_the_key_is_required() {
    let server = FakeServer::start(routes(releases(42, 1), "heroku/dynos-web-up.json", vec![]));
    let run = Monitor::new(&server).args(&["--heroku-app", APP]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.result()["checks"].as_array().unwrap().len(), 2);
    let run = Monitor::new(&server)
        .env("HEROKU_API_KEY", "")
        .args(&["--heroku-app", APP])
        .run();
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("HEROKU_API_KEY is not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_429_is_retried_and_an_empty_rate_limit_pool_is_not() {
    let throttled = Reply::json(
        429,
        r#"{"id":"rate_limit","message":"Your account reached the API rate limit. Please wait a few minutes before making new requests.","url":"https://devcenter.heroku.com/articles/platform-api-reference#rate-limits"}"#,
    );
    let mut once = Route::get(&format!("/apps/{APP}/releases")).reply(heroku(throttled.clone()));
    once = once.reply(releases(42, 1));
    let server = FakeServer::start(vec![
        once,
        Route::get(&format!("/apps/{APP}/dynos")).reply(heroku(Reply::json(
            200,
            fixture("heroku/dynos-web-up.json"),
        ))),
    ]);
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits(&format!("/apps/{APP}/releases")), 2);

    let empty = throttled.header("RateLimit-Remaining", "0");
    let server = FakeServer::start(vec![
        Route::get(&format!("/apps/{APP}/releases")).reply(heroku(empty)),
        Route::get(&format!("/apps/{APP}/dynos")).reply(heroku(Reply::json(
            200,
            fixture("heroku/dynos-web-up.json"),
        ))),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(&config()).run();
    assert_eq!(run.code, 3);
    assert_eq!(
        server.hits(&format!("/apps/{APP}/releases")),
        1,
        "no retry into an empty pool"
    );
    let msg = run.message("heroku_slug:raxx-api-prod");
    assert!(
        msg.contains("Heroku rate limit exhausted (HTTP 429)"),
        "{msg}"
    );
    assert_eq!(
        run.check("heroku_dynos:raxx-api-prod")["status"],
        "ok",
        "the other check of the app still ran"
    );
}

/// The Fir-generation app: it releases OCI images, never slugs, on dynos named
/// `web-<hash>-<id>`.
pub(super) const FIR_APP: &str = "raxx-stream-prod";
/// The OCI image its current release runs (`fixtures/heroku/oci-image-5b7e2d4.json`).
pub(super) const FIR_IMAGE: &str = "4e7a2b1c-9d3f-4a6b-8c5e-1f2a3b4c5d6e";

/// The Fir app with `total` releases, the newest current. Versions up to `expired_upto` are
/// `expired`, as Heroku marks a release whose artifacts it destroyed: no slug, no artifact.
/// Honours `Range: version ..; max=N, order=desc` as Heroku does.
pub(super) fn fir_releases(total: u64, expired_upto: u64) -> Reply {
    let template: Vec<Value> =
        serde_json::from_str(&fixture("heroku/releases-fir-oci-deployed.json")).unwrap();
    let make = move |v: u64| {
        let mut r = template[0].clone();
        r["version"] = v.into();
        r["current"] = (v == total).into();
        r["id"] = format!("b2c3d4e5-0000-4000-8000-{v:012}").into();
        if v != total {
            r["description"] = format!("Deploy {v:07x}").into();
            r["artifacts"][0]["id"] = format!("4e7a2b1c-9d3f-4a6b-8c5e-{v:012}").into();
        }
        if v <= expired_upto {
            r["status"] = "expired".into();
            r["artifacts"] = serde_json::json!([]);
            r["eligible_for_rollback"] = false.into();
        }
        r
    };
    heroku(Reply::With(std::sync::Arc::new(move |rec: &Recorded| {
        let range = rec.header("range").unwrap_or("");
        let max: u64 = range
            .split("max=")
            .nth(1)
            .and_then(|m| m.split([',', ';', ' ']).next()?.parse().ok())
            .unwrap_or(200);
        let versions: Vec<u64> = if range.contains("order=desc") {
            (1..=total).rev().take(max as usize).collect()
        } else {
            (1..=total).take(max as usize).collect()
        };
        let more = (versions.len() as u64) < total;
        let items: Vec<Value> = versions.iter().map(|v| make(*v)).collect();
        Reply::json(
            if more { 206 } else { 200 },
            serde_json::to_string(&items).unwrap(),
        )
    })))
}

fn fir_config(min_web: u32) -> String {
    format!("[[heroku_app]]\nname = \"{FIR_APP}\"\nmin_web_dynos = {min_web}\n")
}

fn fir_dynos(file: &str) -> Route {
    Route::get(&format!("/apps/{FIR_APP}/dynos")).reply(heroku(Reply::json(200, fixture(file))))
}

#[test]
fn a_fir_app_runs_deployed_code_from_its_oci_image_on_fir_named_dynos() {
    let server = FakeServer::start(vec![
        Route::get(&format!("/apps/{FIR_APP}/releases")).reply(heroku(Reply::json(
            200,
            fixture("heroku/releases-fir-oci-deployed.json"),
        ))),
        fir_dynos("heroku/dynos-fir-web-up.json"),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(&fir_config(2)).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let slug = run.check(&format!("heroku_slug:{FIR_APP}"));
    assert_eq!(
        slug["message"],
        "latest release v18 'Deploy 5b7e2d4' runs deployed code (OCI image 4e7a2b1c, 2 days ago)"
    );
    assert_eq!(slug["details"]["oci_image"], FIR_IMAGE);
    // `web-58d9c6b7f4-x2k9q` and `web-58d9c6b7f4-p7m3z`: counted by their type, as `web.1` is.
    assert_eq!(
        run.check(&format!("heroku_dynos:{FIR_APP}"))["message"],
        "2 of 2 web dynos up"
    );
    assert_eq!(api_requests(&server).len(), 2);
    assert!(mails(&server).is_empty());
}

#[test]
fn an_expired_newest_release_is_retired_not_never_deployed() {
    // Heroku destroyed the artifacts: `status: expired`, no slug, no artifact left.
    let server = FakeServer::start(vec![
        Route::get(&format!("/apps/{FIR_APP}/releases")).reply(fir_releases(30, 30)),
        fir_dynos("heroku/dynos-fir-web-up.json"),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server)
        .now("2026-07-01T06:30:00Z")
        .config(&fir_config(1))
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let slug = run.check(&format!("heroku_slug:{FIR_APP}"));
    assert_eq!(slug["status"], "ok", "{slug:#}");
    assert_eq!(
        slug["message"],
        "latest release v30 'Deploy 5b7e2d4' is expired: a retired release whose artifacts Heroku destroyed (it keeps 30 days and 20 releases), not a missing deploy (41 days ago)"
    );
    assert!(mails(&server).is_empty());
}

#[test]
fn a_fir_app_with_no_image_yet_is_still_never_deployed() {
    // Created on Fir (`generation: fir`), only its first release: no slug, no artifact.
    let mut first: Vec<Value> =
        serde_json::from_str(&fixture("heroku/releases-fir-oci-deployed.json")).unwrap();
    first[0]["version"] = 1.into();
    first[0]["description"] = "Initial release".into();
    first[0]["artifacts"] = serde_json::json!([]);
    first[0]["created_at"] = "2026-03-02T10:15:00Z".into();
    let server = FakeServer::start(vec![
        Route::get(&format!("/apps/{FIR_APP}/releases"))
            .reply(heroku(Reply::json(200, Value::from(first).to_string()))),
        fir_dynos("heroku/dynos-none.json"),
        Route::get(&format!("/apps/{FIR_APP}/formation")).reply(heroku(Reply::json(
            200,
            fixture("heroku/formation-empty.json"),
        ))),
        Route::get(&format!("/apps/{FIR_APP}")).reply(heroku(Reply::json(
            200,
            fixture("heroku/app-raxx-stream-prod.json"),
        ))),
        postmark_ok(),
    ]);
    let run = Monitor::new(&server).config(&fir_config(1)).run();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.message(&format!("heroku_slug:{FIR_APP}")),
        "no code has ever been deployed: latest release v1 'Initial release' has no slug (81 days ago)"
    );
    assert_eq!(
        run.message(&format!("heroku_dynos:{FIR_APP}")),
        "0 of 1 web dynos up for 81 days (no web process at all: nothing deployed since the app was created at 2026-03-02T10:15:00Z)"
    );
}
