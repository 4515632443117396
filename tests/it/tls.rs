//! HTTPS trust as curl users expect it: a company's own CA through `--cacert` or
//! `SSL_CERT_FILE`, against a real TLS server (`openssl s_server`) on loopback whose
//! certificate that CA signed. `.ci/run` installs openssl; without it these tests say so.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{names, run_json, sample, tm};

/// `openssl s_server -WWW` serving `dir` on a loopback port, killed when dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA (`ca.pem`) and a server certificate for 127.0.0.1 it signed, then the server, serving
/// the files of `dir`. `None` (with the reason printed) without openssl.
fn start(dir: &Path) -> Option<TlsServer> {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: openssl is not installed (.ci/run installs it)");
        return None;
    }
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=test company CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    // A free port: bound, noted, released for the server.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .current_dir(dir)
        .args([
            "s_server",
            "-quiet",
            "-WWW",
            "-cert",
            "server.pem",
            "-key",
            "server.key",
        ])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let server = TlsServer { child, port };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "s_server did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(server)
}

#[test]
fn https_trusts_a_company_ca_given_by_cacert_or_ssl_cert_file_and_nothing_else() {
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("wine.jpg"), sample("wine.jpg")).unwrap();
    let Some(server) = start(served.path()) else {
        return;
    };
    let url = format!("https://127.0.0.1:{}/wine.jpg", server.port);
    let ca = served.path().join("ca.pem");

    // Without the CA: the server's certificate is unknown, the item fails and says why.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tm(dir.path());
    cmd.args([&url, "--retries", "0", "-s", "32"]);
    let run = run_json(cmd);
    assert_eq!(run.status, 1, "{}", run.stderr);
    let error = run.json["failures"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("certificate") || error.contains("Certificate"),
        "{error}"
    );

    // With --cacert, and with SSL_CERT_FILE, the same URL downloads and resizes.
    for how in ["--cacert", "SSL_CERT_FILE"] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = tm(dir.path());
        cmd.args([&url, "--retries", "0", "-s", "32"]);
        if how == "--cacert" {
            cmd.arg("--cacert").arg(&ca);
        } else {
            cmd.env("SSL_CERT_FILE", &ca);
        }
        let run = run_json(cmd);
        assert_eq!(run.status, 0, "{how}: {}", run.stderr);
        assert_eq!(names(&dir.path().join("out")), ["wine_32.jpg"], "{how}");
    }

    // A bundle that is not one is a usage error naming it, before anything is fetched.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.key"), "not a certificate\n").unwrap();
    let out = tm(dir.path())
        .args([&url, "--cacert", "ca.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cacert ca.key: no PEM certificate"),
        "{stderr}"
    );
    assert_eq!(names(dir.path()), ["ca.key"]);
}
