//! Photo files on disk, content-addressed: `photo_dir/ab/cd/<hash>.jpg` and `<hash>.thumb.jpg`.
//!
//! A file is written to a temporary name in its final directory, flushed, renamed into place and
//! the directory flushed, so a reader (or a restart after a power cut) sees either no file or the
//! whole file, never a torn one. Callers write the file before committing the `photo` row.
//!
//! Every function that touches the disk blocks: call it through `spawn_blocking`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use pengwang_shared::id::PhotoHash;
use tokio::sync::{Mutex, MutexGuard};

/// Uploads of photos whose hashes share a first byte are serialised by one lock; 256 stripes
/// keep unrelated uploads apart without a map of per-hash locks that must be cleaned up.
const LOCK_STRIPES: usize = 256;

/// The original or its thumbnail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    fn suffix(self) -> &'static str {
        match self {
            Variant::Original => "jpg",
            Variant::Thumbnail => "thumb.jpg",
        }
    }

    /// For messages: "photo" / "thumbnail".
    pub fn noun(self) -> &'static str {
        match self {
            Variant::Original => "photo",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

pub struct PhotoStore {
    dir: PathBuf,
    locks: Vec<Mutex<()>>,
}

impl PhotoStore {
    /// Opens (creating if needed) the photo directory.
    pub fn open(dir: PathBuf) -> io::Result<PhotoStore> {
        fs::create_dir_all(&dir)?;
        Ok(PhotoStore {
            dir,
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where one photo's file lives.
    pub fn path(&self, hash: &PhotoHash, variant: Variant) -> PathBuf {
        let h = hash.as_str();
        self.dir
            .join(&h[0..2])
            .join(&h[2..4])
            .join(format!("{h}.{}", variant.suffix()))
    }

    /// Held while one upload of `hash` checks, writes and records it, so two devices uploading
    /// the same photo at once store it once.
    pub async fn lock(&self, hash: &PhotoHash) -> MutexGuard<'_, ()> {
        let stripe = usize::from_str_radix(&hash.as_str()[0..2], 16).unwrap_or(0);
        self.locks[stripe % LOCK_STRIPES].lock().await
    }

    /// Whether the file is there with the expected length (a row without its file, after someone
    /// removed it, is repaired by the next upload).
    pub fn is_intact(&self, hash: &PhotoHash, variant: Variant, len: u64) -> bool {
        fs::metadata(self.path(hash, variant)).is_ok_and(|m| m.is_file() && m.len() == len)
    }

    pub fn read(&self, hash: &PhotoHash, variant: Variant) -> io::Result<Vec<u8>> {
        fs::read(self.path(hash, variant))
    }

    /// Writes the file atomically and durably (see the module docs).
    pub fn write(&self, hash: &PhotoHash, variant: Variant, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(hash, variant);
        let dir = path.parent().unwrap_or(&self.dir);
        self.ensure_dir(dir)?;
        let tmp = dir.join(format!(
            ".{}.{:016x}.tmp",
            hash.as_str(),
            rand::random::<u64>()
        ));
        let written = write_new(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .and_then(|()| sync_dir(dir));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Creates `ab/cd` below the photo directory, flushing each new directory's parent so the
    /// new entry survives a power cut.
    fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        fs::create_dir_all(dir)?;
        let mut d = dir;
        while let Some(parent) = d.parent() {
            sync_dir(parent)?;
            if parent == self.dir {
                break;
            }
            d = parent;
        }
        Ok(())
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hash() -> PhotoHash {
        PhotoHash::parse(&format!("abcd{}", "0".repeat(60))).unwrap()
    }

    #[test]
    fn files_are_sharded_by_the_first_two_bytes_of_the_hash() {
        let store = PhotoStore {
            dir: PathBuf::from("/p"),
            locks: Vec::new(),
        };
        let h = hash();
        assert_eq!(
            store.path(&h, Variant::Original),
            PathBuf::from(format!("/p/ab/cd/{h}.jpg"))
        );
        assert_eq!(
            store.path(&h, Variant::Thumbnail),
            PathBuf::from(format!("/p/ab/cd/{h}.thumb.jpg"))
        );
    }

    #[test]
    fn a_write_leaves_exactly_the_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::open(dir.path().join("photos")).unwrap();
        store.write(&hash(), Variant::Original, b"abc").unwrap();
        store.write(&hash(), Variant::Original, b"abcd").unwrap();
        assert_eq!(store.read(&hash(), Variant::Original).unwrap(), b"abcd");
        assert!(store.is_intact(&hash(), Variant::Original, 4));
        assert!(!store.is_intact(&hash(), Variant::Thumbnail, 4));
        let names: Vec<String> = fs::read_dir(dir.path().join("photos/ab/cd"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [format!("{}.jpg", hash())]);
    }
}
