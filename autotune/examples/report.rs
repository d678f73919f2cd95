//! Writes the Markdown and HTML reports for a history — what `flowc autotune FILE --history …
//! --report OUT` will do, without the source file's bounds.
//!
//! ```text
//! cargo run -p flowc-autotune --example report -- OUT_DIR HISTORY...
//! ```

use flowc_autotune::{load_history, recommend, report, TunerConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: report OUT_DIR HISTORY...");
        return ExitCode::from(2);
    };
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let history = match load_history(&paths, false) {
        Ok(h) => h,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let recs = recommend(&history, &BTreeMap::new(), &TunerConfig::default());
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| std::fs::write(out.join("autotune.md"), report::markdown(&recs, &history)))
        .and_then(|()| std::fs::write(out.join("autotune.html"), report::html(&recs, &history)));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}
