//! AVIF output through rav1e (a pure-Rust AV1 encoder, driven directly) and avif-serialize (the
//! container), behind the `avif` cargo feature.
//!
//! * `codec`: the registry entry; without the feature, AVIF output is an
//!   [`crate::Error::Unsupported`] naming it. AVIF input is unsupported (no decoder yet; a
//!   `decode.rs` can sit beside `encode.rs`).
//! * `encode`: the whole-frame encoder ([`crate::codec::EncoderKind::WholeFrame`]): AV1 needs
//!   the whole frame before it encodes, so the plan prices it and refuses a frame over budget.
//! * `planes`: RGB rows to full-range BT.601 YCbCr, written into rav1e's frame; chroma 4:2:0 by
//!   default (as libvips, libavif and Pillow write), 4:2:2 or 4:4:4 on request (`--subsampling`).
//! * `av1`: rav1e's configuration (ravif 0.13's quality and speed mappings, one change below),
//!   the encode, and the container; its `colr` (nclx) box states sRGB primaries and transfer,
//!   the BT.601 matrix and full range.
//!
//! # Why rav1e directly, not ravif
//!
//! ravif (which stripflow used first) encodes 4:4:4 only, twice the chroma samples of the 4:2:0
//! that libvips (libheif + aom) and Pillow (libavif) write. Its speed tweaks also capped rav1e's
//! partitions at 16x16 for speeds 1 to 8 (and at every speed for the quantizers it calls "high
//! quality", which include the default quality 50); `av1` uses rav1e's own partition ranges
//! (up to 64x64). Measured on the report's job (8192x8192 synthetic JPEG -> 2048 wide, quality
//! 50, effort 4; PSNR in RGB against each tool's own lossless thumbnail, decoded by Pillow 13):
//!
//! | encoder | bytes | RGB PSNR | luma PSNR | CPU (user) |
//! |---|---:|---:|---:|---:|
//! | ravif 4:4:4, 16x16 cap (before) | 46 189 | 38.71 dB | 44.04 dB | ~6.7 s |
//! | rav1e 4:2:0, 16x16 cap | 41 606 | 38.54 dB | 44.04 dB | ~5.5 s |
//! | rav1e 4:2:0, rav1e's partitions (now) | 25 542 | 40.15 dB | 44.64 dB | ~2.2 s |
//! | libvips 8.14 Q=50 effort=4 (aom, 4:2:0) | 22 506 | 39.87 dB | 44.77 dB | ~5 s |
//! | libvips Q=60 | 32 463 | 40.47 dB | 45.09 dB | ~6 s |
//!
//! (CPU times on the shared machine, load 5 to 9, so indicative; bytes and PSNR are exact.)
//!
//! # Why a feature
//!
//! rav1e is a full AV1 video encoder: it adds about 30 crates to the build and minutes of
//! compile time, where the rest of the library is pure streaming code. Measured cold
//! `cargo build --release -p stripflow-cli` (fresh target folder) on the 2-core machine, in CPU
//! time (user + sys; the machine was shared, so wall times say little): 1 min 33 s without AVIF,
//! 4 min 36 s with `avif` (pure Rust: +3 min 3 s for ravif, rav1e and their crates, measured
//! when ravif was still in the tree), 6 min 53 s with `avif-asm` (+5 min 20 s; the assembly and
//! its Rust wrappers add 2 min 17 s). rav1e is most of it: one crate, compiled mostly on one
//! core. Programs that do not write AVIF leave it out; the `stripflow` CLI enables it.
//!
//! `avif-asm` adds rav1e's x86 assembly (built with `nasm`, which must be installed): a
//! 2048x2048 encode at effort 4 took 4.2 s of CPU instead of 16.3 s here through ravif, with the
//! same bytes out (`examples/avif_encode.rs`). The CLI enables it (CI installs nasm); `avif`
//! alone stays pure Rust for builds without nasm.
//!
//! # Threads and tiles
//!
//! rav1e parallelises over tiles with rayon. The encoder builds a rayon pool of
//! [`AvifEncoder::threads`](encode::AvifEncoder::threads) threads per encode (default: what
//! `std::thread::available_parallelism` reports, 2 on the reference machine) and runs rav1e in
//! it with rav1e's own thread setting left at 0, so rav1e uses that pool (`Config::with_threads`
//! would build a pool per context: colour and alpha are encoded at once, `rayon::join`).
//! `tests/avif.rs` counts the threads of the process during an encode. Tiles follow ravif's rule,
//! `min(threads, pixels / min_tile_side²)` (256 at the default quality and effort): the 256-wide
//! thumbnail is one tile, the 2048-wide one two. Tiles cost bytes (2048 wide: 23 190 bytes in
//! one tile, 25 542 in two, 26 578 in four, at about the same PSNR); rav1e has no row
//! multithreading within a tile, so two tiles are what lets the second core help. The output
//! depends on the thread count.
//!
//! # Memory: the design note behind `AvifEncoder::heap_bytes`
//!
//! Measured with dhat (`STRIPFLOW_AVIF_FIT=1 cargo test --release --features avif --test
//! heap_avif` prints the table; rav1e 0.8.1). Peak heap of whole encodes of the synthetic photo,
//! quality 50, in MiB:
//!
//! | frame | rows | effort | threads | bits | chroma | peak | model | model/peak |
//! |---|---|---|---|---|---|---|---|---|
//! | 64x64 | rgb8 | 4 | 2 | 8 | 4:2:0 | 1.76 | 2.26 | 1.28 |
//! | 128x128 | rgb8 | 4 | 2 | 8 | 4:2:0 | 2.02 | 2.66 | 1.32 |
//! | 256x256 | rgb8 | 4 | 2 | 8 | 4:2:0 | 2.81 | 3.75 | 1.34 |
//! | 512x512 | rgb8 | 4 | 2 | 8 | 4:2:0 | 6.53 | 7.04 | 1.08 |
//! | 1024x1024 | rgb8 | 6 | 2 | 8 | 4:2:0 | 15.69 | 18.13 | 1.16 |
//! | 1024x128 | rgb8 | 4 | 2 | 8 | 4:2:0 | 5.11 | 5.82 | 1.14 |
//! | 128x1024 | rgb8 | 4 | 2 | 8 | 4:2:0 | 5.42 | 5.78 | 1.07 |
//! | 512x512 | rgb8 | 4 | 1 | 8 | 4:2:0 | 5.48 | 6.54 | 1.19 |
//! | 512x512 | rgb8 | 0 | 2 | 8 | 4:2:0 | 6.60 | 7.04 | 1.07 |
//! | 256x256 | rgb8 | 9 | 2 | 8 | 4:2:0 | 2.78 | 3.75 | 1.35 |
//! | 512x512 | rgb8 | 9 | 1 | 8 | 4:2:0 | 5.48 | 6.54 | 1.19 |
//! | 512x512 | rgb8 | 4 | 2 | 10 | 4:2:0 | 8.21 | 8.87 | 1.08 |
//! | 512x512 | rgb16 | 4 | 2 | 10 | 4:2:0 | 8.21 | 8.87 | 1.08 |
//! | 512x512 | rgba8 | 4 | 2 | 8 | 4:2:0 | 10.52 | 11.71 | 1.11 |
//! | 512x512 | rgba8 | 4 | 1 | 8 | 4:2:0 | 5.73 | 6.80 | 1.19 |
//! | 512x512 | rgba16 | 4 | 2 | 10 | 4:2:0 | 13.22 | 14.45 | 1.09 |
//! | 256x256 | rgba8 | 9 | 2 | 8 | 4:2:0 | 5.16 | 6.50 | 1.26 |
//! | 300x200 | gray8 | 4 | 2 | 8 | 4:2:0 | 2.75 | 3.68 | 1.34 |
//! | 301x199 | rgb8 | 4 | 2 | 8 | 4:2:0 | 2.86 | 3.68 | 1.29 |
//! | 256x256 | rgb8 | 4 | 2 | 8 | 4:4:4 | 3.57 | 4.73 | 1.32 |
//! | 512x512 | rgb8 | 4 | 2 | 8 | 4:4:4 | 8.36 | 9.52 | 1.14 |
//! | 512x512 | rgb8 | 4 | 1 | 8 | 4:4:4 | 7.48 | 9.02 | 1.21 |
//! | 512x512 | rgb16 | 4 | 2 | 10 | 4:4:4 | 11.38 | 13.61 | 1.20 |
//! | 512x512 | rgba8 | 4 | 2 | 8 | 4:4:4 | 12.07 | 14.19 | 1.18 |
//! | 512x512 | rgb8 | 4 | 2 | 8 | 4:2:2 | 7.19 | 8.17 | 1.14 |
//! | 512x512 | rgba16 | 4 | 2 | 10 | 4:2:2 | 14.21 | 16.70 | 1.18 |
//! | 2048x2048 | rgb8 | 0 | 2 | 8 | 4:2:0 | 54.07 | 58.30 | 1.08 |
//! | 2048x1024 | rgb8 | 0 | 2 | 8 | 4:2:0 | 28.90 | 32.24 | 1.12 |
//! | 1536x1536 | rgb8 | 0 | 1 | 8 | 4:2:0 | 30.98 | 34.71 | 1.12 |
//! | 1536x1536 | rgb8 | 0 | 2 | 8 | 4:2:0 | 32.23 | 35.21 | 1.09 |
//! | 1536x1536 | rgb8 | 0 | 4 | 8 | 4:2:0 | 34.73 | 36.21 | 1.04 |
//! | 1536x1536 | rgb8 | 0 | 2 | 10 | 4:2:0 | 44.93 | 46.47 | 1.03 |
//! | 1536x1536 | rgba8 | 0 | 2 | 8 | 4:2:0 | 51.44 | 56.30 | 1.09 |
//! | 1536x1536 | rgba8 | 0 | 2 | 10 | 4:2:0 | 68.27 | 73.17 | 1.07 |
//! | 4096x256 | rgb8 | 0 | 2 | 8 | 4:2:0 | 17.18 | 22.91 | 1.33 |
//! | 2048x2048 | rgb8 | 0 | 2 | 8 | 4:4:4 | 75.42 | 84.24 | 1.12 |
//! | 1536x1536 | rgb8 | 0 | 2 | 10 | 4:4:4 | 64.21 | 75.82 | 1.18 |
//! | 1536x1536 | rgba8 | 0 | 2 | 8 | 4:4:4 | 60.16 | 71.68 | 1.19 |
//!
//! (The same scenario's peak moves by up to 8% between runs with several threads, as the
//! tiles' work interleaves: 1536x1536 on 4 threads measured 32.2 to 36.4 MiB.)
//!
//! What it shows: the peak is rav1e's, during encoding, and grows with the *padded* frame
//! (each plane is padded by 88 pixels a side, chroma planes by 88 over the decimation, so small
//! frames cost more per pixel): at 8 bits about 11 bytes per padded pixel in 4:2:0 and 15.5 in
//! 4:4:4 (input frame, reconstruction, the CDEF and loop-restoration copies: 1.5 or 3 bytes
//! each; motion statistics for 8 reference slots, 4 bytes; per-4x4-block state, about 2), and
//! 4.5 (4:2:0) to 9 (4:4:4) more at 10 bits (the frame copies in `u16`). An alpha image is a
//! second rav1e context (monochrome), encoded at the same time (`rayon::join`): about 1.5 MiB
//! and 6.5 (8-bit) or 8 (10-bit) bytes per padded pixel more; on one thread the two run one
//! after the other and only the collected alpha plane adds to the colour peak. Effort (rav1e
//! speed) moves the peak by under 4%; threads by about 0.5 MiB each (one tile per thread). The
//! colour planes are written straight into rav1e's frame (no copy of ours).
//!
//! The model (`heap_model` in `encode.rs`): `0.6 MiB + 0.5 MiB x threads + padded x (12 | 14.5 |
//! 17.5)` at 8 bits for 4:2:0, 4:2:2, 4:4:4, `(16 | 21 | 26.5)` at 10, plus `1.5 MiB + (7 | 9) x
//! padded` with alpha (on one thread: the alpha plane), plus our strip; it is at or above every
//! measured peak and at most 1.4x it (`tests/heap_avif.rs` asserts both). So a 2048x2048 RGB
//! output needs about 58 MiB (84 MiB in 4:4:4), and 16000x16000 about 3 GiB (refused under the
//! default 256 MiB budget before any pixel is decoded).

#[cfg(feature = "avif")]
mod av1;
pub mod codec;
#[cfg(feature = "avif")]
pub mod encode;
#[cfg(feature = "avif")]
mod planes;

#[cfg(feature = "avif")]
pub use encode::{AvifBitDepth, AvifEncoder};
