//! `serve` and `demo` started with a permissive umask (0000) still keep the data directory, the
//! database with its log files and the demo's passwords and tokens from other users; the demo
//! without `--data-dir` uses a private directory of its own.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hallq-hub");

/// The hub, stopped with SIGTERM when the test ends.
struct Hub(Child);

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `hallq-hub ARGS` under `umask 000`, as a careless shell or service manager would start it.
fn start(args: &[&str], tmpdir: &Path) -> Hub {
    let child = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(args)
        .env("TMPDIR", tmpdir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hallq-hub");
    Hub(child)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Wait until every one of `paths` exists.
fn wait_for(paths: &[PathBuf]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !paths.iter().all(|p| p.exists()) {
        assert!(
            Instant::now() < deadline,
            "not created within 30 s: {:?}",
            paths.iter().filter(|p| !p.exists()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn database_files(dir: &Path) -> Vec<PathBuf> {
    ["hallq.db", "hallq.db-wal", "hallq.db-shm"]
        .iter()
        .map(|n| dir.join(n))
        .collect()
}

fn assert_private(path: &Path, most: u32) {
    let m = mode(path);
    assert_eq!(
        m & !most,
        0,
        "{} is {m:o}; at most {most:o} expected",
        path.display()
    );
}

#[test]
fn serve_keeps_the_data_directory_and_database_from_other_users() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("new").join("hallq-data");
    let _hub = start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let files = database_files(&data);
    wait_for(&files);
    assert_eq!(mode(&data), 0o750, "the data directory");
    for f in &files {
        assert_private(f, 0o640);
    }
}

#[test]
fn serve_narrows_a_database_left_readable_by_an_older_version() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("old");
    std::fs::create_dir(&data).unwrap();
    // A first run makes the database; it is then opened up as an older version left it.
    {
        let _hub = start(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data.to_str().unwrap(),
            ],
            tmp.path(),
        );
        wait_for(&database_files(&data));
    }
    let db = data.join("hallq.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _hub = start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let files = database_files(&data);
    wait_for(&files);
    let deadline = Instant::now() + Duration::from_secs(30);
    while mode(&db) & 0o007 != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for f in &files {
        assert_private(f, 0o640);
    }
}

#[test]
fn the_demo_without_a_data_dir_keeps_its_secrets_in_a_private_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let _hub = start(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--password",
            "demo-password",
        ],
        tmp.path(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let dir = loop {
        let found = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join("demo-tokens.json").exists());
        if let Some(d) = found {
            break d;
        }
        assert!(Instant::now() < deadline, "no demo-tokens.json within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("hallq-demo-")
    );
    assert_eq!(mode(&dir), 0o700, "the demo's directory");
    assert_eq!(
        mode(&dir.join("demo-tokens.json")),
        0o600,
        "demo-tokens.json"
    );
    let files = database_files(&dir);
    wait_for(&files);
    for f in &files {
        assert_private(f, 0o640);
    }
    // Nothing of the demo lies loose in the temporary directory.
    let loose: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.path())
        .collect();
    assert!(loose.is_empty(), "{loose:?}");
}

#[test]
fn the_demo_narrows_a_tokens_file_that_was_there_before() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    std::fs::create_dir(&data).unwrap();
    let tokens = data.join("demo-tokens.json");
    std::fs::write(&tokens, "{}").unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _hub = start(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--password",
            "demo-password",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&tokens).unwrap_or_default().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the demo did not write its tokens"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(mode(&tokens), 0o600);
    for f in database_files(&data).iter().filter(|f| f.exists()) {
        assert_private(f, 0o640);
    }
}
