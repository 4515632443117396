//! S3 inputs against a real S3 server on loopback (moto's, started here), which checks SigV4
//! signatures: a wrong secret is refused by the server, not by us (issue 12).
//!
//! `.ci/run` installs moto and boto3 when missing; on a machine without them these tests say
//! so and pass without running.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{fixture, names, run_json, sample, tm};

/// A moto S3 server on a free loopback port, stopped (by its pid) when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    /// The access key and secret of a user whose requests are checked, when started with auth.
    pub key: Option<(String, String)>,
}

impl Moto {
    /// `None` (saying why) where moto is not installed.
    pub fn start(auth: bool) -> Option<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new("moto_server");
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if auth {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
        }
        let Ok(child) = command.spawn() else {
            eprintln!("skipped: moto_server is not installed (pip install 'moto[server]' boto3; .ci/run does)");
            return None;
        };
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            key: None,
        };
        // Ready when it accepts a connection; a connection is not a request, so the
        // unauthenticated allowance stays for `setup`.
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        if auth {
            let out = moto.script(&["setup", &moto.endpoint.clone()]);
            let mut words = out.split_whitespace().map(str::to_string);
            moto.key = Some((words.next().unwrap(), words.next().unwrap()));
        }
        Some(moto)
    }

    /// Runs scripts/s3-local.py with this server's endpoint and user; returns its stdout.
    pub fn script(&self, args: &[&str]) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/s3-local.py");
        let (key, secret) = self
            .key
            .clone()
            .unwrap_or(("testing".into(), "testing".into()));
        let out = Command::new("python3")
            .arg(script)
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The tool, run in `dir` against this server, as its user (or with `secret` instead).
    fn tm(&self, dir: &Path, secret: Option<&str>) -> Command {
        self.with_env(tm(dir), secret)
    }

    /// `c` with this server's endpoint and user (or with `secret` instead).
    pub fn with_env(&self, mut c: Command, secret: Option<&str>) -> Command {
        let (key, right) = self
            .key
            .clone()
            .unwrap_or(("testing".into(), "testing".into()));
        c.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret.unwrap_or(&right))
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL_S3");
        c
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn errors(report: &serde_json::Value) -> Vec<(String, String)> {
    report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["input"].as_str().unwrap().to_string(),
                f["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn objects_and_buckets_are_fetched_signed_and_each_refusal_names_the_object() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.jpg"), sample("friends.jpg")).unwrap();
    let x = dir.path().join("x.jpg").display().to_string();
    let png = fixture("png_raw_profile_orientation_3_should_turn_180.png")
        .display()
        .to_string();
    moto.script(&[
        "put",
        "photos",
        &format!("x.jpg={x}"),
        &format!("y.png={png}"),
        &format!("denied/z.jpg={x}"),
        &format!("bad/../w.jpg={x}"),
        "notes.txt=",
    ]);
    moto.script(&["put", "empty"]);
    moto.script(&["put", "texts", "a.txt=", "b.csv="]);

    let first = run_json({
        let mut c = moto.tm(dir.path(), None);
        c.args([
            "s3://photos/",
            "s3://nobucket/",
            "s3://empty/",
            "s3://texts/",
        ]);
        c
    });
    assert_eq!(first.status, 1, "{}", first.stderr);
    assert_eq!(
        names(&dir.path().join("out")),
        [
            "x_200.jpg",
            "x_32.jpg",
            "x_64.jpg",
            "y_200.png",
            "y_32.png",
            "y_64.png"
        ],
        "the images of the bucket, notes.txt left out by its name"
    );
    let errors = errors(&first.json);
    for (input, says) in [
        ("s3://photos/denied/z.jpg", "HTTP 403 (AccessDenied)"),
        ("s3://photos/bad/../w.jpg", "'..'"),
        ("s3://nobucket/", "HTTP 404 (NoSuchBucket)"),
        ("s3://empty/", "no objects under this prefix"),
        (
            "s3://texts/",
            "no images under this prefix (2 objects, none named as one)",
        ),
    ] {
        let said = errors
            .iter()
            .find(|(i, _)| i == input)
            .unwrap_or_else(|| panic!("no failure for {input}: {errors:?}"));
        assert!(said.1.contains(says), "{input}: {errors:?}");
    }
    assert_eq!(errors.len(), 5, "{errors:?}");

    // Unchanged objects: revalidated with the ETag S3 gave, answered 304, nothing decoded.
    let again = run_json({
        let mut c = moto.tm(dir.path(), None);
        c.args(["s3://photos/x.jpg", "s3://photos/y.png"]);
        c
    });
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert_eq!(again.json["download"]["not_modified"], 2);
    assert_eq!(again.json["resize"]["images"], 0);

    // Under a prefix, the listing gives each object's ETag: no request for them at all (the
    // refused object is asked for again, and refused again).
    let listed = run_json({
        let mut c = moto.tm(dir.path(), None);
        c.arg("s3://photos/");
        c
    });
    assert_eq!(listed.status, 1, "{}", listed.stderr);
    assert_eq!(listed.json["download"]["not_modified"], 0);
    assert_eq!(listed.json["download"]["ok"], 0);
    assert_eq!(listed.json["resize"]["images"], 0);
    assert_eq!(listed.json["resize"]["skipped"], 2);

    // A wrong secret: refused by the server's signature check, each input named, nothing made.
    let wrong_dir = tempfile::tempdir().unwrap();
    let wrong = run_json({
        let mut c = moto.tm(wrong_dir.path(), Some("not-the-secret"));
        c.args(["s3://photos/x.jpg", "s3://photos/"]);
        c
    });
    assert_eq!(wrong.status, 1);
    let errors = self::errors(&wrong.json);
    assert_eq!(errors.len(), 2, "{errors:?}");
    for (input, error) in &errors {
        assert!(
            error.contains("HTTP 403 (SignatureDoesNotMatch)"),
            "{input}: {error}"
        );
    }
    assert!(names(&wrong_dir.path().join("out")).is_empty());
}

/// A listing of more than one page (1,000 keys each) is followed to its end. Listed whole:
/// moto's signature check rebuilds a query with `/` in it wrongly (boto3's own
/// `list_objects_v2(Prefix="a/")` is refused by it the same way), so prefixes are the next test's.
#[test]
fn a_listing_of_several_pages_is_planned_whole() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.jpg"), sample("friends.jpg")).unwrap();
    let x = dir.path().join("x.jpg").display().to_string();
    moto.script(&["fill", "many", "d/", "2100", &x]);
    let out = moto
        .tm(dir.path(), None)
        .args(["s3://many/", "--dry-run"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let todo: Vec<&str> = text.lines().filter(|l| l.starts_with("todo\t")).collect();
    assert_eq!(todo.len(), 2100, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(todo[0].contains("s3://many/d/p00000.jpg"));
}

#[test]
fn a_prefix_lists_only_its_own_keys() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.jpg"), sample("wine.jpg")).unwrap();
    let x = dir.path().join("x.jpg").display().to_string();
    moto.script(&[
        "put",
        "photos",
        &format!("2024/a.jpg={x}"),
        &format!("2024/b.jpg={x}"),
        &format!("2025/c.jpg={x}"),
    ]);
    let run = run_json({
        let mut c = moto.tm(dir.path(), None);
        c.args(["s3://photos/2024/", "-s", "16"]);
        c
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(names(&dir.path().join("out")), ["a_16.jpg", "b_16.jpg"]);
}

/// `--report s3://bucket/key`: uploaded with a signed PUT; boto3 reads back the same JSON the
/// run printed, typed application/json. A prefix instead of an object is a usage error.
#[test]
fn the_report_goes_to_a_bucket() {
    let Some(moto) = Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.jpg"), sample("wine.jpg")).unwrap();
    moto.script(&["put", "reports"]);
    let run = run_json({
        let mut c = moto.tm(dir.path(), None);
        c.args(["x.jpg", "--report", "s3://reports/runs/1.json"]);
        c
    });
    assert_eq!(run.status, 0, "{}", run.stderr);
    let copy = dir.path().join("copy.json");
    let content_type = moto.script(&["get", "reports", "runs/1.json", copy.to_str().unwrap()]);
    assert_eq!(content_type.trim(), "application/json");
    let uploaded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&copy).unwrap()).unwrap();
    assert_eq!(uploaded, run.json);
    assert!(
        !dir.path().join("s3:").exists(),
        "nothing written locally under the address"
    );

    let prefix = moto
        .tm(dir.path(), None)
        .args(["x.jpg", "--report", "s3://reports/runs/"])
        .output()
        .unwrap();
    assert_eq!(prefix.status.code(), Some(2));
    let wrong = moto
        .tm(dir.path(), Some("not-the-secret"))
        .args(["x.jpg", "-q", "--report", "s3://reports/runs/2.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write s3://reports/runs/2.json: server answered HTTP 403 (SignatureDoesNotMatch)"),
        "{stderr}"
    );
}

#[test]
fn an_endpoint_that_cuts_drips_or_slows_down_fails_only_its_object_by_name() {
    use thumbnail_maker::serve::{Fault, Route};
    let jpeg = sample("wine.jpg");
    let server = crate::util::serve(
        vec![
            (
                "/photos/cut.jpg",
                Route::file("cut.jpg", jpeg).with_fault(Fault::CutAt(jpeg.len() / 2)),
            ),
            (
                "/photos/drip.jpg",
                Route::file("drip.jpg", jpeg).with_fault(Fault::Drip(Duration::from_millis(200))),
            ),
            // S3's SlowDown: retried, then fetched.
            (
                "/photos/slow.jpg",
                Route::file("slow.jpg", jpeg).failing_first(1, 503, vec![]),
            ),
        ],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.env("AWS_ENDPOINT_URL", server.url(""))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args(["--timeout", "2", "--retries", "1"])
        .args([
            "s3://photos/cut.jpg",
            "s3://photos/drip.jpg",
            "s3://photos/slow.jpg",
        ]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1, "{}", run.stderr);
    let mut errors = errors(&run.json);
    errors.sort();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "s3://photos/cut.jpg");
    assert_eq!(errors[1].0, "s3://photos/drip.jpg");
    assert!(errors[1].1.contains("timeout"), "{errors:?}");
    assert!(errors.iter().all(|(_, e)| !e.contains('\n')), "{errors:?}");
    assert_eq!(server.hits("/photos/slow.jpg"), 2, "retried once");
    assert_eq!(
        names(&dir.path().join("out")),
        ["slow_200.jpg", "slow_32.jpg", "slow_64.jpg"]
    );
}
