//! How the process asks the C allocator to behave, where that is needed to keep memory bounded.
//!
//! glibc's malloc keeps freed memory for reuse: each thread gets an arena of its own, and after
//! a large buffer is freed it raises the size above which it maps buffers from the system, so
//! tantivy's per-segment indexing buffers (tens of MB, made and dropped every commit) end up
//! scattered over arenas that are never given back. Indexing 10,000 documents, the heap in use
//! peaked at 79 MB (heaptrack) while the anonymous RSS reached 258 MB; with at most two arenas
//! and a fixed 128 KiB threshold for mapping and trimming it stayed at 67 MB, at the same speed.
//! Other platforms' allocators return large blocks to the system as they are freed.

/// Called once, first thing in `main`, before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread
    // exists, as glibc asks.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}
