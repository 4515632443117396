//! The bars as a user sees them, in a real terminal: tmux runs the binary against the demo's
//! slow loopback server, and `capture-pane` reads the screen while it runs and after.
//! `.ci/run` installs tmux; without it these tests say so and pass.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A 100x30 terminal running a plain shell in `dir`, or `None` without tmux.
    fn start(dir: &Path, name: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("skipped: tmux is not installed (.ci/run installs it)");
            return None;
        }
        let tmux = Tmux {
            socket: format!("tm-test-{}-{name}", std::process::id()),
        };
        let bin = env!("CARGO_BIN_EXE_thumbnail-maker");
        // A shell with a fixed prompt and no startup files, so the screen holds only our text.
        tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            dir.to_str().unwrap(),
            "env",
            "-u",
            "RUST_LOG",
            "PS1=$ ",
            &format!("TM={bin}"),
            "sh",
        ]);
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn type_line(&self, line: &str) {
        self.run(&["send-keys", "-l", line]);
        self.run(&["send-keys", "Enter"]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p"])
    }

    /// Screens captured every 100 ms until `done` holds for one (returned last), or 60 s.
    fn watch(&self, done: impl Fn(&str) -> bool) -> Vec<String> {
        let start = Instant::now();
        let mut screens = Vec::new();
        loop {
            let screen = self.screen();
            let finished = done(&screen);
            screens.push(screen);
            if finished || start.elapsed() > Duration::from_secs(60) {
                return screens;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// Whether the shell printed the run's exit status (`exit-N` on a line of its own; the typed
/// command shows `exit-$?`).
fn exited(screen: &str) -> bool {
    screen
        .lines()
        .any(|l| l.starts_with("exit-") && l[5..].chars().all(|c| c.is_ascii_digit()))
}

/// The download bar's `done/total`, if the screen shows it.
fn download_position(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.starts_with("download ["))?;
    let after = &line[line.find(']')? + 1..];
    after.split_whitespace().next().map(str::to_string)
}

#[test]
fn bars_appear_move_and_leave_a_clean_summary() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = Tmux::start(dir.path(), "bars") else {
        return;
    };
    // Eight photos one at a time, 600 ms each: the download bar is up for about five seconds.
    tmux.type_line(r#""$TM" demo --latency 600 -d 1 -o out; echo "exit-$?""#);
    let screens = tmux.watch(exited);
    let last = screens.last().unwrap();
    assert!(last.contains("\nexit-0\n"), "{last}");
    let positions: Vec<String> = screens
        .iter()
        .filter_map(|s| download_position(s))
        .collect();
    assert!(
        positions.iter().any(|p| p.ends_with("/8") && p != "8/8"),
        "the bar showed while downloading: {positions:?}"
    );
    let mut distinct = positions.clone();
    distinct.dedup();
    assert!(distinct.len() >= 3, "the bar moved: {distinct:?}");
    // Bars are cleared when their phase ends: the summary stands alone.
    assert!(
        !last.contains("download [") && !last.contains("resize   ["),
        "{last}"
    );
    assert!(
        last.contains("8 ok, 0 failed  24 thumbnails written"),
        "{last}"
    );
    assert_eq!(tmux.run(&["display", "-p", "#{cursor_flag}"]).trim(), "1");
}

#[test]
fn ctrl_c_stops_the_run_and_leaves_the_terminal_clean() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = Tmux::start(dir.path(), "ctrl-c") else {
        return;
    };
    tmux.type_line(r#""$TM" demo --latency 1500 -d 1 -o out; echo "exit-$?""#);
    let screens = tmux.watch(|s| download_position(s).is_some());
    assert!(download_position(screens.last().unwrap()).is_some());
    tmux.run(&["send-keys", "C-c"]);
    let screens = tmux.watch(exited);
    let last = screens.last().unwrap();
    assert!(last.contains("\nexit-130\n"), "{last}");
    assert!(last.contains("interrupted"), "{last}");
    assert!(
        !last.contains("download ["),
        "no bar is left behind: {last}"
    );
    // The terminal still echoes and runs what is typed, with a visible cursor.
    tmux.type_line("echo after-$((40 + 2))");
    let screens = tmux.watch(|s| s.contains("after-42"));
    assert!(screens.last().unwrap().contains("after-42"));
    assert_eq!(tmux.run(&["display", "-p", "#{cursor_flag}"]).trim(), "1");
}
