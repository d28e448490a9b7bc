//! The `stripflow-lambda` binary (`bootstrap` once packaged by `cargo lambda build`).
//!
//! Without arguments it is the Lambda function: it reads its configuration, builds the S3
//! client and serves invocations through the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`).
//! `stripflow-lambda --plan FILE...` instead prints, as JSON lines, the plan of every output for
//! each local FILE at the configured memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, default 128)
//! and whether it fits: how to choose the function's memory size before deploying.

use std::io::Write;
use std::process::ExitCode;

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::json;
use stripflow::io::Input;
use stripflow_lambda::handler::{plan_fields, Function};
use stripflow_lambda::memory::{peak_rss_bytes, CountingAlloc};
use stripflow_lambda::{job, log, s3, Config, FunctionError};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => serve(),
        Some("--plan") if args.len() > 1 => plan_files(&args[1..]),
        Some(_) => {
            eprintln!("usage: stripflow-lambda            (as a Lambda function)\n       stripflow-lambda --plan FILE...");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::emit("error", "fatal", json!({ "error_type": e.error_type(), "message": e.to_string() }));
            ExitCode::FAILURE
        }
    }
}

/// Serves invocations until the runtime stops the process.
fn serve() -> Result<(), FunctionError> {
    let config = Config::from_env()?;
    // One thread serves the runtime and S3; image jobs run on tokio's blocking thread.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = s3::client(&config).await;
        log::emit(
            "info",
            "cold_start",
            json!({
                "memory_mb": config.memory_mb,
                "reserve_mb": config.reserve_mb,
                "budget_bytes": config.plan_budget_bytes(),
                "outputs": config.outputs.iter().map(|o| &o.name).collect::<Vec<_>>(),
                "peak_rss_bytes": peak_rss_bytes(),
            }),
        );
        let function = Function { config, client };
        let function = &function;
        lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
            let request_id = event.context.request_id.clone();
            match function.handle(event.payload).await {
                Ok(response) => {
                    log::emit("info", "done", json!({ "request_id": request_id, "peak_rss_bytes": peak_rss_bytes() }));
                    Ok(response)
                }
                Err(e) => {
                    let mut fields = json!({ "request_id": request_id, "error_type": e.error_type(), "message": e.to_string() });
                    if let FunctionError::PlanExceedsMemory { planned_heap_bytes, budget_bytes, .. } = &e {
                        fields["planned_heap_bytes"] = json!(planned_heap_bytes);
                        fields["budget_bytes"] = json!(budget_bytes);
                    }
                    log::emit("error", "failed", fields);
                    Err(e)
                }
            }
        }))
        .await
        .map_err(|e| FunctionError::Io(std::io::Error::other(format!("the Lambda runtime stopped: {e}"))))
    })
}

/// Prints the plan of every output for each file, one JSON line each.
fn plan_files(paths: &[String]) -> Result<(), FunctionError> {
    let config = Config::from_env()?;
    let budget = config.plan_budget_bytes();
    for path in paths {
        let input = Input::open(path).map_err(|error| FunctionError::Image { key: path.clone(), error })?;
        for output in &config.outputs {
            let line = match job::plan(&input, output, budget, path) {
                Ok((_, plan)) => {
                    let mut fields = plan_fields(path, output, &plan, budget, &config);
                    fields["fits"] = json!(true);
                    fields
                }
                Err(FunctionError::PlanExceedsMemory { planned_heap_bytes, .. }) => json!({
                    "key": path, "output": output.name, "fits": false,
                    "planned_heap_bytes": planned_heap_bytes, "budget_bytes": budget, "memory_mb": config.memory_mb,
                }),
                Err(e) => return Err(e),
            };
            if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
                // A reader that stopped early (`| head`) ends the listing quietly.
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(());
                }
                return Err(e.into());
            }
        }
    }
    Ok(())
}
