//! The geometry of a pyramid: how many levels, each level's size, its grid of tiles and where
//! each tile lies, by libvips `dzsave`'s rules (8.14, `pyramid_build` and `strip_allocate`):
//!
//! * each level below is `(w + 1) / 2` x `(h + 1) / 2` of the one above (rounded up, so a 5 pixel
//!   wide level becomes 3), and a new level is made while either side exceeds the depth's limit
//!   (1 pixel for `onepixel`, the tile size for `onetile`, the level itself for `one`);
//! * Deep Zoom tiles step by the tile size and grow by the overlap on each side where the image
//!   goes on (a 254/1 pyramid has 255-pixel edge tiles and 256-pixel inner ones); the other layouts
//!   step by `tile size - overlap` and have no margin;
//! * tiles across = ceil(width / step), down likewise; every tile is clipped to its level;
//! * XYZ pads the image (right and bottom, or around it with `centre`) to the size at which every
//!   level is a whole number of tiles: the smallest level rounded up to whole steps plus the
//!   overlap, times 2^(levels - 1).

use crate::error::{Error, Result};

/// How tiles are named and described: the four layouts libvips writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Microsoft Deep Zoom: `NAME.dzi` and `NAME_files/LEVEL/X_Y.jpeg` (level 0 is 1x1).
    DeepZoom,
    /// IIIF Image API 3, a level-0 static tile set: `NAME/info.json` and
    /// `NAME/X,Y,W,H/w,h/0/default.jpg`, regions in full-resolution pixels.
    Iiif,
    /// XYZ ("slippy map"): `NAME/Z/X/Y.jpg`, full tiles padded with the background.
    Xyz,
    /// Zoomify: `NAME/ImageProperties.xml` and `NAME/TileGroupN/L-X-Y.jpg`, 256 tiles a group.
    Zoomify,
}

impl Layout {
    /// The name the CLI takes.
    pub fn name(self) -> &'static str {
        match self {
            Layout::DeepZoom => "deepzoom",
            Layout::Iiif => "iiif",
            Layout::Xyz => "xyz",
            Layout::Zoomify => "zoomify",
        }
    }

    /// Default tile size, as dzsave's: 254 for Deep Zoom, 512 for IIIF, 256 otherwise.
    pub fn default_tile_size(self) -> u32 {
        match self {
            Layout::DeepZoom => 254,
            Layout::Iiif => 512,
            Layout::Xyz | Layout::Zoomify => 256,
        }
    }

    /// Default overlap: 1 for Deep Zoom, 0 otherwise.
    pub fn default_overlap(self) -> u32 {
        if self == Layout::DeepZoom {
            1
        } else {
            0
        }
    }

    /// Default depth: down to one pixel for Deep Zoom, to one tile otherwise.
    pub fn default_depth(self) -> Depth {
        if self == Layout::DeepZoom {
            Depth::OnePixel
        } else {
            Depth::OneTile
        }
    }
}

impl std::str::FromStr for Layout {
    type Err = Error;
    /// Parses `deepzoom` (also `dz`), `iiif` (also `iiif3`), `xyz` (also `google`), `zoomify`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "deepzoom" | "dz" => Ok(Layout::DeepZoom),
            "iiif" | "iiif3" => Ok(Layout::Iiif),
            "xyz" | "google" => Ok(Layout::Xyz),
            "zoomify" => Ok(Layout::Zoomify),
            _ => Err(Error::parameter(format!("layout '{s}' is not deepzoom, iiif, xyz or zoomify"))),
        }
    }
}

/// How deep the pyramid goes (dzsave's `--depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Until the level is 1x1.
    OnePixel,
    /// Until the level fits in one tile.
    OneTile,
    /// Only the full-resolution level.
    One,
}

impl std::str::FromStr for Depth {
    type Err = Error;
    /// Parses `onepixel`, `onetile` or `one`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "onepixel" => Ok(Depth::OnePixel),
            "onetile" => Ok(Depth::OneTile),
            "one" => Ok(Depth::One),
            _ => Err(Error::parameter(format!("depth '{s}' is not onepixel, onetile or one"))),
        }
    }
}

/// One level of the pyramid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// The level's number in tile names: 0 for the smallest.
    pub number: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Tiles across.
    pub tiles_across: u32,
    /// Tiles down.
    pub tiles_down: u32,
    /// Full-resolution pixels per pixel of this level (1, 2, 4, ...).
    pub scale: u32,
}

impl Level {
    /// Number of tiles in this level.
    pub fn tiles(&self) -> u64 {
        self.tiles_across as u64 * self.tiles_down as u64
    }
}

/// A span of pixels `[start, end)` along one axis.
pub type Span = std::ops::Range<u32>;

/// The whole pyramid's geometry, largest level first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// The layout.
    pub layout: Layout,
    /// Tile size (without overlap).
    pub tile_size: u32,
    /// Overlap as given.
    pub overlap: u32,
    /// Pixels added on each side of a tile (Deep Zoom: the overlap; others 0).
    pub margin: u32,
    /// Distance between tile origins.
    pub step: u32,
    /// The image as given (after the chain's transforms).
    pub image: (u32, u32),
    /// The full-resolution level's canvas: the image, or for XYZ the padded size.
    pub canvas: (u32, u32),
    /// Where the image sits on the canvas (top-left), for XYZ padding.
    pub offset: (u32, u32),
    /// The levels, full resolution first.
    pub levels: Vec<Level>,
}

impl Geometry {
    /// The geometry of a `width` x `height` image (checked: a zero size, a zero tile, an overlap
    /// of a tile or more are [`Error::Parameter`]).
    pub fn new(layout: Layout, width: u32, height: u32, tile_size: u32, overlap: u32, depth: Depth, centre: bool) -> Result<Geometry> {
        if width == 0 || height == 0 {
            return Err(Error::parameter("cannot tile an empty image"));
        }
        if !(1..=8192).contains(&tile_size) {
            return Err(Error::parameter(format!("tile size {tile_size} is not 1..=8192")));
        }
        if overlap >= tile_size || overlap > 8192 {
            return Err(Error::parameter(format!("overlap {overlap} must be less than the tile size {tile_size}")));
        }
        if centre && layout != Layout::Xyz {
            return Err(Error::parameter("centre applies to the xyz layout only (as dzsave's --centre in google mode)"));
        }
        let (margin, step) = if layout == Layout::DeepZoom { (overlap, tile_size) } else { (0, tile_size - overlap) };
        let depth = if layout == Layout::Xyz && depth == Depth::OnePixel { Depth::OneTile } else { depth };
        let sizes = level_sizes(width, height, tile_size, depth);
        let (canvas, offset) = if layout == Layout::Xyz {
            let &(w, h) = sizes.last().expect("at least one level");
            let levels_below = sizes.len() as u32 - 1;
            let grow = |side: u32| -> Result<u32> {
                let full = (side.div_ceil(step) as u64 * step as u64 + overlap as u64) << levels_below;
                u32::try_from(full).ok().filter(|&f| f <= 1 << 30).ok_or_else(|| Error::limits("the xyz canvas is too large"))
            };
            let canvas = (grow(w)?, grow(h)?);
            let offset = if centre { ((canvas.0 - width) / 2, (canvas.1 - height) / 2) } else { (0, 0) };
            (canvas, offset)
        } else {
            ((width, height), (0, 0))
        };
        let canvas_sizes = if layout == Layout::Xyz { level_sizes(canvas.0, canvas.1, tile_size, depth) } else { sizes };
        let count = canvas_sizes.len() as u32;
        let levels = canvas_sizes
            .iter()
            .enumerate()
            .map(|(i, &(w, h))| Level {
                number: count - 1 - i as u32,
                width: w,
                height: h,
                tiles_across: w.div_ceil(step),
                tiles_down: h.div_ceil(step),
                scale: 1 << i,
            })
            .collect();
        Ok(Geometry { layout, tile_size, overlap, margin, step, image: (width, height), canvas, offset, levels })
    }

    /// The pixels of tile `index` along an axis `extent` long: `[index * step - margin,
    /// index * step + tile_size + margin)` clipped to `[0, extent)`.
    pub fn span(&self, index: u32, extent: u32) -> Span {
        let origin = index as u64 * self.step as u64;
        let start = origin.saturating_sub(self.margin as u64);
        let end = (origin + self.tile_size as u64 + self.margin as u64).min(extent as u64);
        start as u32..end as u32
    }

    /// Number of tiles in the whole pyramid.
    pub fn tiles(&self) -> u64 {
        self.levels.iter().map(Level::tiles).sum()
    }

    /// The largest tile side (tile size plus both margins).
    pub fn max_tile_side(&self) -> u32 {
        self.tile_size + 2 * self.margin
    }

    /// Rows where consecutive tile rows overlap (held to start the next row of tiles).
    pub fn shared_rows(&self) -> u32 {
        (self.tile_size + 2 * self.margin).saturating_sub(self.step)
    }
}

/// Level sizes from full resolution down, by dzsave's depth rule.
fn level_sizes(mut width: u32, mut height: u32, tile_size: u32, depth: Depth) -> Vec<(u32, u32)> {
    let mut sizes = vec![(width, height)];
    loop {
        let limit = match depth {
            Depth::OnePixel => 1,
            Depth::OneTile => tile_size,
            Depth::One => width.max(height),
        };
        if width <= limit && height <= limit {
            return sizes;
        }
        width = width.div_ceil(2);
        height = height.div_ceil(2);
        sizes.push((width, height));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(g: &Geometry) -> Vec<(u32, u32, u32, u32)> {
        g.levels.iter().map(|l| (l.width, l.height, l.tiles_across, l.tiles_down)).collect()
    }

    #[test]
    fn deepzoom_1000x700_as_vips() {
        // vips dzsave c.png dz (8.14): levels 0..=10, 12 tiles at 10, 4 at 9, 1 below.
        let g = Geometry::new(Layout::DeepZoom, 1000, 700, 254, 1, Depth::OnePixel, false).unwrap();
        assert_eq!(g.levels.len(), 11);
        assert_eq!(g.levels[0].number, 10);
        assert_eq!(sizes(&g)[..3], [(1000, 700, 4, 3), (500, 350, 2, 2), (250, 175, 1, 1)]);
        assert_eq!(g.levels.last().unwrap().width, 1);
        assert_eq!(g.tiles(), 12 + 4 + 9);
        // Edge tiles 255, inner 256, the last column 239 wide and the last row 193 tall.
        assert_eq!(g.span(0, 1000), 0..255);
        assert_eq!(g.span(1, 1000), 253..509);
        assert_eq!(g.span(3, 1000), 761..1000);
        assert_eq!(g.span(2, 700), 507..700);
        assert_eq!(g.shared_rows(), 2);
    }

    #[test]
    fn deepzoom_16384_has_5730_tiles() {
        // vips dzsave on 16384x16384: 15 levels, 5,730 tiles (the issue counted 5,731 files: the
        // tiles and vips-properties.xml).
        let g = Geometry::new(Layout::DeepZoom, 16384, 16384, 254, 1, Depth::OnePixel, false).unwrap();
        assert_eq!(g.levels.len(), 15);
        assert_eq!(g.tiles(), 5730);
    }

    #[test]
    fn odd_sizes_round_up() {
        let g = Geometry::new(Layout::DeepZoom, 5, 3, 254, 1, Depth::OnePixel, false).unwrap();
        let dims: Vec<_> = g.levels.iter().map(|l| (l.width, l.height)).collect();
        assert_eq!(dims, [(5, 3), (3, 2), (2, 1), (1, 1)]);
    }

    #[test]
    fn zoomify_1000x700_as_vips() {
        // vips dzsave --layout zoomify: 3 levels, NUMTILES 17.
        let g = Geometry::new(Layout::Zoomify, 1000, 700, 256, 0, Depth::OneTile, false).unwrap();
        assert_eq!(sizes(&g), [(1000, 700, 4, 3), (500, 350, 2, 2), (250, 175, 1, 1)]);
        assert_eq!(g.tiles(), 17);
        assert_eq!(g.span(3, 1000), 768..1000);
    }

    #[test]
    fn iiif_1000x700_as_vips() {
        // vips dzsave --layout iiif3: 512 tiles, 2 levels, 4 + 1 tiles.
        let g = Geometry::new(Layout::Iiif, 1000, 700, 512, 0, Depth::OneTile, false).unwrap();
        assert_eq!(sizes(&g), [(1000, 700, 2, 2), (500, 350, 1, 1)]);
    }

    #[test]
    fn xyz_pads_to_whole_tiles() {
        // vips dzsave --layout google: 1000x700 becomes 1024x1024, levels 1x1, 2x2, 4x4 tiles.
        let g = Geometry::new(Layout::Xyz, 1000, 700, 256, 0, Depth::OneTile, false).unwrap();
        assert_eq!(g.canvas, (1024, 1024));
        assert_eq!(sizes(&g), [(1024, 1024, 4, 4), (512, 512, 2, 2), (256, 256, 1, 1)]);
        let centred = Geometry::new(Layout::Xyz, 1000, 700, 256, 0, Depth::OneTile, true).unwrap();
        assert_eq!(centred.offset, (12, 162));
    }

    #[test]
    fn depth_one_and_onetile() {
        let one = Geometry::new(Layout::DeepZoom, 1000, 700, 254, 1, Depth::One, false).unwrap();
        assert_eq!(one.levels.len(), 1);
        let tile = Geometry::new(Layout::DeepZoom, 1000, 700, 254, 1, Depth::OneTile, false).unwrap();
        assert_eq!(tile.levels.len(), 3);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Geometry::new(Layout::DeepZoom, 10, 10, 4, 4, Depth::OnePixel, false).is_err());
        assert!(Geometry::new(Layout::DeepZoom, 0, 10, 4, 1, Depth::OnePixel, false).is_err());
        assert!(Geometry::new(Layout::DeepZoom, 10, 10, 0, 0, Depth::OnePixel, false).is_err());
        assert!(Geometry::new(Layout::DeepZoom, 10, 10, 8, 1, Depth::OnePixel, true).is_err());
    }
}
