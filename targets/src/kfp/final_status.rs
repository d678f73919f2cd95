//! `run.status` on Kubeflow: KFP gives an exit task how the exit handler's body ended only as a
//! `PipelineTaskFinalStatus`, an input of type `TASK_FINAL_STATUS` wired with `taskFinalStatus:
//! {producerTask: exit-handler-N}` (as the kfp SDK compiles a component taking one). The
//! container receives it as JSON (`{"state": "SUCCEEDED", ...}`), so flowc runs the step's
//! command through a small POSIX `sh` adapter that reads the JSON's `state` and passes
//! `succeeded` (state `SUCCEEDED`) or `failed` (anything else) where the step reads the value:
//! the semantics of Argo's `workflow.status` and of the local runner.

use crate::diagnostics::{self, Unwired};

use super::tree::{Leaf, Src};
use super::types::{Def, KType};
use super::Emitter;
use flowc_compiler::plan::{Part, Task, TaskKind};

/// The KFP parameter type of a task's final status.
const TASK_FINAL_STATUS: &str = "TASK_FINAL_STATUS";

/// What the step's command carries where it reads the status; the adapter replaces it. No
/// character of it is special to `sh` patterns or to the kubelet.
pub(super) const MARKER: &str = "@flowc-run-status@";

/// The adapter, run as `sh -c ADAPTER STATUS-JSON COMMAND...`: `$0` is the status as KFP writes
/// it (compact JSON, possibly with a space after each colon), every argument of the command has
/// each [`MARKER`] replaced by the status word, and the command then replaces the shell. No
/// `$$` and no `$(`, which the kubelet would expand.
const ADAPTER: &str = "s=failed
case \"$0\" in *'\"state\":\"SUCCEEDED\"'*|*'\"state\": \"SUCCEEDED\"'*) s=succeeded ;; esac
for a do
  shift
  r=
  while :; do
    case \"$a\" in
      *@flowc-run-status@*) r=$r${a%%@flowc-run-status@*}$s; a=${a#*@flowc-run-status@} ;;
      *) break ;;
    esac
  done
  set -- \"$@\" \"$r$a\"
done
exec \"$@\"
";

/// The command line of a container reading the final status from input `input`: the adapter,
/// then `argv` (whose reads of the status are [`MARKER`]s).
pub(super) fn adapt(input: &str, argv: Vec<String>) -> Vec<String> {
    let mut out = vec![
        "sh".to_string(),
        "-c".into(),
        ADAPTER.into(),
        format!("{{{{$.inputs.parameters['{input}']}}}}"),
    ];
    out.extend(argv);
    out
}

impl Emitter<'_> {
    /// Wires input `name` of leaf `l` (task `task`, a `finally` call) to the final status of
    /// the exit handler's body. Only a container step called by `finally` in the entry
    /// pipeline can read it, as on Argo: elsewhere the status would be that of a pipeline
    /// called as a step, not of the run.
    pub(super) fn wire_final_status(
        &mut self,
        g: usize,
        l: usize,
        task: &Task,
        name: &str,
    ) -> Result<(), Unwired> {
        if !self.graphs[g].entry {
            return Err(Unwired::RunStatus(
                "the status KFP gives the `finally` call of a pipeline called as a step is \
                 that pipeline's, not the run's",
            ));
        }
        let container = matches!(task.kind, TaskKind::Container { .. });
        if !container || !self.graphs[g].leaves[l].finally {
            return Err(Unwired::RunStatus(
                "only a container step called by `finally` can read the status KFP gives an \
                 exit task",
            ));
        }
        let body = self.graphs[g].body;
        let producer = self.graphs[g].nodes[body].key.clone();
        let leaf = &mut self.graphs[g].leaves[l];
        leaf.inputs
            .insert(name.to_string(), Src::FinalStatus { producer });
        leaf.defs.insert(
            name.to_string(),
            Def {
                ty: KType::Param(TASK_FINAL_STATUS),
                optional: true,
                default: None,
            },
        );
        leaf.final_status.insert(name.to_string());
        Ok(())
    }

    /// Reports a variable of the step reading the status: the adapter changes the command's
    /// arguments only.
    pub(super) fn final_status_in_env(
        &self,
        g: usize,
        leaf: &Leaf,
        task: &Task,
        env: &[(String, Vec<Part>)],
    ) {
        let reads = |parts: &Vec<Part>| {
            parts
                .iter()
                .any(|p| matches!(p, Part::Param { name } if leaf.final_status.contains(name)))
        };
        if env.iter().any(|(_, parts)| reads(parts)) {
            self.report(diagnostics::kfp_unwired_value(
                self.place(Some(g), &task.id),
                Unwired::RunStatus(
                    "KFP gives the status to the step's command, not to its environment \
                     variables",
                ),
            ));
        }
    }
}
