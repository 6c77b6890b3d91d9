//! What a file is, and what its JPEG frame header declares — read before any pixel buffer exists,
//! so formats we refuse and decompression bombs cost a few hundred bytes of parsing.

use super::PhotoError;

/// How the frame's coefficients are coded (the two processes cameras and editors use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Process {
    /// Baseline or extended sequential DCT, Huffman-coded: decoded one MCU row at a time.
    Sequential,
    /// Progressive DCT, Huffman-coded: the decoder keeps every coefficient of the image.
    Progressive,
}

/// The start-of-frame header of a JPEG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub process: Process,
    pub width: u32,
    pub height: u32,
    /// Horizontal and vertical sampling factor of each component (1 = grey, 3 = YCbCr).
    pub sampling: Vec<(u32, u32)>,
}

/// Refuses anything that is not a JPEG, naming what it is when we can tell.
pub(crate) fn sniff(bytes: &[u8]) -> Result<(), PhotoError> {
    let not = |format| Err(PhotoError::NotJpeg { format });
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Ok(()),
        [] => Err(PhotoError::Corrupt("the file is empty".into())),
        [_, _, _, _, b'f', b't', b'y', b'p', rest @ ..] => iso_media(rest),
        [0x89, b'P', b'N', b'G', ..] => not("PNG"),
        [b'G', b'I', b'F', b'8', ..] => not("GIF"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => not("WebP"),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => not("TIFF or camera RAW"),
        [b'B', b'M', ..] => not("BMP"),
        [0xFF, 0xD8, ..] => Err(PhotoError::Corrupt(
            "no marker segment after the JPEG start marker".into(),
        )),
        _ => not("unrecognised data"),
    }
}

/// An ISO base media file (`ftyp` box): HEIF/HEIC, AVIF, or a video.
fn iso_media(after_ftyp: &[u8]) -> Result<(), PhotoError> {
    const HEIF: [&[u8; 4]; 10] = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
    ];
    let brand = |b: &[u8]| -> Option<&'static str> {
        if b.starts_with(b"avif") || b.starts_with(b"avis") {
            Some("AVIF")
        } else if HEIF.iter().any(|h| b.starts_with(*h)) {
            Some("HEIF")
        } else {
            None
        }
    };
    // Major brand, then (after the 4-byte minor version) the compatible brands.
    let major = after_ftyp.get(..4).and_then(brand);
    let compatible = after_ftyp
        .get(8..64.min(after_ftyp.len()))
        .into_iter()
        .flat_map(|b| b.chunks_exact(4))
        .find_map(brand);
    match major.or(compatible) {
        Some("AVIF") => Err(PhotoError::NotJpeg { format: "AVIF" }),
        Some(_) => Err(PhotoError::Heif),
        None => Err(PhotoError::NotJpeg {
            format: "MP4/QuickTime media (a video?)",
        }),
    }
}

/// Walks the marker segments after SOI up to the frame header and reads it.
pub(crate) fn read_frame(bytes: &[u8]) -> Result<Frame, PhotoError> {
    let corrupt = |why: String| Err(PhotoError::Corrupt(why));
    let mut pos = 2;
    loop {
        let Some((marker, at)) = next_marker(bytes, pos) else {
            return corrupt("data ends before the frame header".into());
        };
        pos = at;
        match marker {
            0x01 | 0xD0..=0xD7 => continue, // stand-alone markers
            0xD8..=0xDA => {
                // SOI, EOI, SOS
                return corrupt(format!("marker {marker:#04x} before the frame header"));
            }
            _ => {}
        }
        let len = match bytes.get(pos..pos + 2) {
            Some(&[hi, lo]) if u16::from_be_bytes([hi, lo]) >= 2 => {
                usize::from(u16::from_be_bytes([hi, lo]))
            }
            _ => return corrupt(format!("bad or missing segment length at byte {pos}")),
        };
        let Some(body) = bytes.get(pos + 2..pos + len) else {
            return corrupt(format!("data ends inside a segment at byte {pos}"));
        };
        if let Some(process) = frame_process(marker)? {
            return parse_sof(process, body);
        }
        pos += len;
    }
}

/// The next marker at or after `pos` and the position just past it. Like libjpeg (and
/// `jpeg-decoder`), skips stray bytes between segments, which some phones write, and fill bytes.
fn next_marker(bytes: &[u8], mut pos: usize) -> Option<(u8, usize)> {
    loop {
        pos += bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        pos += bytes[pos..].iter().position(|&b| b != 0xFF)?;
        match bytes[pos] {
            0x00 => pos += 1, // a stuffed 0xFF, not a marker
            marker => return Some((marker, pos + 1)),
        }
    }
}

/// `Some` for the start-of-frame markers we decode; an error for those we do not.
fn frame_process(marker: u8) -> Result<Option<Process>, PhotoError> {
    let unsupported = |what: &str| Err(PhotoError::Unsupported(what.into()));
    match marker {
        0xC0 | 0xC1 => Ok(Some(Process::Sequential)),
        0xC2 => Ok(Some(Process::Progressive)),
        0xC3 => unsupported("lossless JPEG"),
        0xC5..=0xC7 => unsupported("hierarchical JPEG"),
        0xC9..=0xCB | 0xCD..=0xCF => unsupported("arithmetic-coded JPEG"),
        _ => Ok(None),
    }
}

fn parse_sof(process: Process, body: &[u8]) -> Result<Frame, PhotoError> {
    let corrupt = |why: &str| Err(PhotoError::Corrupt(why.into()));
    let &[precision, h1, h0, w1, w0, count, ref comps @ ..] = body else {
        return corrupt("frame header too short");
    };
    let (width, height) = (
        u32::from(u16::from_be_bytes([w1, w0])),
        u32::from(u16::from_be_bytes([h1, h0])),
    );
    if precision != 8 {
        return Err(PhotoError::Unsupported(format!(
            "{precision}-bit samples (only 8-bit JPEG)"
        )));
    }
    match count {
        1 | 3 => {}
        4 => return Err(PhotoError::Unsupported("CMYK (4-component) JPEG".into())),
        n => return Err(PhotoError::Unsupported(format!("{n} colour components"))),
    }
    if height == 0 {
        return Err(PhotoError::Unsupported(
            "height declared after the first scan (DNL)".into(),
        ));
    }
    if width == 0 {
        return corrupt("frame header declares zero width");
    }
    let Some(comps) = comps.get(..3 * usize::from(count)) else {
        return corrupt("frame header too short for its components");
    };
    let sampling = comps
        .chunks_exact(3)
        .map(|c| (u32::from(c[1] >> 4), u32::from(c[1] & 0x0F)))
        .collect::<Vec<_>>();
    if sampling
        .iter()
        .any(|&(h, v)| !(1..=4).contains(&h) || !(1..=4).contains(&v))
    {
        return corrupt("sampling factor outside 1–4");
    }
    Ok(Frame {
        process,
        width,
        height,
        sampling,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP0 with fill bytes before the next marker, then a baseline 4:2:0 SOF0.
    fn jpeg_header(sof: u8, width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xFF, sof, 0, 17, 8,
        ];
        b.extend(height.to_be_bytes());
        b.extend(width.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b
    }

    #[test]
    fn reads_dimensions_and_sampling_of_a_baseline_frame() {
        let frame = read_frame(&jpeg_header(0xC0, 30_000, 20_000)).unwrap();
        assert_eq!(
            frame,
            Frame {
                process: Process::Sequential,
                width: 30_000,
                height: 20_000,
                sampling: vec![(2, 2), (1, 1), (1, 1)],
            }
        );
        let progressive = read_frame(&jpeg_header(0xC2, 8, 8)).unwrap();
        assert_eq!(progressive.process, Process::Progressive);
    }

    #[test]
    fn refuses_frames_cameras_do_not_make() {
        let err = read_frame(&jpeg_header(0xC9, 8, 8)).unwrap_err();
        assert_eq!(err, PhotoError::Unsupported("arithmetic-coded JPEG".into()));
        let err = read_frame(&jpeg_header(0xC0, 8, 0)).unwrap_err();
        assert_eq!(err.code(), "photo_unsupported");
    }

    #[test]
    fn stray_bytes_between_segments_are_skipped_as_libjpeg_does() {
        let mut header = jpeg_header(0xC0, 640, 480);
        header.splice(8..8, [0x00, 0x12, 0xFF, 0x00]); // after the APP0, before the SOF
        assert_eq!(read_frame(&header).unwrap().width, 640);
    }

    #[test]
    fn a_header_cut_short_is_corrupt() {
        let full = jpeg_header(0xC0, 8, 8);
        for cut in 2..full.len() {
            let err = read_frame(&full[..cut]).unwrap_err();
            assert_eq!(err.code(), "photo_corrupt", "cut at {cut}: {err}");
        }
    }

    #[test]
    fn names_other_formats() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(heic), Err(PhotoError::Heif));
        let by_compatible_brand = b"\0\0\0\x18ftypXXXX\0\0\0\0mif1heic";
        assert_eq!(sniff(by_compatible_brand), Err(PhotoError::Heif));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n"),
            Err(PhotoError::NotJpeg { format: "PNG" })
        );
        assert_eq!(
            sniff(b""),
            Err(PhotoError::Corrupt("the file is empty".into()))
        );
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(()));
    }
}
