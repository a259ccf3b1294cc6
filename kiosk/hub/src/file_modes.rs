//! Who may read the hall's files when the hub runs outside systemd (which sets `UMask=0027` and a
//! 0750 state directory itself): the data directory, the database with its log and shared-memory
//! files (names, full phone numbers, password hashes) and the demo's file of passwords and tokens
//! are kept from other users of the machine, whatever umask the hub was started with.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Directories 0750 and files 0640 at most: the service group (the backup job, an operator in
/// group hallq) may read, other users nothing.
pub const UMASK: u32 = 0o027;
pub const DIR_MODE: u32 = 0o750;
pub const DATABASE_MODE: u32 = 0o640;
/// Passwords and tokens: the owner only.
pub const SECRET_MODE: u32 = 0o600;

/// Set the process umask for everything the hub creates from now on.
pub fn restrict_umask() {
    use rustix::fs::Mode;
    rustix::process::umask(Mode::from_raw_mode(UMASK));
}

/// Create the data directory (0750) if missing. One that exists is left as it is (it may be a
/// shared directory such as /tmp, whose mode is not the hub's to change): the files inside that
/// matter are narrowed one by one, and a warning says other users can list it.
pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let mode = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the mode of {}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o007 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", mode & 0o7777),
            "other users can open the data directory; the database in it is kept private"
        );
    }
    Ok(())
}

/// A new private directory (0700) for a demo's throw-away data, under `parent` (the temporary
/// directory). Made with `mkdir`, never reused: a directory someone else made first is refused.
pub fn private_dir(parent: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = parent.join(name);
    DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create the private directory {}", dir.display()))?;
    Ok(dir)
}

/// The database and the files SQLite keeps beside it: other users lose any access. SQLite makes
/// the log and shared-memory files with the database file's mode, so a database tightened
/// before it is opened keeps them tight too.
pub fn protect_database(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            tighten(&path, DATABASE_MODE)?;
        }
    }
    Ok(())
}

/// Write `bytes` to `path` readable by the owner only, also when the file was there before, and
/// sync it: a key or token handed out must not change after a power cut.
pub fn write_secret(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(SECRET_MODE)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // `mode` only applies to a new file: an old one is narrowed before anything is written.
    f.set_permissions(Permissions::from_mode(SECRET_MODE))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Clear the permission bits `most` does not have.
fn tighten(path: &Path, most: u32) -> anyhow::Result<()> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("cannot read the mode of {}", path.display()))?
        .permissions()
        .mode()
        & 0o7777;
    let narrowed = mode & most;
    if narrowed != mode {
        std::fs::set_permissions(path, Permissions::from_mode(narrowed))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
        tracing::info!(
            path = %path.display(),
            from = format!("{mode:o}"),
            to = format!("{narrowed:o}"),
            "file mode narrowed"
        );
    }
    Ok(())
}
