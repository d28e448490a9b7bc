//! Compile a hot loop twice, portable and for AVX2, and pick at run time.
//!
//! The kernels (the JPEG decoder's IDCT, upsampling and colour conversion, the resize box
//! shrink's row sums) are plain loops over lanes that
//! the compiler vectorises. The x86-64 baseline (SSE2) lacks a 32-bit lane multiply and 256-bit
//! registers, so [`avx2_dispatch!`] also compiles each kernel with AVX2 enabled and calls that
//! version when the CPU has it (checked by `is_x86_feature_detected!`, which caches its answer).
//! The two versions compute the same integers (or the same IEEE floats: Rust never fuses or
//! reorders float operations); only the instructions differ. Unit tests can force the portable
//! version on their thread with `FORCE_PORTABLE`.

/// Defines `fn $name(args)` that runs its body compiled for AVX2 when available.
macro_rules! avx2_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn portable($($arg: $ty),*) $body
            #[cfg(all(target_arch = "x86_64", test))]
            if $crate::simd::FORCE_PORTABLE.with(|force| force.get()) {
                return portable($($arg),*);
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked on the line above), which is the
                    // only requirement of a `target_feature(enable = "avx2")` function.
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}

pub(crate) use avx2_dispatch;

#[cfg(test)]
thread_local! {
    /// Tests set this to run the portable version on this thread even where AVX2 is available,
    /// to check that both versions give the same bytes.
    pub(crate) static FORCE_PORTABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether kernels written with AVX2 intrinsics may run: the CPU has AVX2 (and, in unit tests,
/// the thread has not asked for the portable versions).
#[inline]
pub(crate) fn use_avx2() -> bool {
    #[cfg(test)]
    if FORCE_PORTABLE.with(|force| force.get()) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
