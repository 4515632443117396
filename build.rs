//! Tells the code whether the libjpeg-turbo it links has SIMD (nasm was found when mozjpeg-sys
//! built it): the JPEG scale rule moves up to a scale with a vector IDCT only when there is one.
//! mozjpeg-sys passes its include folders (`links = "jpeg"`); its generated `jconfig.h` says
//! `#define WITH_SIMD 1` when SIMD is in.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(jpeg_simd)");
    println!("cargo::rerun-if-env-changed=DEP_JPEG_INCLUDE");
    let include = std::env::var_os("DEP_JPEG_INCLUDE").unwrap_or_default();
    let simd = std::env::split_paths(&include).any(|dir| {
        std::fs::read_to_string(dir.join("jconfig.h"))
            .is_ok_and(|text| text.lines().any(|l| l.trim() == "#define WITH_SIMD 1"))
    });
    if simd {
        println!("cargo::rustc-cfg=jpeg_simd");
    }
}
