//! The invocation: for each object-created record of an S3 event, stream the object to an
//! unnamed file in the temporary folder, plan every output of the recipe against the function's
//! budget (refusing the upload before any pixel is decoded or any output written if one does not
//! fit), run each output into its own temporary file on a blocking thread, and upload it.

use std::path::PathBuf;

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use aws_sdk_s3::Client;
use serde_json::{json, Value};
use stripflow::io::Input;

use crate::config::{Config, Output};
use crate::error::FunctionError;
use crate::job;
use crate::log;
use crate::memory::{peak_rss_bytes, CountingAlloc};
use crate::s3::{self, UploadKind};

/// The function's state across invocations: its configuration and S3 client (built at cold start).
pub struct Function {
    /// The checked configuration.
    pub config: Config,
    /// The S3 client.
    pub client: Client,
}

impl Function {
    /// Handles one S3 event; the response lists what each record produced.
    pub async fn handle(&self, event: S3Event) -> Result<Value, FunctionError> {
        let mut results = Vec::new();
        for record in &event.records {
            if let Some(result) = self.record(record).await? {
                results.push(result);
            }
        }
        Ok(json!({ "objects": results, "peak_rss_bytes": peak_rss_bytes() }))
    }

    /// Processes one record; `None` when it is not one to act on (logged).
    async fn record(&self, record: &S3EventRecord) -> Result<Option<Value>, FunctionError> {
        let event_name = record.event_name.as_deref().unwrap_or("");
        if !event_name.starts_with("ObjectCreated") {
            log::emit("info", "skipped", json!({ "reason": "not an object-created event", "event_name": event_name }));
            return Ok(None);
        }
        let bucket = record.s3.bucket.name.as_deref().ok_or_else(|| FunctionError::Event("record without a bucket name".into()))?;
        let raw_key = record.s3.object.key.as_deref().ok_or_else(|| FunctionError::Event("record without an object key".into()))?;
        let key = decode_key(raw_key)?;
        let dest_bucket = self.config.dest_bucket.as_deref().unwrap_or(bucket);
        if dest_bucket == bucket {
            if self.config.dest_prefix.is_empty() {
                return Err(FunctionError::Config(
                    "the outputs would go to the source bucket without a prefix: set STRIPFLOW_DEST_BUCKET or \
                     STRIPFLOW_DEST_PREFIX (else every output would trigger the function again)"
                        .into(),
                ));
            }
            if key.starts_with(&self.config.dest_prefix) {
                log::emit("info", "skipped", json!({ "reason": "an output of this function", "key": key }));
                return Ok(None);
            }
        }
        self.object(bucket, &key, dest_bucket).await.map(Some)
    }

    /// Downloads `bucket/key`, plans and runs every output, uploads them to `dest_bucket`.
    async fn object(&self, bucket: &str, key: &str, dest_bucket: &str) -> Result<Value, FunctionError> {
        let config = &self.config;
        let budget = config.plan_budget_bytes();
        let tmpdir: PathBuf = std::env::temp_dir();
        let mut spool = tempfile::tempfile_in(&tmpdir)?;
        let bytes = s3::download(&self.client, bucket, key, &mut spool).await?;
        log::emit(
            "info",
            "downloaded",
            json!({ "bucket": bucket, "key": key, "bytes": bytes, "heap_live_bytes": CountingAlloc::live(), "peak_rss_bytes": peak_rss_bytes() }),
        );
        let input = Input::from_file(spool).map_err(|error| FunctionError::Image { key: key.to_string(), error })?;

        // Every output is planned before any runs: an upload that cannot be served whole is
        // refused before a pixel is decoded or an output written.
        let mut planned = Vec::new();
        for output in &config.outputs {
            let (pipeline, plan) = job::plan(&input, output, budget, key)?;
            log::emit("info", "planned", plan_fields(key, output, &plan, budget, config));
            planned.push((output, pipeline));
        }

        let mut results = Vec::new();
        for (output, pipeline) in planned {
            let mut file = tempfile::NamedTempFile::new_in(&tmpdir)?;
            let job_key = key.to_string();
            let (result, file) = tokio::task::spawn_blocking(move || {
                let result = job::run(pipeline, &job_key, file.as_file_mut());
                (result, file)
            })
            .await
            .map_err(|e| FunctionError::Io(std::io::Error::other(format!("the image job panicked: {e}"))))?;
            let result = result?;
            let len = file.as_file().metadata()?.len();
            let dest_key = output_key(&config.dest_prefix, key, output);
            let content_type = format!("image/{}", output.format.name());
            let kind = s3::upload(&self.client, config, file.path(), len, dest_bucket, &dest_key, &content_type).await?;
            let (parts, upload) = match kind {
                UploadKind::Single => (1, "put_object"),
                UploadKind::Multipart(n) => (n, "multipart"),
            };
            let fields = json!({
                "key": key,
                "output": output.name,
                "dest_bucket": dest_bucket,
                "dest_key": dest_key,
                "width": result.plan.output.width,
                "height": result.plan.output.height,
                "bytes": len,
                "upload": upload,
                "parts": parts,
                "planned_heap_bytes": result.plan.heap_bytes,
                "measured_heap_bytes": result.measured_heap_bytes,
                "peak_rss_bytes": peak_rss_bytes(),
                "budget_bytes": budget,
                "memory_mb": config.memory_mb,
                "elapsed_ms": result.elapsed_ms,
            });
            log::emit("info", "written", fields.clone());
            results.push(fields);
        }
        Ok(json!({ "bucket": bucket, "key": key, "bytes": bytes, "outputs": results }))
    }
}

/// The log fields of a plan.
pub fn plan_fields(key: &str, output: &Output, plan: &stripflow::prelude::Plan, budget: usize, config: &Config) -> Value {
    json!({
        "key": key,
        "output": output.name,
        "input_width": plan.input.width,
        "input_height": plan.input.height,
        "width": plan.output.width,
        "height": plan.output.height,
        "format": output.format.name(),
        "shrink_on_load": plan.shrink_on_load,
        "planned_heap_bytes": plan.heap_bytes,
        "planned_scratch_bytes": plan.scratch_bytes,
        "budget_bytes": budget,
        "memory_mb": config.memory_mb,
        "reserve_mb": config.reserve_mb,
    })
}

/// `{prefix}{key without its extension}-{output name}.{extension}`.
pub fn output_key(prefix: &str, key: &str, output: &Output) -> String {
    let name_start = key.rfind('/').map_or(0, |i| i + 1);
    let stem = match key[name_start..].rfind('.') {
        Some(dot) if dot > 0 => &key[..name_start + dot],
        _ => key,
    };
    format!("{prefix}{stem}-{}.{}", output.name, output.extension)
}

/// An S3 event's object key as the object is named: events carry it URL-encoded, with `+`
/// for a space.
pub fn decode_key(raw: &str) -> Result<String, FunctionError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.ok_or_else(|| FunctionError::Event(format!("object key {raw:?} has a bad %-escape")))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FunctionError::Event(format!("object key {raw:?} is not UTF-8 once decoded")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn keys_are_decoded_as_s3_events_encode_them() {
        assert_eq!(decode_key("uploads/my+photo%281%29.jpg").unwrap(), "uploads/my photo(1).jpg");
        assert_eq!(decode_key("caf%C3%A9.jpg").unwrap(), "café.jpg");
        assert!(matches!(decode_key("bad%2"), Err(FunctionError::Event(_))));
        assert!(matches!(decode_key("bad%zz"), Err(FunctionError::Event(_))));
    }

    #[test]
    fn output_keys_keep_the_folder_and_drop_the_extension() {
        let config = Config::from_vars(&Default::default()).unwrap();
        let out = &config.outputs[0];
        assert_eq!(output_key("thumbs/", "a/b/photo.jpeg", out), "thumbs/a/b/photo-256x256.jpg");
        assert_eq!(output_key("", "noext", out), "noext-256x256.jpg");
        assert_eq!(output_key("", "dir.v2/.hidden", out), "dir.v2/.hidden-256x256.jpg");
    }
}
