//! Transform stages: each wraps the stage before it and is itself a [`crate::RowSource`].

pub mod convert;
pub mod colour;
pub mod crop;
pub mod extend;
pub mod extract;
pub mod fit;
pub mod orient;
pub mod pad;
pub mod resize;
