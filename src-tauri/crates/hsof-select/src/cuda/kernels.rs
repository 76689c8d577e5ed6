//! The CUDA C sources (`kernels/*.cu` at the repository root, embedded at build time) and their
//! compilation by NVRTC at run time.
//!
//! On a GPU the kernels are compiled to a CUBIN for the device's own architecture (`sm_XY`): a
//! CUBIN loads on any driver of the same CUDA major version, whereas PTX from a newer NVRTC is
//! refused by an older driver. Without a GPU (CI) they are compiled to PTX and to CUBINs for the
//! architectures the team runs, which needs NVRTC only, no driver.

use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

use cudarc::nvrtc::{result as nvrtc, sys, Ptx};

use super::loader;

/// One source file of `kernels/` and the functions the backend loads from it.
#[derive(Debug, Clone, Copy)]
pub struct KernelSource {
    /// File name under `kernels/`.
    pub file: &'static str,
    /// Its text.
    pub source: &'static str,
    /// The `extern "C"` kernels the backend looks up.
    pub functions: &'static [&'static str],
}

/// Every kernel file the backend uses.
pub const SOURCES: &[KernelSource] = &[
    KernelSource {
        file: "stage1.cu",
        source: include_str!("../../../../../kernels/stage1.cu"),
        functions: &["column_stats", "pearson", "mi_histogram"],
    },
    KernelSource {
        file: "redundancy.cu",
        source: include_str!("../../../../../kernels/redundancy.cu"),
        functions: &["standardise", "corr_partial", "corr_reduce"],
    },
];

/// What NVRTC produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// PTX for NVRTC's default virtual architecture (JIT-compiled by the driver).
    Ptx,
    /// Machine code for compute capability `major.minor` (e.g. 9.0 for an H100).
    Cubin {
        /// Major compute capability.
        major: i32,
        /// Minor compute capability.
        minor: i32,
    },
}

/// Compiles `source` (named `name` in messages) for `target`. Errors carry NVRTC's log.
/// Never panics: NVRTC's absence is checked first and the call runs under `catch_unwind`.
pub fn compile(name: &str, source: &str, target: Target) -> Result<Ptx, String> {
    loader::nvrtc()?;
    catch_unwind(AssertUnwindSafe(|| compile_unchecked(name, source, target)))
        .unwrap_or_else(|_| Err(format!("{name}: NVRTC failed unexpectedly (a symbol may be missing from libnvrtc)")))
}

#[allow(unsafe_code)] // NVRTC's C API: create, compile, read the image, destroy
fn compile_unchecked(name: &str, source: &str, target: Target) -> Result<Ptx, String> {
    let src = CString::new(source).map_err(|_| format!("{name}: the source contains a NUL byte"))?;
    let cname = CString::new(name).map_err(|_| format!("{name}: the name contains a NUL byte"))?;
    let prog = nvrtc::create_program(&src, Some(&cname)).map_err(|e| format!("{name}: NVRTC: {e:?}"))?;
    let mut opts = vec!["--std=c++14".to_string()];
    if let Target::Cubin { major, minor } = target {
        opts.push(format!("--gpu-architecture=sm_{major}{minor}"));
    }
    // SAFETY: `prog` was just created from `src`, which lives until the end of this function;
    // it is destroyed exactly once below, after its image has been copied out.
    let result = unsafe {
        match nvrtc::compile_program(prog, &opts) {
            Err(e) => {
                let log = nvrtc::get_program_log(prog).map(|l| c_chars_to_string(&l)).unwrap_or_default();
                Err(format!("{name} does not compile ({e:?}, options {opts:?}):\n{}", log.trim()))
            }
            Ok(()) => match target {
                Target::Ptx => nvrtc::get_ptx(prog)
                    .map(|p| Ptx::from_src(c_chars_to_string(&p)))
                    .map_err(|e| format!("{name}: reading the PTX: {e:?}")),
                Target::Cubin { .. } => {
                    let mut size = 0usize;
                    match sys::nvrtcGetCUBINSize(prog, &mut size).result() {
                        Err(e) => Err(format!("{name}: CUBIN size: {e:?}")),
                        Ok(()) => {
                            let mut buf = vec![0u8; size];
                            sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr().cast())
                                .result()
                                .map(|()| Ptx::from_binary(buf))
                                .map_err(|e| format!("{name}: reading the CUBIN: {e:?}"))
                        }
                    }
                }
            },
        }
    };
    // SAFETY: created above and not destroyed yet.
    if let Err(e) = unsafe { nvrtc::destroy_program(prog) } {
        tracing::debug!(error = ?e, "NVRTC could not destroy a program");
    }
    result
}

fn c_chars_to_string(chars: &[std::ffi::c_char]) -> String {
    let bytes: Vec<u8> = chars.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
