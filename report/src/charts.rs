//! The report's SVG charts, drawn with plotters' SVG backend.
//!
//! - `memory_vs_megapixels.svg`: peak memory vs input megapixels (log-log), one line per tool, for
//!   256-wide thumbnails of square RGB PNGs of four sizes;
//! - `heap_vs_height.svg`: the same job on PNGs of one width and growing height;
//! - `heap_vs_scale.svg`: one JPEG resized by factors from 1/8192 to 1, plus the big upscale;
//! - `time_per_job.svg`: median wall time per job and tool (log scale, horizontal bars).
//!
//! Memory lines are each tool's median peak private RSS (anonymous memory: heap, pixel buffers,
//! stacks; sampled), plus for stripflow its dhat peak heap (what the library and CLI allocate) and
//! its full peak RSS, which also counts the pages of its memory-mapped input file. A tool's failed
//! jobs leave gaps.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::jobs::{Job, Series};
use super::peers::Tool;
use super::Results;

/// Chart files, with their titles, in the order the report shows them.
pub const CHARTS: [(&str, &str); 4] = [
    ("memory_vs_megapixels.svg", "Peak memory vs input megapixels (256-wide thumbnail of a square RGB PNG)"),
    ("heap_vs_height.svg", "Peak memory vs image height (256-wide thumbnail of a PNG of fixed width)"),
    ("heap_vs_scale.svg", "Peak memory vs scale factor (one JPEG resized to many widths; the 256x upscale)"),
    ("time_per_job.svg", "Median wall time per job and tool"),
];

/// A colour per tool; stripflow's heap line is a darker red.
fn colour(tool: Option<Tool>) -> RGBColor {
    match tool {
        None => RGBColor(120, 0, 0),
        Some(Tool::Stripflow) => RGBColor(220, 40, 40),
        Some(Tool::Vips) => RGBColor(30, 110, 200),
        Some(Tool::ImageMagick) => RGBColor(130, 60, 170),
        Some(Tool::Djpeg) => RGBColor(120, 120, 120),
        Some(Tool::Pillow) => RGBColor(40, 160, 70),
        Some(Tool::ImageCrate) => RGBColor(230, 140, 20),
    }
}

/// One line of a chart.
struct Line {
    label: String,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// The memory lines (stripflow's dhat heap, then every tool's RSS) over `jobs` with x from `x`.
fn memory_lines(results: &Results, series: Series, x: impl Fn(&Job) -> f64) -> Vec<Line> {
    let mut order: Vec<usize> = (0..results.jobs.len()).filter(|&j| results.jobs[j].series.contains(&series)).collect();
    order.sort_by(|&a, &b| x(&results.jobs[a]).total_cmp(&x(&results.jobs[b])));
    let mut lines: Vec<Line> = vec![Line {
        label: "stripflow peak heap (dhat)".into(),
        colour: colour(None),
        points: order
            .iter()
            .filter_map(|&j| results.dhat[j].as_ref().ok().map(|&b| (x(&results.jobs[j]), b as f64 / 1048576.0)))
            .collect(),
    }];
    lines.retain(|l| !l.points.is_empty());
    for (t, info) in results.tools.iter().enumerate() {
        let point = |j: usize, v: Option<u64>| v.map(|k| (x(&results.jobs[j]), k as f64 / 1024.0));
        let suffix = if info.tool.whole_job() { "" } else { ", decode only" };
        if info.tool == Tool::Stripflow {
            lines.push(Line {
                label: "stripflow peak RSS, incl. the memory-mapped input file".into(),
                colour: RGBColor(250, 150, 150),
                points: order.iter().filter_map(|&j| point(j, results.cells[j][t].rss_kib)).collect(),
            });
        }
        lines.push(Line {
            label: format!("{} peak private RSS{suffix}", info.tool.name()),
            colour: colour(Some(info.tool)),
            points: order.iter().filter_map(|&j| point(j, results.cells[j][t].anon_kib)).collect(),
        });
    }
    lines.retain(|l| !l.points.is_empty());
    lines
}

/// Range of positive values, widened by `pad` (a factor) on both sides of a log axis.
fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for v in values.filter(|v| *v > 0.0 && v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.1, 10.0);
    }
    (lo / pad, hi * pad)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing chart: {e:?}")
}

/// A log-log line chart.
fn line_chart(path: &Path, title: &str, x_desc: &str, y_desc: &str, lines: &[Line]) -> Result<()> {
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1) = log_range(lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)), 1.3);
    let (y0, y1) = log_range(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), 1.0);
    // Whole decades, so the log axis always has labelled powers of ten.
    let (y0, y1) = (10f64.powf(y0.log10().floor()), 10f64.powf((y1.log10() + 1e-9).ceil()));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| short_number(*v))
        .y_label_formatter(&|v| short_number(*v))
        .draw()
        .map_err(err)?;
    for line in lines {
        let style = ShapeStyle::from(&line.colour).stroke_width(2);
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), style))
            .map_err(err)?
            .label(&line.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        chart.draw_series(line.points.iter().map(|&p| Circle::new(p, 3, style.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// 0.0012 -> "0.0012", 1500 -> "1500", 65535 -> "65535", 1/8192 -> "0.00012".
fn short_number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Horizontal bars of median wall time, one group per job, one bar per tool.
fn time_chart(path: &Path, results: &Results) -> Result<()> {
    let tools: Vec<usize> = (0..results.tools.len()).filter(|&t| results.tools[t].missing.is_none()).collect();
    let n = results.jobs.len();
    let height = 120 + n as u32 * (8 * tools.len() as u32 + 10).max(24);
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let walls = results.cells.iter().flat_map(|row| row.iter().filter_map(|c| c.wall));
    let (x0, x1) = log_range(walls, 1.5);
    let labels: Vec<String> = results.jobs.iter().map(|j| j.id.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption("Median wall time per job (log scale; no bar: failed, missing or n/a)", ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(300)
        .build_cartesian_2d((x0..x1).log_scale(), -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    let label_of = move |v: &f64| -> String {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
            labels[n - 1 - i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_labels(n)
        .y_label_formatter(&label_of)
        .x_label_formatter(&|v| short_number(*v))
        .disable_y_mesh()
        .draw()
        .map_err(err)?;
    let slot = 0.8 / tools.len().max(1) as f64;
    for (k, &t) in tools.iter().enumerate() {
        let tool = results.tools[t].tool;
        let style = ShapeStyle::from(&colour(Some(tool))).filled();
        let bars: Vec<Rectangle<(f64, f64)>> = (0..n)
            .filter_map(|j| {
                let wall = results.cells[j][t].wall?;
                let y = (n - 1 - j) as f64 + 0.4 - k as f64 * slot;
                Some(Rectangle::new([(x0, y), (wall, y - slot * 0.9)], style))
            })
            .collect();
        let suffix = if tool.whole_job() { "" } else { " (decode only)" };
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(format!("{}{suffix}", tool.name()))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Draws "no data" on an empty chart so every file exists and says why.
fn empty_chart(path: &Path, title: &str) -> Result<()> {
    let root: DrawingArea<SVGBackend, Shift> = SVGBackend::new(path, (960, 200)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    root.draw(&Text::new(format!("{title}: no successful runs"), (20, 90), ("sans-serif", 20))).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Writes every chart of [`CHARTS`] into `dir`.
pub fn write_all(results: &Results, dir: &Path) -> Result<()> {
    let sets = [
        (Series::Megapixels, "input megapixels (log)", Box::new(|j: &Job| j.input.megapixels()) as Box<dyn Fn(&Job) -> f64>),
        (Series::Height, "image height in pixels (log)", Box::new(|j: &Job| j.input.height as f64)),
        (Series::Scale, "scale factor, output width / input width (log)", Box::new(|j: &Job| j.scale_factor())),
    ];
    for ((series, x_desc, x), (file, title)) in sets.into_iter().zip(CHARTS) {
        let lines = memory_lines(results, series, x);
        let path = dir.join(file);
        if lines.iter().all(|l| l.points.is_empty()) {
            empty_chart(&path, title)?;
        } else {
            line_chart(&path, title, x_desc, "peak memory, MiB (log)", &lines)?;
        }
    }
    let path = dir.join(CHARTS[3].0);
    if results.cells.iter().all(|row| row.iter().all(|c| c.wall.is_none())) {
        empty_chart(&path, CHARTS[3].1)
    } else {
        time_chart(&path, results)
    }
}
