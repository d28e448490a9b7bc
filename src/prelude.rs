//! The names a first program needs, in one import: `use stripflow::prelude::*;`.
//!
//! ```no_run
//! use stripflow::prelude::*;
//!
//! let stats = Pipeline::open("photo.jpg")?.auto_orient().resize(256, 256).fit(Fit::Inside).write_to_path("thumb.png")?;
//! println!("{}x{}", stats.output.width, stats.output.height);
//! # Ok::<(), stripflow::Error>(())
//! ```

pub use crate::codec::Format;
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::io::Input;
pub use crate::ops::crop::Gravity;
pub use crate::ops::extend::Margins;
pub use crate::ops::fit::Fit;
pub use crate::ops::orient::Orientation;
pub use crate::ops::resize::Kernel;
pub use crate::pipeline::{BoxedSource, RowSource, StageSpec};
pub use crate::pixel::{ImageInfo, PixelFormat};
pub use crate::plan::{Budget, Chain, Pipeline, Plan, Recipe, RunStats};
