//! What a pyramid costs: the chain's plan (decoder and transforms, priced by their own
//! specifications) with its encoder line replaced by the pyramid's, each level priced by
//! [`LevelBuffers`], the layout the cutter allocates from.

use std::fmt;

use super::cutter::LevelBuffers;
use super::levels::Geometry;
use super::store;
use crate::codec::spec::EncoderSpec;
use crate::codec::{EncodeOptions, Format};
use crate::error::{Error, Result};
use crate::plan::{human, Chain, Plan, Recipe, StagePlan, JOB_OVERHEAD};

/// The recipe planned for the rows a pyramid is cut from: the user's chain, planned as if its
/// output were a PNG with default options (its encoder line is then replaced; the tile
/// encoder has its own options).
pub(super) fn rows_recipe(recipe: Recipe) -> Recipe {
    recipe.format(Format::Png).encode_options(EncodeOptions::default())
}

/// A planned pyramid.
#[derive(Debug, Clone)]
pub struct TilePlan {
    /// The chain's plan: input, transforms, their heap (its encoder line is not counted).
    pub chain: Plan,
    /// The pyramid's levels and tiles.
    pub geometry: Geometry,
    /// Tile format.
    pub tile_format: Format,
    /// Tile file suffix.
    pub suffix: String,
    /// Every part: the chain's stages, then each level and the store.
    pub stages: Vec<StagePlan>,
    /// Predicted peak heap, bytes.
    pub heap_bytes: usize,
}

impl TilePlan {
    /// Prices `geometry`'s pyramid after `chain`, tiles encoded by `encoder`, into a ZIP when
    /// `zip` is set; over the chain's budget is [`Error::Limits`].
    pub(super) fn new(chain: Plan, geometry: Geometry, tile_format: Format, suffix: String, encoder: &dyn EncoderSpec, zip: Option<std::path::PathBuf>) -> Result<TilePlan> {
        let format = chain.output.format;
        let mut stages: Vec<StagePlan> = chain.stages.iter().filter(|s| !s.name.ends_with(" encode") && s.name != "file writer").cloned().collect();
        let (cw, ch) = geometry.canvas;
        if geometry.canvas != geometry.image {
            stages.push(StagePlan {
                name: "canvas".into(),
                output: crate::ImageInfo { width: cw, height: ch, format },
                heap_bytes: 2 * format.row_bytes(cw),
                scratch_bytes: 0,
                detail: format!("padded to {cw}x{ch} at {},{}", geometry.offset.0, geometry.offset.1),
            });
        } else {
            stages.push(StagePlan {
                name: "row".into(),
                output: chain.output,
                heap_bytes: format.row_bytes(cw),
                scratch_bytes: 0,
                detail: "the row being cut".into(),
            });
        }
        for (index, level) in geometry.levels.iter().enumerate() {
            let buffers = LevelBuffers::of(&geometry, index, format, encoder, zip.is_some());
            stages.push(StagePlan {
                name: format!("level {}", level.number),
                output: crate::ImageInfo { width: level.width, height: level.height, format },
                heap_bytes: buffers.heap_bytes(),
                scratch_bytes: 0,
                detail: format!("{}x{} tiles, {} encoders", level.tiles_across, level.tiles_down, buffers.columns),
            });
        }
        stages.push(StagePlan {
            name: if zip.is_some() { "zip writer".into() } else { "tile files".into() },
            output: chain.output,
            heap_bytes: store::heap_bytes(zip.is_some()),
            scratch_bytes: 0,
            detail: format!("{} {} tiles", geometry.tiles(), tile_format.name()),
        });
        let heap_bytes = stages.iter().map(|s| s.heap_bytes).sum::<usize>() + JOB_OVERHEAD;
        if heap_bytes > chain.budget.max_memory {
            let biggest = stages.iter().max_by_key(|s| s.heap_bytes).expect("stages");
            return Err(Error::limits(format!(
                "the pyramid needs {} of heap but the budget is {}; the largest part is {} with {} (use smaller tiles or a narrower image)",
                human(heap_bytes as u64),
                human(chain.budget.max_memory as u64),
                biggest.name,
                human(biggest.heap_bytes as u64)
            )));
        }
        Ok(TilePlan { chain, geometry, tile_format, suffix, stages, heap_bytes })
    }

    /// Tiles in the pyramid.
    pub fn tiles(&self) -> u64 {
        self.geometry.tiles()
    }
}

impl fmt::Display for TilePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.geometry;
        writeln!(
            f,
            "pyramid {} {}x{}, {} levels, {} tiles of {} (overlap {}), {} tiles",
            g.layout.name(),
            g.image.0,
            g.image.1,
            g.levels.len(),
            self.tiles(),
            g.tile_size,
            g.overlap,
            self.suffix
        )?;
        for s in &self.stages {
            writeln!(f, "  {:<14} {:>6}x{:<6} {:>11}  {}", s.name, s.output.width, s.output.height, human(s.heap_bytes as u64), s.detail)?;
        }
        write!(f, "predicted peak heap {} (budget {})", human(self.heap_bytes as u64), human(self.chain.budget.max_memory as u64))
    }
}
