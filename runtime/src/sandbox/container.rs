//! The Docker and Podman engines' command line: `docker run` (or `podman run`) of the step's
//! declared image with the pod's mounts, environment and limits.
//!
//! The same [`PodView`] as the sandbox: inputs and secrets bound read-only at the pod's paths,
//! the output folder writable at `/tmp/flowc/outputs`, the project folder read-only at its own
//! path and the working folder, the network off with `--network none`. Environment variables
//! are passed by name (`--env NAME`): the engine takes their values from its own environment,
//! which the caller sets, so no secret value is on the command line. Memory: the limit is
//! `--memory` (the kernel kills above it, as in a pod), the request `--memory-reservation`;
//! the CPU limit is `--cpus`. The step runs as this user, so its outputs are this user's, and
//! its command is PID 1 of the container, as in a pod (no `--init`).

use super::{PodView, OUTPUTS};

/// A container engine's command line for `view`: `engine` is `docker` or `podman`, and `user`
/// the `uid:gid` the step runs as.
pub fn argv(engine: &str, view: &PodView, user: &str) -> Vec<String> {
    let mut a: Vec<String> = [engine, "run", "--rm", "--user", user]
        .iter()
        .map(|x| x.to_string())
        .collect();
    if !view.network {
        a.extend(["--network".into(), "none".into()]);
    }
    if let Some(b) = view.memory_limit_bytes {
        a.extend(["--memory".into(), format!("{b}b")]);
    }
    if let Some(b) = view.memory_request_bytes {
        a.extend(["--memory-reservation".into(), format!("{b}b")]);
    }
    if let Some(m) = view.cpu_limit_millis {
        a.extend(["--cpus".into(), format!("{}.{:03}", m / 1000, m % 1000)]);
    }
    a.extend(["--tmpfs".into(), "/tmp".into()]);
    let w = view.workdir.to_string_lossy().into_owned();
    a.push("--mount".into());
    a.push(format!("type=bind,src={w},dst={w},readonly"));
    for (host, pod) in &view.read_only {
        a.push("--mount".into());
        a.push(format!(
            "type=bind,src={},dst={pod},readonly",
            host.to_string_lossy()
        ));
    }
    for (host, pod) in &view.read_write {
        a.push("--mount".into());
        a.push(format!(
            "type=bind,src={},dst={pod}",
            host.to_string_lossy()
        ));
    }
    if let Some(out) = &view.outputs {
        a.push("--mount".into());
        a.push(format!(
            "type=bind,src={},dst={OUTPUTS}",
            out.to_string_lossy()
        ));
    }
    a.extend(["--workdir".into(), w]);
    for name in view.env_names() {
        a.extend(["--env".into(), name.to_string()]);
    }
    a.push(view.image.clone());
    a.extend(view.argv.iter().cloned());
    a
}
