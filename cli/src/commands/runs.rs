//! `flowc runs`: list past runs in a store (a folder, or object storage as
//! `s3://BUCKET/PREFIX`), or show one.

use flowc_runtime::runs::RunInfo;
use flowc_runtime::store::s3::{S3Url, S3};

use crate::args::RunsArgs;
use crate::EXIT_OK;

/// Runs `flowc runs`.
pub fn run(args: &RunsArgs) -> u8 {
    let store = args.store.to_string_lossy().into_owned();
    let shown = if S3Url::is_url(&store) {
        S3::connect(&store)
            .and_then(|c| c.probe().map(|()| c))
            .and_then(|c| match &args.run {
                None => flowc_runtime::runs::list_remote(&c).map(|r| print_list(&r, &store)),
                Some(id) => flowc_runtime::runs::show_remote(&c, id)
                    .map(|r| print_one(r, &c.url_of(&format!("runs/{id}/records.jsonl")))),
            })
    } else {
        match &args.run {
            None => flowc_runtime::runs::list(&args.store).map(|r| print_list(&r, &store)),
            Some(id) => flowc_runtime::runs::show(&args.store, id).map(|r| {
                let records = args.store.join("runs").join(id).join("records.jsonl");
                print_one(r, &records.display().to_string())
            }),
        }
    };
    match shown {
        Ok(()) => EXIT_OK,
        Err(e) => super::fail(e),
    }
}

fn print_list(runs: &[RunInfo], store: &str) {
    if runs.is_empty() {
        println!("no runs in `{store}`");
        return;
    }
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
}

fn print_one(r: RunInfo, records: &str) {
    println!(
        "run {} of `{}`: {} (started {})",
        r.run_id, r.pipeline, r.status, r.started
    );
    match r.summary {
        Some(s) => println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default()),
        None => println!("the run did not finish (killed?): its completed steps are in the cache"),
    }
    println!("records: {records}");
}
