//! A database of the test's own on the machine's PostgreSQL: a promotions table shaped like the
//! console's, and a login role that may only read it. Dropped when the test ends.

use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls};

/// The reader role's password: a secret that must never show.
pub const READER_PASSWORD: &str = "reader-pw-7Hq2-SECRET";

static N: AtomicUsize = AtomicUsize::new(0);

/// The admin URL `scripts/test` exports after starting PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("HM_TEST_PG_ADMIN_URL").expect(
        "HM_TEST_PG_ADMIN_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    )
}

/// One test's database.
pub struct TestDb {
    /// Its name.
    pub name: String,
    /// The read-only role.
    pub role: String,
}

impl TestDb {
    /// Creates the database, the table and the role.
    pub fn new() -> Self {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let name = format!("hm_test_{}_{n}", std::process::id());
        let role = format!("hm_reader_{}_{n}", std::process::id());
        let mut admin = Client::connect(&admin_url(), NoTls).expect("connect as admin");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{READER_PASSWORD}'"
            ))
            .unwrap();
        let db = Self { name, role };
        db.admin()
            .batch_execute(&format!(
                "CREATE TABLE console_flag_promotions (
                     id bigserial PRIMARY KEY,
                     flag_name text NOT NULL,
                     state text NOT NULL,
                     updated_at timestamptz NOT NULL,
                     deployed_at timestamptz
                 );
                 REVOKE ALL ON SCHEMA public FROM PUBLIC;
                 GRANT CONNECT ON DATABASE {0} TO {1};
                 GRANT USAGE ON SCHEMA public TO {1};
                 GRANT SELECT ON console_flag_promotions TO {1};",
                db.name, db.role
            ))
            .unwrap();
        db
    }

    /// An admin session on this database.
    pub fn admin(&self) -> Client {
        Client::connect(&self.admin_url(), NoTls).expect("connect to the test database")
    }

    /// The admin URL of this database.
    pub fn admin_url(&self) -> String {
        let base = admin_url();
        let (server, _) = base.rsplit_once('/').unwrap();
        format!("{server}/{}", self.name)
    }

    /// The reader's URL, with extra query parameters.
    pub fn reader_url(&self, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "?" };
        format!(
            "postgres://{}:{READER_PASSWORD}@127.0.0.1:5432/{}{sep}{query}",
            self.role, self.name
        )
    }

    /// The URL of a second role that may log in and use the schema, but not read the table.
    pub fn role_without_select(&self) -> String {
        self.extra_role(
            "nosel",
            "GRANT CONNECT ON DATABASE {db} TO {r}; GRANT USAGE ON SCHEMA public TO {r};",
        )
    }

    /// The URL of a second role, with every grant, whose connection limit is reached.
    pub fn role_with_no_connections_left(&self) -> String {
        self.extra_role(
            "nocon",
            "GRANT CONNECT ON DATABASE {db} TO {r}; GRANT USAGE ON SCHEMA public TO {r}; \
             GRANT SELECT ON console_flag_promotions TO {r}; ALTER ROLE {r} CONNECTION LIMIT 0;",
        )
    }

    fn extra_role(&self, suffix: &str, grants: &str) -> String {
        let r = format!("{}_{suffix}", self.role);
        self.admin()
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {r}; CREATE ROLE {r} LOGIN PASSWORD '{READER_PASSWORD}'; {}",
                grants.replace("{r}", &r).replace("{db}", &self.name)
            ))
            .unwrap();
        format!(
            "postgres://{r}:{READER_PASSWORD}@127.0.0.1:5432/{}?sslmode=disable",
            self.name
        )
    }

    /// Adds a row in `state` since `since` (RFC 3339).
    pub fn row(&self, flag: &str, state: &str, since: &str) {
        self.admin()
            .execute(
                "INSERT INTO console_flag_promotions (flag_name, state, updated_at) VALUES ($1, $2, $3::text::timestamptz)",
                &[&flag, &state, &since],
            )
            .unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&admin_url(), NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {0} WITH (FORCE); DROP ROLE IF EXISTS {1}, {1}_nosel, {1}_nocon",
                self.name, self.role
            ));
        }
    }
}
