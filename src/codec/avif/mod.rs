//! AVIF output through ravif (rav1e, a pure-Rust AV1 encoder), behind the `avif` cargo feature.
//!
//! * `codec`: the registry entry; without the feature, AVIF output is an
//!   [`crate::Error::Unsupported`] naming it. AVIF input is unsupported (no decoder yet; a
//!   `decode.rs` can sit beside `encode.rs`).
//! * `encode`: the whole-frame encoder ([`crate::codec::EncoderKind::WholeFrame`]): AV1 needs
//!   the whole frame before it encodes, so the plan prices it and refuses a frame over budget.
//!
//! # Why a feature
//!
//! rav1e is a full AV1 video encoder: it adds about 30 crates to the build and minutes of
//! compile time, where the rest of the library is pure streaming code. Measured cold
//! `cargo build --release -p stripflow-cli` (fresh target folder) on the 2-core machine, in CPU
//! time (user + sys; the machine was shared, so wall times say little): 1 min 33 s without AVIF,
//! 4 min 36 s with `avif` (pure Rust: +3 min 3 s for ravif, rav1e and their crates), 6 min 53 s
//! with `avif-asm` (+5 min 20 s; the assembly and its Rust wrappers add 2 min 17 s). rav1e is
//! most of it: one crate, compiled mostly on one core. Programs that do not write AVIF leave it out; the `stripflow`
//! CLI enables it.
//!
//! `avif-asm` adds rav1e's x86 assembly (built with `nasm`, which must be installed): a
//! 2048x2048 encode at effort 4 takes 4.2 s of CPU instead of 16.3 s here, with the same bytes
//! out (`examples/avif_encode.rs`). The CLI enables it (CI installs nasm); `avif` alone stays
//! pure Rust for builds without nasm.
//!
//! # Threads
//!
//! rav1e parallelises over tiles with rayon. The encoder builds a rayon pool of
//! [`AvifEncoder::threads`](encode::AvifEncoder::threads) threads per encode (default: what
//! `std::thread::available_parallelism` reports, 2 on the reference machine) and runs ravif in
//! it with ravif's thread setting left at `None`, so rav1e uses that pool: ravif's
//! `with_num_threads(Some(n))` would start a pool per rav1e context (colour and alpha are
//! encoded at once, so 2n threads) and join them on rayon's global pool (one thread per core
//! more). `tests/avif.rs` counts the threads of the process during an encode. Tiles follow the
//! threads (ravif: `min(threads, pixels / min_tile_size²)`), so the output depends on the
//! thread count.
//!
//! # Memory: the design note behind `AvifEncoder::heap_bytes`
//!
//! Measured with dhat (`STRIPFLOW_AVIF_FIT=1 cargo test --release --features avif --test
//! heap_avif` prints the table; ravif 0.13, rav1e 0.8.1). Peak heap of whole encodes of the
//! synthetic photo, quality 50:
//!
//! | frame | rows | effort | threads | bits | peak MiB | model MiB | model/peak |
//! |---|---|---|---|---|---|---|---|
//! | 64x64 | rgb8 | 4 | 2 | 8 | 1.98 | 2.56 | 1.29 |
//! | 256x256 | rgb8 | 4 / 9 | 2 | 8 | 3.57 | 4.71 | 1.32 |
//! | 512x512 | rgb8 | 0 / 4 | 2 | 8 | 8.58 / 8.40 | 9.50 | 1.11 / 1.13 |
//! | 512x512 | rgb8 | 4 / 9 | 1 | 8 | 7.47 | 9.00 | 1.20 |
//! | 1024x1024 | rgb8 | 6 | 2 | 8 | 21.32 | 25.63 | 1.20 |
//! | 1024x128, 128x1024 | rgb8 | 4 | 2 | 8 | 6.39, 6.96 | 7.69 | 1.20, 1.11 |
//! | 4096x256 | rgb8 | 0 | 2 | 8 | 23.84 | 32.40 | 1.36 |
//! | 1536x1536 | rgb8 | 0 | 1 / 2 / 4 | 8 | 44.70 / 42.57 / 43.34 | 50.0 / 50.5 / 51.5 | 1.12 / 1.19 / 1.19 |
//! | 2048x1024 | rgb8 | 0 | 2 | 8 | 41.28 | 46.14 | 1.12 |
//! | 2048x2048 | rgb8 | 0 | 2 | 8 | 71.29 | 84.15 | 1.18 |
//! | 512x512 | rgb8 / rgb16 | 4 | 2 | 10 | 11.44 / 11.45 | 13.56 | 1.19 |
//! | 1536x1536 | rgb8 | 0 | 2 | 10 | 68.68 | 75.67 | 1.10 |
//! | 512x512 | rgba8 / rgba16 | 4 | 2 | 8 / 10 | 11.99 / 15.88 | 14.16 / 18.22 | 1.18 / 1.15 |
//! | 512x512 | rgba8 | 4 | 1 | 8 | 7.72 | 9.27 | 1.20 |
//! | 1536x1536 | rgba8 | 0 | 2 | 8 / 10 | 60.28 / 84.90 | 71.58 / 96.74 | 1.19 / 1.14 |
//! | 300x200 | gray8 | 4 | 2 | 8 | 3.46 | 4.61 | 1.33 |
//!
//! What it shows: the peak is rav1e's, during encoding, and grows with the *padded* frame
//! (each plane is padded by 88 pixels a side, so small frames cost more per pixel): about
//! 15 to 17.5 bytes per padded pixel at 8 bits (input frame, reconstruction, the CDEF and
//! loop-restoration copies: 3 bytes each in 4:4:4; motion statistics for 8 reference slots,
//! 4 bytes; per-4x4-block state, about 2) and 9 more at 10 bits (the three frame copies in
//! `u16`). An alpha image is a second rav1e context (monochrome), encoded at the same time
//! (`rayon::join`): about 1.5 MiB and 7 bytes per padded pixel more; on one thread the two run
//! one after the other and only the collected alpha plane adds to the colour peak. Effort (rav1e speed) moves the peak by
//! under 3%; threads by about 0.5 MiB each (one tile per thread). Our collected planes (3 bytes
//! a pixel at 8 bits, 6 at 10; 1 or 2 for alpha) are moved into rav1e's frame and freed before
//! rav1e's peak, so they sit inside the per-pixel figure.
//!
//! The model (`heap_model` in `encode.rs`): `0.6 MiB + 0.5 MiB x threads + padded x (17.5 |
//! 26.5)`, plus `1.5 MiB + 7 x padded` with alpha (on one thread: the alpha plane), plus our strip; it is at or above every
//! measured peak and at most 1.4x it (`tests/heap_avif.rs` asserts both). So a 2048x2048 RGB
//! output needs about 84 MiB, and 16000x16000 about 4.3 GiB (refused under the default
//! 256 MiB budget before any pixel is decoded).

pub mod codec;
#[cfg(feature = "avif")]
pub mod encode;

#[cfg(feature = "avif")]
pub use encode::{AvifBitDepth, AvifEncoder};
