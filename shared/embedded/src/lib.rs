//! Embedded adapters for the ports: a single redb database file for the table
//! store and the queues, and plain files for the blobs. Used by the local runner
//! (one process owns a data dir) and by tests.

mod blob;
mod language_model;
mod queue;
mod table;
mod vectors;

pub use blob::FsBlobStore;
pub use language_model::TemplateLanguageModel;
pub use queue::{DEAD_LETTER_REASON_ATTR, DEAD_LETTER_SOURCE_ATTR, DEFAULT_MAX_RECEIVES, QueuedMessage, RedbQueue};
pub use table::RedbTableStore;
pub use vectors::RedbVectorStore;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of the database inside the data dir.
pub const DB_FILE_NAME: &str = "personalize.redb";

/// Failures opening the embedded database.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("the data dir is in use by another personalize process ({0} is locked)")]
    InUse(PathBuf),
    #[error("cannot prepare the data dir {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {message}")]
    Database { path: PathBuf, message: String },
}

/// The database file of a data dir, opened for exclusive use by this process.
pub struct EmbeddedDb {
    db: redb::Database,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedDb").field("path", &self.path).finish_non_exhaustive()
    }
}

impl EmbeddedDb {
    /// Opens (or creates) `dir/personalize.redb`, creating `dir` when needed.
    ///
    /// redb locks the file for the lifetime of the handle; a second open, from
    /// this or another process, fails with [`EmbeddedError::InUse`].
    /// This is blocking I/O: call it at start-up or from `spawn_blocking`.
    pub fn open(dir: &Path) -> Result<Arc<Self>, EmbeddedError> {
        std::fs::create_dir_all(dir).map_err(|source| EmbeddedError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join(DB_FILE_NAME);
        let db = redb::Database::create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => EmbeddedError::InUse(path.clone()),
            other => EmbeddedError::Database { path: path.clone(), message: other.to_string() },
        })?;
        let this = Self { db, path };
        this.create_tables()
            .map_err(|e| EmbeddedError::Database { path: this.path.clone(), message: e.to_string() })?;
        Ok(Arc::new(this))
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn redb(&self) -> &redb::Database {
        &self.db
    }

    /// Creates every table up front so read transactions never meet a missing one.
    fn create_tables(&self) -> Result<(), redb::Error> {
        let txn = self.db.begin_write()?;
        {
            txn.open_table(table::ITEMS)?;
            txn.open_table(queue::MESSAGES)?;
            txn.open_table(queue::META)?;
            txn.open_table(vectors::VECTORS)?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// Whether a redb failure is worth retrying (I/O trouble) rather than permanent
/// (corruption, oversized values, programming errors).
pub(crate) fn redb_is_transient(e: &redb::Error) -> bool {
    matches!(
        e,
        redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed | redb::Error::LockPoisoned(_)
    )
}

/// Current time, epoch milliseconds.
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testutil {
    use std::path::{Path, PathBuf};

    /// A scratch directory removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("embedded-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).expect("create temp dir");
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_is_refused_with_a_clear_error() {
        let dir = testutil::TempDir::new();
        let first = EmbeddedDb::open(dir.path()).expect("first open");
        let err = EmbeddedDb::open(dir.path()).expect_err("second open must fail");
        assert!(matches!(err, EmbeddedError::InUse(_)), "{err:?}");
        assert!(err.to_string().contains("in use by another personalize process"));
        drop(first);
        EmbeddedDb::open(dir.path()).expect("open after close");
    }
}
