//! `BlobStore` on the file system: object `a/b/c` is the file `DIR/blobs/a/b/c`.

use async_trait::async_trait;
use bytes::Bytes;
use ports::{BlobError, BlobStore, PresignedPost};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name prefix of the temporary files of in-progress `put`s; refused in keys.
const TMP_PREFIX: &str = ".tmp-put-";

/// Blobs as files under `data_dir/blobs`.
///
/// Writes go to a temporary file in the target directory, are fsynced, then
/// renamed over the target, and the directory is fsynced: a reader sees the
/// old object or the new one, never a torn one. Content types are not kept.
/// Directories left empty by `delete`/`rename` are not removed.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: Arc<PathBuf>,
}

impl FsBlobStore {
    /// Blobs under `data_dir/blobs` (created on first write).
    pub fn new(data_dir: &Path) -> Self {
        Self { root: Arc::new(data_dir.join("blobs")) }
    }

    /// The directory holding the objects.
    pub fn root(&self) -> &Path {
        &self.root
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> Result<T, BlobError> + Send + 'static,
    {
        let root = Arc::clone(&self.root);
        tokio::task::spawn_blocking(move || f(&root))
            .await
            .map_err(|e| BlobError::Permanent(format!("blob store task failed: {e}")))?
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, bytes: Bytes, _content_type: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |root| {
            let path = root.join(&key);
            let dir = path.parent().unwrap_or(root).to_path_buf();
            ensure_dir(root, &dir).map_err(|e| io_err(&key, e))?;
            let tmp = dir.join(format!("{TMP_PREFIX}{}", uuid::Uuid::new_v4()));
            let written = (|| {
                let mut file = std::fs::File::create_new(&tmp)?;
                file.write_all(&bytes)?;
                file.sync_all()?;
                drop(file);
                std::fs::rename(&tmp, &path)
            })();
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_err(&key, e));
            }
            sync_dir(&dir).map_err(|e| io_err(&key, e))
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |root| match std::fs::read(root.join(&key)) {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(e) if is_absent(&e) => Err(BlobError::NotFound(key)),
            Err(e) => Err(io_err(&key, e)),
        })
        .await
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |root| match std::fs::metadata(root.join(&key)) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(io_err(&key, e)),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |root| {
            let path = root.join(&key);
            match std::fs::remove_file(&path) {
                Ok(()) => sync_dir(path.parent().unwrap_or(root)).map_err(|e| io_err(&key, e)),
                Err(e) if is_absent(&e) => Ok(()),
                Err(e) => Err(io_err(&key, e)),
            }
        })
        .await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        validate_key(from)?;
        validate_key(to)?;
        let (from, to) = (from.to_owned(), to.to_owned());
        self.blocking(move |root| {
            let src = root.join(&from);
            let dst = root.join(&to);
            match std::fs::metadata(&src) {
                Ok(meta) if meta.is_file() => {}
                Ok(_) => return Err(BlobError::NotFound(from)),
                Err(e) if is_absent(&e) => return Err(BlobError::NotFound(from)),
                Err(e) => return Err(io_err(&from, e)),
            }
            if src == dst {
                return Ok(());
            }
            let src_dir = src.parent().unwrap_or(root).to_path_buf();
            let dst_dir = dst.parent().unwrap_or(root).to_path_buf();
            ensure_dir(root, &dst_dir).map_err(|e| io_err(&to, e))?;
            match std::fs::rename(&src, &dst) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => return Err(BlobError::NotFound(from)),
                Err(e) => return Err(io_err(&to, e)),
            }
            sync_dir(&dst_dir).map_err(|e| io_err(&to, e))?;
            if src_dir != dst_dir {
                sync_dir(&src_dir).map_err(|e| io_err(&from, e))?;
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        // The part up to the last '/' names a directory to walk; the rest filters names.
        let dir_part = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        if prefix.contains(['\\', '\0']) || prefix.starts_with('/') {
            return Err(BlobError::Permanent(format!("invalid key prefix {prefix:?}")));
        }
        if !dir_part.is_empty() {
            validate_key(dir_part).map_err(|_| BlobError::Permanent(format!("invalid key prefix {prefix:?}")))?;
        }
        let (prefix, dir_part) = (prefix.to_owned(), dir_part.to_owned());
        self.blocking(move |root| {
            let mut keys = Vec::new();
            let start = if dir_part.is_empty() { root.to_path_buf() } else { root.join(&dir_part) };
            walk(&start, &dir_part, &mut keys).map_err(|e| io_err(&prefix, e))?;
            keys.retain(|k| k.starts_with(prefix.as_str()));
            keys.sort();
            Ok(keys)
        })
        .await
    }

    async fn presign_post(&self, _key: &str, _max_bytes: u64, _expires_secs: u64) -> Result<PresignedPost, BlobError> {
        Err(BlobError::PresignUnsupported)
    }
}

/// Refuses keys that are not plain relative '/'-separated paths.
fn validate_key(key: &str) -> Result<(), BlobError> {
    let bad = |why: &str| Err(BlobError::Permanent(format!("invalid object key {key:?}: {why}")));
    if key.is_empty() {
        return bad("empty");
    }
    if key.contains('\0') {
        return bad("contains NUL");
    }
    if key.contains('\\') {
        return bad("contains a backslash");
    }
    if key.starts_with('/') {
        return bad("absolute");
    }
    for segment in key.split('/') {
        match segment {
            "" => return bad("empty path segment"),
            "." | ".." => return bad("relative path segment"),
            s if s.starts_with(TMP_PREFIX) => return bad("reserved name"),
            _ => {}
        }
    }
    Ok(())
}

/// Files under `dir`, as keys (`key_prefix` names `dir`); temporary files skipped.
fn walk(dir: &Path, key_prefix: &str, keys: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if is_absent(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(TMP_PREFIX) {
            continue;
        }
        let key = if key_prefix.is_empty() { name } else { format!("{key_prefix}/{name}") };
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&entry.path(), &key, keys)?;
        } else if file_type.is_file() {
            keys.push(key);
        }
    }
    Ok(())
}

/// Creates `dir` (under `root`) and fsyncs the parents of what it created.
fn ensure_dir(root: &Path, dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // The highest missing ancestor: its parent gains an entry and needs a sync.
    let mut top = dir;
    while let Some(parent) = top.parent() {
        if parent.is_dir() || top == root {
            break;
        }
        top = parent;
    }
    std::fs::create_dir_all(dir)?;
    let mut d = dir;
    while let Some(parent) = d.parent() {
        sync_dir(parent)?;
        if d == top {
            break;
        }
        d = parent;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Errors meaning "no such object": missing, or a directory/non-directory on the path.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory)
}

fn io_err(key: &str, e: std::io::Error) -> BlobError {
    let message = format!("{key}: {e}");
    match e.kind() {
        ErrorKind::PermissionDenied
        | ErrorKind::AlreadyExists
        | ErrorKind::IsADirectory
        | ErrorKind::NotADirectory
        | ErrorKind::DirectoryNotEmpty
        | ErrorKind::InvalidInput
        | ErrorKind::InvalidFilename
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::FileTooLarge => BlobError::Permanent(message),
        _ => BlobError::Transient(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[tokio::test]
    async fn put_get_size_rename_list_delete() {
        let dir = TempDir::new();
        let s = FsBlobStore::new(dir.path());
        assert!(s.list("").await.unwrap().is_empty(), "no blobs dir yet");
        s.put("uploads/u1/a.pdf", Bytes::from_static(b"hello"), "application/pdf").await.unwrap();
        s.put("uploads/u1/b.pdf", Bytes::from_static(b"hi"), "application/pdf").await.unwrap();
        s.put("uploads/u10/c.pdf", Bytes::from_static(b"x"), "application/pdf").await.unwrap();
        s.put("top", Bytes::from_static(b"t"), "text/plain").await.unwrap();
        assert!(dir.path().join("blobs/uploads/u1/a.pdf").is_file());
        assert_eq!(s.get("uploads/u1/a.pdf").await.unwrap(), Bytes::from_static(b"hello"));
        assert_eq!(s.size("uploads/u1/a.pdf").await.unwrap(), Some(5));
        assert_eq!(s.size("uploads/u1/none").await.unwrap(), None);
        assert_eq!(s.size("uploads/u1").await.unwrap(), None, "a directory is not an object");
        assert!(matches!(s.get("uploads/u1").await, Err(BlobError::NotFound(_))));
        assert!(matches!(s.get("nope").await, Err(BlobError::NotFound(_))));
        assert!(matches!(s.get("top/below").await, Err(BlobError::NotFound(_))));

        assert_eq!(s.list("uploads/u1/").await.unwrap(), ["uploads/u1/a.pdf", "uploads/u1/b.pdf"]);
        assert_eq!(
            s.list("uploads/u1").await.unwrap(),
            ["uploads/u1/a.pdf", "uploads/u1/b.pdf", "uploads/u10/c.pdf"],
            "prefixes are string prefixes, as in S3"
        );
        assert_eq!(s.list("").await.unwrap().len(), 4);
        assert!(s.list("missing/").await.unwrap().is_empty());

        s.rename("uploads/u1/a.pdf", "quarantine/u1/a.pdf").await.unwrap();
        assert!(matches!(s.get("uploads/u1/a.pdf").await, Err(BlobError::NotFound(_))));
        assert_eq!(s.get("quarantine/u1/a.pdf").await.unwrap(), Bytes::from_static(b"hello"));
        assert!(matches!(s.rename("uploads/u1/a.pdf", "x").await, Err(BlobError::NotFound(_))));
        // Rename over an existing object replaces it.
        s.rename("uploads/u1/b.pdf", "quarantine/u1/a.pdf").await.unwrap();
        assert_eq!(s.get("quarantine/u1/a.pdf").await.unwrap(), Bytes::from_static(b"hi"));

        s.delete("quarantine/u1/a.pdf").await.unwrap();
        s.delete("quarantine/u1/a.pdf").await.expect("absent is fine");
        s.delete("uploads").await.expect("a directory is no object: nothing to delete");
        assert_eq!(s.list("").await.unwrap(), ["top", "uploads/u10/c.pdf"]);
        assert!(matches!(s.presign_post("k", 1, 60).await, Err(BlobError::PresignUnsupported)));
    }

    #[tokio::test]
    async fn overwrite_is_atomic_and_leaves_no_temp_files() {
        let dir = TempDir::new();
        let s = FsBlobStore::new(dir.path());
        s.put("a/obj", Bytes::from(vec![1u8; 100_000]), "x").await.unwrap();
        let writers: Vec<_> = (0..8u8)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move { s.put("a/obj", Bytes::from(vec![i; 100_000]), "x").await })
            })
            .collect();
        for _ in 0..20 {
            let got = s.get("a/obj").await.unwrap();
            assert_eq!(got.len(), 100_000);
            assert!(got.iter().all(|b| *b == got[0]), "a torn object was read");
        }
        for w in writers {
            w.await.unwrap().unwrap();
        }
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("blobs/a")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["obj"]);
        assert_eq!(s.list("a/").await.unwrap(), ["a/obj"]);
    }

    #[tokio::test]
    async fn traversal_and_odd_keys_are_refused() {
        let dir = TempDir::new();
        let s = FsBlobStore::new(dir.path());
        for key in [
            "",
            "../escape",
            "a/../../escape",
            "a/./b",
            ".",
            "/etc/passwd",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            "a/.tmp-put-x",
        ] {
            let err = s.put(key, Bytes::from_static(b"x"), "x").await.expect_err(key);
            assert!(matches!(err, BlobError::Permanent(_)), "{key:?}: {err:?}");
            assert!(matches!(s.get(key).await, Err(BlobError::Permanent(_))), "{key:?}");
            assert!(matches!(s.delete(key).await, Err(BlobError::Permanent(_))), "{key:?}");
            assert!(matches!(s.rename("ok", key).await, Err(BlobError::Permanent(_))), "{key:?}");
        }
        for prefix in ["../", "/abs", "a/../", "a\\"] {
            assert!(matches!(s.list(prefix).await, Err(BlobError::Permanent(_))), "{prefix:?}");
        }
        assert!(!dir.path().join("escape").exists());
        s.put(".hidden/ok..name", Bytes::from_static(b"x"), "x").await.expect("dots inside names are fine");
    }
}
