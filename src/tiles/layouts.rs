//! Names and description files of the four layouts, as libvips' dzsave writes them (8.14,
//! `tile_name`, `write_dzi`, `write_properties`, `write_json`):
//!
//! * Deep Zoom: `NAME.dzi` and `NAME_files/N/X_Y.SUFFIX`, N = 0 for the 1x1 level;
//! * Zoomify: `NAME/ImageProperties.xml` and `NAME/TileGroupG/N-X-Y.SUFFIX`, tiles numbered from
//!   the smallest level, row by row, 256 to a group;
//! * XYZ: `NAME/Z/X/Y.SUFFIX` (dzsave's google layout names them `Z/Y/X`; XYZ map viewers such
//!   as Leaflet and OpenLayers ask for `{z}/{x}/{y}`), plus `NAME/blank.png`;
//! * IIIF Image API 3 level 0: `NAME/info.json` and
//!   `NAME/LEFT,TOP,WIDTH,HEIGHT/W,H/0/default.SUFFIX`, the region in full-resolution pixels, or
//!   `full` for a tile that covers the whole image (the canonical form, which viewers request;
//!   dzsave 8.14 writes `0,0,W,H` there). `scaleFactors` lists every level (dzsave 8.14 lists one
//!   fewer).

use super::levels::{Geometry, Layout};

/// How the pyramid's files are named.
#[derive(Debug, Clone)]
pub struct Naming {
    /// The pyramid's name (the output's file name without extension).
    pub name: String,
    /// Tile file suffix with its dot (`.jpeg`).
    pub suffix: String,
    /// Tiles in the levels smaller than each level (Zoomify's numbering), largest level first.
    tiles_below: Vec<u64>,
}

impl Naming {
    /// Names for `geometry`'s pyramid called `name` with tiles ending in `suffix`.
    pub fn new(geometry: &Geometry, name: &str, suffix: &str) -> Naming {
        let mut tiles_below = vec![0; geometry.levels.len()];
        let mut sum = 0;
        for (i, level) in geometry.levels.iter().enumerate().rev() {
            tiles_below[i] = sum;
            sum += level.tiles();
        }
        Naming { name: name.to_string(), suffix: suffix.to_string(), tiles_below }
    }

    /// The top-level entries the pyramid creates beside each other (for the directory store).
    pub fn roots(&self, layout: Layout, viewer: bool) -> Vec<String> {
        let mut roots = match layout {
            Layout::DeepZoom => vec![format!("{}.dzi", self.name), format!("{}_files", self.name)],
            _ => vec![self.name.clone()],
        };
        if viewer {
            roots.push(format!("{}.html", self.name));
        }
        roots
    }

    /// The path of tile (`x`, `y`) of level `index` (0 = full resolution).
    pub fn tile_path(&self, geometry: &Geometry, index: usize, x: u32, y: u32) -> String {
        let level = &geometry.levels[index];
        let (name, suffix, n) = (&self.name, &self.suffix, level.number);
        match geometry.layout {
            Layout::DeepZoom => format!("{name}_files/{n}/{x}_{y}{suffix}"),
            Layout::Zoomify => {
                let number = self.tiles_below[index] + y as u64 * level.tiles_across as u64 + x as u64;
                format!("{name}/TileGroup{}/{n}-{x}-{y}{suffix}", number / 256)
            }
            Layout::Xyz => format!("{name}/{n}/{x}/{y}{suffix}"),
            Layout::Iiif => {
                let (full_w, full_h) = geometry.image;
                let (t, s) = (geometry.tile_size as u64, level.scale as u64);
                let left = x as u64 * t * s;
                let top = y as u64 * t * s;
                let width = (t * s).min(full_w as u64 - left);
                let height = (t * s).min(full_h as u64 - top);
                let w = t.min(level.width as u64 - x as u64 * t);
                let h = t.min(level.height as u64 - y as u64 * t);
                // The canonical region of a tile that covers the whole image is `full` (Image API
                // 3, 4.1: clients such as OpenSeadragon ask for that name; dzsave 8.14 writes
                // `0,0,W,H`, which a level 0 server cannot map to it).
                if left == 0 && top == 0 && width == full_w as u64 && height == full_h as u64 {
                    format!("{name}/full/{w},{h}/0/default{suffix}")
                } else {
                    format!("{name}/{left},{top},{width},{height}/{w},{h}/0/default{suffix}")
                }
            }
        }
    }

    /// The layout's description file: its path and contents. `id` is the IIIF base URI.
    pub fn description(&self, geometry: &Geometry, id: &str) -> (String, String) {
        let (width, height) = geometry.image;
        let name = &self.name;
        match geometry.layout {
            Layout::DeepZoom => (
                format!("{name}.dzi"),
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"\n  Format=\"{}\"\n  Overlap=\"{}\"\n  TileSize=\"{}\"\n  >\n  <Size \n    Height=\"{height}\"\n    Width=\"{width}\"\n  />\n</Image>\n",
                    self.suffix.trim_start_matches('.'),
                    geometry.overlap,
                    geometry.tile_size
                ),
            ),
            Layout::Zoomify => (
                format!("{name}/ImageProperties.xml"),
                format!(
                    "<IMAGE_PROPERTIES WIDTH=\"{width}\" HEIGHT=\"{height}\" NUMTILES=\"{}\" NUMIMAGES=\"1\" VERSION=\"1.8\" TILESIZE=\"{}\" />\n",
                    geometry.tiles(),
                    geometry.tile_size
                ),
            ),
            Layout::Iiif => {
                let factors: Vec<String> = geometry.levels.iter().map(|l| l.scale.to_string()).collect();
                (
                    format!("{name}/info.json"),
                    format!(
                        "{{\n  \"@context\": \"http://iiif.io/api/image/3/context.json\",\n  \"id\": \"{}/{}\",\n  \"type\": \"ImageService3\",\n  \"protocol\": \"http://iiif.io/api/image\",\n  \"profile\": \"level0\",\n  \"width\": {width},\n  \"height\": {height},\n  \"tiles\": [\n    {{ \"width\": {}, \"height\": {}, \"scaleFactors\": [ {} ] }}\n  ],\n  \"preferredFormats\": [ \"{}\" ]\n}}\n",
                        json_escape(id.trim_end_matches('/')),
                        json_escape(name),
                        geometry.tile_size,
                        geometry.tile_size,
                        factors.join(", "),
                        self.suffix.trim_start_matches('.'),
                    ),
                )
            }
            Layout::Xyz => (
                format!("{name}/tiles.json"),
                format!(
                    "{{\n  \"tilejson\": \"3.0.0\",\n  \"tiles\": [ \"{{z}}/{{x}}/{{y}}{}\" ],\n  \"minzoom\": 0,\n  \"maxzoom\": {},\n  \"tileSize\": {},\n  \"width\": {}, \"height\": {}, \"imageWidth\": {width}, \"imageHeight\": {height}\n}}\n",
                    self.suffix,
                    geometry.levels.len() - 1,
                    geometry.tile_size,
                    geometry.canvas.0,
                    geometry.canvas.1,
                ),
            ),
        }
    }
}

/// `text` with JSON's special characters escaped.
pub fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiles::levels::Depth;

    #[test]
    fn deepzoom_names_and_dzi_as_vips() {
        let g = Geometry::new(Layout::DeepZoom, 1000, 700, 254, 1, Depth::OnePixel, false).unwrap();
        let n = Naming::new(&g, "dz", ".jpeg");
        assert_eq!(n.tile_path(&g, 0, 3, 2), "dz_files/10/3_2.jpeg");
        assert_eq!(n.tile_path(&g, 10, 0, 0), "dz_files/0/0_0.jpeg");
        let (path, dzi) = n.description(&g, "");
        assert_eq!(path, "dz.dzi");
        // Byte for byte what vips 8.14 wrote for a 1000x700 image.
        assert_eq!(dzi, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"\n  Format=\"jpeg\"\n  Overlap=\"1\"\n  TileSize=\"254\"\n  >\n  <Size \n    Height=\"700\"\n    Width=\"1000\"\n  />\n</Image>\n");
    }

    #[test]
    fn zoomify_groups_count_from_the_smallest_level() {
        let g = Geometry::new(Layout::Zoomify, 1000, 700, 256, 0, Depth::OneTile, false).unwrap();
        let n = Naming::new(&g, "zf", ".jpg");
        assert_eq!(n.tile_path(&g, 2, 0, 0), "zf/TileGroup0/0-0-0.jpg");
        assert_eq!(n.tile_path(&g, 0, 3, 2), "zf/TileGroup0/2-3-2.jpg");
        assert!(n.description(&g, "").1.contains("NUMTILES=\"17\""));
        // 300 tiles in the smallest levels push the big level's later tiles into group 1.
        let big = Geometry::new(Layout::Zoomify, 8000, 8000, 256, 0, Depth::OneTile, false).unwrap();
        let nb = Naming::new(&big, "b", ".jpg");
        let below: u64 = big.levels[1..].iter().map(|l| l.tiles()).sum();
        assert_eq!(below, 1 + 4 + 16 + 64 + 256);
        assert_eq!(nb.tile_path(&big, 0, 0, 0), format!("b/TileGroup{}/5-0-0.jpg", below / 256));
    }

    #[test]
    fn iiif_regions_in_full_resolution_pixels_as_vips() {
        let g = Geometry::new(Layout::Iiif, 1000, 700, 512, 0, Depth::OneTile, false).unwrap();
        let n = Naming::new(&g, "i3", ".jpg");
        assert_eq!(n.tile_path(&g, 0, 1, 1), "i3/512,512,488,188/488,188/0/default.jpg");
        assert_eq!(n.tile_path(&g, 1, 0, 0), "i3/full/500,350/0/default.jpg");
        let (path, info) = n.description(&g, "https://example.com/iiif");
        assert_eq!(path, "i3/info.json");
        assert!(info.contains("\"id\": \"https://example.com/iiif/i3\""));
        assert!(info.contains("\"scaleFactors\": [ 1, 2 ]"));
        assert!(info.contains("\"type\": \"ImageService3\""));
    }

    #[test]
    fn xyz_names_z_x_y() {
        let g = Geometry::new(Layout::Xyz, 1000, 700, 256, 0, Depth::OneTile, false).unwrap();
        let n = Naming::new(&g, "m", ".png");
        assert_eq!(n.tile_path(&g, 0, 3, 1), "m/2/3/1.png");
        assert_eq!(n.tile_path(&g, 2, 0, 0), "m/0/0/0.png");
    }
}
