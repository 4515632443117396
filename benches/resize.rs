//! Resizing one decoded photo (1600x1200 RGB) to each thumbnail width: fast_image_resize's
//! Lanczos3 (what the tool uses) against `image::imageops` Lanczos3 and against
//! fast_image_resize's other filters, and our Thumbnailer plain and in linear light (--linear).
//! Throughput is source pixels per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;
use thumbnail_maker::resize::{thumbnail_size, Size, Thumbnailer};
use thumbnail_maker::samples::SAMPLES;

fn source() -> DynamicImage {
    let sample = SAMPLES
        .iter()
        .find(|s| s.name == "picosdeeuropa.jpg")
        .expect("bundled sample");
    DynamicImage::ImageRgb8(
        image::load_from_memory(sample.bytes)
            .expect("decodes")
            .to_rgb8(),
    )
}

fn resize(c: &mut Criterion) {
    let src = source();
    let pixels = u64::from(src.width()) * u64::from(src.height());
    for width in [32, 64, 200] {
        let (w, h) = thumbnail_size(src.width(), src.height(), width, true);
        let mut group = c.benchmark_group(format!("resize 1600x1200 to {w}x{h}"));
        group.throughput(Throughput::Elements(pixels));
        group.sample_size(20);
        let filters = [
            (
                "fast_image_resize lanczos3",
                ResizeAlg::Convolution(FilterType::Lanczos3),
            ),
            (
                "fast_image_resize catmull-rom",
                ResizeAlg::Convolution(FilterType::CatmullRom),
            ),
            (
                "fast_image_resize bilinear",
                ResizeAlg::Convolution(FilterType::Bilinear),
            ),
            (
                "fast_image_resize box",
                ResizeAlg::Convolution(FilterType::Box),
            ),
            (
                "fast_image_resize supersampling lanczos3 x2",
                ResizeAlg::SuperSampling(FilterType::Lanczos3, 2),
            ),
        ];
        for (name, alg) in filters {
            let options = ResizeOptions::new().resize_alg(alg);
            let mut resizer = Resizer::new();
            let mut dst = DynamicImage::new(w, h, src.color());
            group.bench_function(name, |b| {
                b.iter(|| resizer.resize(&src, &mut dst, &options).expect("resizes"))
            });
        }
        for (name, linear) in [("thumbnailer", false), ("thumbnailer --linear", true)] {
            let mut thumbnailer = Thumbnailer::new(linear);
            group.bench_function(name, |b| {
                b.iter(|| {
                    thumbnailer
                        .resize_to_size(&src, Size::width(width), None, true)
                        .expect("resizes")
                })
            });
        }
        let rgb = src.to_rgb8();
        group.bench_function("image imageops lanczos3", |b| {
            b.iter(|| image::imageops::resize(&rgb, w, h, image::imageops::FilterType::Lanczos3))
        });
        group.finish();
    }
}

criterion_group!(benches, resize);
criterion_main!(benches);
