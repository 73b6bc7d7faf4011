//! Counting starts with the service, not with the first scrape: a request served before anyone
//! read `/metrics` is in the first scrape. Its own test binary, because the process's global
//! metrics recorder must not have been installed by another test's scrape.

use sqlx::PgPool;

#[path = "api/helpers.rs"]
#[expect(dead_code, reason = "shared with the api test binary, which uses the rest")]
mod helpers;

use helpers::TestApp;
use platform::metrics::sample;

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn what_happens_before_the_first_scrape_is_counted(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    user.tasks().await;
    let scrape = app.client().get("/metrics").await.text().await.unwrap();
    let listed = sample(&scrape, "http_requests_total", &[("route", "/api/v1/tasks"), ("status", "200")]);
    assert!((listed - 1.0).abs() < 0.5, "one listing counted: {scrape}");
}
