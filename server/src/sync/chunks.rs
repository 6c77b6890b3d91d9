//! Strict checking of the change bytes a phone pushes. automerge's `load_incremental` skips what it
//! cannot parse (it logs a "partial load" and carries on), which would turn garbage into a silent
//! no-op; the server instead refuses a document whose bytes are not, to the end, well-formed
//! automerge chunks. Change chunks are checked one by one (their dependencies may be elsewhere);
//! a whole-document chunk must load on its own.

use automerge::{Automerge, Change, LoadOptions, OnPartialLoad, VerificationMode};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// `Ok` when `bytes` is a sequence of valid document or change chunks.
pub(super) fn check(bytes: &[u8]) -> Result<(), String> {
    let mut rest = bytes;
    let mut n = 0;
    while !rest.is_empty() {
        n += 1;
        let (chunk, after) = split_one(rest)
            .map_err(|e| format!("chunk {n} at byte {}: {e}", bytes.len() - rest.len()))?;
        match chunk[8] {
            CHANGE | COMPRESSED_CHANGE => Change::from_bytes(chunk.to_vec())
                .map(drop)
                .map_err(|e| format!("chunk {n}: {e}"))?,
            DOCUMENT => {
                let strict = LoadOptions::new()
                    .on_partial_load(OnPartialLoad::Error)
                    .verification_mode(VerificationMode::Check);
                Automerge::load_with_options(chunk, strict)
                    .map(drop)
                    .map_err(|e| format!("chunk {n}: {e}"))?
            }
            other => {
                return Err(format!(
                    "chunk {n} has type {other}: only documents and changes are accepted"
                ))
            }
        }
        rest = after;
    }
    Ok(())
}

/// The first chunk (header and data) and what follows it.
fn split_one(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    if bytes.len() < 10 {
        return Err(format!(
            "{} bytes are too few for a chunk header",
            bytes.len()
        ));
    }
    if bytes[..4] != MAGIC {
        return Err("not an automerge chunk (wrong magic bytes)".into());
    }
    let (len, leb) = leb128(&bytes[9..]).ok_or("the chunk length is not a valid LEB128 number")?;
    let end = 9usize
        .checked_add(leb)
        .and_then(|h| usize::try_from(len).ok().and_then(|l| h.checked_add(l)))
        .filter(|end| *end <= bytes.len())
        .ok_or_else(|| {
            format!(
                "the chunk claims {len} bytes but only {} follow",
                bytes.len().saturating_sub(9 + leb)
            )
        })?;
    Ok(bytes.split_at(end))
}

/// An unsigned LEB128 number and the bytes it took.
fn leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    fn doc_with_two_changes() -> (AutoCommit, Vec<automerge::ChangeHash>) {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let first = doc.get_heads();
        doc.put(ROOT, "b", 2).unwrap();
        doc.commit();
        doc.put(ROOT, "c", "三").unwrap();
        doc.commit();
        (doc, first)
    }

    #[test]
    fn real_documents_and_change_runs_pass() {
        let (mut doc, first) = doc_with_two_changes();
        assert_eq!(check(&doc.save()), Ok(()));
        assert_eq!(check(&doc.save_after(&first)), Ok(()));
        assert_eq!(check(&doc.save_nocompress()), Ok(()));
    }

    #[test]
    fn garbage_truncation_and_trailing_bytes_are_refused_with_where() {
        let (mut doc, first) = doc_with_two_changes();
        let changes = doc.save_after(&first);
        assert_eq!(
            check(b"hello").unwrap_err(),
            "chunk 1 at byte 0: 5 bytes are too few for a chunk header"
        );
        assert_eq!(
            check(b"not automerge at all").unwrap_err(),
            "chunk 1 at byte 0: not an automerge chunk (wrong magic bytes)"
        );
        assert!(check(&changes[..changes.len() - 3])
            .unwrap_err()
            .contains("only"));
        let mut trailing = changes.clone();
        trailing.extend_from_slice(b"xxxxxxxxxxxx");
        assert!(check(&trailing).unwrap_err().starts_with("chunk 3 at byte"));
        let mut flipped = changes;
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        assert!(
            check(&flipped).is_err(),
            "a corrupted body fails its checksum or parse"
        );
    }
}
