//! Runs checks at the same time on a bounded pool of threads. Results come back in
//! configuration order; a check that panics becomes that check's `unknown`; a check still
//! running at the deadline becomes `unknown` too, and the run goes on without it.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use super::{CheckResult, Status};

/// The work of one check; it may yield several results (one per row found, say).
pub type Work = Box<dyn FnOnce() -> Vec<CheckResult> + Send>;

/// Who a result is about: what to report in a job's place if it cannot report itself.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The id of the result.
    pub id: String,
    /// Its kind.
    pub kind: &'static str,
    /// Its target.
    pub target: String,
    /// The name in a mail subject.
    pub subject_name: String,
}

impl Identity {
    /// Who result `id` of `kind` is about.
    pub fn new(id: String, kind: &'static str, target: &str, subject_name: &str) -> Self {
        Self {
            id,
            kind,
            target: target.to_string(),
            subject_name: subject_name.to_string(),
        }
    }
}

/// One unit of work and the results it stands for (one job may check several things that
/// share what they fetch, like the slug and the dynos of one Heroku app).
pub struct Job {
    /// The results it yields.
    pub identities: Vec<Identity>,
    /// The work.
    pub work: Work,
    /// Requests a healthy run of it makes one after another. The longest start first, so a
    /// two-request job does not trail the run on a busy pool.
    pub rounds: usize,
}

/// How a job ended: its results, or the panic message and how long it ran.
type JobEnd = Result<Vec<CheckResult>, (String, u64)>;

/// Runs `jobs` on at most `threads` threads and returns their results in job order.
pub fn run_all(jobs: Vec<Job>, threads: usize, deadline: Instant) -> Vec<CheckResult> {
    let total = jobs.len();
    let mut identities = Vec::with_capacity(total);
    let mut queue = Vec::with_capacity(total);
    for (i, job) in jobs.into_iter().enumerate() {
        identities.push(job.identities);
        queue.push((job.rounds, i, job.work));
    }
    // Stable: equal jobs keep configuration order.
    queue.sort_by_key(|(rounds, _, _)| std::cmp::Reverse(*rounds));
    let queue: VecDeque<_> = queue.into_iter().map(|(_, i, work)| (i, work)).collect();
    let queue = Arc::new(Mutex::new(queue));
    let (tx, rx) = mpsc::channel::<(usize, JobEnd)>();
    for _ in 0..threads.clamp(1, total.max(1)) {
        let queue = Arc::clone(&queue);
        let tx = tx.clone();
        // Detached: a check hanging past the deadline must not hold the run.
        std::thread::spawn(move || {
            while let Some((i, work)) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                if tx.send((i, run_one(work))).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    let mut outcomes: Vec<Option<JobEnd>> = (0..total).map(|_| None).collect();
    for _ in 0..total {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, outcome)) => outcomes[i] = Some(outcome),
            Err(_) => break,
        }
    }
    outcomes
        .into_iter()
        .zip(identities)
        .flat_map(|(outcome, identities)| {
            let stand_in = |message: String, ms: u64| {
                identities
                    .iter()
                    .map(|who| {
                        let mut r = CheckResult::new(
                            &who.id,
                            who.kind,
                            &who.target,
                            Status::Unknown,
                            message.clone(),
                        );
                        r.subject_name = who.subject_name.clone();
                        r.duration_ms = ms;
                        r
                    })
                    .collect::<Vec<_>>()
            };
            match outcome {
                Some(Ok(results)) => results,
                Some(Err((panic, ms))) => stand_in(
                    format!("the check crashed inside heartbeat-monitor ({panic}); this is a bug: please report it"),
                    ms,
                ),
                None => stand_in(
                    "did not finish before the run deadline; the service it calls may be hanging".into(),
                    0,
                ),
            }
        })
        .collect()
}

fn run_one(work: Work) -> JobEnd {
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(work));
    let ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(mut results) => {
            for r in &mut results {
                if r.duration_ms == 0 {
                    r.duration_ms = ms;
                }
            }
            Ok(results)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err((what, ms))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn job(id: &str, work: impl FnOnce() -> Vec<CheckResult> + Send + 'static) -> Job {
        Job {
            identities: vec![Identity::new(id.into(), "cron_heartbeat", id, id)],
            work: Box::new(work),
            rounds: 1,
        }
    }

    fn ok(id: &str) -> Vec<CheckResult> {
        vec![CheckResult::new(
            id,
            "cron_heartbeat",
            id,
            Status::Ok,
            "fine".into(),
        )]
    }

    #[test]
    fn order_is_configuration_order_whatever_finishes_first() {
        let jobs = vec![
            job("slow", || {
                std::thread::sleep(Duration::from_millis(150));
                ok("slow")
            }),
            job("fast", || ok("fast")),
        ];
        let results = run_all(jobs, 2, Instant::now() + Duration::from_secs(10));
        let ids: Vec<_> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["slow", "fast"]);
    }

    #[test]
    fn the_longest_jobs_start_first_and_results_keep_their_order() {
        let started = Arc::new(Mutex::new(Vec::new()));
        let log = |id: &'static str| {
            let started = Arc::clone(&started);
            move || {
                started.lock().unwrap().push(id);
                ok(id)
            }
        };
        let mut long = job("long", log("long"));
        long.rounds = 2;
        let jobs = vec![job("a", log("a")), long, job("b", log("b"))];
        let results = run_all(jobs, 1, Instant::now() + Duration::from_secs(10));
        assert_eq!(*started.lock().unwrap(), ["long", "a", "b"]);
        let ids: Vec<_> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "long", "b"]);
    }

    #[test]
    fn a_panic_is_that_checks_unknown_only() {
        let jobs = vec![
            job("boom", || panic!("index out of range")),
            job("fine", || ok("fine")),
        ];
        let results = run_all(jobs, 2, Instant::now() + Duration::from_secs(10));
        assert_eq!(results[0].id, "boom");
        assert_eq!(results[0].status, Status::Unknown);
        assert!(results[0].message.contains("index out of range"));
        assert_eq!(results[1].status, Status::Ok);
    }

    #[test]
    fn a_hung_check_is_unknown_at_the_deadline() {
        let jobs = vec![
            job("hung", || {
                std::thread::sleep(Duration::from_secs(30));
                ok("hung")
            }),
            job("fine", || ok("fine")),
        ];
        let started = Instant::now();
        let results = run_all(jobs, 2, started + Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(results[0].status, Status::Unknown);
        assert!(results[0].message.contains("deadline"));
        assert_eq!(results[1].status, Status::Ok);
    }

    #[test]
    fn the_pool_is_bounded() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let live = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = (0..12)
            .map(|i| {
                let (live, peak) = (Arc::clone(&live), Arc::clone(&peak));
                job(&format!("j{i}"), move || {
                    let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    live.fetch_sub(1, Ordering::SeqCst);
                    ok("j")
                })
            })
            .collect();
        let results = run_all(jobs, 3, Instant::now() + Duration::from_secs(10));
        assert_eq!(results.len(), 12);
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }
}
