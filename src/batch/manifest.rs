//! What a batch does: [`BatchJob`]s (one input, one or more outputs each with its own
//! [`Recipe`]), built by hand, from a directory tree mirrored into an output tree
//! ([`tree_jobs`]), with output names from [`OutputTemplate`]s.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::codec::registry;
use crate::error::{Error, Result};
use crate::plan::Recipe;

/// One output of a job: where it goes and the recipe that makes it.
#[derive(Debug, Clone)]
pub struct BatchOutput {
    /// The output file (its extension names the format unless the recipe sets one).
    pub path: PathBuf,
    /// What to do to the input for this output.
    pub recipe: Recipe,
}

/// One input and everything made from it. The outputs run one after another on the same worker,
/// over one opened input; admission reserves the largest of their planned heaps.
#[derive(Debug, Clone)]
pub struct BatchJob {
    /// The input file.
    pub input: PathBuf,
    /// Its outputs, in order.
    pub outputs: Vec<BatchOutput>,
}

impl BatchJob {
    /// A job with one output.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>, recipe: Recipe) -> BatchJob {
        BatchJob { input: input.into(), outputs: vec![BatchOutput { path: output.into(), recipe }] }
    }
}

/// An output name pattern, expanded per input and per variant: `{dir}` (the input's folder
/// relative to the tree's root, empty at the root), `{stem}` (file name without extension),
/// `{name}` (file name), `{ext}` (the input's extension, or the output format's when the
/// recipe sets one), `{width}`, `{height}` and `{size}`
/// (the variant's box, `WxH`). Example: `{dir}/{stem}-{width}.webp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTemplate(String);

/// The values a template's placeholders take for one output.
#[derive(Debug, Clone, Default)]
pub struct TemplateVars<'a> {
    /// The input's folder relative to the root (`a/b`), empty at the root.
    pub dir: &'a str,
    /// The input's file name without its extension.
    pub stem: &'a str,
    /// The input's extension, without the dot.
    pub ext: &'a str,
    /// The variant's box, when it has one.
    pub size: Option<(u32, u32)>,
}

const PLACEHOLDERS: [&str; 7] = ["dir", "stem", "name", "ext", "width", "height", "size"];

impl OutputTemplate {
    /// Parses a template; an unknown `{placeholder}` or an unclosed brace is a
    /// [`Error::Parameter`].
    pub fn new(pattern: impl Into<String>) -> Result<OutputTemplate> {
        let pattern = pattern.into();
        let mut rest = pattern.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').ok_or_else(|| Error::parameter(format!("output template '{pattern}': unclosed '{{'")))?;
            let name = &rest[open + 1..open + close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(Error::parameter(format!(
                    "output template '{pattern}': unknown placeholder {{{name}}} (known: {})",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")
                )));
            }
            rest = &rest[open + close + 1..];
        }
        if pattern.trim().is_empty() {
            return Err(Error::parameter("output template is empty"));
        }
        Ok(OutputTemplate(pattern))
    }

    /// Whether the template names the size (so several sizes give distinct names).
    pub fn names_size(&self) -> bool {
        ["{width}", "{height}", "{size}"].iter().any(|p| self.0.contains(p))
    }

    /// The template with its placeholders replaced; a size placeholder without a size is a
    /// [`Error::Parameter`].
    pub fn expand(&self, vars: &TemplateVars<'_>) -> Result<PathBuf> {
        let name = if vars.ext.is_empty() { vars.stem.to_string() } else { format!("{}.{}", vars.stem, vars.ext) };
        let mut out = self.0.replace("{dir}", vars.dir).replace("{stem}", vars.stem).replace("{name}", &name).replace("{ext}", vars.ext);
        if self.names_size() {
            let (w, h) = vars.size.ok_or_else(|| Error::parameter(format!("output template '{}' names a size, but no size is set", self.0)))?;
            out = out.replace("{width}", &w.to_string()).replace("{height}", &h.to_string()).replace("{size}", &format!("{w}x{h}"));
        }
        // `{dir}/x` at the root gives `/x`: keep it relative.
        let trimmed = out.trim_start_matches('/');
        let relative = if vars.dir.is_empty() && self.0.starts_with("{dir}") { trimmed } else { out.as_str() };
        Ok(PathBuf::from(relative))
    }
}

/// One output variant of a shared recipe: its recipe, and the box it resizes to (for `{width}`).
#[derive(Debug, Clone)]
pub struct Variant {
    /// The recipe of this variant.
    pub recipe: Recipe,
    /// The box it resizes to, if any.
    pub size: Option<(u32, u32)>,
}

/// Every file under `root` (recursively, sorted, symbolic links to files followed, hidden
/// entries skipped) whose extension names a format stripflow reads.
pub fn image_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::file(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::file(&dir, e))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let meta = std::fs::metadata(&path).map_err(|e| Error::file(&path, e))?;
            if meta.is_dir() {
                pending.push(path);
            } else if registry::by_extension(&path).ok().flatten().is_some_and(|c| c.decoder.is_some()) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The jobs that mirror the tree at `input_root` into `output_root`: for every image file, one
/// output per (template, variant), named by the template relative to `output_root`, in template
/// order then variant order.
///
/// Refused up front with [`Error::Parameter`]: no template or variant, several variants with a
/// template that does not name the size, and two outputs (of any inputs) with the same path.
pub fn tree_jobs(input_root: &Path, output_root: &Path, templates: &[OutputTemplate], variants: &[Variant]) -> Result<Vec<BatchJob>> {
    let files = image_files(input_root)?;
    jobs_for_files(&files, input_root, output_root, templates, variants)
}

/// As [`tree_jobs`], for a given list of input files under `input_root`.
pub fn jobs_for_files(files: &[PathBuf], input_root: &Path, output_root: &Path, templates: &[OutputTemplate], variants: &[Variant]) -> Result<Vec<BatchJob>> {
    if templates.is_empty() || variants.is_empty() {
        return Err(Error::parameter("a batch needs at least one output template and one variant"));
    }
    if variants.len() > 1 {
        if let Some(t) = templates.iter().find(|t| !t.names_size()) {
            return Err(Error::parameter(format!("several sizes need {{width}}, {{height}} or {{size}} in the output template '{}'", t.0)));
        }
    }
    let mut seen = HashSet::new();
    let mut jobs = Vec::with_capacity(files.len());
    for file in files {
        // A file outside the root (a manifest's input) lands at the output root: `{dir}` is empty.
        let dir = file.strip_prefix(input_root).ok().and_then(Path::parent).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let input_ext = file.extension().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut outputs = Vec::new();
        for template in templates {
            for variant in variants {
                // `{ext}` is the output format's usual extension when the recipe sets a format.
                let ext = variant.recipe.format.map_or(input_ext.as_str(), |f| registry::codec(f).extensions[0]);
                let vars = TemplateVars { dir: &dir, stem: &stem, ext, size: variant.size };
                let path = output_root.join(template.expand(&vars)?);
                if path == *file {
                    return Err(Error::parameter(format!("output {} would overwrite its input", path.display())));
                }
                if !seen.insert(path.clone()) {
                    return Err(Error::parameter(format!("two outputs would be written to {} (add {{stem}}, {{dir}}, {{width}} or {{ext}} to the template)", path.display())));
                }
                outputs.push(BatchOutput { path, recipe: variant.recipe.clone() });
            }
        }
        jobs.push(BatchJob { input: file.clone(), outputs });
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_and_refuse_unknown_placeholders() {
        let t = OutputTemplate::new("{dir}/{stem}-{width}.webp").unwrap();
        let vars = TemplateVars { dir: "a/b", stem: "cat", ext: "jpg", size: Some((256, 128)) };
        assert_eq!(t.expand(&vars).unwrap(), PathBuf::from("a/b/cat-256.webp"));
        let root = TemplateVars { dir: "", ..vars.clone() };
        assert_eq!(t.expand(&root).unwrap(), PathBuf::from("cat-256.webp"));
        assert_eq!(OutputTemplate::new("{name}").unwrap().expand(&vars).unwrap(), PathBuf::from("cat.jpg"));
        assert!(OutputTemplate::new("{stem}-{w}.jpg").is_err());
        assert!(OutputTemplate::new("{stem").is_err());
        assert!(OutputTemplate::new("{stem}-{size}.jpg").unwrap().expand(&TemplateVars { size: None, ..vars }).is_err());
    }

    #[test]
    fn colliding_outputs_are_refused_before_anything_runs() {
        let files = [PathBuf::from("in/a.jpg"), PathBuf::from("in/a.png")];
        let v = |s| Variant { recipe: Recipe::new(), size: Some((s, s)) };
        let by_stem = [OutputTemplate::new("{stem}-{width}.jpg").unwrap()];
        let err = jobs_for_files(&files, Path::new("in"), Path::new("out"), &by_stem, &[v(256)]).unwrap_err();
        assert!(err.to_string().contains("two outputs"), "{err}");
        let no_size = [OutputTemplate::new("{name}.jpg").unwrap()];
        assert!(jobs_for_files(&files, Path::new("in"), Path::new("out"), &no_size, &[v(256), v(512)]).is_err());
        let jobs = jobs_for_files(&files, Path::new("in"), Path::new("out"), &[OutputTemplate::new("{name}-{width}.jpg").unwrap()], &[v(256), v(512)]).unwrap();
        assert_eq!(jobs[1].outputs[1].path, PathBuf::from("out/a.png-512.jpg"));
    }
}
