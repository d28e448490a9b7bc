//! S3 transfers with bounded memory: the source object streamed to a file in the temporary
//! folder (never whole on the heap), and each output sent from its file: one `PutObject` when
//! small, else a multipart upload whose parts are read from the file one at a time.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use crate::config::Config;
use crate::error::FunctionError;

/// Write buffer between the response body and the spool file: the body arrives in frames of a
/// few KiB; they are written to the file in chunks of this size.
pub const DOWNLOAD_CHUNK: usize = 1 << 20;

/// Builds the S3 client: credentials, region and endpoint from the environment (Lambda sets
/// them; `AWS_ENDPOINT_URL` points a local test at an S3-compatible server), HTTPS through
/// rustls with ring (no OpenSSL).
pub async fn client(config: &Config) -> Client {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await;
    let s3 = aws_sdk_s3::config::Builder::from(&shared).force_path_style(config.force_path_style).build();
    Client::from_conf(s3)
}

/// Streams `bucket/key` into `file` through a [`DOWNLOAD_CHUNK`] buffer; returns the bytes
/// written. A body shorter or longer than its `Content-Length` is an error.
pub async fn download(client: &Client, bucket: &str, key: &str, file: &mut File) -> Result<u64, FunctionError> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| FunctionError::S3(format!("GetObject s3://{bucket}/{key}: {}", error_chain(&e))))?;
    let expected = object.content_length().and_then(|n| u64::try_from(n).ok());
    let mut body = object.body;
    let mut writer = BufWriter::with_capacity(DOWNLOAD_CHUNK, file);
    let mut written = 0u64;
    while let Some(frame) = body.next().await {
        let frame = frame.map_err(|e| FunctionError::S3(format!("reading s3://{bucket}/{key}: {}", error_chain(&e))))?;
        writer.write_all(&frame)?;
        written += frame.len() as u64;
    }
    writer.flush()?;
    if let Some(expected) = expected {
        if expected != written {
            return Err(FunctionError::S3(format!(
                "s3://{bucket}/{key}: the body had {written} bytes, Content-Length said {expected}"
            )));
        }
    }
    Ok(written)
}

/// How an output was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// One `PutObject`.
    Single,
    /// A multipart upload of this many parts.
    Multipart(usize),
}

/// Sends the file at `path` (of `len` bytes) to `bucket/key`: one `PutObject` up to
/// `config.multipart_threshold`, else parts of `config.part_size` read from the file one at a
/// time (a failed multipart upload is aborted, so no parts are left billed).
pub async fn upload(
    client: &Client,
    config: &Config,
    path: &Path,
    len: u64,
    bucket: &str,
    key: &str,
    content_type: &str,
) -> Result<UploadKind, FunctionError> {
    let where_ = format!("s3://{bucket}/{key}");
    if len <= config.multipart_threshold {
        let body = ByteStream::read_from().path(path).build().await.map_err(|e| FunctionError::S3(format!("{where_}: {e}")))?;
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .content_length(len as i64)
            .body(body)
            .send()
            .await
            .map_err(|e| FunctionError::S3(format!("PutObject {where_}: {}", error_chain(&e))))?;
        return Ok(UploadKind::Single);
    }
    let created = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .send()
        .await
        .map_err(|e| FunctionError::S3(format!("CreateMultipartUpload {where_}: {}", error_chain(&e))))?;
    let upload_id = created.upload_id().ok_or_else(|| FunctionError::S3(format!("{where_}: no upload id")))?.to_string();
    match upload_parts(client, config, path, len, bucket, key, &upload_id).await {
        Ok(parts) => {
            let count = parts.len();
            client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| FunctionError::S3(format!("CompleteMultipartUpload {where_}: {}", error_chain(&e))))?;
            Ok(UploadKind::Multipart(count))
        }
        Err(e) => {
            // Best effort: the error that matters is the part's.
            let _ = client.abort_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id).send().await;
            Err(e)
        }
    }
}

async fn upload_parts(
    client: &Client,
    config: &Config,
    path: &Path,
    len: u64,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Vec<CompletedPart>, FunctionError> {
    let mut parts = Vec::new();
    let mut offset = 0u64;
    while offset < len {
        let part_len = config.part_size.min(len - offset);
        let number = parts.len() as i32 + 1;
        let body = ByteStream::read_from()
            .path(path)
            .offset(offset)
            .length(Length::Exact(part_len))
            .build()
            .await
            .map_err(|e| FunctionError::S3(format!("part {number} of s3://{bucket}/{key}: {e}")))?;
        let sent = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .content_length(part_len as i64)
            .body(body)
            .send()
            .await
            .map_err(|e| FunctionError::S3(format!("UploadPart {number} of s3://{bucket}/{key}: {}", error_chain(&e))))?;
        parts.push(CompletedPart::builder().part_number(number).set_e_tag(sent.e_tag().map(str::to_string)).build());
        offset += part_len;
    }
    Ok(parts)
}

/// An SDK error with its sources (the SDK's `Display` alone says only "service error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
