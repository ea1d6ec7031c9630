//! Where a setting came from (`Origin`) and what is wrong with it (`ConfigError`), rendered
//! as `file:line: message` so `apachectl -t` points at the offending line.

use std::fmt;

/// Where a setting came from, for `file:line: message` errors (line 0 = unknown line).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl Origin {
    pub fn new(file: &str, line: usize) -> Origin {
        Origin {
            file: file.to_owned(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// A configuration mistake: Display is exactly "{file}:{line}: {message}" (or
/// "{file}: {message}" when line is 0). Also used for warnings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigError {
    pub origin: Origin,
    pub message: String,
}

impl ConfigError {
    pub fn new(origin: &Origin, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: origin.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_colon_line_colon_message() {
        let e = ConfigError::new(&Origin::new("/etc/w.properties", 7), "bad number");
        assert_eq!(e.to_string(), "/etc/w.properties:7: bad number");
    }

    #[test]
    fn display_omits_line_zero() {
        let e = ConfigError::new(&Origin::new("httpd.conf", 0), "no workers");
        assert_eq!(e.to_string(), "httpd.conf: no workers");
    }
}
