//! `flowc store verify` and `flowc store gc`, over `flowc_runtime::audit`, on a store folder or
//! on object storage (`--store s3://BUCKET/PREFIX`; docs/reliability.md, docs/storage.md).

use flowc_runtime::audit::{gc, gc_remote, verify, verify_remote, GcPolicy};
use flowc_runtime::store::s3::{S3Url, S3};

use crate::args::{StoreCommand, StoreGcArgs, StoreVerifyArgs};
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Runs `flowc store ...`.
pub fn run(c: &StoreCommand) -> u8 {
    match c {
        StoreCommand::Verify(a) => run_verify(a),
        StoreCommand::Gc(a) => run_gc(a),
    }
}

/// The client of a store on object storage, when `store` is an `s3://` URL.
fn bucket(store: &std::path::Path) -> Option<Result<S3, flowc_runtime::error::RunError>> {
    let text = store.to_str()?;
    S3Url::is_url(text).then(|| S3::connect(text))
}

fn run_verify(a: &StoreVerifyArgs) -> u8 {
    let verified = match bucket(&a.store) {
        Some(client) => client.and_then(|c| verify_remote(&c, a.quarantine)),
        None => verify(&a.store, a.quarantine),
    };
    let report = match verified {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    for p in &report.problems {
        let kind = serde_json::to_value(p.kind).unwrap_or_default();
        let moved = match &p.quarantined {
            Some(to) => format!(" (moved to {to})"),
            None => String::new(),
        };
        println!(
            "{}: {}: {}{moved}",
            kind.as_str().unwrap_or("problem"),
            p.path,
            p.message
        );
    }
    println!(
        "{} objects, {} cache entries, {} runs ({} unfinished) checked: {} problem(s)",
        report.objects,
        report.entries,
        report.runs,
        report.unfinished_runs,
        report.problems.len()
    );
    if report.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERRORS
    }
}

fn run_gc(a: &StoreGcArgs) -> u8 {
    let older_than_ms = match a.older_than.as_deref().map(age_ms).transpose() {
        Ok(v) => v,
        Err(e) => return super::fail(e),
    };
    if a.keep_runs.is_none() && older_than_ms.is_none() {
        eprintln!("error: say what to keep: --keep-runs N, --older-than AGE, or both");
        return EXIT_FAILURE;
    }
    let policy = GcPolicy {
        keep_runs: a.keep_runs,
        older_than_ms,
        now_ms: flowc_runtime::util::now_ms(),
        dry_run: a.dry_run,
    };
    let grace_ms = match age_ms(&a.grace) {
        Ok(v) => v,
        Err(e) => return super::fail(e),
    };
    let collected = match bucket(&a.store) {
        Some(client) => client.and_then(|c| gc_remote(&c, &policy, grace_ms)),
        None => gc(&a.store, &policy),
    };
    match collected {
        Ok(r) => {
            let verb = if a.dry_run { "would remove" } else { "removed" };
            for id in &r.runs_removed {
                println!("{verb} run {id}");
            }
            println!(
                "{verb} {} run(s), {} cache entr(y/ies), {} object(s) ({} bytes), {} temporary item(s)",
                r.runs_removed.len(),
                r.entries_removed,
                r.objects_removed,
                r.bytes_freed,
                r.tmp_removed
            );
            EXIT_OK
        }
        Err(e) => super::fail(e),
    }
}

/// An age such as `30d`, `12h`, `90m` or `45s`, in milliseconds.
fn age_ms(s: &str) -> Result<u64, String> {
    let Some(unit) = s.chars().last() else {
        return Err("an empty age: write a number and d, h, m or s (`30d`)".into());
    };
    let n: u64 = s[..s.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| format!("`{s}` is not an age: write a number and d, h, m or s (`30d`)"))?;
    let ms = match unit {
        'd' => 86_400_000,
        'h' => 3_600_000,
        'm' => 60_000,
        's' => 1_000,
        _ => {
            return Err(format!(
                "`{s}` is not an age: end it with d, h, m or s (`30d`)"
            ))
        }
    };
    Ok(n.saturating_mul(ms))
}

#[cfg(test)]
mod tests {
    use super::age_ms;

    #[test]
    fn ages() {
        assert_eq!(age_ms("30d"), Ok(30 * 86_400_000));
        assert_eq!(age_ms("90m"), Ok(90 * 60_000));
        assert!(age_ms("").is_err() && age_ms("d").is_err() && age_ms("5w").is_err());
        assert!(age_ms("é").is_err());
    }
}
