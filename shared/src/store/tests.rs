//! Store tests: migrations, rebuild, corrupt files.
