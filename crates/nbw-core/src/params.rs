//! Notebook parameters (owned by the params helper while it is being written).
