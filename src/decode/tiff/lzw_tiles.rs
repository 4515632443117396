//! LZW-compressed *tiled* TIFFs, as ImageMagick and GDAL write them, decoded tile by tile here.
//!
//! The `tiff` crate (0.11.3) fails on many of them with "no lzw end code found": their tiles'
//! LZW streams end without an End-Of-Information code, and it reads on past the tile's last
//! byte looking for one (image-rs/image-tiff#395; #391 is the open fix). libtiff stops as soon
//! as a tile's bytes are all decoded, and so does this: each tile is decoded with weezl (the
//! `tiff` crate's own LZW decoder, nothing new to build) into a buffer of exactly the tile's
//! size. Only the common layout is taken: 8-bit samples, interleaved (chunky), grey, grey with
//! alpha, RGB or RGBA, no predictor or the horizontal one. Anything else goes to `image`.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer};
use tiff::decoder::Decoder;
use tiff::tags::Tag;
use weezl::{decode::Configuration, BitOrder, LzwStatus};

use super::{corrupt, WithProfile};
use crate::decode::{DecodeError, DecodeOptions};

const HORIZONTAL: u32 = 2;

/// The LZW-compressed TIFF in `bytes` (its header in `decoder`) and its ICC profile, or
/// `Ok(None)` when it is in strips, or tiled in a layout not read here.
pub fn decode(
    bytes: &[u8],
    mut decoder: Decoder<Cursor<&[u8]>>,
    options: &DecodeOptions,
) -> Result<Option<WithProfile>, DecodeError> {
    let mut tag = |tag: Tag| super::tag_u32(&mut decoder, tag);
    let (Some(tile_width), Some(tile_height)) = (tag(Tag::TileWidth), tag(Tag::TileLength)) else {
        return Ok(None);
    };
    let samples = tag(Tag::SamplesPerPixel).unwrap_or(1);
    let photometric = tag(Tag::PhotometricInterpretation);
    let predictor = tag(Tag::Predictor).unwrap_or(1);
    let chunky = tag(Tag::PlanarConfiguration).unwrap_or(1) == 1;
    let layout_ok = matches!((photometric, samples), (Some(1), 1 | 2) | (Some(2), 3 | 4));
    let bits = decoder
        .get_tag_u32_vec(Tag::BitsPerSample)
        .unwrap_or_default();
    if !layout_ok || !chunky || predictor > HORIZONTAL || bits.iter().any(|&b| b != 8) {
        return Ok(None);
    }
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    crate::decode::check_dimensions(width, height, options)?;
    let channels = samples as usize;
    crate::decode::memory::check(u64::from(width) * u64::from(height) * samples as u64)?;
    let offsets = decoder.get_tag_u64_vec(Tag::TileOffsets).map_err(corrupt)?;
    let counts = decoder
        .get_tag_u64_vec(Tag::TileByteCounts)
        .map_err(corrupt)?;
    let icc = decoder.get_tag_u8_vec(Tag::IccProfile).ok();
    let orientation = super::orientation_of(&mut decoder);
    let (w, h) = (width as usize, height as usize);
    let (tw, th) = (tile_width as usize, tile_height as usize);
    // A tile is at most the image rounded up to TIFF's tile unit of 16: a header declaring
    // 65536x65536 tiles for a small image must not get a 12 GB buffer.
    let most = |side: usize| side.next_multiple_of(16).max(16);
    if tw == 0 || th == 0 || tw > most(w) || th > most(h) {
        return Err(DecodeError::Tiff(format!(
            "tiles of {tw}x{th} for a {w}x{h} image"
        )));
    }
    let across = w.div_ceil(tw);
    if offsets.len() < across * h.div_ceil(th) || counts.len() < offsets.len() {
        return Err(DecodeError::Tiff("fewer tiles than the image needs".into()));
    }
    let row_bytes = tw * channels;
    let mut tile = vec![0u8; row_bytes * th];
    let mut pixels = vec![0u8; w * h * channels];
    for (index, (&offset, &count)) in offsets.iter().zip(&counts).enumerate() {
        let (x0, y0) = ((index % across) * tw, (index / across) * th);
        if y0 >= h {
            break;
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
        let data = bytes
            .get(start..end)
            .ok_or_else(|| DecodeError::Tiff(format!("tile {index} lies outside the file")))?;
        let filled = unlzw(data, &mut tile);
        if filled < tile.len() {
            return Err(DecodeError::Corrupt(format!(
                "LZW tile {index} holds {filled} of its {} bytes",
                tile.len()
            )));
        }
        if predictor == HORIZONTAL {
            for row in tile.chunks_exact_mut(row_bytes) {
                for i in channels..row_bytes {
                    row[i] = row[i].wrapping_add(row[i - channels]);
                }
            }
        }
        // The visible part of the tile: edge tiles are padded past the image.
        let visible = (w - x0).min(tw) * channels;
        for y in y0..(y0 + th).min(h) {
            let from = (y - y0) * row_bytes;
            let to = (y * w + x0) * channels;
            pixels[to..to + visible].copy_from_slice(&tile[from..from + visible]);
        }
    }
    let image = match channels {
        1 => ImageBuffer::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        2 => ImageBuffer::from_raw(width, height, pixels).map(DynamicImage::ImageLumaA8),
        3 => ImageBuffer::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8),
        _ => ImageBuffer::from_raw(width, height, pixels).map(DynamicImage::ImageRgba8),
    };
    let mut image = image.expect("sized from the header");
    image.apply_orientation(orientation.unwrap_or(Orientation::NoTransforms));
    Ok(Some((image, icc)))
}

/// Decodes the LZW stream `data` into `out` until `out` is full, the stream ends, or it stops
/// making progress; how many bytes of `out` were filled.
fn unlzw(data: &[u8], out: &mut [u8]) -> usize {
    let mut lzw = Configuration::with_tiff_size_switch(BitOrder::Msb, 8)
        .with_yield_on_full_buffer(true)
        .build();
    let (mut read, mut filled) = (0, 0);
    while filled < out.len() {
        let step = lzw.decode_bytes(&data[read..], &mut out[filled..]);
        read += step.consumed_in;
        filled += step.consumed_out;
        match step.status {
            Ok(LzwStatus::Ok) if step.consumed_in + step.consumed_out > 0 => {}
            _ => break,
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::unlzw;
    use weezl::{encode::Encoder, BitOrder};

    #[test]
    fn a_tile_fills_its_buffer_and_a_cut_one_says_how_far_it_got() {
        let tile: Vec<u8> = (0..768u32).map(|i| (i * 7 % 251) as u8).collect();
        let lzw = Encoder::with_tiff_size_switch(BitOrder::Msb, 8)
            .encode(&tile)
            .unwrap();
        let mut out = vec![0; tile.len()];
        assert_eq!(unlzw(&lzw, &mut out), tile.len());
        assert_eq!(out, tile);
        // (Tiles without an end code: tests/fixtures/tiff/rgb-tiled-lzw.tif.)
        // Cut in half: fewer bytes, no hang, no panic.
        let filled = unlzw(&lzw[..lzw.len() / 2], &mut out);
        assert!(filled > 0 && filled < tile.len(), "{filled}");
    }
}
