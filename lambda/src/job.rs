//! One output of the recipe over one input: the stripflow recipe it stands for, its plan checked
//! against the function's budget (a refusal is a typed [`FunctionError::PlanExceedsMemory`],
//! decided before any pixel is decoded), and the run into a file, with the heap it measured.

use std::fs::File;

use stripflow::io::Input;
use stripflow::prelude::{Chain, ErrorKind, Pipeline, Plan, Recipe};

use crate::config::Output;
use crate::error::FunctionError;
use crate::memory::CountingAlloc;

/// The heap limit of the second plan that prices a refused job: 1 TiB, more than any plan.
const UNBOUNDED: usize = 1 << 40;

/// What running one output measured.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// The plan that ran (predicted heap, scratch, output size).
    pub plan: Plan,
    /// The counting allocator's high-water mark during the run, above the heap live before it.
    pub measured_heap_bytes: usize,
    /// Wall time of the run, milliseconds.
    pub elapsed_ms: u128,
}

/// The stripflow recipe of `output`, with the plan's heap limited to `budget_bytes`.
pub fn recipe(output: &Output, budget_bytes: usize) -> Recipe {
    let mut recipe = Recipe::new()
        .auto_orient()
        .resize(output.width, output.height)
        .fit(output.fit)
        .format(output.format)
        .max_memory(budget_bytes);
    if let Some(q) = output.quality {
        recipe = recipe.quality(q);
    }
    recipe
}

/// Plans `output` over `input` within `budget_bytes`. A plan over the budget is
/// [`FunctionError::PlanExceedsMemory`], with the heap the job would need (planned again without
/// a budget); any other refusal is [`FunctionError::Image`].
pub fn plan(input: &Input, output: &Output, budget_bytes: usize, key: &str) -> Result<(Pipeline, Plan), FunctionError> {
    let pipeline = Pipeline::from_input(input.clone()).with_recipe(recipe(output, budget_bytes));
    match pipeline.plan() {
        Ok(plan) => Ok((pipeline, plan)),
        Err(error) if error.kind() == ErrorKind::Limits => {
            let unbounded = Pipeline::from_input(input.clone()).with_recipe(recipe(output, UNBOUNDED)).plan();
            match unbounded {
                Ok(needed) if needed.heap_bytes > budget_bytes => Err(FunctionError::PlanExceedsMemory {
                    key: key.to_string(),
                    output: output.name.clone(),
                    planned_heap_bytes: Some(needed.heap_bytes),
                    budget_bytes,
                    detail: error.to_string(),
                }),
                _ => Err(FunctionError::Image { key: key.to_string(), error }),
            }
        }
        Err(error) => Err(FunctionError::Image { key: key.to_string(), error }),
    }
}

/// Runs a planned pipeline into `file` (an unnamed temporary file the caller uploads).
pub fn run(pipeline: Pipeline, key: &str, file: &mut File) -> Result<JobResult, FunctionError> {
    CountingAlloc::reset_peak();
    let before = CountingAlloc::live();
    let stats = pipeline.write_to_seekable(file).map_err(|error| FunctionError::Image { key: key.to_string(), error })?;
    let measured_heap_bytes = CountingAlloc::peak().saturating_sub(before);
    Ok(JobResult { plan: stats.plan, measured_heap_bytes, elapsed_ms: stats.elapsed.as_millis() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::collections::HashMap;
    use stripflow::prelude::{Format, PixelFormat};
    use stripflow::synth::Synthetic;

    /// A 2048x1536 JPEG made in memory from stripflow's procedural sample.
    fn jpeg_input() -> Input {
        let mut bytes = Vec::new();
        Pipeline::from_source(Box::new(Synthetic::new(2048, 1536, PixelFormat::RGB8, 3)))
            .format(Format::Jpeg)
            .write_to(&mut bytes)
            .unwrap();
        Input::from_bytes(bytes)
    }

    fn output(sizes: &str, format: &str) -> Output {
        let vars: HashMap<String, String> =
            [("STRIPFLOW_SIZES", sizes), ("STRIPFLOW_FORMATS", format)].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_vars(&vars).unwrap().outputs.remove(0)
    }

    #[test]
    fn a_plan_over_the_budget_is_refused_with_what_it_needs() {
        let input = jpeg_input();
        let out = output("1024", "png");
        let (_, fits) = plan(&input, &out, 64 << 20, "k").unwrap();
        let budget = fits.heap_bytes / 2;
        match plan(&input, &out, budget, "k") {
            Err(FunctionError::PlanExceedsMemory { planned_heap_bytes: Some(needed), budget_bytes, key, .. }) => {
                assert_eq!(budget_bytes, budget);
                assert_eq!(needed, fits.heap_bytes);
                assert_eq!(key, "k");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn other_plan_errors_stay_image_errors() {
        let input = Input::from_bytes(b"not an image at all".to_vec());
        let err = plan(&input, &output("256", "jpeg"), 64 << 20, "junk").unwrap_err();
        assert!(matches!(err, FunctionError::Image { .. }), "{err:?}");
    }

    #[test]
    fn a_planned_job_writes_the_fitted_image() {
        let input = jpeg_input();
        let out = output("512", "jpeg");
        let (pipeline, planned) = plan(&input, &out, 64 << 20, "k").unwrap();
        assert_eq!((planned.output.width, planned.output.height), (512, 384));
        let mut file = tempfile::tempfile().unwrap();
        let result = run(pipeline, "k", &mut file).unwrap();
        assert_eq!(result.plan.heap_bytes, planned.heap_bytes);
        let written = Input::from_file(file).unwrap();
        let reread = Pipeline::from_input(written);
        let header = reread.header().unwrap().unwrap();
        assert_eq!((header.info.width, header.info.height, header.format), (512, 384, Format::Jpeg));
    }
}
