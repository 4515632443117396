//! The README's Slurm recipe (scripts/thumbnails.sbatch), run as written on a real one-node
//! Slurm cluster (scripts/slurm-local.sh) against a real S3 server (moto), then merged and
//! compared with a single run (issue 12).
//!
//! Needs root, Debian's slurm-wlm and munge, and moto: `.ci/run` installs them; elsewhere the
//! test says what is missing and passes without running.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{files, run_json, succeeds, tm_bare};

/// The cluster of scripts/slurm-local.sh in `dir`, stopped (its daemons, by pid) when dropped.
struct Cluster {
    dir: PathBuf,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let out = Command::new(script("slurm-local.sh"))
            .arg("start")
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Cluster {
            dir: dir.to_path_buf(),
        }
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("slurm.conf")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script("slurm-local.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn missing() -> Option<String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        return Some("slurmd runs as root".into());
    }
    for tool in ["sbatch", "slurmctld", "slurmd", "munged", "moto_server"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} is not installed (.ci/run installs it)"));
        }
    }
    None
}

#[test]
fn the_slurm_job_array_recipe_on_a_real_cluster_equals_one_run() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let Some(moto) = crate::s3::Moto::start(true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut put = vec!["put".to_string(), "inputs".to_string()];
    for sample in thumbnail_maker::samples::SAMPLES {
        let path = root.join(sample.name);
        std::fs::write(&path, sample.bytes).unwrap();
        put.push(format!("{}={}", sample.name, path.display()));
    }
    let put: Vec<&str> = put.iter().map(String::as_str).collect();
    moto.script(&put);

    let cluster = Cluster::start(&root.join("slurm"));
    let shared = root.join("shared");
    let binary = Path::new(env!("CARGO_BIN_EXE_thumbnail-maker"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (key, secret) = moto.key.clone().unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let job = Command::new("sbatch")
        // As the README says, with the array and CPUs this one-node, two-core cluster has.
        .args(["--wait", "--array=0-3", "--cpus-per-task=1"])
        .arg(script("thumbnails.sbatch"))
        .current_dir(root)
        .env("SLURM_CONF", cluster.conf())
        .env("PATH", path)
        .env("INPUTS", "s3://inputs/")
        .env("SHARED", &shared)
        .env("TMPDIR", root.join("tmp"))
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", &key)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .output()
        .unwrap();
    let logs: String = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("thumbnails-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        job.status.success(),
        "sbatch: {} {}; task logs: {logs}",
        String::from_utf8_lossy(&job.stdout),
        String::from_utf8_lossy(&job.stderr)
    );

    let mut merge = tm_bare(root);
    merge.args(["report", "merge", "--json"]);
    for k in 0..4 {
        merge.arg(shared.join(format!("reports/{k}.json")));
    }
    let merged = succeeds(&mut merge);
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["shards"]["count"], 4, "{merged}");
    assert_eq!(
        merged["shards"]["merged"],
        serde_json::json!([0, 1, 2, 3]),
        "{merged}"
    );
    let objects = thumbnail_maker::samples::SAMPLES.len();
    assert_eq!(merged["resize"]["ok"], objects, "{merged}");
    assert_eq!(
        merged["download"]["ok"], objects,
        "each object fetched once: {merged}"
    );

    // One run of the same inputs, on this machine alone: the same files, byte for byte.
    let single = run_json({
        let mut c = tm_bare(root);
        c.args(["s3://inputs/", "-o", "single", "--incoming", "single-in"])
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", &secret);
        c
    });
    assert_eq!(single.status, 0, "{}", single.stderr);
    let sharded = files(&shared.join("out"));
    assert_eq!(sharded.len(), 3 * thumbnail_maker::samples::SAMPLES.len());
    assert!(
        sharded == files(&root.join("single")),
        "the shards' files equal one run's"
    );
    drop(cluster);
}
