//! How the hub asks the C allocator to behave: it runs all day on a Pi next to the kiosk screen,
//! so memory freed after a burst (a sign-in, a report) must go back to the system.

/// Fixes glibc's allocator settings for a long-running hub. Call first thing in `main`, before
/// any thread starts.
///
/// Why: every password check (argon2) works in a 19 MiB block. glibc serves big blocks with
/// `mmap` and returns them on `free`, but after the first such `free` it raises its threshold
/// to the block's size, so from the second sign-in on the 19 MiB come from the heap and stay
/// resident all day. A fixed threshold keeps big blocks on `mmap`. One arena (as
/// `MALLOC_ARENA_MAX=1` in the systemd unit) keeps the per-thread arenas of the runtime's
/// workers from holding memory each; it costs no measurable throughput here (`BENCHMARKS.md`).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::tune();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod glibc {
    /// Blocks from this size up are mapped on their own and unmapped when freed.
    const MMAP_THRESHOLD: libc::c_int = 256 * 1024;
    /// Free memory at the heap's top beyond this is given back.
    const TRIM_THRESHOLD: libc::c_int = 512 * 1024;

    pub fn tune() {
        // SAFETY: `mallopt` only changes allocator parameters; it is called before any other
        // thread exists, and an unknown or refused setting just returns 0.
        unsafe {
            if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
