//! What a run in a runtime container asks for besides its image: volumes and resource limits,
//! written as in Docker Compose (`data:/data`, `/srv/in:/in:ro`, `512m`) and checked here once,
//! so `nbw.yaml`, the API and the agent refuse the same mistakes with the same words.

use std::fmt;

/// Where a volume's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// A Docker named volume, created on first use and kept between runs.
    Named(String),
    /// A directory of the agent's machine (an absolute path).
    Bind(String),
}

/// A volume mount: `SOURCE:TARGET[:ro|:rw]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Where the data lives.
    pub source: VolumeSource,
    /// The absolute path in the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

impl Volume {
    /// Parses `NAME:/path`, `/host/path:/path`, with an optional `:ro` or `:rw`.
    pub fn parse(text: &str) -> Result<Volume, String> {
        let fix = "write SOURCE:TARGET[:ro], e.g. `data:/data` (a named volume) or `/srv/in:/in:ro` (a folder of the agent's machine)";
        let parts: Vec<&str> = text.split(':').collect();
        let (source, target, mode) = match parts.as_slice() {
            [source, target] => (*source, *target, None),
            [source, target, mode] => (*source, *target, Some(*mode)),
            _ => return Err(format!("volume {text:?} is not SOURCE:TARGET: {fix}")),
        };
        let read_only = match mode {
            None | Some("rw") => false,
            Some("ro") => true,
            Some(other) => return Err(format!("volume {text:?}: mode {other:?} is neither `ro` nor `rw`")),
        };
        if !target.starts_with('/') || target.split('/').any(|part| part == "..") {
            return Err(format!(
                "volume {text:?}: the target {target:?} must be an absolute path without `..`"
            ));
        }
        if target == "/" || target == KERNEL_DIR {
            return Err(format!("volume {text:?}: the target {target:?} is reserved"));
        }
        let source = if source.starts_with('/') {
            if source.split('/').any(|part| part == "..") {
                return Err(format!("volume {text:?}: the source {source:?} must not contain `..`"));
            }
            VolumeSource::Bind(source.to_owned())
        } else if valid_volume_name(source) {
            VolumeSource::Named(source.to_owned())
        } else {
            return Err(format!(
                "volume {text:?}: {source:?} is neither an absolute path nor a volume name (letters, digits, '_', '.', '-', starting with a letter or digit); {fix}"
            ));
        };
        Ok(Volume { source, target: target.to_owned(), read_only })
    }
}

impl fmt::Display for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            VolumeSource::Named(name) | VolumeSource::Bind(name) => name,
        };
        write!(f, "{source}:{}{}", self.target, if self.read_only { ":ro" } else { "" })
    }
}

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn valid_volume_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.len() <= 255
}

/// Where the kernel's connection file and sockets are mounted in a runtime container.
pub const KERNEL_DIR: &str = "/nbw";

/// A memory size as Docker writes it: bytes, or a number with `k`, `m` or `g` (powers of 1024).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let trimmed = text.trim().to_ascii_lowercase();
    let trimmed = trimmed.strip_suffix('b').unwrap_or(&trimmed);
    let (digits, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => trimmed.split_at(at),
        None => (trimmed, ""),
    };
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        _ => return Err(format!("memory {text:?} is not a size: write e.g. 512m or 2g")),
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("memory {text:?} is not a size: write e.g. 512m or 2g"))?;
    // Docker refuses limits below 6 MiB; a kernel needs far more anyway.
    if bytes < 32 << 20 {
        return Err(format!("memory {text:?} is below 32m, too little for a kernel"));
    }
    Ok(bytes)
}

/// A CPU limit: a positive number of CPUs, e.g. `1.5`.
pub fn check_cpus(cpus: f64) -> Result<(), String> {
    if cpus.is_finite() && (0.01..=1024.0).contains(&cpus) {
        Ok(())
    } else {
        Err(format!("cpus {cpus} is not a number of CPUs between 0.01 and 1024"))
    }
}

/// A network mode: `bridge` (Docker's default), `none`, `host`, or a network's name.
pub fn check_network(network: &str) -> Result<(), String> {
    if valid_volume_name(network) {
        Ok(())
    } else {
        Err(format!("network {network:?} is not a network name: use bridge, none, host or a network's name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_parse_like_compose() {
        let named = Volume::parse("data:/data").unwrap();
        assert_eq!(named.source, VolumeSource::Named("data".into()));
        assert!(!named.read_only);
        let bind = Volume::parse("/srv/in:/in:ro").unwrap();
        assert_eq!(bind.source, VolumeSource::Bind("/srv/in".into()));
        assert!(bind.read_only);
        assert_eq!(bind.to_string(), "/srv/in:/in:ro");
    }

    #[test]
    fn bad_volumes_say_what_to_write() {
        for bad in ["/data", "data:rel", "a:/b:rx", "../x:/y", "/a/../b:/c", "x:/nbw", "x:/", "a:/b:c:d"] {
            let e = Volume::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("512m").unwrap(), 512 << 20);
        assert_eq!(parse_memory("2G").unwrap(), 2 << 30);
        assert_eq!(parse_memory("1gb").unwrap(), 1 << 30);
        assert_eq!(parse_memory("67108864").unwrap(), 64 << 20);
        assert!(parse_memory("1m").unwrap_err().contains("below"));
        assert!(parse_memory("lots").unwrap_err().contains("512m"));
        assert!(parse_memory("99999999999999g").is_err());
    }

    #[test]
    fn cpus_and_networks() {
        assert!(check_cpus(1.5).is_ok());
        assert!(check_cpus(0.0).is_err());
        assert!(check_cpus(f64::NAN).is_err());
        assert!(check_network("none").is_ok());
        assert!(check_network("a b").is_err());
    }
}
