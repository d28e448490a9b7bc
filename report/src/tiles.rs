//! The pyramid group (issue 14): Deep Zoom pyramids cut by `stripflow tiles` against
//! `vips dzsave`, both with their defaults (254-pixel JPEG tiles at quality 75, overlap 1, down
//! to 1x1), on the three inputs of the issue: a 16384x16384 baseline JPEG, the same as a
//! progressive JPEG, and an 8192x8192 PNG (a quarter of each side with `--quick`).
//!
//! Each run is timed through the report's launcher (wall time, peak RSS); runs alternate between
//! the tools and the median is reported. After the last run the two trees are compared: the
//! same tile paths (dzsave's `vips-properties.xml` aside), each tile the same size (read from
//! its header), and the PSNR of our tiles against vips' per level (every tile of a level with
//! fewer than [`PSNR_EVERY`] tiles, else every [`PSNR_EVERY`]th), decoded by the image crate.
//! Written to `tiles.md`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::inputs::{ensure_all, InputKind, InputSpec};
use super::jobs::Preset;
use super::peers::{on_path, stripflow_exe};
use super::runner::{measured, Measurement};

/// Tiles of a level compared for PSNR: every one of a small level, every `PSNR_EVERY`th of a
/// larger one.
pub const PSNR_EVERY: usize = 7;

/// The file dzsave writes into the `_files` folder that is not a tile.
const VIPS_PROPERTIES: &str = "vips-properties.xml";

/// The inputs of the group at `preset`'s sizes.
pub fn inputs(preset: Preset) -> Vec<InputSpec> {
    let (base, big, _) = preset.sizes();
    let sq = |kind, side| InputSpec { kind, width: side, height: side };
    vec![sq(InputKind::Jpeg, big), sq(InputKind::ProgressiveJpeg, big), sq(InputKind::PngRgb, base)]
}

/// How two pyramids compare.
#[derive(Debug, Clone, Default)]
pub struct TreeComparison {
    /// Tiles in our tree.
    pub ours: usize,
    /// Tiles in vips' tree (its properties file aside).
    pub theirs: usize,
    /// Paths in one tree only (the first few).
    pub only_one: Vec<String>,
    /// Tiles of a different size (the first few).
    pub size_mismatches: Vec<String>,
    /// Level number -> (tiles compared, lowest PSNR, mean PSNR) in dB.
    pub psnr: BTreeMap<u32, (usize, f64, f64)>,
}

impl TreeComparison {
    /// Whether the trees have the same tiles of the same sizes.
    pub fn same_tree(&self) -> bool {
        self.ours == self.theirs && self.only_one.is_empty() && self.size_mismatches.is_empty()
    }
}

/// Relative paths of every file under `root`, sorted.
fn files_under(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root)?.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// PSNR of two 8-bit RGB images of the same size, dB (capped at 99 for identical ones).
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
    let mse = sum / a.len().max(1) as f64;
    if mse == 0.0 {
        99.0
    } else {
        (10.0 * (255.0 * 255.0 / mse).log10()).min(99.0)
    }
}

/// Compares the `_files` folders `ours` and `theirs`.
pub fn compare_trees(ours: &Path, theirs: &Path) -> Result<TreeComparison> {
    let a = files_under(ours)?;
    let b: Vec<String> = files_under(theirs)?.into_iter().filter(|p| p != VIPS_PROPERTIES).collect();
    let mut cmp = TreeComparison { ours: a.len(), theirs: b.len(), ..Default::default() };
    let in_b: std::collections::HashSet<&String> = b.iter().collect();
    let in_a: std::collections::HashSet<&String> = a.iter().collect();
    cmp.only_one = a.iter().filter(|p| !in_b.contains(p)).chain(b.iter().filter(|p| !in_a.contains(p))).take(5).cloned().collect();
    let mut per_level: BTreeMap<u32, Vec<&String>> = BTreeMap::new();
    for path in a.iter().filter(|p| in_b.contains(p)) {
        let level = path.split('/').next().and_then(|l| l.parse().ok()).context("a tile outside a level folder")?;
        per_level.entry(level).or_default().push(path);
    }
    for (level, paths) in per_level {
        let step = if paths.len() < PSNR_EVERY { 1 } else { PSNR_EVERY };
        let mut values = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let (pa, pb) = (ours.join(path), theirs.join(path));
            let (sa, sb) = (image::image_dimensions(&pa)?, image::image_dimensions(&pb)?);
            if sa != sb {
                if cmp.size_mismatches.len() < 5 {
                    cmp.size_mismatches.push(format!("{path}: {}x{} vs {}x{}", sa.0, sa.1, sb.0, sb.1));
                }
                continue;
            }
            if i % step == 0 {
                let (da, db) = (image::open(&pa)?.to_rgb8(), image::open(&pb)?.to_rgb8());
                values.push(psnr(da.as_raw(), db.as_raw()));
            }
        }
        if !values.is_empty() {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            cmp.psnr.insert(level, (values.len(), min, mean));
        }
    }
    Ok(cmp)
}

/// One input's runs and comparison.
struct Row {
    input: InputSpec,
    ours: Vec<Measurement>,
    vips: Vec<Measurement>,
    comparison: Option<TreeComparison>,
}

/// Median of the successful runs' (wall seconds, peak RSS KiB), if any succeeded.
fn medians(runs: &[Measurement]) -> Option<(f64, u64)> {
    let mut walls: Vec<f64> = runs.iter().filter(|m| m.ok).map(|m| m.wall).collect();
    let mut rss: Vec<u64> = runs.iter().filter(|m| m.ok).map(|m| m.rss_kib).collect();
    if walls.is_empty() {
        return None;
    }
    walls.sort_by(f64::total_cmp);
    rss.sort_unstable();
    Some((walls[walls.len() / 2], rss[rss.len() / 2]))
}

/// Runs the group: `runs` runs of each tool per input, alternating, then writes `tiles.md`
/// into `out_dir`.
pub fn run(exe: &Path, cache: &Path, out_dir: &Path, preset: Preset, runs: usize, timeout: u64) -> Result<()> {
    let Some(vips) = on_path("vips") else { bail!("the pyramid group needs libvips' `vips` (apt-get install libvips-tools)") };
    let specs = inputs(preset);
    let paths = ensure_all(&specs, cache)?;
    let stripflow = stripflow_exe(exe);
    let work = tempfile::Builder::new().prefix("pyramids-").tempdir_in(cache)?;
    let mut rows = Vec::new();
    for spec in specs {
        let input = paths[&spec.file_name()].clone();
        let (ours_base, vips_base) = (work.path().join("ours"), work.path().join("vips"));
        let mut row = Row { input: spec.clone(), ours: Vec::new(), vips: Vec::new(), comparison: None };
        for run in 0..runs {
            for (base, tool) in [(&ours_base, "stripflow"), (&vips_base, "vips")] {
                remove_pyramid(base)?;
                let argv: Vec<OsString> = if tool == "stripflow" {
                    vec![stripflow.clone().into(), "tiles".into(), input.clone().into(), base.clone().into(), "--no-viewer".into()]
                } else {
                    vec![vips.clone().into(), "dzsave".into(), input.clone().into(), base.clone().into()]
                };
                let m = measured(exe, &argv, &[], timeout)?;
                eprintln!("report: pyramid {} {tool} run {}: {:.2} s, {} KiB{}", spec.stem(), run + 1, m.wall, m.rss_kib, m.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default());
                if tool == "stripflow" { row.ours.push(m) } else { row.vips.push(m) }
            }
        }
        if row.ours.iter().any(|m| m.ok) && row.vips.iter().any(|m| m.ok) {
            row.comparison = Some(compare_trees(&files_of(&ours_base), &files_of(&vips_base))?);
        }
        remove_pyramid(&ours_base)?;
        remove_pyramid(&vips_base)?;
        rows.push(row);
    }
    let text = markdown(&rows, preset, runs);
    let path = out_dir.join("tiles.md");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("report: wrote {}", path.display());
    Ok(())
}

/// A Deep Zoom pyramid's `_files` folder for the base path `base`.
fn files_of(base: &Path) -> PathBuf {
    base.with_file_name(format!("{}_files", base.file_name().and_then(|n| n.to_str()).unwrap_or("")))
}

/// Removes a Deep Zoom pyramid at `base` (its `.dzi` and `_files`), if any.
fn remove_pyramid(base: &Path) -> Result<()> {
    let dzi = base.with_extension("dzi");
    if dzi.exists() {
        std::fs::remove_file(&dzi)?;
    }
    let files = files_of(base);
    if files.exists() {
        std::fs::remove_dir_all(&files)?;
    }
    Ok(())
}

/// The group's page.
fn markdown(rows: &[Row], preset: Preset, runs: usize) -> String {
    let mut s = String::from("# Tile pyramids: `stripflow tiles` against `vips dzsave`\n\n");
    s.push_str(&format!(
        "Deep Zoom, both tools' defaults (254-pixel JPEG tiles at quality 75, overlap 1, down to 1x1); preset `{}`, medians of {runs} run(s) per tool, runs alternating. Time is wall time of the whole process, RSS its peak resident set (`ru_maxrss`). Written by `stripflow-report --tiles`.\n\n",
        preset.name()
    ));
    s.push_str("| input | stripflow | vips dzsave | time ratio | RSS ratio | tiles (ours / vips) | same tree |\n|---|---|---|---:|---:|---|---|\n");
    for row in rows {
        let (ours, vips) = (medians(&row.ours), medians(&row.vips));
        let cell = |m: Option<(f64, u64)>, runs: &[Measurement]| match m {
            Some((wall, rss)) => format!("{wall:.2} s, {:.1} MiB", rss as f64 / 1024.0),
            None => format!("failed: {}", runs.iter().find_map(|m| m.error.clone()).unwrap_or_default()),
        };
        let (time_ratio, rss_ratio) = match (ours, vips) {
            (Some(a), Some(b)) => (format!("{:.2}x", a.0 / b.0), format!("{:.3}x", a.1 as f64 / b.1 as f64)),
            _ => ("-".into(), "-".into()),
        };
        let (tiles, same) = match &row.comparison {
            Some(c) => (format!("{} / {}", c.ours, c.theirs), if c.same_tree() { "yes".to_string() } else { format!("NO: {}", c.only_one.iter().chain(&c.size_mismatches).cloned().collect::<Vec<_>>().join("; ")) }),
            None => ("-".into(), "-".into()),
        };
        s.push_str(&format!("| {} | {} | {} | {time_ratio} | {rss_ratio} | {tiles} | {same} |\n", row.input.label(), cell(ours, &row.ours), cell(vips, &row.vips)));
    }
    s.push_str(&format!(
        "\n## Tiles against vips' tiles\n\nPSNR of our tiles against vips' (RGB, decoded by the image crate), per level: every tile of a level with fewer than {PSNR_EVERY} tiles, else every {PSNR_EVERY}th. The two JPEG encoders differ (ours and libjpeg-turbo at the same quality and tables), and lower levels are each tool's own 2x box reduction of its own level above, so agreement is that of two JPEG encodings of the same pixels, not bit identity.\n\n"
    ));
    for row in rows {
        let Some(c) = &row.comparison else { continue };
        s.push_str(&format!("**{}**\n\n| level | tiles compared | lowest PSNR | mean PSNR |\n|---:|---:|---:|---:|\n", row.input.label()));
        for (level, (n, min, mean)) in c.psnr.iter().rev() {
            s.push_str(&format!("| {level} | {n} | {min:.1} dB | {mean:.1} dB |\n"));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_of_identical_and_different_images() {
        assert_eq!(psnr(&[1, 2, 3], &[1, 2, 3]), 99.0);
        let a = vec![100u8; 300];
        let b = vec![110u8; 300];
        assert!((psnr(&a, &b) - 10.0 * (65025.0f64 / 100.0).log10()).abs() < 1e-9);
    }

    #[test]
    fn trees_that_differ_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for (root, extra) in [(&a, None), (&b, Some("1/extra.png"))] {
            std::fs::create_dir_all(root.join("0")).unwrap();
            std::fs::create_dir_all(root.join("1")).unwrap();
            image::RgbImage::from_pixel(3, 2, image::Rgb([9, 9, 9])).save(root.join("0/0_0.png")).unwrap();
            image::RgbImage::from_pixel(5, 4, image::Rgb([9, 9, 9])).save(root.join("1/0_0.png")).unwrap();
            if let Some(extra) = extra {
                image::RgbImage::from_pixel(5, 4, image::Rgb([9, 9, 9])).save(root.join(extra)).unwrap();
            }
        }
        std::fs::write(b.join(VIPS_PROPERTIES), "x").unwrap();
        let c = compare_trees(&a, &b).unwrap();
        assert!(!c.same_tree());
        assert_eq!(c.only_one, vec!["1/extra.png".to_string()]);
        std::fs::remove_file(b.join("1/extra.png")).unwrap();
        let c = compare_trees(&a, &b).unwrap();
        assert!(c.same_tree());
        assert_eq!(c.psnr[&0], (1, 99.0, 99.0));
    }
}
