//! The sample photos bundled into the binary, for `demo`, the benchmarks and the tests.
//!
//! Eight small real photographs (credits and licences in assets/samples/SOURCES.md) covering
//! baseline and progressive JPEG, an EXIF-rotated JPEG, a WebP and a PNG. Bundling them is what
//! lets `demo` run on a machine with no internet.

pub struct Sample {
    pub name: &'static str,
    pub bytes: &'static [u8],
}

pub const SAMPLES: &[Sample] = &[
    Sample {
        name: "aitzgorri_rotated.jpg",
        bytes: include_bytes!("../assets/samples/aitzgorri_rotated.jpg"),
    },
    Sample {
        name: "friends.jpg",
        bytes: include_bytes!("../assets/samples/friends.jpg"),
    },
    Sample {
        name: "life.webp",
        bytes: include_bytes!("../assets/samples/life.webp"),
    },
    Sample {
        name: "picosdeeuropa.jpg",
        bytes: include_bytes!("../assets/samples/picosdeeuropa.jpg"),
    },
    Sample {
        name: "picture0b.png",
        bytes: include_bytes!("../assets/samples/picture0b.png"),
    },
    Sample {
        name: "seeding.jpg",
        bytes: include_bytes!("../assets/samples/seeding.jpg"),
    },
    Sample {
        name: "sunset.jpg",
        bytes: include_bytes!("../assets/samples/sunset.jpg"),
    },
    Sample {
        name: "wine.jpg",
        bytes: include_bytes!("../assets/samples/wine.jpg"),
    },
];
