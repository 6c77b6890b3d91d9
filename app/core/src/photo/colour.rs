//! Colour: what we store is sRGB with no profile, the colour space every viewer assumes. A photo
//! that carries an ICC profile (iPhones write Display P3; editors write "Generic RGB" and others)
//! has its pixels converted to sRGB with `moxcms` (pure Rust, SIMD); otherwise the same numbers
//! would show darker or duller wherever the profile is not honoured, and after ingest there is no
//! profile left to honour.

use std::panic::{catch_unwind, AssertUnwindSafe};

use moxcms::{ColorProfile, Layout, TransformOptions};

use super::decode::Pixels;

/// Converts RGB pixels from the `icc` profile to sRGB. A profile we cannot read or apply leaves
/// the pixels as they are (the colours may then be slightly off, nothing worse), and says why.
pub(crate) fn to_srgb(img: &mut Pixels, icc: &[u8]) -> Result<(), String> {
    if img.channels != 3 {
        return Ok(()); // grey stays grey
    }
    let convert = || -> Result<Vec<u8>, String> {
        let source = ColorProfile::new_from_slice(icc).map_err(|e| e.to_string())?;
        let transform = source
            .create_transform_8bit(
                Layout::Rgb,
                &ColorProfile::new_srgb(),
                Layout::Rgb,
                TransformOptions::default(),
            )
            .map_err(|e| e.to_string())?;
        let mut out = vec![0; img.data.len()];
        transform
            .transform(&img.data, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    };
    match catch_unwind(AssertUnwindSafe(convert)) {
        Ok(Ok(data)) => {
            img.data = data;
            Ok(())
        }
        Ok(Err(why)) => Err(why),
        Err(_) => Err("the colour converter failed on this profile".into()),
    }
}
