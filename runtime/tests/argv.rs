//! The exact command lines the engines run (docs/running.md): `bwrap` for the sandbox, and
//! `docker run` / `podman run`, from one pod view of a step, as reviewed snapshots. The
//! container engines are not exercised on the machines flowc is built on (none works there),
//! so these command lines are what is checked of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flowc_runtime::sandbox::bwrap::{self, HostFs, Kind};
use flowc_runtime::sandbox::{container, PodView};

/// A small machine: a merged `/usr`, an `/etc` with a `security` folder without `keytabs`, and
/// `/var/run` a link to `/run`.
struct FakeFs(BTreeMap<&'static str, Vec<(&'static str, Kind)>>);

impl FakeFs {
    fn new() -> FakeFs {
        let link = |t: &str| Kind::Link(t.to_string());
        let mut m = BTreeMap::new();
        m.insert(
            "/",
            vec![
                ("bin", link("usr/bin")),
                ("dev", Kind::Dir),
                ("etc", Kind::Dir),
                ("home", Kind::Dir),
                ("lib", link("usr/lib")),
                ("proc", Kind::Dir),
                ("run", Kind::Dir),
                ("srv", Kind::Dir),
                ("tmp", Kind::Dir),
                ("usr", Kind::Dir),
                ("var", Kind::Dir),
            ],
        );
        m.insert("/run", vec![("lock", Kind::Dir)]);
        m.insert("/var", vec![("lib", Kind::Dir), ("run", link("/run"))]);
        m.insert(
            "/etc",
            vec![
                ("hosts", Kind::Other),
                ("passwd", Kind::Other),
                ("security", Kind::Dir),
                ("ssl", Kind::Dir),
            ],
        );
        m.insert("/etc/security", vec![("limits.conf", Kind::Other)]);
        FakeFs(m)
    }
}

impl HostFs for FakeFs {
    fn entries(&self, dir: &Path) -> Vec<(String, Kind)> {
        let key = dir.to_string_lossy();
        self.0
            .get(key.as_ref())
            .map(|v| v.iter().map(|(n, k)| (n.to_string(), k.clone())).collect())
            .unwrap_or_default()
    }
    fn exists(&self, path: &Path) -> bool {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return true;
        };
        self.entries(parent)
            .iter()
            .any(|(n, _)| n.as_str() == name.to_string_lossy())
    }
    fn resolve(&self, path: &Path) -> PathBuf {
        match path.strip_prefix("/var/run") {
            Ok(rest) => Path::new("/run").join(rest),
            Err(_) => path.to_path_buf(),
        }
    }
}

/// A step with a file input, a list input, outputs, a secret file, a secret variable and a
/// declared variable, limits, and the network off.
fn view() -> PodView {
    PodView {
        image: "ghcr.io/acme/hadoop-client:3.3".into(),
        argv: vec![
            "sh".into(),
            "-c".into(),
            "kinit -kt /etc/security/keytabs/hdfs.keytab panel && hdfs dfs -get $0 $1".into(),
            "/tmp/flowc/inputs/manifest".into(),
            "/tmp/flowc/outputs/table".into(),
        ],
        env: vec![
            ("PATH".into(), flowc_runtime::sandbox::POD_PATH.into()),
            ("HOME".into(), "/tmp".into()),
            ("HADOOP_CONF_DIR".into(), "/etc/hadoop/conf".into()),
            ("FLOWC_RUN_ID".into(), "20261206T120000.000Z-abcd".into()),
            ("FLOWC_TASK".into(), "fetch".into()),
            (
                "DB_PASSWORD".into(),
                "a secret value, never on a command line".into(),
            ),
        ],
        read_write: Vec::new(),
        read_only: vec![
            (
                PathBuf::from("/srv/project/.flow/objects/ab/cdef"),
                "/tmp/flowc/inputs/manifest".into(),
            ),
            (
                PathBuf::from("/srv/project/.flow/objects/01/2345"),
                "/tmp/flowc/inputs/parts/00000".into(),
            ),
            (
                PathBuf::from("/srv/project/.flow/objects/67/89ab"),
                "/tmp/flowc/inputs/parts/00001".into(),
            ),
            (
                PathBuf::from("/srv/secrets/hdfs.keytab"),
                "/etc/security/keytabs/hdfs.keytab".into(),
            ),
            (PathBuf::from("/srv/secrets/hosts"), "/etc/hosts".into()),
            (
                PathBuf::from("/srv/secrets/token"),
                "/var/run/secrets/api/token".into(),
            ),
        ],
        outputs: Some(PathBuf::from("/srv/project/.flow/tmp/run/p.fetch.1")),
        workdir: PathBuf::from("/srv/project"),
        network: false,
        cpu_limit_millis: Some(1500),
        memory_request_bytes: Some(512 << 20),
        memory_limit_bytes: Some(1 << 30),
    }
}

/// One argument a line, so a snapshot reads as the command line does.
fn lines(argv: &[String]) -> String {
    argv.join("\n")
}

#[test]
fn bwrap_argv_rebuilds_the_folders_on_the_way_to_a_missing_mount_point() {
    let argv = bwrap::argv(Path::new("/usr/bin/bwrap"), &view(), &FakeFs::new());
    insta::assert_snapshot!("bwrap_offline", lines(&argv));
}

#[test]
fn bwrap_argv_rebuilds_the_root_for_a_mount_point_in_a_missing_top_level_folder() {
    let mut v = view();
    v.read_only = vec![(PathBuf::from("/srv/secrets/key"), "/opt/keys/key".into())];
    let argv = bwrap::argv(Path::new("/usr/bin/bwrap"), &v, &FakeFs::new());
    insta::assert_snapshot!("bwrap_root_rebuilt", lines(&argv));
}

#[test]
fn bwrap_argv_with_the_network_and_nothing_to_rebuild() {
    let mut v = view();
    v.network = true;
    v.read_only.retain(|(_, pod)| pod.starts_with("/tmp/"));
    v.outputs = None;
    let argv = bwrap::argv(Path::new("/usr/bin/bwrap"), &v, &FakeFs::new());
    insta::assert_snapshot!("bwrap_online", lines(&argv));
}

#[test]
fn docker_argv_has_the_same_mounts_variables_by_name_and_the_limits() {
    let argv = container::argv("docker", &view(), "1000:1000");
    insta::assert_snapshot!("docker", lines(&argv));
    assert!(
        !argv.iter().any(|a| a.contains("a secret value")),
        "variables are passed by name"
    );
}

#[test]
fn podman_argv_with_the_network_and_no_limits() {
    let mut v = view();
    v.network = true;
    v.cpu_limit_millis = None;
    v.memory_request_bytes = None;
    v.memory_limit_bytes = None;
    let argv = container::argv("podman", &v, "1000:1000");
    insta::assert_snapshot!("podman", lines(&argv));
}
