//! The planner proper: a recipe and a source become a list of stage specifications, each asked
//! for its output and its bytes, and the total checked against the budget.
//!
//! Nothing here knows how a stage works or what it allocates: the specifications say it
//! ([`StageSpec`], [`DecoderSpec`], [`EncoderSpec`]), and [`super::Build`] keeps the very same
//! specifications to build the chain, so the prediction is what gets built.

use std::sync::Arc;

use super::budget::{human, JOB_OVERHEAD};
use super::cut;
use super::geometry::{resolve, DecoderReach, Resolved};
use super::recipe::Recipe;
use super::{Build, Plan, StagePlan};
use crate::codec::{metadata, registry};
use crate::codec::spec::{DecodeRequest, DecoderSpec, EncoderKind, EncoderSpec, Header};
use crate::codec::Format;
use crate::error::{Error, Result};
use crate::io::{AtomicOutput, Input};
use crate::ops::colour::{self, ColourDecision};
use crate::ops::convert::{ConvertSpec, ConvertTo};
use crate::ops::crop::CropSpec;
use crate::ops::extend::ExtendSpec;
use crate::ops::extract::ExtractSpec;
use crate::ops::orient::{OrientSpec, Orientation};
use crate::ops::pad::PadSpec;
use crate::ops::resize::ResizeSpec;
use crate::pipeline::{HandoffSpec, StageSpec};
use crate::pixel::ImageInfo;
use crate::scratch::{ScratchImage, Storage};

/// Where the pixels of a job come from, as the planner needs to know it.
pub(crate) enum Source<'a> {
    /// An encoded image and its (cached) header.
    Encoded { input: &'a Input, header: &'a Header, decoder: &'a dyn DecoderSpec },
    /// A row source: its rows and the heap it holds.
    Rows { info: ImageInfo, heap: usize },
}

/// Where the encoded bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    /// A caller's writer (no buffer of ours).
    Writer,
    /// A file written through [`AtomicOutput`], whose buffer counts.
    File,
}

/// The stages being planned: each spec with what it reports.
struct Stages {
    specs: Vec<Arc<dyn StageSpec>>,
    plans: Vec<StagePlan>,
    current: ImageInfo,
}

impl Stages {
    fn add(&mut self, spec: Arc<dyn StageSpec>) -> Result<()> {
        let input = self.current;
        let output = spec.output(input)?;
        let heap_bytes = spec.heap_bytes(input);
        if heap_bytes == usize::MAX {
            return Err(Error::parameter(format!("{} of a {}x{} image needs absurd buffers", spec.name(), input.width, input.height)));
        }
        self.plans.push(StagePlan {
            name: spec.name(),
            output,
            heap_bytes,
            scratch_bytes: spec.scratch_bytes(input),
            detail: spec.detail(input),
        });
        self.specs.push(spec);
        self.current = output;
        Ok(())
    }
}

impl Stages {
    /// Cuts the chain in two with a [`HandoffSpec`] where [`cut::choose`] puts it, given the
    /// decoder's and the encoder's estimated work (the stages' own is estimated from their plans).
    fn hand_off(&mut self, decoder: f64, encoder: f64) {
        let mut costs = vec![decoder];
        costs.extend(self.plans.windows(2).map(|w| cut::stage_cost(&w[1].name, w[0].output, w[1].output)));
        costs.push(encoder);
        let row_bytes: Vec<usize> = std::iter::once(0).chain(self.plans.iter().map(|p| p.output.row_bytes())).collect();
        if let Some(c) = cut::choose(&costs, &row_bytes) {
            let input = self.plans[c - 1].output;
            let spec = HandoffSpec;
            self.plans.insert(c, StagePlan {
                name: spec.name(),
                output: input,
                heap_bytes: spec.heap_bytes(input),
                scratch_bytes: 0,
                detail: spec.detail(input),
            });
            self.specs.insert(c - 1, Arc::new(spec));
        }
    }
}

/// Plans `recipe` on `source`, writing `format` (or the recipe's, or the input's) to `to`.
pub(crate) fn plan(recipe: &Recipe, source: Source, format: Option<Format>, to: Destination) -> Result<Plan> {
    if let Some(message) = &recipe.deferred {
        return Err(Error::parameter(message));
    }
    let budget = recipe.budget;
    let (input_format, input, exif) = match &source {
        Source::Encoded { header, .. } => (Some(header.format), header.info, header.exif_orientation),
        Source::Rows { info, .. } => {
            if recipe.auto_orient {
                return Err(Error::parameter("auto_orient needs an encoded image with EXIF; a row source has none"));
            }
            (None, *info, None)
        }
    };
    if input.pixels() > budget.limit_input_pixels {
        return Err(Error::limits(format!(
            "the input is {}x{} = {} pixels, over the input pixel limit of {} (raise limit_input_pixels / --limit-input-pixels, 0 for none)",
            input.width,
            input.height,
            input.pixels(),
            budget.limit_input_pixels
        )));
    }

    // Geometry, and what the decoder is asked for.
    let identity = |_: u8| (input.width, input.height);
    let scaled_size = |d: u8| match &source {
        Source::Encoded { header, decoder, .. } => decoder.scaled_size(header, d),
        Source::Rows { .. } => identity(d),
    };
    let (shrink_factors, crops_on_load) = match &source {
        Source::Encoded { decoder, .. } => (decoder.shrink_factors(), decoder.crops_on_load()),
        Source::Rows { .. } => (&[1u8][..], false),
    };
    let g = resolve(recipe, input, exif, &DecoderReach { shrink_factors, scaled_size: &scaled_size })?;
    let region = (crops_on_load && !g.whole()).then_some(g.region);
    // The input's colour space, read (bounded) now so that its stage is priced with the rest; a
    // CMYK profile asks the decoder for CMYK rows.
    let colour = match &source {
        Source::Encoded { input, header, .. } => {
            let cmyk = matches!(header.metadata.color.as_str(), "cmyk" | "ycck");
            let keep = recipe.keep_icc_profile;
            colour::decide(input, header.format, header.info.format, cmyk, keep, recipe.fail_on, budget.max_memory)?
        }
        Source::Rows { .. } => ColourDecision::Srgb(None),
    };
    let cmyk = matches!(&colour, ColourDecision::Convert(spec) if spec.is_cmyk());
    let decoded_format = if cmyk { crate::pixel::PixelFormat::RGBA8 } else { input.format };
    let request = DecodeRequest {
        shrink: g.shrink,
        region,
        rows_needed: if crops_on_load { g.region.height } else { g.region.y + g.region.height },
        fail_on: recipe.fail_on,
        cmyk,
        threads: recipe.thread_count(),
    };
    let decoded = match region {
        Some(r) => ImageInfo { width: r.width, height: r.height, format: decoded_format },
        None => ImageInfo { width: g.decoded.0, height: g.decoded.1, format: decoded_format },
    };
    let mut detail = Vec::new();
    if g.shrink > 1 {
        detail.push(format!("shrink-on-load 1/{}", g.shrink));
    }
    if let Some(r) = region {
        detail.push(format!("crop-on-load {}x{} at {},{}", r.width, r.height, r.x, r.y));
    }
    let source_plan = StagePlan {
        name: input_format.map_or("row source".into(), |f| format!("{} decode", f.name())),
        output: decoded,
        heap_bytes: 0, // filled in last: the decoder's account may be the costly part to learn
        scratch_bytes: 0,
        detail: detail.join(", "),
    };
    let mut stages = Stages { specs: Vec::new(), plans: vec![source_plan], current: decoded };
    if !crops_on_load && !g.whole() {
        stages.add(Arc::new(CropSpec(g.region)))?;
    }
    if let ColourDecision::Convert(spec) = &colour {
        if cmyk {
            stages.add(Arc::new(spec.clone()))?;
        }
    }

    let output_format = recipe.format.or(format).or(input_format).unwrap_or(Format::Png);
    let encoder = encoder(recipe, output_format)?;
    add_geometry(recipe, &g, &*encoder, &colour, &mut stages)?;
    for stage in &recipe.stages {
        stages.add(stage.clone())?;
    }
    if recipe.flatten && stages.current.format.color.has_alpha() {
        stages.add(Arc::new(ConvertSpec(ConvertTo::Flatten(recipe.encode.background))))?;
    }
    if recipe.thread_count() > 1 {
        let decoder = cut::decoder_cost(input_format, input, g.source_rect, g.shrink);
        stages.hand_off(decoder, cut::encoder_cost(output_format, stages.current));
    }

    // An embedded profile that adds no stage is still read and parsed while planning, and kept
    // for the output: counted (the colour stage counts its own).
    if let (false, Some(icc)) = (matches!(colour, ColourDecision::Convert(_)), colour.icc()) {
        stages.plans.push(StagePlan {
            name: "icc profile".into(),
            output: stages.current,
            heap_bytes: icc.len() + colour::profile_planning_bytes(icc.len()),
            scratch_bytes: 0,
            detail: "read and parsed while planning, kept for the output".into(),
        });
    }

    // The metadata blocks kept, handed to the encoder, and counted.
    let encoder = match &source {
        Source::Encoded { input, header, decoder } if recipe.keep_metadata || recipe.keep_icc_profile => {
            keep_metadata(recipe, input, header, *decoder, &colour, stages.current, &g, encoder, &mut stages.plans)?
        }
        _ => encoder,
    };

    // The encoder and where its bytes go.
    let out = stages.current;
    let (max_w, max_h) = encoder.max_size();
    if out.width > max_w || out.height > max_h {
        return Err(Error::parameter(format!(
            "{} cannot store a {}x{} image (at most {max_w}x{max_h})",
            output_format.label(),
            out.width,
            out.height
        )));
    }
    if out.pixels() > budget.limit_output_pixels {
        return Err(Error::limits(format!(
            "the output is {}x{} = {} pixels, over the output pixel limit of {} (raise limit_output_pixels / --limit-output-pixels, 0 for none)",
            out.width,
            out.height,
            out.pixels(),
            budget.limit_output_pixels
        )));
    }
    let encode_stage = stages.plans.len();
    stages.plans.push(StagePlan {
        name: format!("{} encode", output_format.name()),
        output: out,
        heap_bytes: encoder.heap_bytes(out),
        scratch_bytes: 0,
        detail: encoder.detail(),
    });
    if to == Destination::File {
        stages.plans.push(StagePlan {
            name: "file writer".into(),
            output: out,
            heap_bytes: AtomicOutput::BUFFER_BYTES,
            scratch_bytes: 0,
            detail: "write buffer".into(),
        });
    }

    let mut plan = Plan {
        input_format,
        input,
        exif_orientation: exif,
        orientation: g.orientation,
        oriented: g.oriented,
        shrink_on_load: g.shrink,
        source_rect: g.source_rect,
        decode_region: region,
        heap_bytes: stages.plans.iter().map(|s| s.heap_bytes).sum::<usize>() + JOB_OVERHEAD,
        scratch_bytes: stages.plans.iter().map(|s| s.scratch_bytes).sum(),
        stages: stages.plans,
        icc_profile: colour.icc(),
        colour: match &colour {
            ColourDecision::Ignored(_, why) => Some(format!("ICC profile {why}")),
            _ => None,
        },
        output: out,
        output_format,
        budget,
        build: Build { decode: input_format.map(|_| request), stages: stages.specs, encoder },
    };
    // Refuse early when the rest is over budget already, then with the decoder's lower bound
    // from the header, and only then learn the decoder's exact account.
    let lower = match &source {
        Source::Encoded { header, decoder, .. } => decoder.heap_lower_bound(header, &request),
        Source::Rows { heap, .. } => *heap,
    };
    if plan.heap_bytes + lower > budget.max_memory {
        plan.stages[0].heap_bytes = lower;
        plan.heap_bytes += lower;
        plan.stages[0].detail = "at least".to_string() + if lower > 0 { " its coefficient row" } else { "" };
        return Err(Error::limits(over_budget(&plan, &*plan.build.encoder)));
    }
    let decoder_bytes = match &source {
        Source::Encoded { input, header, decoder } => decoder.heap_bytes(input, header, &request)?,
        Source::Rows { heap, .. } => *heap,
    };
    plan.stages[0].heap_bytes = decoder_bytes;
    plan.heap_bytes += decoder_bytes;
    if plan.heap_bytes > budget.max_memory {
        return Err(Error::limits(over_budget(&plan, &*plan.build.encoder)));
    }
    // What the budget leaves goes to an encoder that is faster with more heap, and is counted.
    if let Some((faster, extra)) = plan.build.encoder.with_spare_heap(out, budget.max_memory - plan.heap_bytes) {
        let stage = &mut plan.stages[encode_stage];
        stage.heap_bytes += extra;
        stage.detail = faster.detail();
        plan.heap_bytes += extra;
        plan.build.encoder = faster;
    }
    Ok(plan)
}

/// Heap of reading the blocks beside them: a PNG `iCCP`'s counting inflate (a 32 KiB window and
/// the inflater's state).
const READ_TRANSIENT: usize = 48 * 1024;

/// The encoder writing the blocks the recipe keeps (read from the input, chosen by
/// [`metadata::kept_blocks`]), and a plan line for the blocks held: those read (the ones not
/// kept are dropped while planning, counted as an upper bound) and the sRGB profile made.
#[allow(clippy::too_many_arguments)]
fn keep_metadata(
    recipe: &Recipe,
    input: &Input,
    header: &Header,
    decoder: &dyn DecoderSpec,
    colour: &ColourDecision,
    output: ImageInfo,
    g: &Resolved,
    encoder: Arc<dyn EncoderSpec>,
    plans: &mut Vec<StagePlan>,
) -> Result<Arc<dyn EncoderSpec>> {
    let read = if recipe.keep_metadata { decoder.read_embedded(input, header)? } else { Default::default() };
    let read_bytes = read.heap_bytes();
    let converted = matches!(colour, ColourDecision::Convert(_));
    let turned_upright = recipe.auto_orient && header.exif_orientation.is_some_and(|o| o > 1) && g.orientation != Orientation::Identity;
    let keep = metadata::Keep { metadata: recipe.keep_metadata, icc: recipe.keep_icc_profile };
    let blocks = metadata::kept_blocks(read, keep, colour.icc(), converted, turned_upright, output.format.color.is_rgb());
    if blocks.is_empty() {
        return Ok(encoder);
    }
    // The input's profile as the colour stage read it is counted there; what is held here is
    // the copy in the blocks (or the sRGB profile), the EXIF and the XMP.
    plans.push(StagePlan {
        name: "metadata".into(),
        output,
        heap_bytes: read_bytes + blocks.heap_bytes() + if recipe.keep_metadata { READ_TRANSIENT } else { 0 },
        scratch_bytes: 0,
        detail: format!("kept: {}", blocks.names()),
    });
    Ok(Arc::new(metadata::KeepMetadata::new(encoder, Arc::new(blocks))?))
}

/// The encoder: the recipe's configured one, or the format's from the generic options.
fn encoder(recipe: &Recipe, format: Format) -> Result<Arc<dyn EncoderSpec>> {
    match &recipe.encoder {
        Some(e) if e.format() == format => {
            let o = &recipe.encode;
            if let Some(option) = o.set_options().first() {
                return Err(Error::parameter(format!("{} is set on the recipe; set it on the configured encoder itself", option.name())));
            }
            Ok(e.clone())
        }
        Some(e) => Err(Error::parameter(format!(
            "the configured encoder writes {} but the output format is {}",
            e.format().name(),
            format.name()
        ))),
        None => registry::encoder(format, &recipe.encode),
    }
}

/// Orientation, resize, colour conversion, contain padding, extract and extend, in that order.
fn add_geometry(
    recipe: &Recipe,
    g: &Resolved,
    encoder: &dyn EncoderSpec,
    colour: &ColourDecision,
    stages: &mut Stages,
) -> Result<()> {
    // Orientation before or after the resize, whichever frame is smaller.
    let o = g.orientation;
    let needs_resize = (stages.current.width, stages.current.height) != g.scaled;
    let before = !o.streams() && needs_resize && stages.current.pixels() < g.scaled.0 as u64 * g.scaled.1 as u64;
    let orient = |frame: ImageInfo| -> Arc<dyn StageSpec> {
        let on_heap = o.streams() || recipe.budget.frame_on_heap(ScratchImage::bytes_for(frame, Storage::Heap));
        Arc::new(OrientSpec { orientation: o, storage: if on_heap { Storage::Heap } else { Storage::File } })
    };
    let has_orientation = o != Orientation::Identity;
    if has_orientation && before {
        stages.add(orient(stages.current))?;
    }
    if needs_resize {
        let (width, height) = if has_orientation && before { g.fit.scaled } else { g.scaled };
        stages.add(Arc::new(ResizeSpec { width, height, options: recipe.resize_options }))?;
    }
    if has_orientation && !before {
        stages.add(orient(stages.current))?;
    }
    // To sRGB once the image is as small as it gets and before any background colour (given in
    // sRGB) is added.
    if let ColourDecision::Convert(spec) = colour {
        if !spec.is_cmyk() {
            stages.add(Arc::new(spec.clone()))?;
        }
    }
    // A transparent background needs an alpha channel, as sharp adds one, when the output can
    // keep it and nothing flattens it again.
    let margins = g.fit.pads() || recipe.extend.is_some();
    if margins
        && recipe.background[3] < 255
        && !stages.current.format.color.has_alpha()
        && encoder.stores_alpha()
        && !recipe.flatten
    {
        stages.add(Arc::new(ConvertSpec(ConvertTo::AddAlpha)))?;
    }
    if g.fit.pads() {
        stages.add(Arc::new(PadSpec { canvas: g.fit.canvas, offset: g.fit.offset, background: recipe.background }))?;
    }
    if let Some(rect) = recipe.extract {
        stages.add(Arc::new(ExtractSpec(rect)))?;
    }
    if let Some(margins) = recipe.extend {
        stages.add(Arc::new(ExtendSpec { margins, background: recipe.background }))?;
    }
    Ok(())
}

/// The error message of a plan over budget: what it needs, where, and what would help. When a
/// whole-frame encoder is the largest part, the message leads with it and names the formats
/// that stream.
fn over_budget(plan: &Plan, encoder: &dyn EncoderSpec) -> String {
    let biggest = plan.stages.iter().max_by_key(|s| s.heap_bytes).expect("a plan has stages");
    let detail = if biggest.detail.is_empty() { "its row buffers" } else { &biggest.detail };
    let mut message = if encoder.kind() == EncoderKind::WholeFrame && biggest.name.ends_with(" encode") {
        let format = encoder.format().label();
        let streaming = registry::streaming_writable();
        let caveat = if streaming.contains(&format) { format!(" ({format} with its default options)") } else { String::new() };
        format!(
            "{format} output {}x{} needs about {} ({detail}); the job needs {} in all, over the budget of {} (max_memory / --max-memory); {streaming} stream at any size{caveat}",
            plan.output.width,
            plan.output.height,
            human(biggest.heap_bytes as u64),
            human(plan.heap_bytes as u64),
            human(plan.budget.max_memory as u64),
        )
    } else {
        format!(
            "the job needs {} of heap but the budget is {}; the largest part is {} with {} ({detail})",
            human(plan.heap_bytes as u64),
            human(plan.budget.max_memory as u64),
            biggest.name,
            human(biggest.heap_bytes as u64),
        )
    };
    let mut parts: Vec<&StagePlan> = plan.stages.iter().filter(|s| s.heap_bytes > 0).collect();
    parts.sort_by_key(|s| std::cmp::Reverse(s.heap_bytes));
    let list: Vec<String> = parts.iter().map(|s| format!("{} {}", s.name, human(s.heap_bytes as u64))).collect();
    message.push_str(&format!("; all parts: {}", list.join(", ")));
    if plan.budget.no_scratch && biggest.name.starts_with("orient") {
        message.push_str(". Scratch files are disabled, so the whole frame must be held on the heap");
    }
    message
}
