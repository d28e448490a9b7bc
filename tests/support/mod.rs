//! Shared test support: the dhat heap harness and the big-fixture generator.
//!
//! Included by test binaries with `mod support;`. Not every binary uses every item.
#![allow(dead_code)]

pub mod fixtures;
pub mod heap;
pub mod interlaced;
