//! Downscaling to the stored and thumbnail sizes with `fast_image_resize` (Lanczos3, the filter
//! vipsthumbnail uses too). It works on 8-bit pixels with SIMD and a scratch buffer of one
//! horizontal pass; `image`'s `resize` goes through an f32 RGBA copy of the whole image (16
//! bytes a pixel: ~100 MB for one 12 MP photo), which our memory bound cannot afford.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::decode::Pixels;
use super::PhotoError;

/// The size `width`×`height` takes when its long side is brought down to `long_side` (aspect
/// kept, each side at least 1); unchanged when it is already that small. Never enlarges.
pub(crate) fn fitted(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= long_side {
        return (width, height);
    }
    let fit = |len: u32| {
        let scaled =
            (u64::from(len) * u64::from(long_side) + u64::from(long) / 2) / u64::from(long);
        (scaled as u32).max(1)
    };
    (fit(width), fit(height))
}

/// `img` shrunk so its long side is at most `long_side`; `None` when it already is.
pub(crate) fn fit(img: &Pixels, long_side: u32) -> Result<Option<Pixels>, PhotoError> {
    let (width, height) = fitted(img.width, img.height, long_side);
    if (width, height) == (img.width, img.height) {
        return Ok(None);
    }
    let pixel_type = match img.channels {
        1 => PixelType::U8,
        _ => PixelType::U8x3,
    };
    let internal = |e: &dyn std::fmt::Display| PhotoError::Internal(format!("resize: {e}"));
    let src =
        ImageRef::new(img.width, img.height, &img.data, pixel_type).map_err(|e| internal(&e))?;
    let mut dst = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| internal(&e))?;
    Ok(Some(Pixels {
        data: dst.into_vec(),
        width,
        height,
        channels: img.channels,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_aspect_and_never_enlarges() {
        assert_eq!(fitted(3264, 2448, 2048), (2048, 1536));
        assert_eq!(fitted(2448, 3264, 2048), (1536, 2048));
        assert_eq!(fitted(3000, 2250, 2048), (2048, 1536));
        assert_eq!(fitted(2048, 1536, 320), (320, 240));
        assert_eq!(fitted(600, 450, 2048), (600, 450));
        assert_eq!(fitted(10_000, 3, 320), (320, 1));
    }

    #[test]
    fn a_flat_image_stays_flat() {
        let img = Pixels {
            data: [10, 20, 30].repeat(400 * 300),
            width: 400,
            height: 300,
            channels: 3,
        };
        assert_eq!(fit(&img, 400).unwrap(), None);
        let out = fit(&img, 100).unwrap().unwrap();
        assert_eq!((out.width, out.height), (100, 75));
        assert_eq!(out.data, [10, 20, 30].repeat(100 * 75));
    }
}
