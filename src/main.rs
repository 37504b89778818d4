//! The `rinit` binary: hands argv to the library and returns its code.
//!
//! `#![no_main]` with a C `main`: the Rust runtime's start-up would set
//! SIGPIPE to ignored before we could see how the launcher left it, and
//! that ignore would leak into the child. Here nothing runs before us.
#![no_main]

use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

/// # Safety
/// Called once by the C runtime with its argc and argv.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let args = (0..usize::try_from(argc).unwrap_or(0))
        .filter_map(|i| {
            // SAFETY: the C runtime passes argc valid pointers to
            // NUL-terminated strings in argv, alive for the whole program.
            let arg = unsafe { *argv.add(i) };
            // SAFETY: as above; a NULL entry is skipped.
            (!arg.is_null())
                .then(|| OsString::from_vec(unsafe { CStr::from_ptr(arg) }.to_bytes().to_vec()))
        })
        .collect();
    c_int::from(rinit::main_with_args(args))
}
