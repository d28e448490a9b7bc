//! Structured logs: one JSON object per line on standard output, which Lambda sends to
//! CloudWatch Logs (where Logs Insights can query the fields).

use std::io::Write;

use serde_json::{Map, Value};

/// Prints `{"level": level, "event": event, ...fields}` as one line. `fields` should be a JSON
/// object; anything else is logged under `"data"`.
pub fn emit(level: &str, event: &str, fields: Value) {
    let mut line = Map::new();
    line.insert("level".into(), level.into());
    line.insert("event".into(), event.into());
    match fields {
        Value::Object(map) => line.extend(map),
        Value::Null => {}
        other => {
            line.insert("data".into(), other);
        }
    }
    // One write of a whole line, so lines from the blocking job thread and the runtime's
    // thread never interleave. A log that cannot be written (a closed standard output) is
    // dropped: it must not fail the upload it describes.
    let _ = writeln!(std::io::stdout().lock(), "{}", Value::Object(line));
}
