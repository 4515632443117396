//! The rules that keep a careless command line from hurting the user's files, checked before
//! any byte moves.
//!
//! - The output and incoming folders are different and neither holds the other: a download
//!   `wine_32.jpg` must never be overwritten by the 32 px thumbnail of `wine.jpg`.
//! - No input is inside the output folder: a run over its own outputs makes thumbnails of
//!   thumbnails, and a thumbnail named like its source would replace it.
//! - A file we write beside the run (log, report, chart, exports) is not an input, not the input
//!   list, not inside the output or incoming folders, and its folder exists: found out before
//!   phase one, not after an hour of work.
//!
//! Paths are compared after [`resolve`], so `./out`, `out/` and a symlink to it are one folder.
//! This module only reads the file system; it never creates or writes anything.

use std::fs;
use std::io::{self, BufRead};
use std::path::{Component, Path, PathBuf};

/// `path` made absolute, with symlinks and `..` resolved as far as it exists; the part that does
/// not exist yet is appended as written (normalised).
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            let mut out = real;
            for part in missing.iter().rev() {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other),
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                missing.push(last);
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Whether resolved `path` is `dir` or inside it.
pub fn within(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}

/// The output folder, resolved once, for the planner to keep inputs out of.
#[derive(Debug, Default)]
pub struct Fence {
    out_dir: Option<PathBuf>,
    /// The last input's folder and whether it is inside the output folder: a list names many
    /// files of one folder, and resolving each path cost six system calls per input.
    last_folder: std::cell::RefCell<Option<(PathBuf, bool)>>,
}

impl Fence {
    pub fn new(out_dir: &Path) -> Self {
        Fence {
            out_dir: Some(resolve(out_dir)),
            last_folder: Default::default(),
        }
    }

    /// No fence: for tests and benches that plan without an output folder.
    pub fn none() -> Self {
        Fence::default()
    }

    /// Why the local file or folder `path` may not be an input, if it may not. `plain_file`: a
    /// file that is not a symlink, which is inside the output folder exactly when its folder is,
    /// so its folder's answer is reused; a symlink or a folder is resolved on its own.
    pub fn refuses(&self, path: &Path, plain_file: bool) -> Option<String> {
        let out = self.out_dir.as_ref()?;
        let inside = match (path.parent(), plain_file) {
            (Some(folder), true) => {
                let mut last = self.last_folder.borrow_mut();
                match &*last {
                    Some((seen, inside)) if seen == folder => *inside,
                    _ => {
                        let inside = within(&resolve(path), out);
                        *last = Some((folder.to_path_buf(), inside));
                        inside
                    }
                }
            }
            _ => within(&resolve(path), out),
        };
        inside.then(|| {
            format!(
                "it is inside the output folder {}, where thumbnails are written (thumbnails of thumbnails, or a source overwritten)",
                out.display()
            )
        })
    }
}

/// A file we will write beside the run, with the option that names it.
pub struct SideFile<'a> {
    pub option: &'static str,
    pub path: &'a Path,
}

/// What a run writes and reads, for [`check_run`].
pub struct RunPaths<'a> {
    pub out_dir: &'a Path,
    /// The thumbnails go to object storage: `out_dir` only holds the run's work queues, in the
    /// incoming folder's hidden folder, and is not checked against it.
    pub remote_out: bool,
    pub incoming_dir: &'a Path,
    /// Inputs given on the command line (URLs are passed over).
    pub args: &'a [String],
    pub list: Option<&'a Path>,
    pub side_files: Vec<SideFile<'a>>,
    /// Whether a folder input would take this file as an image (by its name).
    pub taken_by_folders: fn(&Path) -> bool,
}

/// Every rule above, checked before anything is created; `Err` is a usage error to print.
pub fn check_run(paths: &RunPaths) -> Result<(), String> {
    let out = resolve(paths.out_dir);
    let incoming = resolve(paths.incoming_dir);
    for (option, dir) in [
        ("--out-dir", paths.out_dir),
        ("--incoming", paths.incoming_dir),
    ] {
        if let Ok(meta) = fs::metadata(dir) {
            if !meta.is_dir() {
                return Err(format!(
                    "{option} {}: is a file, not a folder",
                    dir.display()
                ));
            }
        }
    }
    if !paths.remote_out && (within(&out, &incoming) || within(&incoming, &out)) {
        return Err(format!(
            "--incoming {} and --out-dir {} must be separate folders, neither inside the other: downloads and thumbnails would overwrite each other",
            paths.incoming_dir.display(),
            paths.out_dir.display()
        ));
    }
    let fence = Fence::new(paths.out_dir);
    for arg in paths.args {
        let path = Path::new(arg);
        if crate::url::scheme_of(arg).is_none() && path.exists() {
            // A few arguments: each resolved on its own.
            if let Some(why) = fence.refuses(path, false) {
                return Err(format!("input {arg}: {why}"));
            }
        }
    }
    for side in &paths.side_files {
        check_side_file(side, paths, &out, &incoming)?;
    }
    check_side_files(&paths.side_files)
}

/// Checks that the files `side` names can be written: each names a file (not a folder) in a
/// folder that exists, and no two name the same file. For `bench`, whose side files are all
/// there is; a run checks more with [`check_run`].
pub fn check_side_files(side_files: &[SideFile]) -> Result<(), String> {
    let mut seen: Vec<PathBuf> = Vec::new();
    for side in side_files {
        writable(side)?;
        let resolved = resolve(side.path);
        if seen.contains(&resolved) {
            return Err(format!(
                "{} {}: another option already writes this file",
                side.option,
                side.path.display()
            ));
        }
        seen.push(resolved);
    }
    Ok(())
}

fn writable(side: &SideFile) -> Result<(), String> {
    let name = format!("{} {}", side.option, side.path.display());
    if side.path.file_name().is_none() {
        return Err(format!("{name}: is not a file name"));
    }
    match fs::metadata(side.path) {
        Ok(meta) if meta.is_dir() => Err(format!("{name}: is a folder")),
        Ok(_) => Ok(()),
        Err(_) => {
            let parent = match side.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if parent.is_dir() {
                Ok(())
            } else {
                Err(format!(
                    "{name}: the folder {} does not exist",
                    parent.display()
                ))
            }
        }
    }
}

fn check_side_file(
    side: &SideFile,
    paths: &RunPaths,
    out: &Path,
    incoming: &Path,
) -> Result<(), String> {
    let name = format!("{} {}", side.option, side.path.display());
    let resolved = resolve(side.path);
    if within(&resolved, out) || within(&resolved, incoming) {
        return Err(format!(
            "{name}: is inside the output or incoming folder, where it could be taken for an image or overwritten"
        ));
    }
    // A file that does not exist yet cannot be an input; one that does must not be one.
    if !side.path.exists() {
        return Ok(());
    }
    let is_input = |candidate: &Path| resolve(candidate) == resolved;
    if paths.list.is_some_and(is_input) {
        return Err(format!(
            "{name}: is the input list; writing it would empty the list"
        ));
    }
    for arg in paths.args {
        let path = Path::new(arg);
        if is_input(path) {
            return Err(format!("{name}: is an input; writing it would destroy it"));
        }
        let in_folder = path.is_dir() && resolved.parent() == Some(resolve(path).as_path());
        if in_folder && (paths.taken_by_folders)(side.path) {
            return Err(format!(
                "{name}: is in the input folder {arg}; writing it could destroy an input"
            ));
        }
    }
    // The list may be long: only lines naming a file of the same name are looked at closely.
    if let Some(list) = paths.list {
        let wanted = side.path.file_name();
        let file = fs::File::open(list)
            .map_err(|e| format!("cannot read input list {}: {e}", list.display()))?;
        for line in io::BufReader::new(file).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line);
            let line = line.trim().trim_start_matches('\u{feff}');
            let path = Path::new(line);
            if !line.is_empty() && path.file_name() == wanted && is_input(path) {
                return Err(format!(
                    "{name}: is listed as an input in {}; writing it would destroy it",
                    list.display()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_run, resolve, within, Fence, RunPaths, SideFile};
    use std::path::Path;

    fn paths<'a>(
        dir: &'a Path,
        out: &'a Path,
        incoming: &'a Path,
        args: &'a [String],
    ) -> RunPaths<'a> {
        let _ = dir;
        RunPaths {
            out_dir: out,
            remote_out: false,
            incoming_dir: incoming,
            args,
            list: None,
            side_files: Vec::new(),
            taken_by_folders: |p| p.extension().is_some_and(|e| e == "jpg"),
        }
    }

    #[test]
    fn resolve_follows_what_exists_and_normalises_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(resolve(&dir.path().join("a/../b/./c")), real.join("b/c"));
        assert!(within(&real.join("out/x"), &real.join("out")));
        assert!(!within(&real.join("outgoing"), &real.join("out")));
    }

    #[test]
    fn folders_that_meet_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (a, b) = (d.join("x"), d.join("x/sub"));
        let none: [String; 0] = [];
        assert!(check_run(&paths(d, &a, &a, &none))
            .unwrap_err()
            .contains("separate folders"));
        assert!(check_run(&paths(d, &a, &b, &none)).is_err());
        assert!(check_run(&paths(d, &b, &a, &none)).is_err());
        assert!(check_run(&paths(d, &d.join("o"), &d.join("i"), &none)).is_ok());
        let file = d.join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(check_run(&paths(d, &file, &a, &none))
            .unwrap_err()
            .contains("is a file, not a folder"));
    }

    #[test]
    fn side_files_must_not_be_inputs_or_in_the_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let photo = d.join("photo.jpg");
        std::fs::write(&photo, b"jpeg").unwrap();
        let args = [photo.display().to_string()];
        let (out, inc) = (d.join("o"), d.join("i"));
        let mut p = paths(d, &out, &inc, &args);
        p.side_files.push(SideFile {
            option: "--log-file",
            path: &photo,
        });
        assert!(check_run(&p).unwrap_err().contains("is an input"));
        let inside = out.join("log.txt");
        p.side_files[0].path = &inside;
        assert!(check_run(&p).unwrap_err().contains("inside the output"));
        let nodir = d.join("nodir/r.json");
        p.side_files[0].path = &nodir;
        assert!(check_run(&p).unwrap_err().contains("does not exist"));
        let fine = d.join("r.json");
        p.side_files[0].path = &fine;
        assert!(check_run(&p).is_ok());
        assert!(Fence::new(&out).refuses(&out.join("a.jpg"), true).is_some());
        assert!(Fence::new(&out).refuses(&photo, true).is_none());
    }
}
