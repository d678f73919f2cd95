//! The Kubernetes platform spec of an executor (`platforms.kubernetes.deploymentSpec`):
//! secrets as environment variables and as files, node selectors, tolerations and the
//! timeout become step properties; what flowc has no property for is a note and a warning.

use crate::names::{self, Names};
use crate::problem::Code;
use crate::step::Step;
use crate::yaml::Node;
use crate::Ctx;

/// The secrets the steps use, declared once each.
#[derive(Debug, Default)]
pub struct Secrets {
    /// (`.flow` name, Kubernetes Secret name, key), in order of first use.
    pub list: Vec<(String, String, String)>,
}

impl Secrets {
    /// The `.flow` name of key `key` of Secret `secret`, declared on first use.
    pub fn name(&mut self, decls: &mut Names, secret: &str, key: &str) -> String {
        if let Some((n, _, _)) = self.list.iter().find(|(_, s, k)| s == secret && k == key) {
            return n.clone();
        }
        let n = decls.unique(&format!("{secret}_{key}"));
        self.list.push((n.clone(), secret.into(), key.into()));
        n
    }

    /// The declarations, one line each.
    pub fn write(&self) -> String {
        self.list
            .iter()
            .map(|(n, s, k)| {
                format!(
                    "secret {n} = k8s({}, key: {})\n",
                    names::string(s),
                    names::string(k)
                )
            })
            .collect()
    }
}

/// Applies the platform spec `p` of one executor to `step`.
pub fn apply(ctx: &mut Ctx, p: &Node, step: &mut Step, secrets: &mut Secrets, decls: &mut Names) {
    for (k, v) in p.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        match key {
            "secretAsEnv" => {
                for s in v.as_seq().unwrap_or_default() {
                    let secret = s.str_of("secretName").unwrap_or_default();
                    for e in s.get("keyToEnv").and_then(Node::as_seq).unwrap_or_default() {
                        let (Some(var), Some(sk)) = (e.str_of("envVar"), e.str_of("secretKey"))
                        else {
                            continue;
                        };
                        let n = secrets.name(decls, secret, sk);
                        step.props.push(format!("env {var} = {n}"));
                    }
                }
            }
            "secretAsVolume" => {
                for s in v.as_seq().unwrap_or_default() {
                    let secret = s.str_of("secretName").unwrap_or_default();
                    let dir = s
                        .str_of("mountPath")
                        .unwrap_or_default()
                        .trim_end_matches('/');
                    let n = secrets.name(decls, secret, "KEY");
                    step.props.push(format!("// KFP mounts the whole Secret `{secret}` at {dir}; flowc mounts one key: replace `KEY` by the key the program reads"));
                    step.props.push(format!(
                        "mount {n} at {}",
                        names::string(&format!("{dir}/KEY"))
                    ));
                    ctx.warn(Code::Approximated, s.pos, format!("the Secret `{secret}` mounted at `{dir}` is one key, `KEY`, in flowc (on Kubeflow the whole Secret is still mounted there)"), "replace `KEY` by the key the program reads, in the secret and the mount path");
                }
            }
            "nodeSelector" => {
                let labels = v.get("labels").and_then(Node::as_map).unwrap_or_default();
                let fields: Vec<String> = labels
                    .iter()
                    .map(|(l, val)| {
                        format!(
                            "{}: {}",
                            names::string(l.as_str().unwrap_or_default()),
                            names::string(val.as_str().unwrap_or_default())
                        )
                    })
                    .collect();
                if !fields.is_empty() {
                    step.props
                        .push(format!("node_selector {{ {} }}", fields.join(", ")));
                }
            }
            "tolerations" => {
                for t in v.as_seq().unwrap_or_default() {
                    let fields: Vec<String> = t
                        .as_map()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|(f, val)| {
                            let f = f.as_str()?;
                            let text = val.as_str()?;
                            Some(if f == "tolerationSeconds" {
                                format!("toleration_seconds: {text}")
                            } else {
                                format!("{f}: {}", names::string(text))
                            })
                        })
                        .collect();
                    step.props
                        .push(format!("toleration {{ {} }}", fields.join(", ")));
                }
            }
            "activeDeadlineSeconds" => {
                if let Some(s) = v.as_str().filter(|s| s.chars().all(|c| c.is_ascii_digit())) {
                    step.props.push(format!("timeout {s}s"));
                }
            }
            _ => left_out(ctx, k, step, key),
        }
    }
}

/// A platform setting with no flowc property.
fn left_out(ctx: &mut Ctx, k: &Node, step: &mut Step, key: &str) {
    let why = match key {
        "imagePullSecret" => "flowc has no image pull secrets; give the service account the secret",
        "podMetadata" => "flowc labels pods with the pipeline version only",
        _ => "flowc has no equivalent",
    };
    step.props.push(format!(
        "// left out: the Kubernetes setting `{key}` ({why})"
    ));
    ctx.warn(
        Code::LeftOut,
        k.pos,
        format!(
            "the Kubernetes setting `{key}` of step `{}` is left out: {why}",
            step.name
        ),
        "set it on the cluster, or by hand after building",
    );
}
