//! Which image each thumbnail is resized from. A convolution's first pass reads every source
//! pixel whatever the target's size, so three widths from one 400 px decode cost three full
//! passes over it. A thumbnail at least `margin` times larger in both directions is as good a
//! source as the decode (the decoder itself stops at that margin: the DCT-scaled image is only
//! `margin` times the widest thumbnail), so smaller sizes are made from it instead: 64 from 200,
//! 32 from 64. The plan depends only on the sizes' geometries, never on which of them a re-run
//! asked for, so a thumbnail made alone has the bytes it has when made with the others.

/// No cascade below this, whatever the decode's margin: Lanczos3 from less than twice the size
/// keeps visibly less detail than from the decode.
pub const MIN_MARGIN: f32 = 2.0;

/// For each thumbnail (by its whole, uncropped resized size), `Some(j)` to resize it from
/// thumbnail `j`'s whole resize, the smallest that is `margin` times its size or more in both
/// directions, or `None` to resize it from the decoded image (`decoded` is its size). An
/// enlarged thumbnail serves none: it holds no detail the decode lacks, and costs more.
pub fn sources(resized: &[(u32, u32)], decoded: (u32, u32), margin: f32) -> Vec<Option<usize>> {
    let margin = f64::from(margin.max(MIN_MARGIN));
    let area = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
    let serves = |big: (u32, u32), small: (u32, u32)| {
        big.0 <= decoded.0
            && big.1 <= decoded.1
            && f64::from(big.0) >= margin * f64::from(small.0)
            && f64::from(big.1) >= margin * f64::from(small.1)
    };
    resized
        .iter()
        .map(|&small| {
            (0..resized.len())
                .filter(|&j| serves(resized[j], small))
                .min_by_key(|&j| (area(resized[j]), j))
        })
        .collect()
}

/// The order to make thumbnails in so that each source comes before what is made from it:
/// largest first (a source is at least twice as large in both directions).
pub fn order(resized: &[(u32, u32)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..resized.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(u64::from(resized[i].0) * u64::from(resized[i].1)));
    order
}

#[cfg(test)]
mod tests {
    use super::{order, sources};

    #[test]
    fn each_size_comes_from_the_smallest_that_keeps_the_margin() {
        // 800x533 at widths 32, 64 and 200: 200 from the decode, 64 from 200, 32 from 64.
        let sizes = [(32, 21), (64, 42), (200, 133)];
        let decoded = (400, 267);
        assert_eq!(sources(&sizes, decoded, 2.0), vec![Some(1), Some(2), None]);
        assert_eq!(order(&sizes), vec![2, 1, 0]);
        // A margin of 4: only 200 is four times 32, and nothing is four times 64.
        assert_eq!(sources(&sizes, decoded, 4.0), vec![Some(2), None, None]);
        // A smaller margin than two is raised to two: 150 is not twice 100.
        assert_eq!(
            sources(&[(100, 66), (150, 100)], decoded, 1.0),
            vec![None, None]
        );
        // Both directions count: a wide crop's resize is not twice as tall.
        assert_eq!(
            sources(&[(50, 50), (300, 90)], decoded, 2.0),
            vec![None, None]
        );
        // A 100x66 image enlarged to 200 px serves nothing: 64 and 32 come from the image,
        // and 32 from 64, which is a reduction.
        assert_eq!(sources(&sizes, (100, 66), 2.0), vec![Some(1), None, None]);
    }
}
