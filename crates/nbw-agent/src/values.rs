//! The values a run passes on: every execution gets `NBW_RESULT`, the path of a file it may
//! write a JSON object to, and the `nbw_result` Python helper on its `PYTHONPATH`. The files live
//! in a `.nbw` folder of the run's working directory, so a container sees them through the
//! working directory's mount and the Docker executor needs no mount of its own.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The folder, in the working directory, holding the result file and the helper.
const FOLDER: &str = ".nbw";
/// The result file's name.
const RESULT: &str = "result.json";
/// The helper module (`from nbw_result import nbw_result`).
const HELPER: &str = include_str!("python/nbw_result.py");
/// A result larger than this is refused: values are parameters of later steps, not data (data
/// goes through the shared volume).
const MAX_BYTES: u64 = 1 << 20;

/// One run's result file and helper.
#[derive(Debug)]
pub struct RunValues {
    host_dir: PathBuf,
    kernel_dir: String,
}

impl RunValues {
    /// Writes the helper into `workdir`; `kernel_workdir` is the working directory as the kernel
    /// sees it (the same path for a local kernel, the mount point in a container).
    pub fn prepare(workdir: &Path, kernel_workdir: &str) -> std::io::Result<RunValues> {
        let host_dir = workdir.join(FOLDER);
        std::fs::create_dir_all(&host_dir)?;
        std::fs::write(host_dir.join("nbw_result.py"), HELPER)?;
        let kernel_dir = format!("{}/{FOLDER}", kernel_workdir.trim_end_matches('/'));
        Ok(RunValues { host_dir, kernel_dir })
    }

    /// `NBW_RESULT` and `PYTHONPATH` for the kernel; `inherited` is the `PYTHONPATH` the kernel
    /// would otherwise get, kept after the helper's folder.
    pub fn environment(&self, inherited: Option<&str>) -> Vec<(String, String)> {
        let python_path = match inherited.filter(|p| !p.is_empty()) {
            Some(rest) => format!("{}:{rest}", self.kernel_dir),
            None => self.kernel_dir.clone(),
        };
        vec![
            ("NBW_RESULT".to_owned(), format!("{}/{RESULT}", self.kernel_dir)),
            ("PYTHONPATH".to_owned(), python_path),
        ]
    }

    /// The values the run wrote: `(None, None)` when it wrote none, `(Some(object), None)`, or
    /// `(None, Some(why))` when the file is not a JSON object.
    pub fn read(&self) -> (Option<Value>, Option<String>) {
        let path = self.host_dir.join(RESULT);
        match read_object(&path) {
            Ok(values) => (values, None),
            Err(why) => (None, Some(why)),
        }
    }
}

fn read_object(path: &Path) -> Result<Option<Value>, String> {
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("the NBW_RESULT file could not be read: {e}")),
    };
    if size > MAX_BYTES {
        return Err(format!(
            "the NBW_RESULT file holds {size} bytes, over the 1 MiB limit: pass small values there and data through the shared volume (NBW_SHARED)"
        ));
    }
    let text = std::fs::read(path).map_err(|e| format!("the NBW_RESULT file could not be read: {e}"))?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| {
        format!("the NBW_RESULT file is not JSON ({e}): write one JSON object, e.g. {{\"rows\": 10}}")
    })?;
    match value {
        Value::Object(_) => Ok(Some(value)),
        other => Err(format!(
            "the NBW_RESULT file holds {}, not a JSON object: write one object, e.g. {{\"rows\": 10}}",
            kind(&other)
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values_of(content: Option<&str>) -> (Option<Value>, Option<String>) {
        let dir = tempfile::tempdir().unwrap();
        let values = RunValues::prepare(dir.path(), "/app").unwrap();
        if let Some(content) = content {
            std::fs::write(dir.path().join(FOLDER).join(RESULT), content).unwrap();
        }
        values.read()
    }

    #[test]
    fn an_object_is_read_and_anything_else_says_why() {
        assert_eq!(values_of(None), (None, None));
        assert_eq!(values_of(Some(r#"{"rows": 3}"#)).0, Some(serde_json::json!({"rows": 3})));
        let (none, why) = values_of(Some("[1, 2]"));
        assert!(none.is_none() && why.unwrap().contains("an array, not a JSON object"));
        let (none, why) = values_of(Some("rows=3"));
        assert!(none.is_none() && why.unwrap().contains("not JSON"));
    }

    #[test]
    fn the_kernel_sees_the_files_at_its_own_path() {
        let dir = tempfile::tempdir().unwrap();
        let values = RunValues::prepare(dir.path(), "/app/").unwrap();
        let env = values.environment(Some("/opt/lib"));
        assert_eq!(env[0], ("NBW_RESULT".to_owned(), "/app/.nbw/result.json".to_owned()));
        assert_eq!(env[1], ("PYTHONPATH".to_owned(), "/app/.nbw:/opt/lib".to_owned()));
        assert!(dir.path().join(".nbw/nbw_result.py").is_file());
    }
}
