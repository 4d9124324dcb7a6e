//! A database of the test's own, on a throwaway PostgreSQL cluster this test process starts
//! (initdb + pg_ctl in a temporary directory, on a free port, TLS on with a self-signed
//! certificate) and stops when it ends: no server of the machine's is touched.
//! A promotions table shaped like the console's, and a login role that may only read it;
//! dropped when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls};

/// The reader role's password: a secret that must never show.
pub const READER_PASSWORD: &str = "reader-pw-7Hq2-SECRET";

/// The cluster's superuser and password.
const ADMIN: &str = "hm_admin";
const ADMIN_PASSWORD: &str = "hm-test-admin";

static N: AtomicUsize = AtomicUsize::new(0);
static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// The admin URL of this process's cluster, started on first use.
pub fn admin_url() -> String {
    let cluster = CLUSTER.get_or_init(Cluster::start);
    match cluster {
        Ok(c) => format!("postgres://{ADMIN}:{ADMIN_PASSWORD}@{}/postgres", c.addr),
        Err(e) => panic!("{e}"),
    }
}

/// `127.0.0.1:PORT` of the cluster.
pub fn addr() -> String {
    admin_url();
    CLUSTER.get().unwrap().as_ref().unwrap().addr.clone()
}

/// A running throwaway cluster. A watchdog process stops it and removes its directory once
/// this test process is gone, however it ends.
struct Cluster {
    addr: String,
}

impl Cluster {
    fn start() -> Result<Self, String> {
        let bin = bin_dir()?;
        let dir = std::env::temp_dir().join(format!("hm-test-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let data = dir.join("data");
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            path
        };
        let pwfile = write("pw", ADMIN_PASSWORD);
        let cert = rcgen::generate_simple_self_signed(["localhost".to_string()])
            .map_err(|e| format!("make a test certificate: {e}"))?;
        let crt = write("server.crt", &cert.cert.pem());
        let key = write("server.key", &cert.signing_key.serialize_pem());
        let as_owner = Owner::of(&dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("find a free port: {e}"))?;
        as_owner.run(
            &bin.join("initdb"),
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                ADMIN.as_ref(),
                "--pwfile".as_ref(),
                pwfile.as_os_str(),
                "--auth=scram-sha-256".as_ref(),
                "--encoding=UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        let settings = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            dir.display(),
            crt.display(),
            key.display()
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, settings.as_bytes()))
            .map_err(|e| format!("configure the cluster: {e}"))?;
        let log = dir.join("server.log");
        let pg_ctl = bin.join("pg_ctl");
        as_owner
            .run(
                &pg_ctl,
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-w".as_ref(),
                    "start".as_ref(),
                ],
            )
            .map_err(|e| {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                format!("{e}\n{log}")
            })?;
        as_owner.watch(std::process::id(), &pg_ctl, &data, &dir)?;
        Ok(Self {
            addr: format!("127.0.0.1:{port}"),
        })
    }
}

/// Where `initdb` and `pg_ctl` are: the newest `/usr/lib/postgresql/*/bin` (Debian, Ubuntu),
/// else `PATH`.
fn bin_dir() -> Result<PathBuf, String> {
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(v, bin)| *v >= 13 && bin.join("initdb").exists())
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        .ok_or_else(|| {
            "the PostgreSQL tests need PostgreSQL 13 or newer: initdb and pg_ctl were found \
             neither under /usr/lib/postgresql/*/bin nor on PATH (Debian, Ubuntu: apt-get install \
             postgresql; macOS: brew install postgresql)"
                .to_string()
        })
}

/// Who runs the cluster: this user, or the `postgres` user when this is root (PostgreSQL
/// refuses to run as root).
enum Owner {
    Me,
    Postgres,
}

impl Owner {
    /// Decides, and gives `dir` to that user.
    fn of(dir: &Path) -> Result<Self, String> {
        // The directory was just made by this process, so its owner is who we are.
        let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(dir).unwrap());
        if uid != 0 {
            return Ok(Self::Me);
        }
        let out = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(dir)
            .output()
            .map_err(|e| format!("chown: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "running as root, the tests start PostgreSQL as the user postgres, which \
                 could not be given {}: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self::Postgres)
    }

    fn command(&self, program: &Path) -> Command {
        match self {
            Self::Me => Command::new(program),
            Self::Postgres => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            }
        }
    }

    fn run(&self, program: &Path, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        // No pipe of ours may reach the server: it would hold the test's output open.
        let log = std::env::temp_dir().join(format!("hm-test-pg-{}.out", std::process::id()));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let status = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .status()
            .map_err(|e| format!("{} could not be started: {e}", program.display()))?;
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} failed ({status}):\n{said}", program.display()))
        }
    }

    /// Starts the watchdog, as this user (it must see the test process): once `pid` is
    /// gone, it stops the cluster and removes `dir`.
    fn watch(&self, pid: u32, pg_ctl: &Path, data: &Path, dir: &Path) -> Result<(), String> {
        let stop = match self {
            Self::Me => "",
            Self::Postgres => "runuser -u postgres -- ",
        };
        let script = format!(
            "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; \
             {stop}\"$2\" -D \"$3\" stop -m immediate >/dev/null 2>&1; rm -rf \"$4\""
        );
        let mut c = Command::new("/bin/sh");
        c.args(["-c", &script, "sh", &pid.to_string()])
            .arg(pg_ctl)
            .arg(data)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: a Ctrl-C of the tests must not take the watchdog with them.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c.spawn()
            .map(drop)
            .map_err(|e| format!("start the cluster's watchdog: {e}"))
    }
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
            "postgres://{}:{READER_PASSWORD}@{}/{}{sep}{query}",
            self.role,
            addr(),
            self.name
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
            "postgres://{r}:{READER_PASSWORD}@{}/{}?sslmode=disable",
            addr(),
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
