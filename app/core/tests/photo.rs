//! Photo ingest (DESIGN §8, issue 3) on the real photos in ../shared/fixtures/photos, read from
//! there (never copied into the project), and on JPEGs made to order: EXIF written by hand, grey,
//! truncated, mangled. Bombs, the 108 MP photo and memory bounds are in `photo_limits.rs`.
#![allow(clippy::unwrap_used)]

mod photo_support;

use pengwang_core::photo::{ingest, ingest_file, PhotoError, PhotoLimits};
use photo_support::*;

// ---------------------------------------------------------------------------------------------
// Orientation

/// Largest mean absolute difference (per 8-bit sample) we accept between an orientation-N output
/// and the orientation-1 output. The sixteen fixtures are one picture stored turned and mirrored,
/// each with its own number painted on and re-encoded by its maker (landscape_1 4:4:4 sRGB, the
/// others 4:2:0 with a "Generic RGB" profile that ingest converts to sRGB), and we re-encode once
/// more, so even upright pixels differ: measured 4.8–6.2. Most of that is JPEG noise on this
/// foliage-heavy picture (our landscape_1 output differs from the decoded landscape_1 file by
/// 5.0); the rest is the painted numbers. A wrongly turned or mirrored picture measures 40–68
/// (checked below on the reference itself). 10 sits between the two with room on both sides.
const ORIENTATION_MAD_BOUND: f64 = 10.0;

#[test]
fn all_sixteen_orientation_fixtures_come_out_upright_with_no_exif() {
    for (kind, size) in [("landscape", (600, 450)), ("portrait", (450, 600))] {
        let reference = decode(&ingest_fixture(&format!("orientation/{kind}_1.jpg")).jpeg);
        assert_eq!((reference.width, reference.height), size);
        for n in 1..=8 {
            let photo = ingest_fixture(&format!("orientation/{kind}_{n}.jpg"));
            assert_no_exif(&photo.jpeg);
            assert_no_exif(&photo.thumbnail);
            let out = decode(&photo.jpeg);
            assert_eq!((out.width, out.height), size, "{kind}_{n}");
            assert_eq!((photo.meta.width, photo.meta.height), size, "{kind}_{n}");
            assert_eq!(
                (photo.meta.original_width, photo.meta.original_height),
                size,
                "{kind}_{n}: original dimensions are reported upright"
            );
            let thumb = decode(&photo.thumbnail);
            assert_eq!(
                (thumb.width, thumb.height),
                (size.0 * 320 / 600, size.1 * 320 / 600)
            );
            let mad = mean_abs_diff(&out.data, &reference.data);
            println!("{kind}_{n}: mean abs diff vs {kind}_1 = {mad:.3}");
            assert!(
                mad < ORIENTATION_MAD_BOUND,
                "{kind}_{n} is not upright: {mad:.3}"
            );
        }
        // The bound can fail: the reference against itself turned 180° or mirrored.
        let (w, h) = (reference.width as usize, reference.height as usize);
        let px = |x: usize, y: usize| &reference.data[(y * w + x) * 3..(y * w + x) * 3 + 3];
        let turned: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| px(w - 1 - x, h - 1 - y).to_vec()))
            .collect();
        let mirrored: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| px(w - 1 - x, y).to_vec()))
            .collect();
        let (t, m) = (
            mean_abs_diff(&turned, &reference.data),
            mean_abs_diff(&mirrored, &reference.data),
        );
        println!("{kind}_1 turned 180°: {t:.3}, mirrored: {m:.3}");
        assert!(t > 3.0 * ORIENTATION_MAD_BOUND && m > 3.0 * ORIENTATION_MAD_BOUND);
    }
}

// ---------------------------------------------------------------------------------------------
// EXIF → record

#[test]
fn gps_fixtures_yield_their_coordinates_and_taken_at() {
    // DSCN0010's GPS IFD, as exiftool -v3 shows it:
    //   GPSLatitudeRef = N, GPSLatitude = 43/1 28/1 281400000/100000000
    //   GPSLongitudeRef = E, GPSLongitude = 11/1 53/1 645599999/100000000
    // lat = 43 + 28/60 + 2.814/3600      = 43 + 0.4666… + 0.000781666… = 43.467448333…
    // lng = 11 + 53/60 + 6.45599999/3600 = 11 + 0.8833… + 0.001793333… = 11.885126666…
    let photo = ingest_fixture("gps/DSCN0010.jpg");
    let gps = photo.meta.gps.unwrap();
    assert!(
        (gps.lat - (43.0 + 28.0 / 60.0 + 2.814 / 3600.0)).abs() < 1e-12,
        "{gps:?}"
    );
    assert!(
        (gps.lng - (11.0 + 53.0 / 60.0 + 6.455_999_99 / 3600.0)).abs() < 1e-12,
        "{gps:?}"
    );
    assert!((gps.lat - 43.467_448_333).abs() < 1e-9 && (gps.lng - 11.885_126_667).abs() < 1e-9);
    assert_eq!(gps.accuracy_m, None);
    // DateTimeOriginal 2008:10:22 16:28:39, no OffsetTimeOriginal → read as UTC+8.
    let taken = photo.meta.taken_at.unwrap();
    assert_eq!(taken.original, "2008:10:22 16:28:39");
    assert_eq!(taken.offset, None);
    assert_eq!(taken.at.to_rfc3339(), "2008-10-22T16:28:39+08:00");
    assert_eq!(taken.timestamp().0, 1_224_664_119);
    assert_eq!(photo.meta.exif_note, None);

    // The other two, against exiftool -n.
    for (name, lat, lng) in [
        (
            "gps/DSCN0012.jpg",
            43.467_156_666_663_9,
            11.885_394_999_997_2,
        ),
        ("gps/DSCN0025.jpg", 43.468_365, 11.881_634_999_972_2),
    ] {
        let gps = ingest_fixture(name).meta.gps.unwrap();
        assert!(
            (gps.lat - lat).abs() < 1e-9 && (gps.lng - lng).abs() < 1e-9,
            "{name}: {gps:?}"
        );
    }

    // West is negative: iphone_hdr.jpg, 40/1 26/1 4910/100 N, 3/1 43/1 2911/100 W.
    let gps = ingest_fixture("phone/iphone_hdr.jpg").meta.gps.unwrap();
    assert!((gps.lat - (40.0 + 26.0 / 60.0 + 49.1 / 3600.0)).abs() < 1e-12);
    assert!((gps.lng + (3.0 + 43.0 / 60.0 + 29.11 / 3600.0)).abs() < 1e-12);
}

#[test]
fn offset_accuracy_and_south_west_come_from_exif_written_by_hand() {
    use exif::{experimental::Writer, Field, In, Rational, Tag, Value};
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let r = |num, denom| Rational { num, denom };
    let fields = [
        field(Tag::Orientation, Value::Short(vec![6])),
        field(Tag::DateTimeOriginal, ascii("2024:03:05 09:10:11")),
        field(Tag::OffsetTimeOriginal, ascii("-03:00")),
        field(Tag::GPSLatitudeRef, ascii("S")),
        field(
            Tag::GPSLatitude,
            Value::Rational(vec![r(22, 1), r(54, 1), r(3036, 100)]),
        ),
        field(Tag::GPSLongitudeRef, ascii("W")),
        field(
            Tag::GPSLongitude,
            Value::Rational(vec![r(43, 1), r(10, 1), r(3588, 100)]),
        ),
        field(Tag::GPSHPositioningError, Value::Rational(vec![r(47, 10)])),
    ];
    let mut writer = Writer::new();
    fields.iter().for_each(|f| writer.push_field(f));
    let mut raw = std::io::Cursor::new(Vec::new());
    writer.write(&mut raw, false).unwrap();
    let original = jpeg_with_exif(64, 48, raw.get_ref());

    let photo = ingest(&original, &PhotoLimits::default()).unwrap();
    // Orientation 6: the stored 64×48 becomes 48×64.
    assert_eq!((photo.meta.width, photo.meta.height), (48, 64));
    assert_eq!(
        (photo.meta.original_width, photo.meta.original_height),
        (48, 64)
    );
    let taken = photo.meta.taken_at.as_ref().unwrap();
    assert_eq!(taken.offset.as_deref(), Some("-03:00"));
    assert_eq!(taken.at.to_rfc3339(), "2024-03-05T09:10:11-03:00");
    // 09:10:11 at UTC−3 is 12:10:11 UTC.
    assert_eq!(taken.timestamp().0, 1_709_640_611);
    let gps = photo.meta.gps.unwrap();
    assert!(
        (gps.lat + (22.0 + 54.0 / 60.0 + 30.36 / 3600.0)).abs() < 1e-12,
        "{gps:?}"
    );
    assert!(
        (gps.lng + (43.0 + 10.0 / 60.0 + 35.88 / 3600.0)).abs() < 1e-12,
        "{gps:?}"
    );
    assert_eq!(gps.accuracy_m, Some(4.7));
    assert_eq!(photo.meta.exif_note, None);
    assert_no_exif(&photo.jpeg);
    assert!(
        !photo.jpeg.windows(4).any(|w| w == b"2024"),
        "no EXIF text survives"
    );

    // The record serialises for the building document.
    let json = serde_json::to_value(&photo.meta).unwrap();
    assert_eq!(json["taken_at"]["at"], "2024-03-05T09:10:11-03:00");
    assert_eq!(json["gps"]["accuracy_m"], 4.7);
    assert_eq!(json["hash"], photo.meta.hash.as_str());
}

#[test]
fn unreadable_exif_does_not_stop_the_photo() {
    let cases: [(&[u8], &str); 2] = [
        // The first IFD is said to start past the end of the data.
        (
            b"MM\0*\0\0\0\xff",
            "EXIF unreadable (Truncated IFD count); taken-at, GPS and orientation not recorded",
        ),
        // 65535 entries announced, one (garbage) present.
        (
            b"MM\0*\0\0\0\x08\xff\xff truncated IFD",
            "EXIF partly unreadable (1 error(s), first: Truncated IFD)",
        ),
    ];
    for (exif, note) in cases {
        let photo = ingest(&jpeg_with_exif(64, 48, exif), &PhotoLimits::default()).unwrap();
        assert_eq!((photo.meta.width, photo.meta.height), (64, 48));
        assert_eq!((photo.meta.taken_at, photo.meta.gps), (None, None));
        assert_eq!(photo.meta.exif_note.as_deref(), Some(note));
        assert_no_exif(&photo.jpeg);
    }
}

#[test]
fn stored_photo_is_content_addressed_and_fitted() {
    let photo = ingest_fixture("phone/jolla.jpg");
    assert_eq!(photo.meta.hash.as_str(), sha256_hex(&photo.jpeg));
    assert_eq!(photo.meta.bytes, photo.jpeg.len() as u64);
    assert_eq!(photo.meta.original_bytes, 811_904);
    assert_eq!(
        (photo.meta.original_width, photo.meta.original_height),
        (3264, 2448)
    );
    assert_eq!((photo.meta.width, photo.meta.height), (2048, 1536));
    assert_eq!(photo.decode_scale, 1, "1/2 would give 1632 px, under 2048");
    let thumb = decode(&photo.thumbnail);
    assert_eq!((thumb.width, thumb.height), (320, 240));
    assert_no_exif(&photo.jpeg);
    assert_no_exif(&photo.thumbnail);
    // Same input, same bytes: re-ingesting a photo never makes a second copy.
    let again = ingest_fixture("phone/jolla.jpg");
    assert_eq!(again.meta.hash, photo.meta.hash);
}

#[test]
fn a_grey_photo_stays_grey_and_is_fitted() {
    // 2100×1400 one-component JPEG, a horizontal ramp: stored as 2048×1365 grey.
    let (w, h) = (2100u16, 1400u16);
    let ramp: Vec<u8> = (0..h)
        .flat_map(|_| (0..w).map(|x| (u32::from(x) * 255 / 2099) as u8))
        .collect();
    let mut original = Vec::new();
    jpeg_encoder::Encoder::new(&mut original, 90)
        .encode(&ramp, w, h, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let photo = ingest(&original, &PhotoLimits::default()).unwrap();
    assert_eq!((photo.meta.width, photo.meta.height), (2048, 1365));
    let mut decoder = jpeg_decoder::Decoder::new(photo.jpeg.as_slice());
    let pixels = decoder.decode().unwrap();
    assert_eq!(
        decoder.info().unwrap().pixel_format,
        jpeg_decoder::PixelFormat::L8
    );
    // Left edge dark, right edge light, middle grey.
    let row = &pixels[683 * 2048..684 * 2048];
    assert!(
        row[2] < 8 && row[2045] > 247 && row[1024].abs_diff(127) < 6,
        "{row:?}"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

// ---------------------------------------------------------------------------------------------
// Bad images

#[test]
fn every_bad_fixture_gives_its_decided_outcome() {
    let mut names: Vec<String> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // A new file in bad/ must get its own decision here.
    assert_eq!(
        names,
        [
            "corrupted.jpg",
            "empty_exif.jpg",
            "invalid_image01088.jpg",
            "sample.heif"
        ]
    );
    let limits = PhotoLimits::default();

    // A run of 0xFF bytes overwrites the scan from byte 212,992 on: refused, not half grey.
    let err = ingest_file(&fixture("bad/corrupted.jpg"), &limits).unwrap_err();
    assert_eq!(
        err,
        PhotoError::Corrupt("found marker RES inside scan where RST4 was expected".into())
    );
    assert_eq!(
        err.to_string(),
        "corrupt or truncated JPEG: found marker RES inside scan where RST4 was expected"
    );

    // An iPhone HEIC: refused with what to change on the phone.
    let err = ingest_file(&fixture("bad/sample.heif"), &limits).unwrap_err();
    assert_eq!(err, PhotoError::Heif);
    assert_eq!(err.code(), "photo_heif");
    assert_eq!(
        err.to_string(),
        "HEIF/HEIC is not supported; set the camera to JPEG / 'Most Compatible'"
    );

    // A Casio photo whose EXIF is sound apart from an empty DigitalZoomRatio (0/0): a correct
    // upright image, 2164×1626 fitted to 2048 × round(1626 × 2048 / 2164) = 2048×1539.
    let photo = ingest_file(&fixture("bad/empty_exif.jpg"), &limits).unwrap();
    assert_eq!((photo.meta.width, photo.meta.height), (2048, 1539));
    assert_eq!(
        (photo.meta.original_width, photo.meta.original_height),
        (2164, 1626)
    );
    assert_eq!(photo.meta.taken_at.unwrap().original, "2005:07:19 18:25:29");
    assert_eq!((photo.meta.gps, photo.meta.exif_note), (None, None));
    assert_no_exif(&photo.jpeg);

    // A 425×120 JPEG (logos on white) with an XMP packet and no EXIF: a correct image. Against
    // the original decoded as it is, only re-encoding noise remains: 4.01, as for libvips
    // re-encoding it at the same quality and 4:2:0 (`vips copy … [Q=82]`: 4.01).
    let path = fixture("bad/invalid_image01088.jpg");
    let photo = ingest_file(&path, &limits).unwrap();
    assert_eq!((photo.meta.width, photo.meta.height), (425, 120));
    assert_eq!(
        (photo.meta.taken_at, photo.meta.gps, photo.meta.exif_note),
        (None, None, None)
    );
    assert_no_exif(&photo.jpeg);
    let mad = mean_abs_diff(
        &decode(&photo.jpeg).data,
        &decode(&std::fs::read(&path).unwrap()).data,
    );
    println!("invalid_image01088: mean abs diff vs its own decode = {mad:.3}");
    assert!(mad < 5.0, "{mad}");
}

#[test]
fn truncated_and_foreign_files_are_named() {
    let limits = PhotoLimits::default();
    let original = std::fs::read(fixture("phone/jolla.jpg")).unwrap();
    let half = &original[..original.len() / 2];
    assert_eq!(
        ingest(half, &limits).unwrap_err(),
        PhotoError::Corrupt("the data ends before the image does (truncated file)".into())
    );
    assert_eq!(
        ingest(&original[..300], &limits).unwrap_err(),
        PhotoError::Corrupt("data ends inside a segment at byte 4".into())
    );
    assert_eq!(
        ingest(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", &limits).unwrap_err(),
        PhotoError::NotJpeg { format: "PNG" }
    );
    assert_eq!(
        ingest(b"", &limits).unwrap_err().to_string(),
        "corrupt or truncated JPEG: the file is empty"
    );
}

#[test]
fn mangled_photos_are_refused_or_ingested_never_a_crash() {
    // A small photo with EXIF, damaged 400 ways (bytes overwritten, mostly in the headers, and
    // cut short): each ingest returns, with a photo or a named error. A panic would fail here.
    let mut exif = std::io::Cursor::new(Vec::new());
    let orientation = exif::Field {
        tag: exif::Tag::Orientation,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Short(vec![8]),
    };
    let mut writer = exif::experimental::Writer::new();
    writer.push_field(&orientation);
    writer.write(&mut exif, false).unwrap();
    let original = jpeg_with_exif(48, 32, exif.get_ref());
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..400 {
        let mut bytes = original.clone();
        let span = if i % 2 == 0 { 400 } else { bytes.len() };
        for _ in 0..1 + next() % 4 {
            let at = next() % span;
            bytes[at] = next() as u8;
        }
        if i % 4 == 0 {
            bytes.truncate(next() % bytes.len());
        }
        let code = match ingest(&bytes, &PhotoLimits::default()) {
            Ok(photo) => {
                assert_no_exif(&photo.jpeg);
                "ok"
            }
            Err(e) => e.code(),
        };
        *outcomes.entry(code).or_default() += 1;
    }
    println!("{outcomes:?}");
}
