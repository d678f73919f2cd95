//! `flowc runs`: list past runs in a store, or show one.

use crate::args::RunsArgs;
use crate::EXIT_OK;

/// Runs `flowc runs`.
pub fn run(args: &RunsArgs) -> u8 {
    if args.store.to_string_lossy().starts_with("s3://") {
        return super::fail(format!(
            "`flowc runs` reads a store folder, not `{}`: the runs of this machine are in \
             `.flow/remote/<hash>/` beside the pipeline (pass that folder), and every run's \
             folder is under `runs/` in the bucket (docs/storage.md)",
            args.store.display()
        ));
    }
    match &args.run {
        None => match flowc_runtime::runs::list(&args.store) {
            Ok(runs) if runs.is_empty() => {
                println!("no runs in `{}`", args.store.display());
                EXIT_OK
            }
            Ok(runs) => {
                println!(
                    "{:<24}  {:<24}  {:<12}  started",
                    "run", "pipeline", "status"
                );
                for r in runs {
                    println!(
                        "{:<24}  {:<24}  {:<12}  {}",
                        r.run_id, r.pipeline, r.status, r.started
                    );
                }
                EXIT_OK
            }
            Err(e) => super::fail(e),
        },
        Some(id) => {
            match flowc_runtime::runs::show(&args.store, id) {
                Ok(r) => {
                    println!(
                        "run {} of `{}`: {} (started {})",
                        r.run_id, r.pipeline, r.status, r.started
                    );
                    if let Some(s) = r.summary {
                        println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
                    } else {
                        println!("the run did not finish (killed?): its completed steps are in the cache");
                    }
                    println!(
                        "records: {}",
                        args.store
                            .join("runs")
                            .join(id)
                            .join("records.jsonl")
                            .display()
                    );
                    EXIT_OK
                }
                Err(e) => super::fail(e),
            }
        }
    }
}
