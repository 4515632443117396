//! Phase two on the bundled sample photos, in memory: the whole per-image work (decode once,
//! three widths, encode) at 1 thread and at all cores, then decode alone and encode alone.
//! Throughput is input pixels per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use thumbnail_maker::decode::{decode, DecodeOptions, Metadata, Target};
use thumbnail_maker::output::{encode, Encoding, OutputFormat};
use thumbnail_maker::resize::{Size, Thumbnailer};
use thumbnail_maker::samples::SAMPLES;
use thumbnail_maker::{make_thumbnails, ThumbnailSpec};

fn spec() -> ThumbnailSpec {
    ThumbnailSpec::default()
}

fn input_pixels() -> u64 {
    SAMPLES
        .iter()
        .map(|s| {
            let (w, h) = image::ImageReader::new(std::io::Cursor::new(s.bytes))
                .with_guessed_format()
                .expect("readable")
                .into_dimensions()
                .expect("has a size");
            u64::from(w) * u64::from(h)
        })
        .sum()
}

fn phase_two(c: &mut Criterion) {
    let spec = spec();
    let mut group = c.benchmark_group("phase two, 8 samples");
    group.throughput(Throughput::Elements(input_pixels()));
    group.sample_size(20);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    SAMPLES
                        .par_iter()
                        .map_init(Thumbnailer::default, |t, s| {
                            make_thumbnails(s.bytes, &spec, t).expect("sample thumbnails")
                        })
                        .count()
                })
            })
        });
    }
    group.finish();
}

fn decode_alone(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode, 8 samples");
    group.throughput(Throughput::Elements(input_pixels()));
    group.sample_size(20);
    for (name, target) in [
        (
            "shrink-on-load for 200 px",
            Target {
                width: 200,
                height: 0,
            },
        ),
        ("full size", Target::default()),
    ] {
        let options = DecodeOptions {
            target,
            ..DecodeOptions::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                for s in SAMPLES {
                    decode(s.bytes, &options).expect("decodes");
                }
            })
        });
    }
    group.finish();
}

fn encode_alone(c: &mut Criterion) {
    let sample = SAMPLES
        .iter()
        .find(|s| s.name == "picosdeeuropa.jpg")
        .expect("sample");
    let image = image::load_from_memory(sample.bytes).expect("decodes");
    let thumbnails: Vec<_> = [200, 64, 32]
        .iter()
        .map(|&w| {
            Thumbnailer::default()
                .resize_to_size(&image, Size::width(w), None, true)
                .expect("resizes")
        })
        .collect();
    let mut group = c.benchmark_group("encode 200+64+32 px thumbnails");
    for (format, progressive) in [
        (OutputFormat::Jpeg, false),
        (OutputFormat::Jpeg, true),
        (OutputFormat::Png, false),
        (OutputFormat::WebP, false),
    ] {
        let encoding = Encoding {
            format,
            quality: 80,
            progressive,
            background: [255, 255, 255],
        };
        let name = if progressive {
            format!("{format:?} progressive")
        } else {
            format!("{format:?}")
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                for t in &thumbnails {
                    encode(t, &encoding, &Metadata::default()).expect("encodes");
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, phase_two, decode_alone, encode_alone);
criterion_main!(benches);
