//! Room on the data partition: a hub whose disk fills stops taking tickets (SQLite refuses to grow
//! a file, nothing acknowledged is touched), and the staff must hear of it before and when it
//! happens, since only a person can free space.

use std::path::Path;

use hallq_shared::hall::Text;
use hallq_shared::hall::time::to_rfc3339;
use serde::Serialize;

use super::state::AppState;

/// Below this much free space the staff are warned, before tickets are refused: at a few
/// kilobytes a ticket, it is still days of tickets, but logs and backups share the disk.
pub const LOW_BYTES: u64 = 64 * 1024 * 1024;

/// The data partition as `/alerts` shows it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StorageStatus {
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// The writer could not record for a full disk, since then (cleared by the next record).
    pub full_since: Option<chrono::DateTime<chrono::Utc>>,
    /// For the staff: the disk is full or nearly so.
    pub problem: Option<Text>,
}

/// Free and total bytes of the file system holding `path`, for an unprivileged process.
pub fn space(path: &Path) -> Option<(u64, u64)> {
    let st = rustix::fs::statvfs(path).ok()?;
    Some((
        st.f_bavail.saturating_mul(st.f_frsize),
        st.f_blocks.saturating_mul(st.f_frsize),
    ))
}

/// The status from what was measured: pure, so that the thresholds are tested on their own.
pub fn assess(space: Option<(u64, u64)>, full_since: Option<i64>) -> StorageStatus {
    let mb = |b: u64| b.div_ceil(1024 * 1024);
    let problem = match (full_since, space) {
        (Some(_), _) => Some(Text {
            zh: "系统存储空间已满，已暂停取号（已取的号码不受影响）：请联系管理员清理数据分区。".into(),
            en: "The hall system's storage is full and new tickets are refused (tickets already taken are safe): ask the administrator to free space on the data partition.".into(),
        }),
        (None, Some((free, _))) if free < LOW_BYTES => Some(Text {
            zh: format!("系统存储空间不足，仅剩 {} MB：请联系管理员清理数据分区。", mb(free)),
            en: format!(
                "The hall system's storage is nearly full ({} MB left): ask the administrator to free space on the data partition.",
                mb(free)
            ),
        }),
        _ => None,
    };
    StorageStatus {
        free_bytes: space.map(|s| s.0),
        total_bytes: space.map(|s| s.1),
        full_since: full_since.map(to_rfc3339),
        problem,
    }
}

/// `hub`'s data partition now.
pub fn status(hub: &AppState) -> StorageStatus {
    let full_since = hub
        .writer
        .trouble()
        .filter(|t| t.disk_full)
        .map(|t| t.since);
    let dir = hub.db.parent().unwrap_or(Path::new("."));
    assess(space(dir), full_since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plenty_of_room_is_no_problem() {
        let s = assess(Some((10 * LOW_BYTES, 100 * LOW_BYTES)), None);
        assert_eq!(s.problem, None);
        assert_eq!(s.free_bytes, Some(10 * LOW_BYTES));
    }

    #[test]
    fn little_room_warns_with_the_megabytes_left() {
        let s = assess(Some((5 * 1024 * 1024, 100 * LOW_BYTES)), None);
        assert!(s.problem.unwrap().zh.contains("仅剩 5 MB"));
    }

    #[test]
    fn a_refused_record_says_full_whatever_the_space_reads_now() {
        let s = assess(Some((10 * LOW_BYTES, 100 * LOW_BYTES)), Some(0));
        assert!(s.problem.unwrap().zh.contains("已满"));
        assert!(s.full_since.is_some());
    }

    #[test]
    fn the_space_of_a_real_directory_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let (free, total) = space(dir.path()).unwrap();
        assert!(total > 0 && free <= total);
    }
}
