//! The sandbox engine's command line: `bwrap` (bubblewrap) with the pod's view of a step.
//!
//! The new root is this machine's, bound read-only, with fresh `/dev` and `/proc` and a
//! private, empty `/tmp` (a tmpfs that holds the pod's `/tmp/flowc/inputs` and
//! `/tmp/flowc/outputs`). A secret mounted at a path that does not exist here
//! (`/etc/security/keytabs/hdfs.keytab` without `/etc/security/keytabs`) needs a mount point
//! where the host's folder is read-only, so the deepest folder on the way that exists
//! (`/etc/security`) is rebuilt on a tmpfs, each of its entries bound as it is, and made
//! read-only again; where not even the top-level folder exists, the whole root is rebuilt so,
//! every top-level entry but `/dev`, `/proc` and `/tmp` bound at its own path. Mount points are made at the path with this machine's links followed
//! (`/var/run/...` at `/run/...`), as bubblewrap builds the root outside it. Every namespace is new (user, PID, IPC, UTS, cgroup, and the network unless
//! the step may reach it), and the step is PID 1 of its own; the environment is set by the caller on the `bwrap` process, so no
//! secret value is ever on a command line.

use std::path::{Path, PathBuf};

use super::{PodView, OUTPUTS};

/// What the command line needs to know of this machine's file system.
pub trait HostFs {
    /// The entries of folder `dir`, sorted by name: name and kind.
    fn entries(&self, dir: &Path) -> Vec<(String, Kind)>;
    /// Whether `path` exists (a dangling link does not).
    fn exists(&self, path: &Path) -> bool;
    /// `path` with the links among its existing folders followed (`/var/run/x` is `/run/x`
    /// where `/var/run` links to `/run`): where a mount point is really made.
    fn resolve(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// The kind of a folder entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A folder.
    Dir,
    /// A symbolic link, with its target as written.
    Link(String),
    /// Anything else (files, sockets, devices).
    Other,
}

/// This machine's file system.
pub struct RealFs;

impl HostFs for RealFs {
    fn entries(&self, dir: &Path) -> Vec<(String, Kind)> {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v: Vec<(String, Kind)> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let ty = e.file_type().ok()?;
                let kind = if ty.is_symlink() {
                    Kind::Link(std::fs::read_link(e.path()).ok()?.to_str()?.to_string())
                } else if ty.is_dir() {
                    Kind::Dir
                } else {
                    Kind::Other
                };
                Some((name, kind))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        let mut existing = path;
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name);
                    existing = parent;
                }
                _ => return path.to_path_buf(),
            }
        }
        let mut real = std::fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
        real.extend(rest.iter().rev());
        real
    }
}

/// Top-level folders the sandbox makes fresh instead of binding.
const FRESH: [&str; 3] = ["dev", "proc", "tmp"];

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The `bwrap` command line that runs `view` (the program first).
pub fn argv(program: &Path, view: &PodView, fs: &dyn HostFs) -> Vec<String> {
    let mut a: Vec<String> = vec![s(program)];
    let push = |a: &mut Vec<String>, items: &[&str]| a.extend(items.iter().map(|x| x.to_string()));
    // The step is PID 1 of its namespace, as a container's command is in its pod; this also
    // keeps its resource usage reaching `wait4` (a reaper of bubblewrap's would keep it).
    push(
        &mut a,
        &["--unshare-all", "--as-pid-1", "--die-with-parent"],
    );
    if view.network {
        push(&mut a, &["--share-net"]);
    }
    // Mount points with the links on their way followed (bubblewrap would follow an absolute
    // link out of the new root); those that do not exist here get their folders rebuilt.
    let targets: Vec<PathBuf> = view
        .read_only
        .iter()
        .chain(&view.read_write)
        .map(|(_, pod)| {
            let pod = Path::new(pod);
            if under_fresh(pod) {
                pod.to_path_buf()
            } else {
                fs.resolve(pod)
            }
        })
        .collect();
    let missing: Vec<PathBuf> = targets
        .iter()
        .filter(|p| !under_fresh(p) && !fs.exists(p))
        .cloned()
        .collect();
    let mut rebuilt = Vec::new();
    let roots = rebuild_roots(&missing, fs);
    if roots.iter().any(|r| r == Path::new("/")) {
        // A mount point in a top-level folder that does not exist: the root is rebuilt.
        rebuild(&mut a, Path::new("/"), &missing, fs, &mut rebuilt);
    } else {
        push(&mut a, &["--ro-bind", "/", "/"]);
        for root in &roots {
            rebuild(&mut a, root, &missing, fs, &mut rebuilt);
        }
    }
    push(
        &mut a,
        &["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"],
    );
    let w = s(&view.workdir);
    push(&mut a, &["--ro-bind", &w, &w]);
    let n = view.read_only.len();
    for ((host, _), target) in view.read_only.iter().zip(&targets) {
        push(&mut a, &["--ro-bind", &s(host), &s(target)]);
    }
    for ((host, _), target) in view.read_write.iter().zip(&targets[n..]) {
        push(&mut a, &["--bind", &s(host), &s(target)]);
    }
    if let Some(out) = &view.outputs {
        push(&mut a, &["--bind", &s(out), OUTPUTS]);
    }
    // Read-only again once every mount point is made, innermost first.
    for dir in rebuilt.iter().rev() {
        push(&mut a, &["--remount-ro", &s(dir)]);
    }
    push(&mut a, &["--remount-ro", "/", "--chdir", &w, "--"]);
    a.extend(view.argv.iter().cloned());
    a
}

/// The folders to rebuild for `missing` mount points: the deepest existing folder on the way
/// to each, leaving out those inside another, sorted.
fn rebuild_roots(missing: &[PathBuf], fs: &dyn HostFs) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = missing
        .iter()
        .map(|m| {
            let mut dir = m.parent().unwrap_or(Path::new("/"));
            while dir != Path::new("/") && !fs.exists(dir) {
                dir = dir.parent().unwrap_or(Path::new("/"));
            }
            dir.to_path_buf()
        })
        .collect();
    roots.sort();
    roots.dedup();
    let all = roots.clone();
    roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
    roots
}

/// Whether `p` lies in a folder the sandbox makes fresh (where mount points can be made).
fn under_fresh(p: &Path) -> bool {
    let mut c = p.components().skip(1);
    c.next()
        .is_some_and(|first| FRESH.iter().any(|f| first.as_os_str() == *f))
}

/// Binds the entries of `dir` (a folder of this machine, recreated on a tmpfs), each whole,
/// except a folder on the way to a `missing` mount point, which is rebuilt the same way (and
/// listed in `rebuilt`, outermost first).
fn rebuild(
    a: &mut Vec<String>,
    dir: &Path,
    missing: &[PathBuf],
    fs: &dyn HostFs,
    rebuilt: &mut Vec<PathBuf>,
) {
    let top = dir == Path::new("/");
    if !top {
        a.extend(["--tmpfs".to_string(), s(dir)]);
        rebuilt.push(dir.to_path_buf());
    }
    for (name, kind) in fs.entries(dir) {
        if top && FRESH.contains(&name.as_str()) {
            continue;
        }
        let path = dir.join(&name);
        let on_the_way = missing.iter().any(|m| m.starts_with(&path) && *m != path);
        match kind {
            Kind::Link(target) => a.extend(["--symlink".to_string(), target, s(&path)]),
            Kind::Dir if on_the_way => rebuild(a, &path, missing, fs, rebuilt),
            _ => a.extend(["--ro-bind".to_string(), s(&path), s(&path)]),
        }
    }
}

/// The `bwrap` program, when it can create the sandbox's namespaces here; else why not.
pub fn probe() -> Result<PathBuf, String> {
    let program = find_on_path("bwrap").ok_or("`bwrap` is not installed")?;
    let out = std::process::Command::new(&program)
        .args(["--unshare-all", "--as-pid-1", "--die-with-parent"])
        .args(["--ro-bind", "/", "/"])
        .args(["--dev", "/dev", "--proc", "/proc", "true"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("`bwrap` cannot start: {e}"))?;
    if out.status.success() {
        Ok(program)
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "`bwrap` cannot create namespaces: {}",
            err.trim().lines().next().unwrap_or("no reason given")
        ))
    }
}

/// Checks that the sandbox will find the step's program, so that a missing one is said as
/// plainly as for a host process (bubblewrap would only say `execvp` failed): a name is looked
/// up on the sandbox's `PATH`, a path in the project folder. A path into the pod's own folders
/// (`/tmp/flowc/...`, `/dev`, `/proc`) is left to the step.
pub fn find_program(view: &PodView) -> Result<(), String> {
    let Some(program) = view.argv.first() else {
        return Ok(());
    };
    let path_var = view
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map_or(super::POD_PATH, |(_, v)| v.as_str());
    let found = if program.contains('/') {
        let p = view.workdir.join(program);
        let pods_own =
            p.starts_with("/tmp/flowc") || p.starts_with("/dev") || p.starts_with("/proc");
        pods_own || p.exists()
    } else {
        std::env::split_paths(path_var).any(|d| d.join(program).is_file())
    };
    if found {
        Ok(())
    } else {
        Err(format!(
            "command `{program}` not found in the sandbox (is it installed, on the sandbox's \
             PATH `{path_var}`? `--pass-env PATH` passes this one)"
        ))
    }
}

/// `program` on `PATH`, if it is there.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(program: &str) -> PodView {
        PodView {
            argv: vec![program.to_string()],
            workdir: std::env::temp_dir(),
            ..PodView::default()
        }
    }

    #[test]
    fn a_program_is_looked_up_on_the_sandbox_path_or_in_the_project() {
        assert!(find_program(&view("sh")).is_ok());
        assert!(find_program(&view("/tmp/flowc/inputs/script")).is_ok());
        let missing = find_program(&view("no-such-tool-flowc")).unwrap_err();
        assert!(
            missing.contains("command `no-such-tool-flowc` not found in the sandbox")
                && missing.contains("--pass-env PATH"),
            "{missing}"
        );
        assert!(find_program(&view("./no-such-script-flowc.sh")).is_err());
    }

    #[test]
    fn the_folders_to_rebuild_are_the_deepest_existing_ones_outermost_kept() {
        struct Exists(Vec<&'static str>);
        impl HostFs for Exists {
            fn entries(&self, _: &Path) -> Vec<(String, Kind)> {
                Vec::new()
            }
            fn exists(&self, path: &Path) -> bool {
                self.0.iter().any(|e| Path::new(e) == path)
            }
        }
        let fs = Exists(vec!["/etc", "/etc/security", "/run"]);
        let missing = [
            PathBuf::from("/etc/security/keytabs/a.keytab"),
            PathBuf::from("/etc/krb5/b.conf"),
            PathBuf::from("/run/secrets/c"),
        ];
        assert_eq!(
            rebuild_roots(&missing, &fs),
            [PathBuf::from("/etc"), PathBuf::from("/run")]
        );
        let nowhere = [PathBuf::from("/opt/keys/k")];
        assert_eq!(rebuild_roots(&nowhere, &fs), [PathBuf::from("/")]);
    }
}
