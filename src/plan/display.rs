//! How a [`Plan`] shows itself: a table for people (`Display`) and one line of JSON.

use std::fmt;

use super::budget::human;
use super::Plan;
use crate::ops::crop::Rect;
use crate::pixel::ImageInfo;

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fmt_name = self.input_format.map_or("rows", |f| f.name());
        writeln!(
            f,
            "input   {fmt_name} {}x{} {} (EXIF orientation {}), upright {}x{}",
            self.input.width,
            self.input.height,
            self.input.format,
            self.exif_orientation.map_or("none".to_string(), |o| o.to_string()),
            self.oriented.0,
            self.oriented.1
        )?;
        writeln!(
            f,
            "read    {}x{} at {},{} (stored pixels){}{}",
            self.source_rect.width,
            self.source_rect.height,
            self.source_rect.x,
            self.source_rect.y,
            if self.shrink_on_load > 1 {
                format!(", shrink-on-load 1/{}", self.shrink_on_load)
            } else {
                String::new()
            },
            self.decode_region.map_or(String::new(), |r| format!(
                ", crop-on-load {}x{} at {},{}",
                r.width, r.height, r.x, r.y
            ))
        )?;
        if let Some(note) = &self.colour {
            writeln!(f, "colour  {note}")?;
        }
        writeln!(f, "stages")?;
        for s in &self.stages {
            write!(
                f,
                "  {:<24} -> {:>6}x{:<6} {:<7} heap {:>10}",
                s.name,
                s.output.width,
                s.output.height,
                s.output.format.to_string(),
                human(s.heap_bytes as u64)
            )?;
            if s.scratch_bytes > 0 {
                write!(f, "  scratch {}", human(s.scratch_bytes))?;
            }
            if !s.detail.is_empty() {
                write!(f, "  ({})", s.detail)?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "output  {} {}x{} {}",
            self.output_format.name(),
            self.output.width,
            self.output.height,
            self.output.format
        )?;
        write!(
            f,
            "memory  peak heap {} of {} budget, scratch {}",
            human(self.heap_bytes as u64),
            human(self.budget.max_memory as u64),
            if self.scratch_bytes > 0 {
                human(self.scratch_bytes)
            } else {
                "none".to_string()
            }
        )
    }
}

/// A JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_info(i: &ImageInfo) -> String {
    format!(
        "{{\"width\":{},\"height\":{},\"format\":{}}}",
        i.width,
        i.height,
        json_str(&i.format.to_string())
    )
}

fn json_rect(r: &Rect) -> String {
    format!(
        "{{\"x\":{},\"y\":{},\"width\":{},\"height\":{}}}",
        r.x, r.y, r.width, r.height
    )
}

impl Plan {
    /// The plan as a JSON object (one line).
    pub fn to_json(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| {
                format!(
                    "{{\"name\":{},\"output\":{},\"heap_bytes\":{},\"scratch_bytes\":{},\"detail\":{}}}",
                    json_str(&s.name),
                    json_info(&s.output),
                    s.heap_bytes,
                    s.scratch_bytes,
                    json_str(&s.detail)
                )
            })
            .collect();
        format!(
            concat!(
                "{{\"input_format\":{},\"input\":{},\"exif_orientation\":{},\"orientation\":{},",
                "\"oriented\":{{\"width\":{},\"height\":{}}},\"shrink_on_load\":{},\"source_rect\":{},",
                "\"decode_region\":{},\"stages\":[{}],\"output\":{},\"output_format\":{},",
                "\"heap_bytes\":{},\"scratch_bytes\":{},\"max_memory\":{},\"limit_input_pixels\":{},\"limit_output_pixels\":{},\"no_scratch\":{}}}"
            ),
            self.input_format.map_or("null".to_string(), |f| json_str(f.name())),
            json_info(&self.input),
            self.exif_orientation.map_or("null".to_string(), |o| o.to_string()),
            json_str(self.orientation.name()),
            self.oriented.0,
            self.oriented.1,
            self.shrink_on_load,
            json_rect(&self.source_rect),
            self.decode_region.as_ref().map_or("null".to_string(), json_rect),
            stages.join(","),
            json_info(&self.output),
            json_str(self.output_format.name()),
            self.heap_bytes,
            self.scratch_bytes,
            self.budget.max_memory,
            self.budget.limit_input_pixels,
            self.budget.limit_output_pixels,
            self.budget.no_scratch
        )
    }
}
