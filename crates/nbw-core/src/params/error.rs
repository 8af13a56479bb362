//! Why parameters could not be read.

/// Why parameters could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The text is not YAML, or not a single YAML document that PyYAML would load (several
    /// documents, an undefined or repeated anchor, an alias inside what it names, nesting
    /// deeper than 128 levels).
    #[error("parameters YAML is not valid YAML: {message}")]
    YamlSyntax {
        /// The parser's message, which names the line and column when it knows them.
        message: String,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column of the error, when known.
        column: Option<usize>,
    },
    /// The document is valid YAML but not a mapping.
    #[error("parameters YAML must be a mapping of names to values, like \"alpha: 0.5\", got {found}")]
    NotAMapping {
        /// What the document is instead, e.g. `a list`.
        found: String,
    },
    /// A mapping key, at the top level or nested, is not a string.
    #[error(
        "parameters YAML key {key} at {path} is not a string; \
         parameter names and dict keys must be strings, quote it like '\"{key}\": ...'"
    )]
    NonStringKey {
        /// The key as YAML.
        key: String,
        /// Where the mapping is, e.g. `top level` or `config.limits`.
        path: String,
    },
    /// A value carries a YAML tag other than the standard ones.
    #[error(
        "parameters YAML value at {path} has the tag {tag}, which has no parameter meaning; \
         remove the tag"
    )]
    UnsupportedTag {
        /// The tag, e.g. `!secret`.
        tag: String,
        /// Where the value is, e.g. `config.password`.
        path: String,
    },
    /// A value cannot be read as the type that its tag or, for a plain scalar, its spelling
    /// gives it, as PyYAML's constructors would fail: `!!int abc`, `0x_`, `!!str [1]`, or a
    /// plain `<<` that is not a key.
    #[error("parameters YAML value at {path} (line {line}, column {column}) {problem}")]
    BadValue {
        /// Where the value is, e.g. `config.limit`.
        path: String,
        /// 1-based line of the value.
        line: usize,
        /// 1-based column of the value.
        column: usize,
        /// What is wrong, e.g. `"abc" cannot be read as an integer`.
        problem: String,
    },
    /// A YAML merge key (`<<`) refers to something other than mappings.
    #[error(
        "parameters YAML merge key \"<<\" at {path} must refer to a mapping or a list of \
         mappings, like \"<<: *defaults\""
    )]
    BadMerge {
        /// Where the mapping holding the merge key is.
        path: String,
    },
}
