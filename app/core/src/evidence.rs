//! Photo evidence on the device (DESIGN §8): a camera photo is ingested once, stored by its hash
//! and attached to an item as a [`PhotoRecord`] in the building document. The photo row is
//! written in the same transaction as the change that attaches it; uploading is
//! [`Device::sync`]'s job (`sync/photos.rs`). Nothing deletes a photo.

use automerge::AutoCommit;
use pengwang_shared::document::{self, read, PhotoPlace, PhotoRecord, PhotoRole};
use pengwang_shared::id::{BuildingId, ItemId, PhotoHash};
use pengwang_shared::time::Timestamp;

use crate::device::Device;
use crate::editing::{live_item, Target};
use crate::enrollment::Enrollment;
use crate::error::CoreError;
use crate::photo::{ingest, PhotoLimits, PhotoMeta};

/// A stored photo's bytes: (the JPEG, its thumbnail).
pub type PhotoFiles = (Vec<u8>, Vec<u8>);

impl Device {
    /// Ingests a camera photo (see [`crate::photo::ingest`]), stores it and attaches it to the
    /// item with `role`, in one commit. A photo that cannot be ingested is refused with
    /// [`CoreError::InvalidPhoto`] (code `invalid_photo`, the message names the reason) and
    /// nothing is written: the item stays as it was and still saves and syncs.
    ///
    /// CPU work (ingest takes 0.1–0.5 s): call it from a blocking context.
    pub fn add_photo(
        &self,
        b: BuildingId,
        item: ItemId,
        role: PhotoRole,
        original: &[u8],
    ) -> Result<PhotoHash, CoreError> {
        self.enrolled()?;
        let photo = ingest(original, &PhotoLimits::default())?;
        let hash = photo.meta.hash.clone();
        let meta = photo.meta.clone();
        self.write_with_photos(
            b,
            &format!("attach photo {hash} to item {item}"),
            Target::Existing,
            std::slice::from_ref(&photo),
            |doc, me, now| {
                live_item(&read(&*doc)?, item)?;
                Ok(document::attach_photo(
                    doc,
                    item,
                    &photo_record(&meta, role, me, now),
                )?)
            },
        )?;
        Ok(hash)
    }

    /// Ingests and stores a photo without attaching it: the create-item and lifecycle flows take
    /// the photo first, then name its hash in [`Device::add_item`] / [`Device::record_event`],
    /// which attach the record in their own commit. Ingesting the same photo twice stores it once.
    pub fn ingest_photo(&self, original: &[u8]) -> Result<PhotoHash, CoreError> {
        self.refuse_if_revoked()?;
        let photo = ingest(original, &PhotoLimits::default())?;
        self.store().put_photo(&photo, self.now())?;
        Ok(photo.meta.hash)
    }

    /// The stored JPEG and thumbnail of a photo on this device.
    pub fn photo(&self, hash: &PhotoHash) -> Result<Option<PhotoFiles>, CoreError> {
        self.store().photo_bytes(hash)
    }

    /// A photo's JPEG (or its thumbnail) for display: from this device, or else from the server
    /// (photos another phone took, e.g. the before photo a street checker verifies against).
    /// `None` when neither has it; offline is [`CoreError::Offline`].
    pub async fn photo_for_display(
        &self,
        hash: &PhotoHash,
        thumbnail: bool,
    ) -> Result<Option<Vec<u8>>, CoreError> {
        let h = hash.clone();
        if let Some((jpeg, thumb)) = self.blocking(move |d| d.photo(&h)).await? {
            return Ok(Some(if thumbnail { thumb } else { jpeg }));
        }
        let token = self.enrolled()?.token;
        let url = self.server_url().ok_or(CoreError::NotEnrolled)?;
        let path = match thumbnail {
            true => format!("/v1/photos/{hash}/thumbnail"),
            false => format!("/v1/photos/{hash}"),
        };
        let method = reqwest::Method::GET;
        match crate::transport::send(
            self.http(),
            method,
            &url,
            &path,
            Some(&token),
            "image/jpeg",
            Vec::new(),
        )
        .await
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(CoreError::Server { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The records of those `hashes` that are stored on this device.
    pub(crate) fn local_photos(&self, hashes: &[PhotoHash]) -> Result<Vec<PhotoMeta>, CoreError> {
        let store = self.store();
        let mut out = Vec::new();
        for hash in hashes {
            if let Some(meta) = store.photo_meta(hash)? {
                if !out.iter().any(|m: &PhotoMeta| m.hash == meta.hash) {
                    out.push(meta);
                }
            }
        }
        Ok(out)
    }
}

/// Attaches a record for every photo in `local` that `attached` does not list yet.
pub(crate) fn attach_records(
    doc: &mut AutoCommit,
    item: ItemId,
    attached: &[PhotoRecord],
    local: &[PhotoMeta],
    role: PhotoRole,
    me: &Enrollment,
    now: Timestamp,
) -> Result<(), CoreError> {
    for meta in local {
        if attached.iter().any(|r| r.hash == meta.hash) {
            continue;
        }
        document::attach_photo(doc, item, &photo_record(meta, role, me, now))?;
    }
    Ok(())
}

/// The document's record of an ingested photo attached now by this device's account.
fn photo_record(meta: &PhotoMeta, role: PhotoRole, me: &Enrollment, now: Timestamp) -> PhotoRecord {
    PhotoRecord {
        hash: meta.hash.clone(),
        role,
        taken_at: meta.taken_at.as_ref().map(|t| Timestamp(t.at.timestamp())),
        place: meta.gps.map(|g| PhotoPlace {
            lat: g.lat,
            lng: g.lng,
            accuracy_m: g.accuracy_m,
        }),
        bytes: meta.bytes,
        width: meta.width,
        height: meta.height,
        by: me.account.id,
        device: Some(me.device_id),
        added_at: now,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use pengwang_shared::item::Category;

    use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
    use pengwang_shared::role::Location;

    use super::*;
    use crate::store::UploadState;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/photos/"
        );
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    use crate::editing::tests::enrolled;

    fn building_with_item(device: &Device, before: Vec<PhotoHash>) -> (BuildingId, ItemId) {
        let location = Location {
            unit: UnitCode::parse("500103").unwrap(),
            street: StreetCode::parse("500103001").unwrap(),
            community: CommunityCode::parse("500103001001").unwrap(),
            estate: "嘉华大厦".into(),
        };
        let b = device.create_building(location, &[]).unwrap();
        let i = device
            .add_item(b, Category::Awning, None, &[], before, "")
            .unwrap();
        (b, i)
    }

    #[test]
    fn a_photo_whose_change_is_not_persisted_is_not_stored_either() {
        let dir = tempfile::tempdir().unwrap();
        let device = enrolled(&dir);
        // The creation names a photo taken on another phone: no record for it here.
        let elsewhere = PhotoHash::parse(&"ab".repeat(32)).unwrap();
        let (b, i) = building_with_item(&device, vec![elsewhere]);
        let heads = device.heads(b).unwrap();
        let original = fixture("orientation/landscape_1.jpg");
        let hash = ingest(&original, &PhotoLimits::default())
            .unwrap()
            .meta
            .hash;

        device.store().set_read_only(true).unwrap();
        let err = device
            .add_photo(b, i, PhotoRole::Before, &original)
            .unwrap_err();
        device.store().set_read_only(false).unwrap();
        assert_eq!(err.code(), "storage");
        assert_eq!(device.photo(&hash).unwrap(), None);
        assert_eq!(device.heads(b).unwrap(), heads);
        assert!(device.building(b).unwrap().items[&i].photos.is_empty());

        // A refused attachment (the same photo twice) stores nothing new either.
        assert_eq!(
            device
                .add_photo(b, i, PhotoRole::Before, &original)
                .unwrap(),
            hash
        );
        let err = device
            .add_photo(b, i, PhotoRole::After, &original)
            .unwrap_err();
        assert_eq!(err.code(), "not_allowed", "{err}");
        assert_eq!(device.pending().unwrap().photos, 1);
    }

    #[test]
    fn an_item_attaches_the_records_of_the_photos_it_names_that_the_device_holds() {
        let dir = tempfile::tempdir().unwrap();
        let device = enrolled(&dir);
        let stored = device.ingest_photo(&fixture("gps/DSCN0010.jpg")).unwrap();
        let elsewhere = PhotoHash::parse(&"ab".repeat(32)).unwrap();
        let (b, i) = building_with_item(&device, vec![stored.clone(), elsewhere]);
        let records = device.building(b).unwrap().items[&i].photos.clone();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!((&r.hash, r.role), (&stored, PhotoRole::Before));
        assert_eq!(r.device, device.device_id());
        assert_eq!(r.added_at, Timestamp(1_780_000_000));
        let (jpeg, _) = device.photo(&stored).unwrap().unwrap();
        assert_eq!(r.bytes, jpeg.len() as u64);
        assert!(r.place.is_some() && r.taken_at.is_some());
    }

    #[test]
    fn a_confirmed_photo_stays_confirmed_and_is_not_counted_pending() {
        let dir = tempfile::tempdir().unwrap();
        let device = enrolled(&dir);
        let h = device
            .ingest_photo(&fixture("orientation/portrait_1.jpg"))
            .unwrap();
        let now = Timestamp(1);
        let mut store = device.store();
        assert_eq!(store.photo_state(&h).unwrap().as_deref(), Some("pending"));
        store
            .set_photo_state(&h, UploadState::Uploaded, now)
            .unwrap();
        assert_eq!(store.unconfirmed_photo_count().unwrap(), 1);
        store
            .set_photo_state(&h, UploadState::Confirmed, now)
            .unwrap();
        store
            .set_photo_state(&h, UploadState::Uploaded, now)
            .unwrap();
        assert_eq!(store.photo_state(&h).unwrap().as_deref(), Some("confirmed"));
        assert_eq!(store.unconfirmed_photos().unwrap(), vec![]);
        drop(store);
        assert!(device.pending().unwrap().is_clear());
    }
}
