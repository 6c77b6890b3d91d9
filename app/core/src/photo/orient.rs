//! EXIF orientation applied to the pixels, so what we store is upright with no tag to honour.
//!
//! Each of the eight orientations maps output pixel (x, y) to a source pixel by an affine map,
//! so one loop with a per-orientation start offset and two strides does all of them.

use super::decode::Pixels;

/// Returns the image as it should be displayed for EXIF orientation `orientation` (1–8; other
/// values leave it as stored).
pub(crate) fn upright(img: Pixels, orientation: u8) -> Pixels {
    if !(2..=8).contains(&orientation) {
        return img;
    }
    let (w, h, ch) = (
        img.width as isize,
        img.height as isize,
        img.channels as isize,
    );
    let row = w * ch;
    let last_col = (w - 1) * ch;
    let last_row = (h - 1) * row;
    // (offset of the source pixel for output (0, 0), step per output x, step per output y)
    let (start, dx, dy) = match orientation {
        2 => (last_col, -ch, row),             // mirror left–right
        3 => (last_row + last_col, -ch, -row), // rotate 180°
        4 => (last_row, ch, -row),             // mirror top–bottom
        5 => (0, row, ch),                     // transpose
        6 => (last_row, -row, ch),             // rotate 90° clockwise
        7 => (last_row + last_col, -row, -ch), // transverse
        _ => (last_col, row, -ch),             // 8: rotate 90° anticlockwise
    };
    let (out_w, out_h) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut data = Vec::with_capacity(img.data.len());
    let chn = img.channels;
    for y in 0..out_h {
        let mut src = start + y * dy;
        for _ in 0..out_w {
            let at = src as usize;
            data.extend_from_slice(&img.data[at..at + chn]);
            src += dx;
        }
    }
    Pixels {
        data,
        width: out_w as u32,
        height: out_h as u32,
        channels: img.channels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EXIF definition, pixel by pixel: where output (x, y) comes from in a w×h source.
    fn source_of(o: u8, x: u32, y: u32, w: u32, h: u32) -> (u32, u32) {
        match o {
            1 => (x, y),
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            _ => (w - 1 - y, x),
        }
    }

    #[test]
    fn every_orientation_matches_its_definition() {
        let (w, h) = (5u32, 3u32);
        // Grey pixel value = its index, so each output pixel names its source.
        let img = Pixels {
            data: (0..(w * h) as u8).collect(),
            width: w,
            height: h,
            channels: 1,
        };
        for o in 1..=8 {
            let out = upright(img.clone(), o);
            let (ow, oh) = if o >= 5 { (h, w) } else { (w, h) };
            assert_eq!((out.width, out.height), (ow, oh), "orientation {o}");
            for y in 0..oh {
                for x in 0..ow {
                    let (sx, sy) = source_of(o, x, y, w, h);
                    let got = out.data[(y * ow + x) as usize];
                    assert_eq!(got as u32, sy * w + sx, "orientation {o} at ({x},{y})");
                }
            }
        }
    }

    #[test]
    fn rgb_pixels_move_whole() {
        let img = Pixels {
            data: vec![1, 2, 3, 4, 5, 6],
            width: 2,
            height: 1,
            channels: 3,
        };
        let out = upright(img, 6);
        assert_eq!(
            (out.width, out.height, out.data),
            (1, 2, vec![1, 2, 3, 4, 5, 6])
        );
        let img = Pixels {
            data: vec![1, 2, 3, 4, 5, 6],
            width: 2,
            height: 1,
            channels: 3,
        };
        assert_eq!(upright(img, 2).data, vec![4, 5, 6, 1, 2, 3]);
    }
}
