//! In-memory hand-off of tables between the built-in steps of one process.
//!
//! Every table a built-in step writes is a Parquet file, moved into the store by the runner
//! (a rename: the file keeps its identity) and read back by the steps that take it as input.
//! When those steps run in the same process, decoding the file again is wasted work: the
//! writer remembers the table it wrote ([`remember`]), keyed by the file's identity (device,
//! inode, size, modification time) and its last bytes (the Parquet footer: row counts, column
//! statistics and offsets), and a reader of a file with the same identity and footer takes the
//! remembered table instead ([`recall`]), whose columns are shared, not copied.
//!
//! The file is still written, complete, before the step ends (the store, the cache and a run
//! killed at any moment depend on it), so a recalled table is exactly the file's content: the
//! Parquet round trip is lossless for flowc's column types, and readers lay out both the same
//! way (one chunk per column, [`canonical`]). Only the most recent few tables are kept
//! ([`KEEP`], [`KEEP_BYTES`]), so memory stays bounded in long pipelines.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use polars::prelude::DataFrame;

/// The most tables remembered at once.
const KEEP: usize = 4;

/// The most bytes (polars' estimate, shared buffers counted once per table) remembered at once.
const KEEP_BYTES: usize = 4 << 30;

/// Bytes from the end of a file compared on recall: the Parquet footer of a table with a few
/// columns and row groups fits, and a longer one's last bytes still hold its end.
const TAIL: u64 = 16 << 10;

/// Which file a table was written to.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
    tail: Vec<u8>,
}

struct Remembered {
    id: FileId,
    table: DataFrame,
    bytes: usize,
}

/// The tables remembered, oldest first.
#[derive(Default)]
struct Recent {
    tables: Mutex<VecDeque<Remembered>>,
}

static RECENT: Recent = Recent {
    tables: Mutex::new(VecDeque::new()),
};

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let mut f = File::open(path).ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let from = meta.len().saturating_sub(TAIL);
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut tail = Vec::with_capacity((meta.len() - from) as usize);
    f.read_to_end(&mut tail).ok()?;
    Some(FileId {
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.len(),
        modified: meta.modified().ok(),
        tail,
    })
}

/// Elsewhere files have no inode to tell them apart: nothing is remembered.
#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<FileId> {
    None
}

/// The layout every table read by a step has, whether decoded or recalled: one chunk per
/// column, so that anything computed from it (a float sum adds chunk by chunk) is the same.
pub fn canonical(mut table: DataFrame) -> DataFrame {
    if table.columns().iter().any(|c| c.n_chunks() > 1) {
        table.rechunk_mut();
    }
    table
}

/// Remembers `table` as the content of the file just written at `path`.
pub fn remember(path: &Path, table: &DataFrame) {
    RECENT.remember(path, table);
}

/// The table remembered as the content of the file at `path`, if it is still that file.
pub fn recall(path: &Path) -> Option<DataFrame> {
    RECENT.recall(path)
}

/// Whether the file at `path` was written by this process from a table with `table`'s
/// columns, types and order and its number of rows: `table` read from the file (and conformed
/// to a declared schema without a change), so that encoding it would give the file's bytes.
pub fn written_as(path: &Path, table: &DataFrame) -> bool {
    recall(path).is_some_and(|t| t.height() == table.height() && t.schema() == table.schema())
}

impl Recent {
    fn remember(&self, path: &Path, table: &DataFrame) {
        let Some(id) = file_id(path) else {
            return;
        };
        let table = canonical(table.clone());
        let bytes = table.estimated_size();
        if bytes > KEEP_BYTES {
            return;
        }
        let Ok(mut recent) = self.tables.lock() else {
            return;
        };
        recent.retain(|r| r.id != id);
        recent.push_back(Remembered { id, table, bytes });
        while recent.len() > KEEP || recent.iter().map(|r| r.bytes).sum::<usize>() > KEEP_BYTES {
            recent.pop_front();
        }
    }

    fn recall(&self, path: &Path) -> Option<DataFrame> {
        if self.tables.lock().ok()?.is_empty() {
            return None;
        }
        let id = file_id(path)?;
        let recent = self.tables.lock().ok()?;
        recent.iter().find(|r| r.id == id).map(|r| r.table.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn table(n: i64) -> DataFrame {
        let ids: Vec<i64> = (0..n).collect();
        let xs: Vec<f64> = ids.iter().map(|&i| i as f64 / 3.0).collect();
        let len = ids.len();
        let columns = vec![Column::new("id".into(), ids), Column::new("x".into(), xs)];
        DataFrame::new(len, columns).expect("a table")
    }

    fn written(recent: &Recent, t: &DataFrame, path: &Path) {
        crate::files::write_parquet(t, path).expect("written");
        recent.remember(path, t);
    }

    #[test]
    fn a_written_file_recalls_its_table_and_another_file_does_not() {
        let recent = Recent::default();
        let dir = tempfile::tempdir().expect("a folder");
        let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
        written(&recent, &table(10), &a);
        std::fs::copy(&a, &b).expect("copied");
        assert_eq!(recent.recall(&a), Some(table(10)));
        // A copy has the same bytes but is another file, never written by a step.
        assert_eq!(recent.recall(&b), None);
        // Moved (as the runner moves outputs into the store): still the same file.
        let moved = dir.path().join("moved.parquet");
        std::fs::rename(&a, &moved).expect("renamed");
        assert_eq!(recent.recall(&moved), Some(table(10)));
    }

    #[test]
    fn a_file_changed_in_place_is_not_recalled() {
        let recent = Recent::default();
        let dir = tempfile::tempdir().expect("a folder");
        let a = dir.path().join("a.parquet");
        written(&recent, &table(20), &a);
        // Same inode and size, maybe the same modification time (a coarse clock): one byte of
        // the footer differs.
        let mut bytes = std::fs::read(&a).expect("read");
        let at = bytes.len() - 12;
        bytes[at] ^= 1;
        std::fs::write(&a, &bytes).expect("overwritten");
        assert_eq!(recent.recall(&a), None);
    }

    #[test]
    fn only_the_newest_tables_are_kept() {
        let recent = Recent::default();
        let dir = tempfile::tempdir().expect("a folder");
        let paths: Vec<_> = (0..=KEEP)
            .map(|i| dir.path().join(format!("{i}.parquet")))
            .collect();
        for (i, p) in paths.iter().enumerate() {
            written(&recent, &table(i as i64 + 1), p);
        }
        assert_eq!(recent.recall(&paths[0]), None);
        assert_eq!(recent.recall(&paths[KEEP]), Some(table(KEEP as i64 + 1)));
    }

    #[test]
    fn a_recalled_table_has_one_chunk_per_column() {
        let mut two = table(3);
        two.vstack_mut(&table(3)).expect("stacked");
        assert!(two.columns().iter().all(|c| c.n_chunks() == 2));
        assert!(canonical(two).columns().iter().all(|c| c.n_chunks() == 1));
    }
}
